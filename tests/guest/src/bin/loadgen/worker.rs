//! What every worker does: write records until told to stop (or its cap),
//! verify every acknowledged record now and then, and once more at the end.

use core::sync::atomic::Ordering;

use crate::retry::{Failure, Shared, pause};

/// Records between two full verifications.
pub const VERIFY_EVERY: u64 = 25;
/// Pause between two verifications once the cap is reached.
const IDLE_VERIFY_MS: u64 = 250;

/// One kind of record.
pub trait Worker {
    /// What its records are called in the summary.
    const KIND: &'static str;
    /// How many records it writes at most (the servers' space is finite).
    const CAP: u64;
    /// Its retry counter in [`Shared::retries`].
    const SLOT: usize;
    /// Pause after each write: the pace that keeps it writing (below
    /// [`Worker::CAP`]) for a minute or more.
    const PACE_MS: u64;
    /// Connects and makes what the records need (a directory).
    fn setup(&mut self, shared: &Shared) -> Result<(), Failure>;
    /// Writes record `seq` (`0, 1, …`); `Ok` once it is acknowledged.
    fn write(&mut self, shared: &Shared, seq: u64) -> Result<(), Failure>;
    /// Checks that records `0..acked` are all present and intact.
    fn verify(&mut self, shared: &Shared, acked: u64) -> Result<(), Failure>;
}

/// Runs `worker` until `shared` says stop; how many records it
/// acknowledged (all verified at the end). A failure stops every worker.
pub fn drive<W: Worker>(mut worker: W, shared: &Shared) -> Result<u64, Failure> {
    let result = work(&mut worker, shared);
    if result.is_err() {
        shared.stop.store(true, Ordering::Release);
    }
    result
}

fn work<W: Worker>(worker: &mut W, shared: &Shared) -> Result<u64, Failure> {
    worker.setup(shared)?;
    let mut acked = 0;
    while !shared.stopping() {
        if acked < W::CAP {
            worker.write(shared, acked)?;
            acked += 1;
            if acked % VERIFY_EVERY == 0 {
                worker.verify(shared, acked)?;
            }
            pause(W::PACE_MS);
        } else {
            worker.verify(shared, acked)?;
            pause(IDLE_VERIFY_MS);
        }
    }
    worker.verify(shared, acked)?;
    Ok(acked)
}
