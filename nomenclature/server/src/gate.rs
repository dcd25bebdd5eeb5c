//! A server's gate object and the hand-off of its dispatcher to the
//! runtime's PPC entry.

use runtime::sys;

/// Calls in flight at once per server.
pub const STACKS: u64 = 8;

pub use objects::setup::{Serialized, server_gate as gate_object};

/// Sleeps for ever: calls arrive on their callers' threads.
pub fn idle() -> ! {
    loop {
        let _ = sys::thread_sleep(protocols::syscall::MAX_SLEEP_NANOS);
    }
}
