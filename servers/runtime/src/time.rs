//! Time: the monotonic clock as an [`Instant`], and sleeping.

use core::time::Duration;

use protocols::syscall::{Clock, MAX_SLEEP_NANOS, SysError};

use crate::sys::{clock_read, thread_sleep};

/// A point on the monotonic clock (nanoseconds since boot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// Now. (If the clock cannot be read — no kernel — this is time 0.)
    pub fn now() -> Instant {
        Instant(clock_read(Clock::Monotonic).unwrap_or(0))
    }

    /// Nanoseconds since boot.
    pub const fn nanos(self) -> u64 {
        self.0
    }

    /// Time from `earlier` to `self` (zero if `earlier` is later).
    pub const fn duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// Time since `self`.
    pub fn elapsed(self) -> Duration {
        Instant::now().duration_since(self)
    }
}

/// Nanoseconds since boot.
pub fn uptime_nanos() -> Result<u64, SysError> {
    clock_read(Clock::Monotonic)
}

/// Sleeps at least `duration` (in several calls when it is longer than the
/// kernel's one-call limit).
pub fn sleep(duration: Duration) -> Result<(), SysError> {
    let mut left = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    while left > 0 {
        let step = left.min(MAX_SLEEP_NANOS);
        thread_sleep(step)?;
        left -= step;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_lasts_at_least_as_long_as_asked() {
        let start = Instant::now();
        sleep(Duration::from_millis(5)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(5));
        assert_eq!(Instant(5).duration_since(Instant(9)), Duration::ZERO);
    }
}
