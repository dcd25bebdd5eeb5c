//! The PPC and object-store benchmarks `ubench` runs: calls through the
//! kernel to an `Echo` server (`utest ppcserver`), persistent-object
//! create and delete through the store, and sequential write bandwidth
//! into a mapped persistent object (NVDIMM frames, flushed and fenced) next
//! to a mapped DRAM object.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use protocols::echo::{self, MAX_ECHO};
use protocols::ipc::Bytes;
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::syscall::SysError;
use runtime::ppc::Gate;
use runtime::{persist, sys};

use crate::objsetup::{RW, map};
use crate::pstore;

/// The time-stamp counter, ordered after earlier loads.
fn cycles() -> u64 {
    // SAFETY: `lfence; rdtsc` reads the counter and touches no memory.
    unsafe {
        core::arch::x86_64::_mm_lfence();
        core::arch::x86_64::_rdtsc()
    }
}

/// Starts an `Echo` server behind a fresh public gate object.
pub fn echo_server() -> Result<echo::Client<Gate>, SysError> {
    let gate = sys::obj_create(4096, ObjFlags::EMPTY, RW | Perms::EXEC, ObjId::NIL)?;
    sys::program_spawn("utest", &format!("ppcserver {gate}"))?;
    for _ in 0..1000 {
        if let Ok(g) = Gate::bind(gate) {
            return Ok(echo::Client::new(g));
        }
        sys::thread_sleep(2_000_000)?;
    }
    Err(SysError::TimedOut)
}

/// PPC round trips: `(null call, 256-byte echo)` samples in cycles.
pub fn ppc_round_trips(
    c: &mut echo::Client<Gate>,
    runs: usize,
) -> Result<(Vec<u64>, Vec<u64>), SysError> {
    let fail = |_| SysError::InvalidArgument;
    let mut null = Vec::with_capacity(runs);
    let mut payload = Vec::with_capacity(runs);
    let data: Bytes<MAX_ECHO> = (0..MAX_ECHO).map(|i| i as u8).collect();
    for i in 0..runs + 100 {
        let t0 = cycles();
        c.null().map_err(fail)?;
        let t1 = cycles();
        c.echo(data.clone()).map_err(fail)?;
        let t2 = cycles();
        if i >= 100 {
            null.push(t1 - t0);
            payload.push(t2 - t1);
        }
    }
    Ok((null, payload))
}

/// Persistent-object `(create, delete)` samples in cycles (4 KiB objects).
pub fn create_delete(runs: usize) -> Result<(Vec<u64>, Vec<u64>), SysError> {
    let mut c = pstore::connect()?;
    let fail = |_| SysError::InvalidArgument;
    let (mut create, mut delete) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = cycles();
        let id = pstore::create(&mut c, 4096).map_err(fail)?;
        let t1 = cycles();
        c.delete(id).map_err(fail)?;
        let t2 = cycles();
        create.push(t1 - t0);
        delete.push(t2 - t1);
    }
    Ok((create, delete))
}

/// Cycles of the first touch of each of `pages` pages of a mapped
/// persistent object: the kernel asks the store's pager (a PPC on the
/// faulting thread's behalf) and maps the NVDIMM frame it names.
pub fn pager_faults(pages: usize) -> Result<Vec<u64>, SysError> {
    let mut c = pstore::connect()?;
    let id = pstore::create(&mut c, pages as u64 * 4096).map_err(|_| SysError::NoMemory)?;
    let base = map(id, RW)?;
    let mut out = Vec::with_capacity(pages);
    for i in 0..pages {
        let p = base.wrapping_add(BASE_OFFSET as usize + i * 4096);
        let t0 = cycles();
        // SAFETY: page `i` of the mapped object's data area.
        let _ = unsafe { p.read_volatile() };
        out.push(cycles() - t0);
    }
    let _ = c.delete(id);
    Ok(out)
}

/// Bytes per bandwidth run.
const BW_BYTES: usize = 1 << 20;

/// MiB/s samples of writing [`BW_BYTES`] sequentially at `data`, made
/// durable (flush + fence) when `durable`.
///
/// # Safety
///
/// `data` is a writable mapping of at least [`BW_BYTES`] bytes nothing
/// else refers to.
unsafe fn bandwidth(data: *mut u8, durable: bool, runs: usize) -> Vec<u64> {
    let src = vec![0x5au8; BW_BYTES];
    let mut out = Vec::with_capacity(runs);
    for i in 0..runs + 1 {
        let t0 = sys::clock_read(protocols::syscall::Clock::Monotonic).unwrap_or(0);
        // SAFETY: per the contract.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), data, BW_BYTES);
            if durable {
                persist::flush(data, BW_BYTES);
            }
        }
        if durable {
            persist::fence();
        }
        let t1 = sys::clock_read(protocols::syscall::Clock::Monotonic).unwrap_or(0);
        let ns = (t1 - t0).max(1);
        if i > 0 {
            out.push((BW_BYTES as u64 * 1_000_000_000 / ns) >> 20);
        }
    }
    out
}

/// `(persistent, DRAM)` sequential write bandwidth samples, MiB/s.
pub fn write_bandwidth(runs: usize) -> Result<(Vec<u64>, Vec<u64>), SysError> {
    let mut c = pstore::connect()?;
    let pid = pstore::create(&mut c, BW_BYTES as u64).map_err(|_| SysError::NoMemory)?;
    let pbase = map(pid, RW)?;
    let did = sys::obj_create(BW_BYTES as u64, ObjFlags::EMPTY, RW, ObjId::NIL)?;
    let dbase = map(did, RW)?;
    // SAFETY: both are fresh RW mappings of BW_BYTES-byte data areas.
    let (p, d) = unsafe {
        (
            bandwidth(pbase.add(BASE_OFFSET as usize), true, runs),
            bandwidth(dbase.add(BASE_OFFSET as usize), false, runs),
        )
    };
    let _ = c.delete(pid);
    let _ = sys::obj_delete(did);
    Ok((p, d))
}
