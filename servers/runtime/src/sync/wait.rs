//! Sleeping on a word, tolerant of what the kernel may answer.

use core::sync::atomic::AtomicU64;

use protocols::syscall::SysError;

use crate::sys::{thread_sync_wait, thread_yield};

/// Sleeps while `word` holds `expected`, for at most `timeout_nanos` (0:
/// no limit). Returns `false` only when the timeout ran out. May return
/// early (the value changed, a spurious wake-up): callers re-check.
///
/// If the kernel cannot wait (no kernel in a host build, or an error that
/// should not happen for a live aligned word), this yields instead, so
/// callers degrade to spinning rather than failing.
pub fn wait_while_equal(word: &AtomicU64, expected: u64, timeout_nanos: u64) -> bool {
    match thread_sync_wait(word, expected, timeout_nanos) {
        Ok(()) | Err(SysError::WouldBlock) => true,
        Err(SysError::TimedOut) => false,
        Err(_) => {
            let _ = thread_yield();
            true
        }
    }
}
