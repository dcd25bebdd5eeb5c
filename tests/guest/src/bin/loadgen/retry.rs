//! Retrying an operation across server restarts, and what a worker's
//! failure is.
//!
//! An attempt that meets a server being restarted (a stale binding, a
//! call that faulted with its server, `EIO` from the POSIX layer while a
//! server under it restarts) is [`Attempt::Transient`]: the worker sleeps
//! [`RETRY_SLEEP_MS`] and tries again, for up to [`PATIENCE_MS`]. An
//! answer that says acknowledged data is gone is [`Attempt::Lost`]; it is
//! asked again [`LOST_CONFIRMATIONS`] times (a server that just came back
//! must not be mistaken for one that lost data) before it counts.

use alloc::string::String;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;

use runtime::println;
use runtime::time::Instant;

/// Pause between attempts.
pub const RETRY_SLEEP_MS: u64 = 20;
/// Longest an operation keeps failing before the worker gives up.
pub const PATIENCE_MS: u128 = 30_000;
/// How many times a "lost" answer is asked again before it counts.
pub const LOST_CONFIRMATIONS: u32 = 3;
/// Pause before asking a "lost" answer again.
const CONFIRM_SLEEP_MS: u64 = 300;

/// What one attempt of an operation came to.
pub enum Attempt<T> {
    /// It succeeded.
    Done(T),
    /// A server was restarting (or the binding was stale): try again.
    Transient(String),
    /// The answer says acknowledged data is missing or damaged.
    Lost(String),
}

/// Why a worker stopped before its work was done.
#[derive(Debug)]
pub enum Failure {
    /// A record acknowledged earlier is missing or damaged.
    Lost(String),
    /// An operation kept failing for [`PATIENCE_MS`]: the last reason.
    GaveUp {
        /// The operation.
        op: String,
        /// The last attempt's failure.
        last: String,
    },
}

/// What the workers share: the stop flag and the retry counts.
#[derive(Default)]
pub struct Shared {
    /// Set by `main` (time is up, or the stop file appeared) or by a
    /// worker that failed.
    pub stop: AtomicBool,
    /// Attempts that failed transiently and were tried again, per worker
    /// ([`crate::worker::Worker::SLOT`]).
    pub retries: [AtomicU64; 3],
}

impl Shared {
    /// Whether the workers should finish.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

/// Sleeps `ms` milliseconds.
pub fn pause(ms: u64) {
    let _ = runtime::time::sleep(Duration::from_millis(ms));
}

/// Runs `attempt` until it is done, a loss is confirmed, or it has failed
/// transiently for [`PATIENCE_MS`], counting each retry in `retries`.
/// `op` names the operation in messages.
pub fn retry<T>(
    retries_counter: &AtomicU64,
    op: &dyn Fn() -> String,
    mut attempt: impl FnMut() -> Attempt<T>,
) -> Result<T, Failure> {
    let started = Instant::now();
    let mut retries = 0u32;
    let mut losses = 0u32;
    let mut last = String::new();
    loop {
        match attempt() {
            Attempt::Done(value) => {
                if retries > 0 {
                    println!(
                        "loadgen: {} succeeded after {retries} retries (last: {last})",
                        op()
                    );
                }
                return Ok(value);
            }
            Attempt::Lost(why) => {
                losses += 1;
                if losses > LOST_CONFIRMATIONS {
                    return Err(Failure::Lost(why));
                }
                pause(CONFIRM_SLEEP_MS);
            }
            Attempt::Transient(why) => {
                if started.elapsed().as_millis() > PATIENCE_MS {
                    return Err(Failure::GaveUp {
                        op: op(),
                        last: why,
                    });
                }
                retries += 1;
                retries_counter.fetch_add(1, Ordering::Relaxed);
                last = why;
                pause(RETRY_SLEEP_MS);
            }
        }
    }
}
