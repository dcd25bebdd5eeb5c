//! `thread_sync_wait`, `thread_sync_wake`: waiting on a 64-bit word.
//!
//! Waiters queue by (address space, user virtual address). The wait
//! re-reads the word under the scheduler lock, the same lock wakers take,
//! so a wake that follows a change of the word is never lost.

use alloc::sync::Arc;

use protocols::syscall::SysError;

use super::user_ptr::UserWord;
use crate::program::Program;
use crate::sched::{self, WaitKey, Wake};
use crate::time;

fn key(program: &Program, word: &UserWord) -> WaitKey {
    WaitKey::Sync {
        space: program.space.id(),
        addr: word.addr(),
    }
}

/// `thread_sync_wait(word, expected, timeout_nanos)`.
pub fn wait(
    program: &Arc<Program>,
    word: u64,
    expected: u64,
    timeout: u64,
) -> Result<u64, SysError> {
    let word = UserWord::new(program, word)?;
    let deadline = (timeout != 0).then(|| time::deadline_after(timeout));
    match sched::block(Some(key(program, &word)), deadline, |_| {
        word.read() == expected
    }) {
        None => Err(SysError::WouldBlock),
        Some(Wake::Woken) => Ok(0),
        Some(Wake::TimedOut) => Err(SysError::TimedOut),
        Some(Wake::Killed) => Err(SysError::Busy),
    }
}

/// `thread_sync_wake(word, count)`.
pub fn wake(program: &Arc<Program>, word: u64, count: u64) -> Result<u64, SysError> {
    let word = UserWord::new(program, word)?;
    Ok(sched::wake(key(program, &word), count))
}
