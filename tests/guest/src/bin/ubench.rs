//! `ubench`: the guest benchmarks `cargo xtask bench` runs. Each prints one
//! `bench:` line with the median and spread of many runs, in TSC cycles.
//!
//! - null system call: `null()` entered and left;
//! - thread switch: half a `thread_yield` ping-pong between two threads;
//! - thread-sync wake round trip: wake a waiting thread, which wakes us back;
//! - user page fault: first touch of a demand-zero heap page (the kernel
//!   maps a zeroed frame and returns), next to a touch of a mapped page;
//! - object page fault: first touch of a page of a mapped DRAM object (the
//!   kernel backs it in the object's shared page tables), next to a touch
//!   of a mapped one;
//! - automatic security-context switch: a read the active context forbids
//!   and another attached context allows (fault, search, CR3 load, retry);
//! - capability verification: `ctx_check` right after `kso_invalidate`
//!   (signature verified) next to the cached verdict;
//! - PPC round trips (empty, 256-byte message) to an `Echo` server,
//!   persistent-object create and delete, and sequential write bandwidth
//!   into a persistent vs a DRAM object (MiB/s; see `utest::benches`).

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use runtime::{println, sys, thread};
use utest::stats::Summary;

runtime::entry!(main);

fn main(_args: &str) -> u64 {
    report("null syscall", null_syscall(20_000));
    report(
        "thread switch (yield ping-pong, per switch)",
        yield_ping_pong(5_000),
    );
    report("thread-sync wake round trip", sync_round_trip(5_000));
    let (fault, mapped) = page_touches(2_048);
    report("user page fault (demand-zero, first touch)", fault);
    report("user page touch (already mapped)", mapped);
    let objects = objects::run();
    if let Err(e) = &objects {
        println!("bench: objects: set-up failed: {e:?}");
    }
    let stores = ppc_and_store();
    if let Err(e) = &stores {
        println!("bench: ppc/store: set-up failed: {e:?}");
    }
    posix_figures();
    u64::from(objects.is_err() || stores.is_err())
}

/// The PPC and object-store figures (`utest::benches`).
fn ppc_and_store() -> Result<(), protocols::syscall::SysError> {
    use utest::benches;
    let mut echo = benches::echo_server()?;
    let (null, payload) = benches::ppc_round_trips(&mut echo, 5_000)?;
    report("ppc round trip (empty message)", null);
    report("ppc round trip (256-byte message)", payload);
    let (create, delete) = benches::create_delete(200)?;
    report("persistent object create (4 KiB)", create);
    report("persistent object delete", delete);
    report(
        "persistent object page fault (pager PPC, NVDIMM frame mapped)",
        benches::pager_faults(512)?,
    );
    let (pmem, dram) = benches::write_bandwidth(20)?;
    report_unit(
        "sequential write into a persistent object (flushed, fenced)",
        pmem,
        "MiB/s",
    );
    report_unit("sequential write into a DRAM object", dram, "MiB/s");
    Ok(())
}

mod objects {
    //! The object, context and capability benchmarks.

    use alloc::vec::Vec;

    use protocols::kso::CtxFlags;
    use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
    use protocols::syscall::SysError;
    use runtime::sys;
    use utest::objsetup::{RW, add_cap, grant, map, new_ctx, new_keys};

    use super::{cycles, report};

    pub fn run() -> Result<(), SysError> {
        let (fault, mapped) = object_touches(2_048)?;
        report("object page fault (first touch, map on fault)", fault);
        report("object page touch (already mapped)", mapped);
        report(
            "automatic security-context switch on fault",
            context_switches(2_000)?,
        );
        let (first, cached) = verification(200)?;
        report("capability verification (first, after invalidation)", first);
        report("capability verification (cached verdict)", cached);
        Ok(())
    }

    fn object_touches(pages: usize) -> Result<(Vec<u64>, Vec<u64>), SysError> {
        let id = sys::obj_create(pages as u64 * 4096, ObjFlags::EMPTY, RW, ObjId::NIL)?;
        let base = map(id, RW)?;
        let mut first = Vec::with_capacity(pages);
        let mut again = Vec::with_capacity(pages);
        for round in [&mut first, &mut again] {
            for page in 0..pages {
                // SAFETY: inside the object's data area, mapped RW in the
                // default context, which its default permissions allow.
                let p = unsafe { base.add(BASE_OFFSET as usize + page * 4096) };
                let t0 = cycles();
                // SAFETY: as above.
                unsafe { p.write_volatile(1) };
                let t1 = cycles();
                round.push(t1 - t0);
            }
        }
        Ok((first, again))
    }

