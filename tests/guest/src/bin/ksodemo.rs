//! `ksodemo`: a small supervised program for the thread-KSO scenarios,
//! started with the shell's `server start NAME ksodemo [--no-resume]`.
//!
//! It prints how the kernel started it (from `kso_self`), registers for
//! power-resume unless given `--no-resume` (then a power cut resets it),
//! and on a start without its context creates a security context as a
//! persistent KSO in the object store and attaches it, and does the same
//! with an (empty) view, so the kernel lists both in the thread KSO and
//! attaches them again at the next start. Then it idles like a server.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use protocols::kso::{CtxFlags, CtxHeader, encode_view_header};
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::objstore::CreateSpec;
use protocols::thread_kso::StartKind;
use runtime::{println, sys};
use utest::objsetup::{RW, SMALL, map, put};
use utest::pstore;

runtime::entry!(main);

fn main(args: &str) -> u64 {
    let resumable = args.split_whitespace().all(|a| a != "--no-resume");
    let me = match sys::kso_self() {
        Ok(k) => k,
        Err(e) => {
            println!("ksodemo: no thread KSO ({e}); start it with `server start NAME ksodemo`");
            return 2;
        }
    };
    let resume = if resumable {
        runtime::kso::power_resume("ksodemo")
    } else {
        None
    };
    let interrupted = match me.interrupted {
        Some(n) => call_name(n),
        None => "-",
    };
    println!(
        "ksodemo: started {} (generation {}, kso {}, interrupted call {interrupted}, {} quarantined)",
        me.start.describe(),
        me.generation,
        me.kso,
        me.quarantined
    );
    // A resumed program finds its context and view attached again; any
    // other start sets them up anew.
    if me.start != StartKind::Resumed {
        match new_kso(
            &CtxHeader {
                flags: CtxFlags::EMPTY,
                mask: Perms::ALL,
                cap_count: 0,
            }
            .encode(),
        ) {
            Ok(ctx) => match sys::ctx_attach(ctx) {
                Ok(()) => println!("ksodemo: kso {}: attached persistent context {ctx}", me.kso),
                Err(e) => println!("ksodemo: cannot attach context {ctx}: {e}"),
            },
            Err(e) => println!("ksodemo: cannot create a context: {e}"),
        }
        // An empty view: the demo maps nothing once it is set up.
        match new_kso(&encode_view_header(0)) {
            // SAFETY: after this the demo touches no object slot again (it
            // prints and sleeps), so no reference into a replaced slot is
            // used.
            Ok(view) => match unsafe { sys::view_attach(view) } {
                Ok(()) => println!("ksodemo: kso {}: attached persistent view {view}", me.kso),
                Err(e) => println!("ksodemo: cannot attach view {view}: {e}"),
            },
            Err(e) => println!("ksodemo: cannot create a view: {e}"),
        }
    }
    if let Some(r) = resume {
        r.recovered(
            "ksodemo",
            "its context and view (the kernel attached them again)",
        );
    }
    println!("ksodemo: serving");
    loop {
        let _ = sys::thread_sleep(1_000_000_000);
    }
}

/// The name of call `n` (the kernel's numbering), or `?`.
fn call_name(n: u32) -> &'static str {
    match protocols::syscall::Syscall::try_from(u64::from(n)) {
        Ok(protocols::syscall::Syscall::ThreadSleep) => "thread_sleep",
        Ok(protocols::syscall::Syscall::ThreadSyncWait) => "thread_sync_wait",
        Ok(protocols::syscall::Syscall::ConsoleWrite) => "console_write",
        Ok(_) => "another call",
        Err(_) => "?",
    }
}

/// A persistent KSO holding `record` (a context or view header).
fn new_kso(record: &[u8; 64]) -> Result<ObjId, protocols::syscall::SysError> {
    let mut store = pstore::connect()?;
    let spec = CreateSpec {
        size: SMALL,
        flags: ObjFlags::PERSISTENT | ObjFlags::KSO,
        default_perms: RW | Perms::USE,
        key: ObjId::NIL,
    };
    let id = store
        .create(spec)
        .map_err(|_| protocols::syscall::SysError::NoMemory)?
        .id;
    let base = map(id, RW)?;
    // SAFETY: `base` is the fresh object's read/write mapping; the record
    // lies in its data area.
    unsafe { put(base, BASE_OFFSET, record) };
    // SAFETY: the record just written, inside the mapping.
    let written = unsafe { core::slice::from_raw_parts(base.add(BASE_OFFSET as usize), 64) };
    runtime::persist::flush_slice(written);
    runtime::persist::fence();
    Ok(id)
}
