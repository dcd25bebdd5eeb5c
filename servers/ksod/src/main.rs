//! `ksod`: the KSO persistence server. Started by `init` right after the
//! object store; every other server starts from the thread KSO it records.
//!
//! It finds (or creates) the KSO root in the object store, opens it (the
//! recovery of its durable transactions), reads every thread KSO the root
//! lists into the boot snapshot, deletes unlisted thread KSOs (orphans of
//! a cut `record`), publishes `ksod` and prints one boot line saying how
//! it found the system (fresh, clean, or a recovery after a power cut).
//! The logic is the `ksod` library; this file is the guest glue.
//!
//! Without persistent memory it records nothing and ends with status 0
//! (the supervisor leaves it ended; callers start programs without KSOs).
//!
//! `ksod selftest` is a client instead: it calls the running `ksod`
//! through PPC (see [`selftest`]).

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

mod selftest;
mod store_link;

use alloc::boxed::Box;

use protocols::ipc::{self, Interface};
use protocols::ksod::{self as proto, KSOD_SERVICE};
use runtime::{ppc, println, sys};

use store_link::StoreLink;

runtime::entry!(main);

/// Calls in flight at once (they run one at a time, under the lock).
const STACKS: u64 = 8;

fn main(args: &str) -> u64 {
    match args.trim() {
        "" => serve(),
        "selftest" => selftest::run(),
        other => {
            println!("ksod: usage: ksod [selftest] (got {other:?})");
            2
        }
    }
}

fn now_ms() -> u64 {
    runtime::time::uptime_nanos().unwrap_or(0) / 1_000_000
}

/// Starts, publishes and serves for ever; returns an exit code only when
/// it cannot.
fn serve() -> u64 {
    let t0 = now_ms();
    if runtime::debug::memory().is_ok_and(|m| m.pmem_bytes == 0) {
        println!("ksod: no persistent memory: no KSOs recorded");
        return 0;
    }
    let store = match StoreLink::connect() {
        Ok(s) => s,
        Err(e) => {
            println!("ksod: the object store is not serving ({e}): no KSOs recorded");
            return 3;
        }
    };
    let ksod = match ksod::start(store, t0, now_ms) {
        Ok(k) => k,
        Err(e) => {
            println!("ksod: cannot start: {e}");
            return 4;
        }
    };
    let line = ksod.boot_line();
    // SAFETY: the only non-`Send` part of the server is its root's pointer
    // into the root object, mapped for the program's life and used by
    // nothing else.
    let mut state = unsafe { objects::setup::Serialized::new(ksod) };
    let handler: Box<ppc::Handler> = Box::new(move |generation, request, reply| {
        ipc::serve(&mut proto::Service(state.get()), generation, request, reply)
    });
    let published = objects::setup::server_gate().and_then(|gate| {
        ppc::register_handler(gate, proto::Ksod::GATES, handler, STACKS)?;
        sys::service_publish(KSOD_SERVICE, gate)
    });
    if let Err(e) = published {
        println!("ksod: cannot serve: {e}");
        return 5;
    }
    println!("{line}");
    loop {
        // Calls arrive on their callers' threads.
        let _ = sys::thread_sleep(protocols::syscall::MAX_SLEEP_NANOS);
    }
}
