//! Status codes a guest reports to the host through QEMU's `isa-debug-exit`
//! device.
//!
//! Writing a 32-bit value `v` to the device's port makes QEMU exit with the
//! host status `(v << 1) | 1`. An ordinary ACPI power-off makes QEMU exit with
//! status 0, which therefore cannot carry meaning of its own; the codes here
//! are chosen so that none of them maps to 0 or to a status QEMU uses for its
//! own errors (1).

/// The I/O port of the `isa-debug-exit` device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Why the guest ended, as written to [`DEBUG_EXIT_PORT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum GuestExit {
    /// The system shut down cleanly (poweroff, or every test passed).
    Success = 0x10,
    /// The kernel panicked; the message is on the serial console.
    KernelPanic = 0x11,
    /// The boot loader could not boot the kernel; the reason is on the console.
    LoaderError = 0x12,
    /// An in-guest test suite ran and at least one test failed.
    TestFailure = 0x13,
    /// The shell's `powercut`: the machine stopped at once, with nothing
    /// flushed and no shutdown path run — what a power cut leaves.
    PowerCut = 0x14,
}

impl GuestExit {
    /// Every code, for tables and round-trip tests.
    pub const ALL: [GuestExit; 5] = [
        GuestExit::Success,
        GuestExit::KernelPanic,
        GuestExit::LoaderError,
        GuestExit::TestFailure,
        GuestExit::PowerCut,
    ];

    /// The status QEMU's process exits with when the guest writes this code.
    pub const fn host_status(self) -> i32 {
        ((self as u32 as i32) << 1) | 1
    }

    /// Decodes a QEMU process exit status back into the guest's code, if it
    /// is one of ours.
    pub fn from_host_status(status: i32) -> Option<GuestExit> {
        GuestExit::ALL
            .into_iter()
            .find(|code| code.host_status() == status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_status_round_trips_and_never_collides_with_qemu_statuses() {
        for code in GuestExit::ALL {
            let status = code.host_status();
            assert_ne!(status, 0, "0 is a plain ACPI power-off");
            assert_ne!(status, 1, "1 is QEMU's own failure status");
            assert_eq!(GuestExit::from_host_status(status), Some(code));
        }
        assert_eq!(GuestExit::Success.host_status(), 33);
        assert_eq!(GuestExit::from_host_status(0), None);
        assert_eq!(GuestExit::from_host_status(1), None);
    }
}
