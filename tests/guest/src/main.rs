//! `utest`: user-mode tests that run inside Perennial. The argument string
//! picks the group:
//!
//! - `syscalls`: the success path of every system call;
//! - `threads`: join, a mutex, sleep accuracy, preemption;
//! - `fault <kind>`: a CPU fault the kernel must end the program for
//!   (`null-read`, `write-readonly`, `kernel-address`, `invalid-opcode`,
//!   `divide-by-zero`);
//! - `badinput`: every call number with garbage arguments;
//! - `objects`: objects, invariant pointers, views, security contexts and
//!   capabilities (spawns `objwalk ROOT N SUM`, `fig3` and `revoke`);
//! - `ppc`: protected procedure calls (spawns `ppcserver GATE`, an
//!   `Echo` server);
//! - `posix`: the POSIX layer, pjdfstest-style (`posix-persist write`
//!   and `posix-persist check`: the two halves of the reboot test);
//! - `store`: persistent objects through the object store (spawns
//!   `stale delete` and `stale shrink`, which must end with a page fault);
//! - `exit N`: exits with `N`; `sleep`: sleeps until it is killed.
//!
//! Each test prints `utest: <name> ... ok` or `utest: <name> ... FAILED:
//! <why>`, then `utest: N passed, N failed`; the exit code is 0 when all
//! passed, else 1.

// On the target the program is freestanding; on the host it only has to
// type-check (`cargo clippy --workspace`), with `std` standing in for the
// runtime's panic handler and allocator. It is never run there.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

mod access;
mod bad;
mod fault;
mod objects;
mod pkso;
mod posixfs;
mod ppc;
mod report;
mod stale;
mod store;
mod syscalls;
mod threads;

use runtime::{println, sys};

runtime::entry!(main);

/// Exit code for a malformed argument string.
const USAGE: u64 = 2;

fn main(args: &str) -> u64 {
    let mut words = args.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("syscalls"), None, _) => syscalls::run(),
        (Some("threads"), None, _) => threads::run(),
        (Some("badinput"), None, _) => bad::run(),
        (Some("objects"), None, _) => objects::run(),
        (Some("ppc"), None, _) => ppc::run(),
        (Some("store"), None, _) => store::run(),
        (Some("posix"), None, _) => posixfs::run(),
        (Some("posix-persist"), Some(step), None) => posixfs::persist(step),
        (Some("posix-other"), Some(fd), Some(path)) => posixfs::other(fd, path),
        (Some("posix-leave-open"), Some(path), None) => posixfs::leave_open(path),
        (Some("stale"), Some(mode), None) => stale::run(mode),
        (Some("ppcserver"), Some(gate), None) => ppc::server(gate),
        (Some("fig3"), None, _) => objects::fig3(),
        (Some("revoke"), None, _) => objects::revoke(),
        (Some("objwalk"), Some(root), Some(n)) => match words.next() {
            Some(sum) => objects::objwalk(root, n, sum),
            None => usage(args),
        },
        (Some("fault"), Some(kind), None) => fault::run(kind),
        (Some("sleep"), None, _) => loop {
            let _ = sys::thread_sleep(protocols::syscall::MAX_SLEEP_NANOS);
        },
        (Some("exit"), Some(code), None) => match code.parse() {
            Ok(code) => code,
            Err(_) => usage(args),
        },
        _ => usage(args),
    }
}

fn usage(args: &str) -> u64 {
    println!(
        "utest: unknown arguments {args:?}; use syscalls | threads | badinput | objects | ppc | store | posix | posix-persist write|check | fault KIND | exit N"
    );
    USAGE
}
