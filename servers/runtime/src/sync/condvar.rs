//! A condition variable on one thread-sync word: a sequence number that
//! every notification bumps. A waiter reads it while still holding the
//! lock, unlocks, and sleeps only while it is unchanged, so a notification
//! between the unlock and the sleep is never lost.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::sys::thread_sync_wake;

use super::mutex::MutexGuard;
use super::wait::wait_while_equal;

/// Waits for a condition guarded by a [`super::Mutex`]. Wake-ups may be
/// spurious: wait in a loop that re-checks the condition.
pub struct Condvar {
    seq: AtomicU64,
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Self {
        Condvar {
            seq: AtomicU64::new(0),
        }
    }

    /// Unlocks `guard`, sleeps until notified, and locks again.
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait_timeout(guard, 0).0
    }

    /// As [`Condvar::wait`], for at most `timeout_nanos` (0: no limit). The
    /// flag is `true` when the timeout ran out.
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout_nanos: u64,
    ) -> (MutexGuard<'a, T>, bool) {
        let seq = self.seq.load(Ordering::Relaxed);
        let mutex = guard.mutex();
        drop(guard);
        let woke = wait_while_equal(&self.seq, seq, timeout_nanos);
        (mutex.lock(), !woke)
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.seq.fetch_add(1, Ordering::Release);
        let _ = thread_sync_wake(&self.seq, 1);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.seq.fetch_add(1, Ordering::Release);
        let _ = thread_sync_wake(&self.seq, u64::MAX);
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Mutex;
    use super::*;
    use std::sync::Arc;

    #[test]
    fn producer_consumer_hands_over_every_item() {
        let shared = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
        let consumer = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let (queue, cv) = &*shared;
                let mut got = Vec::new();
                while got.len() < 1000 {
                    let mut q = queue.lock();
                    while q.is_empty() {
                        q = cv.wait(q);
                    }
                    got.append(&mut q);
                }
                got
            })
        };
        for i in 0..1000 {
            shared.0.lock().push(i);
            shared.1.notify_one();
        }
        assert_eq!(consumer.join().unwrap(), (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn wait_timeout_reports_the_timeout() {
        let m = Mutex::new(());
        let cv = Condvar::new();
        let (_g, timed_out) = cv.wait_timeout(m.lock(), 2_000_000);
        assert!(timed_out);
    }
}
