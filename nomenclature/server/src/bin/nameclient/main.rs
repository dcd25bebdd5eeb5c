//! `nameclient`: a resolver client program for tests and measurements.
//!
//! - `nameclient bind P N`: binds `/stress/P-0` … `/stress/P-(N-1)` in the
//!   hierarchical resolver (creating `/stress` if needed);
//! - `nameclient stress N`: runs two `nameclient bind` programs at once
//!   (`a` and `b`), waits for both, then checks that `/stress` holds all
//!   `2N` names, each naming what its binder bound;
//! - `nameclient bench N`: times `N` binds, `N` resolves of one name and
//!   `N` `info` calls (the cheapest call: the PPC round trip), then the
//!   same names resolved through the runtime's late binder, cold and
//!   cached (see [`cached`]);
//! - `nameclient fot`: late binding of FOT name entries (see [`fot`]);
//! - `nameclient late RESOLVER NAME`: one FOT name entry through any
//!   registered resolver, dereferenced (see [`late`]).

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;

use nomenclature_server::runtime::ppc::Gate;
use nomenclature_server::runtime::{self, println, sys};
use protocols::ipc::{CallError, Text};
use protocols::object::ObjId;
use protocols::resolver::{Client, EntryKind, NameError};

mod cached;
mod fot;
mod late;

runtime::entry!(main);

/// How long to wait for the hierarchical resolver to publish itself.
const CONNECT_MS: u64 = 10_000;
/// The directory the stress test binds in.
const DIR: &str = "/stress";

fn main(args: &str) -> u64 {
    let words: alloc::vec::Vec<&str> = args.split_whitespace().collect();
    let count = |s: &str| s.parse::<u64>().ok().filter(|n| (1..=10_000).contains(n));
    match words.as_slice() {
        ["bind", p, n] if count(n).is_some() => bind(p, count(n).unwrap_or(0)),
        ["stress", n] if count(n).is_some() => stress(count(n).unwrap_or(0)),
        ["bench", n] if count(n).is_some() => bench(count(n).unwrap_or(0)),
        ["fot"] => match fot::run() {
            Ok(summary) => {
                println!("nameclient: fot ok: {summary}");
                0
            }
            Err(why) => {
                println!("nameclient: fot failed: {why}");
                1
            }
        },
        ["late", resolver, text] => match late::run(resolver, text) {
            Ok(reached) => {
                println!("nameclient: late {resolver}:{text} -> {reached}");
                0
            }
            Err(why) => {
                println!("nameclient: late {resolver}:{text} failed: {why}");
                1
            }
        },
        _ => {
            println!(
                "nameclient: usage: bind P N | stress N | bench N | fot | late RESOLVER NAME \
                 (N in 1..=10000)"
            );
            2
        }
    }
}

type Hier = Client<Gate>;

fn connect() -> Option<Hier> {
    match Gate::connect("hier", CONNECT_MS) {
        Ok(g) => Some(Client::new(g)),
        Err(e) => {
            println!("nameclient: no hierarchical resolver ({e})");
            None
        }
    }
}

fn name(text: &str) -> Text<{ protocols::resolver::MAX_NAME }> {
    Text::try_from(text).unwrap_or_default()
}

/// The object ID binder `p` binds its `i`th name to.
fn target(p: &str, i: u64) -> ObjId {
    let tag = p.bytes().fold(0u128, |acc, b| acc << 8 | u128::from(b));
    ObjId::from_u128(tag << 64 | u128::from(i + 1))
}

fn bind(p: &str, n: u64) -> u64 {
    let Some(mut c) = connect() else { return 1 };
    match c.mkdir(name(DIR)) {
        Ok(_) | Err(CallError::Server(NameError::Exists)) => {}
        Err(e) => {
            println!("nameclient: mkdir {DIR}: {e:?}");
            return 1;
        }
    }
    for i in 0..n {
        let path = format!("{DIR}/{p}-{i}");
        if let Err(e) = c.bind(name(&path), target(p, i), EntryKind::Object) {
            println!("nameclient: bind {path}: {e:?}");
            return 1;
        }
    }
    println!("nameclient: {p} bound {n} names");
    0
}