    fn context_switches(runs: usize) -> Result<Vec<u64>, SysError> {
        let keys = new_keys()?;
        let x = sys::obj_create(4096, ObjFlags::EMPTY, Perms::EMPTY, keys.public)?;
        let y = sys::obj_create(4096, ObjFlags::EMPTY, Perms::EMPTY, keys.public)?;
        let (a, abase) = new_ctx(CtxFlags::EMPTY, Perms::ALL)?;
        let (b, bbase) = new_ctx(CtxFlags::EMPTY, Perms::ALL)?;
        // SAFETY: both bases are the contexts' RW mappings.
        unsafe {
            add_cap(abase, 0, &keys, &grant(x, a, Perms::READ))?;
            add_cap(bbase, 0, &keys, &grant(y, b, Perms::READ))?;
        }
        sys::ctx_attach(a)?;
        sys::ctx_attach(b)?;
        let px = map(x, Perms::READ)? as usize + BASE_OFFSET as usize;
        let py = map(y, Perms::READ)? as usize + BASE_OFFSET as usize;
        let read = |p: usize| {
            // SAFETY: a mapped object page; the context it needs is
            // attached, so the kernel switches to it instead of faulting.
            unsafe { (p as *const u64).read_volatile() }
        };
        sys::ctx_activate(a)?;
        read(px);
        sys::ctx_activate(b)?;
        read(py);
        let mut samples = Vec::with_capacity(runs);
        for i in 0..runs + 20 {
            let t0 = cycles();
            read(if i % 2 == 0 { px } else { py });
            let t1 = cycles();
            if i >= 20 {
                samples.push(t1 - t0);
            }
        }
        sys::ctx_activate(ObjId::NIL)?;
        sys::ctx_detach(a)?;
        sys::ctx_detach(b)?;
        Ok(samples)
    }

    fn verification(runs: usize) -> Result<(Vec<u64>, Vec<u64>), SysError> {
        let keys = new_keys()?;
        let t = sys::obj_create(4096, ObjFlags::EMPTY, Perms::EMPTY, keys.public)?;
        let (c, cbase) = new_ctx(CtxFlags::EMPTY, Perms::ALL)?;
        // SAFETY: `cbase` is the context's RW mapping.
        unsafe { add_cap(cbase, 0, &keys, &grant(t, c, Perms::READ))? };
        sys::ctx_attach(c)?;
        let mut first = Vec::with_capacity(runs);
        let mut cached = Vec::with_capacity(runs);
        for _ in 0..runs {
            sys::kso_invalidate(c)?;
            let t0 = cycles();
            let p1 = sys::ctx_check(c, t)?;
            let t1 = cycles();
            let p2 = sys::ctx_check(c, t)?;
            let t2 = cycles();
            if p1 != Perms::READ || p2 != Perms::READ {
                return Err(SysError::PermissionDenied);
            }
            first.push(t1 - t0);
            cached.push(t2 - t1);
        }
        sys::ctx_detach(c)?;
        Ok((first, cached))
    }
}

fn report(name: &str, samples: Vec<u64>) {
    report_unit(name, samples, "cycles");
}

fn report_unit(name: &str, mut samples: Vec<u64>, unit: &str) {
    match Summary::of(&mut samples) {
        Some(summary) => println!("{}", summary.line(name, unit)),
        None => println!("bench: {name}: no samples"),
    }
}

/// The time-stamp counter, ordered after earlier loads.
fn cycles() -> u64 {
    // SAFETY: `lfence; rdtsc` reads the counter and touches no memory.
    unsafe {
        core::arch::x86_64::_mm_lfence();
        core::arch::x86_64::_rdtsc()
    }
}

fn null_syscall(runs: usize) -> Vec<u64> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs + 100 {
        let t0 = cycles();
        let _ = sys::null();
        let t1 = cycles();
        if i >= 100 {
            samples.push(t1 - t0);
        }
    }
    samples
}

fn yield_ping_pong(runs: usize) -> Vec<u64> {
    static STOP: AtomicBool = AtomicBool::new(false);
    STOP.store(false, Ordering::SeqCst);
    let partner = thread::spawn(|| {
        while !STOP.load(Ordering::Relaxed) {
            let _ = sys::thread_yield();
        }
    });
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs + 100 {
        let t0 = cycles();
        let _ = sys::thread_yield();
        let t1 = cycles();
        if i >= 100 {
            // One yield that comes back is two switches: there and back.
            samples.push((t1 - t0) / 2);
        }
    }
    STOP.store(true, Ordering::SeqCst);
    let _ = partner.join();
    samples
}

