//! Host benchmark: the commit latency of a small durable transaction
//! against an unlogged persistent store, on host memory made durable the
//! way the guest does it (`runtime::persist`: `clwb`, `clflushopt` or
//! `clflush`, then `sfence`), through `store::MappedPmem`.
//!
//! - `unlogged persist 64B`: store 64 bytes, flush, fence (one fence; not
//!   crash-atomic beyond 8 bytes).
//! - `txn commit 64B`: begin, write 64 bytes, commit (log entry, data and
//!   state word: three fences; all or nothing).
//! - `txn commit 8B`: the same for one word.
//! - `txmap insert 64B`: a `TxMap` insert of a 64-byte value (value, slot
//!   head and count in one transaction).
//!
//! Prints one `bench:` line per figure (ns per operation; the format
//! `cargo xtask bench` parses) and the ratios to the unlogged store on
//! stderr. Figures only: nothing is asserted.
//!
//! Run: `cargo run --release -p txn --features bench --bin txn-bench`.

use std::hint::black_box;
use std::time::Instant;

use store::{MappedPmem, Pmem};
use txn::map::map_layout;
use txn::{Layout, Tx, TxMap};

/// Operations per timed run.
const OPS: usize = 20_000;
/// Timed runs per figure (after one warm-up run each).
const RUNS: usize = 21;
/// Distinct 64-byte slots the updates rotate over (256 KiB: the lines
/// stay cached, as a hot record would).
const SLOTS: u64 = 4096;

/// A cache line of host memory standing in for persistent memory.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// Times `RUNS` runs of `OPS` calls of `f`; returns ns per call for each.
fn time(mut f: impl FnMut(u64)) -> Vec<f64> {
    for i in 0..OPS as u64 {
        f(i);
    }
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            for i in 0..OPS as u64 {
                f(i);
            }
            t.elapsed().as_nanos() as f64 / OPS as f64
        })
        .collect()
}

fn report(name: &str, mut ns: Vec<f64>) -> f64 {
    ns.sort_by(f64::total_cmp);
    let q = |p: f64| ns[((ns.len() - 1) as f64 * p).round() as usize];
    println!(
        "bench: {name}: median {:.1} ns/op, p10 {:.1}, p90 {:.1}, runs {}",
        q(0.5),
        q(0.1),
        q(0.9),
        ns.len()
    );
    q(0.5)
}

/// Zeroed host memory of `bytes` (rounded up to whole lines).
fn lines(bytes: u64) -> Vec<Line> {
    vec![Line([0; 64]); bytes.div_ceil(64) as usize]
}

/// `mem` as persistent memory.
///
/// # Safety
///
/// `mem` must outlive the result and be accessed only through it.
unsafe fn pmem(mem: &mut [Line]) -> MappedPmem {
    // SAFETY: `mem` is readable, writable and unaliased for the result's
    // life (the caller's contract).
    unsafe { MappedPmem::new(mem.as_mut_ptr().cast(), mem.len() * 64) }
}

fn main() {
    eprintln!(
        "txn-bench: flush instruction {:?}",
        runtime::persist::flush_kind()
    );
    let data_len = SLOTS * 64;
    let value = [0x5au8; 64];
    let layout = Layout::new(0, 4096, data_len);
    let capacity = 1024;
    let map = map_layout(0, capacity);
    // Each buffer lives to the end of `main` and is used only through the
    // one `MappedPmem` made of it.
    let (mut mem_a, mut mem_b, mut mem_c) = (
        lines(data_len),
        lines(layout.total_len()),
        lines(map.total_len()),
    );

    // SAFETY: see above.
    let mut p = unsafe { pmem(&mut mem_a) };
    let unlogged = report(
        "unlogged persist 64B",
        time(|i| {
            let off = (i % SLOTS) * 64;
            p.write(off, black_box(&value));
            p.flush(off, 64);
            p.fence();
        }),
    );

    // SAFETY: see above.
    let mut tx = Tx::format(unsafe { pmem(&mut mem_b) }, layout).expect("formats");
    let t64 = report(
        "txn commit 64B",
        time(|i| {
            let mut t = tx.begin();
            t.write((i % SLOTS) * 64, black_box(&value)).expect("fits");
            t.commit().expect("commits");
        }),
    );
    let t8 = report(
        "txn commit 8B",
        time(|i| {
            let mut t = tx.begin();
            t.write_u64((i % SLOTS) * 64, black_box(i)).expect("fits");
            t.commit().expect("commits");
        }),
    );

    // SAFETY: see above.
    let mut map = TxMap::open_pmem(unsafe { pmem(&mut mem_c) }, 0, capacity).expect("opens");
    let ins = report(
        "txmap insert 64B",
        time(|i| {
            map.insert(i % 512, black_box(&value)).expect("inserts");
        }),
    );

    eprintln!(
        "txn-bench: txn commit 64B is {:.1}x the unlogged store; 8B {:.1}x; map insert {:.1}x",
        t64 / unlogged,
        t8 / unlogged,
        ins / unlogged
    );
}
