//! `store`: persistent objects through the object store server — create,
//! write and read back over PPC; the same bytes through a direct mapping
//! (the kernel maps the NVDIMM frames themselves, so stores made through
//! the mapping are what the server reads); delete frees space that the
//! next create reuses; a deleted or shrunk object's pages leave every
//! mapping; the store grants each call only what the caller's security
//! context grants ([`access`]); the checker stays clean.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use protocols::ipc::CallError;
use protocols::object::{BASE_OFFSET, Perms};
use protocols::objstore::StoreError;
use runtime::persist;
use utest::objsetup::map;
use utest::pstore::{self, StoreClient};

use crate::ensure;
use crate::report::{Outcome, Report};
use crate::{access, pkso, stale};

/// An object larger than half the default 256 MiB NVDIMM: two cannot
/// coexist, so the second fits only in the space the first one freed.
const BIG: u64 = 150 << 20;

fn err(e: impl core::fmt::Debug) -> String {
    format!("{e:?}")
}

/// Runs the group.
pub fn run() -> u64 {
    let mut r = Report::default();
    let mut c = match pstore::connect() {
        Ok(c) => c,
        Err(e) => {
            r.test("store: connect to the object store", || Err(err(e)));
            return r.finish();
        }
    };
    r.test("store: create, write, read back identical", || {
        round_trip(&mut c)
    });
    r.test(
        "store: a mapped persistent object is the NVDIMM itself (no copies)",
        || mapped(&mut c),
    );
    r.test(
        "store: delete frees space and the next create reuses it",
        || reuse(&mut c),
    );
    r.test(
        "store: a deleted object's mapping faults, never reaching its reused frames",
        || stale::check(&mut c, "delete", stale::DELETE_SIZE),
    );
    r.test(
        "store: a shrunk object keeps its pages mapped and loses the cut ones",
        || stale::check(&mut c, "shrink", stale::SHRINK_TO),
    );
    r.test(
        "store: a security context kept in the store grants what its capability says",
        || pkso::context(&mut c),
    );
    r.test(
        "store: a corrupt persistent context is quarantined and the rest goes on",
        || pkso::corrupt_context(&mut c),
    );
    r.test(
        "store: a call needs the right its caller's context grants (default perms)",
        || access::by_default_perms(&mut c),
    );
    r.test(
        "store: a capability in the caller's active context grants through the store",
        || access::by_capability(&mut c),
    );
    r.test(
        "store: a thread KSO cannot be overwritten through the store",
        || access::thread_kso(&mut c),
    );
    r.test("store: the checker finds the store clean", || clean(&mut c));
    r.finish()
}

fn round_trip(c: &mut StoreClient) -> Outcome {
    let data: vec::Vec<u8> = (0..3000u32).map(|i| (i * 7 + 3) as u8).collect();
    let id = pstore::create(c, 4096).map_err(err)?;
    pstore::write_all(c, id, 100, &data).map_err(err)?;
    let mut back = vec![0u8; data.len()];
    pstore::read_all(c, id, 100, &mut back).map_err(err)?;
    ensure!(back == data, "read back differs");
    let info = c.stat(id).map_err(err)?;
    ensure!(info.size == 4096, "size {}", info.size);
    let listed = c.list(0, 16).map_err(err)?;
    ensure!(
        listed.objects.iter().any(|i| i.id == id),
        "not in the listing"
    );
    c.delete(id).map_err(err)?;
    ensure!(
        c.stat(id) == Err(CallError::Server(StoreError::NotFound)),
        "still there after delete"
    );
    Ok(())
}

fn mapped(c: &mut StoreClient) -> Outcome {
    let id = pstore::create(c, 8192).map_err(err)?;
    pstore::write_all(c, id, 0, b"written by the server").map_err(err)?;
    let base = map(id, Perms::READ | Perms::WRITE).map_err(err)?;
    let data = base.wrapping_add(BASE_OFFSET as usize);
    let mut seen = [0u8; 21];
    // SAFETY: the object is mapped RW and its data area holds 8192 bytes;
    // nothing else in this program refers to it.
    unsafe { core::ptr::copy_nonoverlapping(data, seen.as_mut_ptr(), seen.len()) };
    ensure!(&seen == b"written by the server", "mapping reads {seen:?}");
    let mine = b"stored through the mapping";
    // SAFETY: as above; 4096 + 26 bytes lie inside the data area.
    unsafe {
        core::ptr::copy_nonoverlapping(mine.as_ptr(), data.add(4096), mine.len());
        persist::flush(data.add(4096), mine.len());
    }
    persist::fence();
    let mut back = [0u8; 26];
    pstore::read_all(c, id, 4096, &mut back).map_err(err)?;
    ensure!(&back == mine, "the server reads {back:?}");
    c.delete(id).map_err(err)?;
    Ok(())
}

fn reuse(c: &mut StoreClient) -> Outcome {
    let first = pstore::create(c, BIG).map_err(err)?;
    let second = pstore::create(c, BIG);
    ensure!(
        second == Err(CallError::Server(StoreError::NoSpace)),
        "a second big object while the first exists: {second:?}"
    );
    c.delete(first).map_err(err)?;
    let again = pstore::create(c, BIG).map_err(err)?;
    c.delete(again).map_err(err)?;
    Ok(())
}

fn clean(c: &mut StoreClient) -> Outcome {
    let r = c.check().map_err(err)?;
    ensure!(r.findings == 0, "{} findings: {}", r.findings, r.text);
    Ok(())
}
