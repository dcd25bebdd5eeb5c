//! `adder`: the worked example of a server (README, "Writing a server").
//!
//! - `adder serve` makes a gate object, registers the generated `Adder`
//!   dispatch on it, publishes it as service `adder` and idles: calls run
//!   on their callers' threads (migrating threads), so a server needs no
//!   threads of its own. Start it supervised with
//!   `server start adder adder serve`, or as a job with `run -b adder serve`.
//! - `adder add A B`, `adder acc N`, `adder total` are its client: they find
//!   the service by name and call it through the generated stub.
//!
//! The running total lives in the server's memory, so a restart begins
//! again at 0; a server whose state must survive keeps it in a persistent
//! object (see `servers/posix` or `nomenclature/template`).

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use protocols::adder::{self, AdderImpl};
use protocols::ipc::{CallError, Interface};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::syscall::SysError;
use runtime::ppc::Gate;
use runtime::{println, sys};

runtime::entry!(main);

/// Calls handled at once: each needs one stack of the server's own.
const STACKS: u64 = 4;
/// How long a client waits for the service to be published.
const CONNECT_MS: u64 = 2_000;

fn main(args: &str) -> u64 {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        ["serve"] => serve(),
        ["add", a, b] => match (a.parse(), b.parse()) {
            (Ok(a), Ok(b)) => call(|c| c.add(a, b), |sum| println!("{a} + {b} = {sum}")),
            _ => usage(),
        },
        ["acc", n] => match n.parse() {
            Ok(n) => call(|c| c.accumulate(n), |t| println!("adder: total {t}")),
            Err(_) => usage(),
        },
        ["total"] => call(|c| c.total(), |t| println!("adder: total {t}")),
        _ => usage(),
    }
}

/// The server: registers, publishes, idles. Returns only on failure.
fn serve() -> u64 {
    // The gate object: WRITE to register on it, EXEC so that every program
    // may call it (a public service; a private one would grant EXEC only
    // through capabilities whose gate mask names the gates allowed).
    let perms = Perms::READ | Perms::WRITE | Perms::EXEC;
    let served = sys::obj_create(4096, ObjFlags::EMPTY, perms, ObjId::NIL).and_then(|gate| {
        runtime::ppc::register(
            gate,
            adder::Adder::GATES,
            adder::Service(AdderImpl::default()),
            STACKS,
        )?;
        sys::service_publish(adder::SERVICE, gate)
    });
    if let Err(e) = served {
        println!("adder: cannot serve: {e}");
        return 1;
    }
    println!("adder: serving");
    loop {
        let _ = sys::thread_sleep(protocols::syscall::MAX_SLEEP_NANOS);
    }
}

/// Connects to the service, makes one call (rebinding once if the server
/// restarted since the lookup) and prints its answer.
fn call(
    f: impl Fn(&mut adder::Client<Gate>) -> Result<u64, CallError<adder::AdderError>>,
    show: impl Fn(u64),
) -> u64 {
    let gate = match Gate::connect(adder::SERVICE, CONNECT_MS) {
        Ok(g) => g,
        Err(SysError::NotFound) => {
            println!("adder: no `adder` service (start it: server start adder adder serve)");
            return 1;
        }
        Err(e) => {
            println!("adder: cannot reach the service: {e}");
            return 1;
        }
    };
    let mut client = adder::Client::new(gate);
    match runtime::ppc::retrying(&mut client, |c| c.transport_mut(), f) {
        Ok(v) => {
            show(v);
            0
        }
        Err(CallError::Server(adder::AdderError::Overflow { total })) => {
            println!("adder: refused: the total {total} would overflow");
            1
        }
        Err(e) => {
            println!("adder: the call failed: {e:?}");
            1
        }
    }
}

fn usage() -> u64 {
    println!("usage: adder serve | adder add A B | adder acc N | adder total");
    2
}