fn stress(n: u64) -> u64 {
    let Some(mut c) = connect() else { return 1 };
    let mut ids = [0u64; 2];
    for (slot, p) in ids.iter_mut().zip(["a", "b"]) {
        match sys::program_spawn("nameclient", &format!("bind {p} {n}")) {
            Ok(id) => *slot = id,
            Err(e) => {
                println!("nameclient: cannot start binder {p}: {e}");
                return 1;
            }
        }
    }
    for id in ids {
        match sys::program_wait(id, 0) {
            Ok(0) => {}
            other => {
                println!("nameclient: a binder failed: {other:?}");
                return 1;
            }
        }
    }
    let mut found = 0u64;
    for p in ["a", "b"] {
        for i in 0..n {
            let path = format!("{DIR}/{p}-{i}");
            match c.resolve(name(&path)) {
                Ok(r) if r.id == target(p, i) => found += 1,
                other => {
                    println!("nameclient: {path} resolves to {other:?}");
                    return 1;
                }
            }
        }
    }
    println!("nameclient: stress ok: {found} names bound by 2 programs at once");
    0
}

fn now() -> u64 {
    runtime::time::uptime_nanos().unwrap_or(0)
}

fn per_op(start: u64, n: u64) -> String {
    format!("{} ns", now().saturating_sub(start) / n)
}

fn bench(n: u64) -> u64 {
    let Some(mut c) = connect() else { return 1 };
    let _ = c.mkdir(name("/bench"));
    let t = now();
    for i in 0..n {
        if c.bind(
            name(&format!("/bench/x{i}")),
            target("x", i),
            EntryKind::Object,
        )
        .is_err()
        {
            println!("nameclient: bench bind failed (run it on a fresh namespace)");
            return 1;
        }
    }
    let bind_cost = per_op(t, n);
    let t = now();
    for _ in 0..n {
        if c.resolve(name("/bench/x0")).is_err() {
            println!("nameclient: bench resolve failed");
            return 1;
        }
    }
    let resolve_cost = per_op(t, n);
    let t = now();
    for _ in 0..n {
        let _ = c.info();
    }
    let info_cost = per_op(t, n);
    // Each call on its own, in TSC cycles, for `cargo xtask bench`.
    let mut resolves = alloc::vec::Vec::with_capacity(n as usize);
    let mut infos = alloc::vec::Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = cycles();
        let _ = c.resolve(name("/bench/x0"));
        resolves.push(cycles() - t);
        let t = cycles();
        let _ = c.info();
        infos.push(cycles() - t);
    }
    report(
        "name resolution over PPC (hier, depth 2, uncached)",
        resolves,
    );
    report("resolver info call (the bare PPC round trip)", infos);
    if let Err(e) = cached::run(n) {
        println!("nameclient: bench through the late binder failed: {e}");
        return 1;
    }
    println!(
        "nameclient: bench {n}: bind {bind_cost}, resolve (depth 2) {resolve_cost}, info {info_cost} per call"
    );
    0
}

/// The time-stamp counter.
fn cycles() -> u64 {
    // SAFETY: `rdtsc` reads the counter and touches no memory.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Prints `samples` (cycles) as a `bench:` line: median, 10th and 90th
/// percentiles, count.
fn report(what: &str, mut samples: alloc::vec::Vec<u64>) {
    if samples.is_empty() {
        return;
    }
    samples.sort_unstable();
    let at = |q: usize| samples[(samples.len() - 1) * q / 100];
    println!(
        "bench: {what}: median {} cycles, p10 {}, p90 {}, runs {}",
        at(50),
        at(10),
        at(90),
        samples.len()
    );
}
