//! Locks built on the kernel's thread-sync words: [`Mutex`] and
//! [`Condvar`]. Both are a single `u64` the kernel waits on; uncontended
//! operations make no system call.

mod condvar;
mod mutex;
mod wait;

pub use condvar::Condvar;
pub use mutex::{Mutex, MutexGuard};
pub use wait::wait_while_equal;
