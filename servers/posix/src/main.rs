//! `posix`: the POSIX server. Started by `init` after the object store and
//! the resolvers.
//!
//! Files are persistent objects in the object store (`posix_core::StoreFiles`),
//! named through the shared hierarchical resolver published as `hier` — the
//! namespace the shell's `ls` shows. The server keeps one descriptor table
//! per calling program, keyed by the caller the kernel names on each call
//! (`runtime::ppc::caller`). It publishes its gate as `posix`.
//!
//! It waits as long as it takes for both (logging while it waits): one
//! namespace for the shell and every program is the point, so it never
//! serves a private one. Its connections to them survive their restarts
//! (`posix::relink`).

// On the target the program is freestanding; on the host it only has to
// type-check (`cargo clippy --workspace`). It is never run there.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;

use nomenclature::Remote;
use posix::relink::Relinking;
use posix_core::{Clock, Posix, Session, StoreFiles};
use protocols::ipc::{self, Interface};
use protocols::posix as proto;
use protocols::resolver;
use protocols::syscall::SysError;
use runtime::{println, sys};

runtime::entry!(main);

/// How long each wait for a server lasts before the server says it is
/// still waiting.
const WAIT_MS: u64 = 10_000;
/// The shared hierarchical resolver's service name.
pub const HIER_SERVICE: &str = "hier";
/// The object store's service name.
pub const STORE_SERVICE: &str = "objstore";
/// Calls in flight at once.
const STACKS: u64 = 16;

fn main(_args: &str) -> u64 {
    // Files are persistent objects: without persistent memory there is no
    // object store (it says so and exits), so nothing to serve.
    if runtime::debug::memory().is_ok_and(|m| m.pmem_bytes == 0) {
        println!("posix: no persistent memory; not serving");
        return 0;
    }
    let resume = runtime::kso::power_resume("posix");
    let store = wait_for(STORE_SERVICE);
    let hier = wait_for(HIER_SERVICE);
    let fs = Posix::new(
        Remote(resolver::Client::new(hier)),
        StoreFiles(protocols::objstore::Client::new(store)),
        Realtime,
    );
    if let Some(r) = resume {
        // Descriptors die with their programs: the tables start empty.
        r.recovered("posix", "its links to the store and `hier`");
    }
    let err = serve(fs);
    println!("posix: cannot serve: {err}");
    1
}

/// A connection to the server published as `name`, once it is there
/// (saying once that it waits longer than [`WAIT_MS`]).
fn wait_for(name: &'static str) -> Relinking {
    let mut said = false;
    loop {
        match Relinking::connect(name, WAIT_MS) {
            Ok(r) => return r,
            Err(e) => {
                if !said {
                    println!("posix: still waiting for `{name}` ({e})");
                    said = true;
                }
                if e != SysError::NotFound {
                    let _ = sys::thread_sleep(1_000_000_000);
                }
            }
        }
    }
}

/// Closes the descriptors of every program that has ended (the kernel's
/// thread list names the programs still running).
fn sweep_ended<N, F>(fs: &mut Posix<N, F, Realtime>)
where
    N: resolver::Server,
    F: posix_core::Files,
{
    let Ok(threads) = runtime::debug::threads() else {
        return;
    };
    fs.sweep(|pid| threads.iter().any(|t| t.program == pid));
}

/// Publishes `fs` as `posix` and serves it for ever; returns only on
/// failure.
fn serve<N, F>(mut fs: Posix<N, F, Realtime>) -> SysError
where
    N: resolver::Server + Send + 'static,
    F: posix_core::Files + Send + 'static,
{
    let gate = match objects::setup::server_gate() {
        Ok(g) => g,
        Err(e) => return e,
    };
    let handler: Box<runtime::ppc::Handler> = Box::new(move |generation, request, reply| {
        // The kernel says which program calls: its descriptor table.
        let pid = runtime::ppc::caller();
        // A program new to the server (or with nothing open) is the moment
        // to close what ended programs left open.
        if !fs.has_table(pid) {
            sweep_ended(&mut fs);
        }
        let session = Session {
            posix: &mut fs,
            pid,
        };
        ipc::serve(&mut proto::Service(session), generation, request, reply)
    });
    if let Err(e) = runtime::ppc::register_handler(gate, proto::Posix::GATES, handler, STACKS)
        .and_then(|_| sys::service_publish(posix::SERVICE, gate))
    {
        return e;
    }
    println!("posix: serving");
    loop {
        // Calls arrive on their callers' threads.
        let _ = sys::thread_sleep(protocols::syscall::MAX_SLEEP_NANOS);
    }
}

/// File times: the wall clock.
struct Realtime;

impl Clock for Realtime {
    fn now(&mut self) -> u64 {
        sys::clock_read(protocols::syscall::Clock::Realtime).unwrap_or(0)
    }
}
