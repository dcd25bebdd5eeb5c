//! `stale MODE`: a mapping of a persistent object must not outlive the
//! object's frames. The store hands a deleted object's NVDIMM frames to the
//! next object it creates, so the kernel takes a deleted (or shrunk)
//! object's pages away from every address space that maps it.
//!
//! Each mode runs in its own program, because the access that must fault
//! ends it; the parent (`store` group) checks how it ended:
//!
//! - `delete`: map object A and touch it, delete A, create B of the same
//!   size in the space A freed and fill it over PPC, then read through A's
//!   old mapping. It must fault; seeing B's bytes is the isolation bug.
//! - `shrink`: map a three-page object, touch its last page, shrink it to
//!   one page; the first page still reads its bytes through the same
//!   mapping, and the cut page faults.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::object::{BASE_OFFSET, ObjId, Perms};
use protocols::syscall::EXIT_FAULT;
use runtime::{println, sys};
use utest::objsetup::map;
use utest::pstore::{self, StoreClient};

use crate::ensure;
use crate::report::Outcome;

/// `delete`'s objects are this size, so the parent can find and remove
/// what a child that faulted left behind.
pub const DELETE_SIZE: u64 = 3 * 4096 + 17;
/// `shrink` starts at this size …
const SHRINK_FROM: u64 = 3 * 4096 + 19;
/// … and ends at this one (also how the parent finds it).
pub const SHRINK_TO: u64 = 4096 + 19;

/// Exit code: the stale mapping read the new object's bytes.
const SAW_OTHER: u64 = 3;
/// Exit code: the stale mapping read without faulting (other bytes).
const NO_FAULT: u64 = 4;
/// Exit code: a step before the checked access failed.
const SETUP: u64 = 5;

const A_FILL: u8 = 0xa5;
const B_FILL: u8 = 0x5b;

fn err(e: impl core::fmt::Debug) -> String {
    format!("{e:?}")
}

/// Runs mode `mode` (the child's side); returns only when the access that
/// had to fault did not.
pub fn run(mode: &str) -> u64 {
    let result = pstore::connect().map_err(err).and_then(|mut c| match mode {
        "delete" => delete(&mut c),
        "shrink" => shrink(&mut c),
        _ => Err(format!("unknown mode {mode:?}")),
    });
    match result {
        Ok(code) => code,
        Err(why) => {
            println!("utest: stale {mode}: {why}");
            SETUP
        }
    }
}

/// Reads the byte at `offset` of the data area mapped at `base`.
fn peek(base: *mut u8, offset: u64) -> u8 {
    // SAFETY: `base` is a live object mapping and `offset` lies inside its
    // slot's data area; if the kernel took the page away, the read faults
    // and ends this program, which is what the parent checks.
    unsafe { base.add((BASE_OFFSET + offset) as usize).read_volatile() }
}

fn delete(c: &mut StoreClient) -> Result<u64, String> {
    let a = pstore::create(c, DELETE_SIZE).map_err(err)?;
    pstore::write_all(c, a, 0, &[A_FILL; DELETE_SIZE as usize]).map_err(err)?;
    let base = map(a, Perms::READ | Perms::WRITE).map_err(err)?;
    let seen: Vec<u8> = (0..3).map(|p| peek(base, p * 4096)).collect();
    ensure!(seen == [A_FILL; 3], "A reads {seen:x?} through its mapping");
    c.delete(a).map_err(err)?;
    let b = pstore::create(c, DELETE_SIZE).map_err(err)?;
    pstore::write_all(c, b, 0, &[B_FILL; DELETE_SIZE as usize]).map_err(err)?;
    println!("utest: stale delete: A deleted, B {b} filled; reading A's old mapping");
    let seen = peek(base, 4096);
    Ok(if seen == B_FILL { SAW_OTHER } else { NO_FAULT })
}

fn shrink(c: &mut StoreClient) -> Result<u64, String> {
    let id = pstore::create(c, SHRINK_FROM).map_err(err)?;
    pstore::write_all(c, id, 0, &[A_FILL; SHRINK_FROM as usize]).map_err(err)?;
    let base = map(id, Perms::READ | Perms::WRITE).map_err(err)?;
    ensure!(peek(base, 2 * 4096) == A_FILL, "the last page reads wrong");
    c.resize(id, SHRINK_TO).map_err(err)?;
    ensure!(
        peek(base, 0) == A_FILL && peek(base, 4096) == A_FILL,
        "the kept bytes read wrong after the shrink"
    );
    println!("utest: stale shrink: kept pages read back; reading the cut page");
    Ok(if peek(base, 2 * 4096) == A_FILL {
        NO_FAULT
    } else {
        SAW_OTHER
    })
}

/// The parent's check of mode `mode`: the child must end with a page
/// fault; then whatever it left in the store is removed.
pub fn check(c: &mut StoreClient, mode: &str, leftover_size: u64) -> Outcome {
    let child = sys::program_spawn("utest", &format!("stale {mode}")).map_err(err)?;
    let code = sys::program_wait(child, 0).map_err(err)?;
    let cleaned = remove_sized(c, leftover_size);
    ensure!(
        code == EXIT_FAULT | 14,
        "stale {mode} exited with {code:#x}, expected a page fault ({:#x}){}",
        EXIT_FAULT | 14,
        match code {
            SAW_OTHER => ": the stale mapping saw another object's bytes",
            NO_FAULT => ": the stale mapping still worked",
            _ => "",
        }
    );
    cleaned.map_err(err)
}

/// Deletes every object of exactly `size` bytes.
fn remove_sized(c: &mut StoreClient, size: u64) -> Result<(), String> {
    let mut doomed: Vec<ObjId> = Vec::new();
    let mut cursor = 0;
    loop {
        let page = c.list(cursor, 16).map_err(err)?;
        doomed.extend(page.objects.iter().filter(|i| i.size == size).map(|i| i.id));
        match page.next {
            Some(n) => cursor = n,
            None => break,
        }
    }
    for id in doomed {
        c.delete(id)
            .map_err(|e| format!("cleaning up {id}: {e:?}"))?;
    }
    Ok(())
}
