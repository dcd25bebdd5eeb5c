//! `loadgen SECONDS`: client load that outlives server restarts
//! (`restart/kill-each-server-under-load`).
//!
//! Three worker threads write records through three servers at once:
//! [`files`] appends records to a file through the POSIX client library
//! (`fsync` before each counts), [`names`] binds names in the `hier`
//! resolver, [`objects`] creates and fills objects through the object
//! store. A record is *acknowledged* once its server said it is durable;
//! every call that meets a restarting server is retried ([`retry`]) until
//! it succeeds. Every [`worker::VERIFY_EVERY`] records, and once more at
//! the end, each worker reads back every record it acknowledged — file
//! bytes, name bindings, object bytes — and a missing or damaged one is
//! reported as lost.
//!
//! It runs until [`STOP_FILE`] appears (`touch /loadgen/stop` in the
//! shell), `SECONDS` pass, or a worker fails, then prints one line:
//! `loadgen: ok: N posix records, M names, K objects acknowledged and
//! verified; R retries across restarts (posix A, names B, objects C)`
//! (exit 0), or `loadgen: LOST: …` (exit 3) / `loadgen: gave up: …`
//! (exit 4) for each failed worker.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

mod files;
mod names;
mod objects;
mod retry;
mod worker;

use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use posix::Errno;
use runtime::println;
use runtime::thread::JoinHandle;
use runtime::time::Instant;

use retry::{Attempt, Failure, Shared, pause, retry};
use worker::{Worker, drive};

runtime::entry!(main);

/// The file whose appearance ends the run.
pub const STOP_FILE: &str = "/loadgen/stop";
/// How often `main` looks for the stop file.
const POLL_MS: u64 = 250;
/// Stack of each worker thread.
const WORKER_STACK: usize = 128 * 1024;

/// Exit code: usage.
const EXIT_USAGE: u64 = 2;
/// Exit code: an acknowledged record was lost.
const EXIT_LOST: u64 = 3;
/// Exit code: an operation kept failing.
const EXIT_GAVE_UP: u64 = 4;
/// Exit code: a worker could not be started or ended abnormally.
const EXIT_WORKER: u64 = 5;

fn main(args: &str) -> u64 {
    let mut words = args.split_whitespace();
    let seconds = match (words.next().map(str::parse::<u64>), words.next()) {
        (Some(Ok(s)), None) if s > 0 => s,
        _ => {
            println!("loadgen: use `loadgen SECONDS` (stops early when {STOP_FILE} appears)");
            return EXIT_USAGE;
        }
    };
    let shared = Arc::new(Shared::default());
    let mut stop_files = files::Files::default();
    // A stop file left by an earlier run would end this one at once.
    if let Err(f) = remove_stop_file(&shared) {
        return report_failure("main", &f);
    }
    let (Some(f), Some(n), Some(o)) = (
        start::<files::Files>(&shared),
        start::<names::Names>(&shared),
        start::<objects::Objects>(&shared),
    ) else {
        println!("loadgen: cannot start the worker threads");
        shared.stop.store(true, Ordering::Release);
        return EXIT_WORKER;
    };
    println!("loadgen: running 3 workers until {STOP_FILE} appears or {seconds} s pass");
    let started = Instant::now();
    while !shared.stopping() {
        if started.elapsed().as_secs() >= seconds || stop_files.stop_file_exists() {
            shared.stop.store(true, Ordering::Release);
            break;
        }
        pause(POLL_MS);
    }
    let results = [
        (files::Files::KIND, f.join()),
        (names::Names::KIND, n.join()),
        (objects::Objects::KIND, o.join()),
    ];
    let retries = shared.retries.each_ref().map(|r| r.load(Ordering::Relaxed));
    let mut code = 0;
    let mut counts = [0u64; 3];
    for (i, (kind, result)) in results.into_iter().enumerate() {
        match result {
            Ok(Ok(n)) => counts[i] = n,
            Ok(Err(f)) => code = code.max(report_failure(kind, &f)),
            Err(_) => {
                println!("loadgen: the {kind} worker panicked");
                code = code.max(EXIT_WORKER);
            }
        }
    }
    if code == 0 {
        println!(
            "loadgen: ok: {} posix records, {} names, {} objects acknowledged and verified; \
             {} retries across restarts (posix {}, names {}, objects {})",
            counts[0],
            counts[1],
            counts[2],
            retries.iter().sum::<u64>(),
            retries[0],
            retries[1],
            retries[2]
        );
    }
    code
}

/// Starts a worker of kind `W` on its own thread.
fn start<W: Worker + Default + Send + 'static>(
    shared: &Arc<Shared>,
) -> Option<JoinHandle<Result<u64, Failure>>> {
    let shared = Arc::clone(shared);
    runtime::thread::Builder::new()
        .stack_size(WORKER_STACK)
        .spawn(move || drive(W::default(), &shared))
        .ok()
}

/// Prints why worker `kind` failed; the exit code it calls for.
fn report_failure(kind: &str, f: &Failure) -> u64 {
    match f {
        Failure::Lost(why) => {
            println!("loadgen: LOST: {why} (the {kind} worker)");
            EXIT_LOST
        }
        Failure::GaveUp { op, last } => {
            println!("loadgen: gave up: {op} kept failing (last: {last}) (the {kind} worker)");
            EXIT_GAVE_UP
        }
    }
}

/// Removes [`STOP_FILE`] if it exists.
fn remove_stop_file(shared: &Shared) -> Result<(), Failure> {
    let mut link = files::Files::default();
    retry(
        &shared.retries[0],
        &|| format!("unlink {STOP_FILE}"),
        || match link.with_client(|c| c.unlink(STOP_FILE)) {
            Ok(Ok(()) | Err(Errno::ENOENT)) => Attempt::Done(()),
            Ok(Err(e)) => {
                link.reset();
                Attempt::Transient(format!("unlink: {e:?}"))
            }
            Err(e) => Attempt::Transient(e),
        },
    )
}