fn sync_round_trip(runs: usize) -> Vec<u64> {
    static PING: AtomicU64 = AtomicU64::new(0);
    static PONG: AtomicU64 = AtomicU64::new(0);
    const DONE: u64 = u64::MAX;
    PING.store(0, Ordering::SeqCst);
    PONG.store(0, Ordering::SeqCst);
    let partner = thread::spawn(|| {
        let mut seen = 0;
        loop {
            let v = PING.load(Ordering::Acquire);
            if v == seen {
                let _ = sys::thread_sync_wait(&PING, seen, 0);
                continue;
            }
            if v == DONE {
                break;
            }
            seen = v;
            PONG.store(v, Ordering::Release);
            let _ = sys::thread_sync_wake(&PONG, 1);
        }
    });
    let mut samples = Vec::with_capacity(runs);
    for i in 1..=(runs as u64 + 100) {
        let t0 = cycles();
        PING.store(i, Ordering::Release);
        let _ = sys::thread_sync_wake(&PING, 1);
        loop {
            let p = PONG.load(Ordering::Acquire);
            if p == i {
                break;
            }
            let _ = sys::thread_sync_wait(&PONG, p, 0);
        }
        let t1 = cycles();
        if i > 100 {
            samples.push(t1 - t0);
        }
    }
    PING.store(DONE, Ordering::Release);
    let _ = sys::thread_sync_wake(&PING, 1);
    let _ = partner.join();
    samples
}

/// First touches of fresh heap pages, then second touches of the same pages.
fn page_touches(pages: usize) -> (Vec<u64>, Vec<u64>) {
    const PAGE: usize = 4096;
    let Ok(layout) = core::alloc::Layout::from_size_align(pages * PAGE, PAGE) else {
        return (Vec::new(), Vec::new());
    };
    // SAFETY: the layout has a non-zero size; the block is freed below with
    // the same layout. Its pages were never touched, so each first write
    // takes a demand-zero fault.
    let base = unsafe { alloc::alloc::alloc(layout) };
    if base.is_null() {
        return (Vec::new(), Vec::new());
    }
    let mut first = Vec::with_capacity(pages);
    let mut again = Vec::with_capacity(pages);
    for round in [&mut first, &mut again] {
        for page in 0..pages {
            // SAFETY: `page * PAGE` is inside the block allocated above.
            let p = unsafe { base.add(page * PAGE) };
            let t0 = cycles();
            // SAFETY: `p` is valid for writes (inside the live block).
            unsafe { p.write_volatile(1) };
            let t1 = cycles();
            round.push(t1 - t0);
        }
    }
    // SAFETY: allocated above with this layout, not freed since.
    unsafe { alloc::alloc::dealloc(base, layout) };
    (first, again)
}

/// The POSIX layer's figures (issue 6): `open`+`read`+`close` of a small
/// file, and sequential write bandwidth through `write` (1 MiB per run in
/// the server's 2 KiB messages, each copied into the object store) — to
/// set next to the direct stores into a mapped persistent object above.
fn posix_figures() {
    use posix::OpenFlags;
    const SMALL: &[u8] = b"a small file: 64 bytes of text for open, read and close......\n";
    const BYTES: usize = 1 << 20;
    let mut fs = match posix::connect(30_000) {
        Ok(c) => c,
        Err(e) => return println!("bench: posix: no POSIX server ({e})"),
    };
    let dir = alloc::format!("/ubench-{:08x}", utest::objsetup::random_u64() as u32);
    let (small, big) = (alloc::format!("{dir}/small"), alloc::format!("{dir}/big"));
    let create = OpenFlags::O_WRONLY | OpenFlags::O_CREAT | OpenFlags::O_TRUNC;
    let setup = fs.mkdir(&dir, 0o755).and_then(|_| {
        let fd = fs.open(&small, create, 0o644)?;
        fs.write(fd, SMALL)?;
        fs.close(fd)
    });
    if let Err(e) = setup {
        return println!("bench: posix: set-up failed: {e:?}");
    }
    let mut buf = [0u8; 128];
    let mut samples = Vec::new();
    for i in 0..300 {
        let t0 = cycles();
        let n = fs.open(&small, OpenFlags::O_RDONLY, 0).and_then(|fd| {
            let n = fs.read(fd, &mut buf)?;
            fs.close(fd).map(|_| n)
        });
        let t1 = cycles();
        if n != Ok(SMALL.len()) {
            return println!("bench: posix: small read gave {n:?}");
        }
        if i >= 20 {
            samples.push(t1 - t0);
        }
    }
    report("posix open+read+close (64-byte file)", samples);
    let data = alloc::vec![0x5au8; BYTES];
    let mut kibs = Vec::new();
    for i in 0..6 {
        let now = || sys::clock_read(protocols::syscall::Clock::Monotonic).unwrap_or(0);
        let t0 = now();
        let wrote = fs
            .open(&big, create, 0o644)
            .and_then(|fd| fs.write(fd, &data).and_then(|_| fs.close(fd)));
        let ns = (now() - t0).max(1);
        if let Err(e) = wrote {
            return println!("bench: posix: write failed: {e:?}");
        }
        if i > 0 {
            kibs.push((BYTES as u64 * 1_000_000_000 / ns) >> 10);
        }
    }
    report_unit(
        "sequential write through POSIX write() (1 MiB, O_TRUNC each run)",
        kibs,
        "KiB/s",
    );
    let _ = fs.unlink(&small);
    let _ = fs.unlink(&big);
    let _ = fs.rmdir(&dir);
}
