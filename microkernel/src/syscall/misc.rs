//! `clock_read`, `poweroff`.

use protocols::exit::GuestExit;
use protocols::syscall::{Clock, SysError};

use crate::{halt, time};

/// `clock_read(clock)`.
pub fn clock_read(clock: u64) -> Result<u64, SysError> {
    Ok(match Clock::try_from(clock)? {
        Clock::Monotonic => time::now_ns(),
        Clock::Realtime => time::realtime_ns(),
        // Bit 63 would read as an error; the TSC needs centuries to get there.
        Clock::Cycles => time::cycles() & (u64::MAX >> 1),
    })
}

/// `poweroff(status)`: `status` must be a `GuestExit` code.
pub fn poweroff(status: u64) -> Result<u64, SysError> {
    let code = GuestExit::ALL
        .into_iter()
        .find(|c| *c as u64 == status)
        .ok_or(SysError::InvalidArgument)?;
    // A power cut tells nobody; a clean power-off leaves every running
    // thread KSO saying so.
    if code != GuestExit::PowerCut {
        crate::program::kso::shut_down_all();
    }
    halt::exit(code)
}
