//! The one way out on failure: say why, tell QEMU, power off. Never hangs.

use core::fmt::{self, Display, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use protocols::exit::{DEBUG_EXIT_PORT, GuestExit};
use uefi::runtime::{self, ResetType};
use uefi::{CStr16, Status, system};

use crate::log;
use crate::serial::outl;

/// Set once boot services are gone: from then on only COM1, port I/O and
/// runtime services may be used.
pub static BOOT_SERVICES_EXITED: AtomicBool = AtomicBool::new(false);
/// Set when failing, so a panic while failing does not recurse.
static FAILING: AtomicBool = AtomicBool::new(false);

/// Prints `loader: error: <why>` to COM1 (and the firmware console while it
/// exists), exits QEMU with `GuestExit::LoaderError`, and otherwise shuts
/// the machine down through the firmware.
pub fn fail(why: &dyn Display) -> ! {
    if !FAILING.swap(true, Ordering::SeqCst) {
        log!("error: {why}");
        if !BOOT_SERVICES_EXITED.load(Ordering::SeqCst) {
            system::with_stdout(|out| {
                let mut w = ConOut {
                    out,
                    buf: [0; 128],
                    len: 0,
                };
                let _ = write!(w, "loader: error: {why}\r\n");
                w.flush();
            });
        }
    }
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit device (or nothing on real
    // hardware); writing it cannot affect memory.
    unsafe { outl(DEBUG_EXIT_PORT, GuestExit::LoaderError as u32) };
    runtime::reset(ResetType::SHUTDOWN, Status::ABORTED, None)
}

/// Writes UCS-2 text to the firmware console in chunks, without allocating.
struct ConOut<'a> {
    out: &'a mut uefi::proto::console::text::Output,
    buf: [u16; 128],
    len: usize,
}

impl ConOut<'_> {
    fn flush(&mut self) {
        self.buf[self.len] = 0;
        if let Ok(s) = CStr16::from_u16_with_nul(&self.buf[..=self.len]) {
            let _ = self.out.output_string(s);
        }
        self.len = 0;
    }
}

impl Write for ConOut<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let unit = u16::try_from(u32::from(c))
                .ok()
                .filter(|&u| u != 0 && !(0xd800..0xe000).contains(&u));
            self.buf[self.len] = unit.unwrap_or(u16::from(b'?'));
            self.len += 1;
            if self.len == self.buf.len() - 1 {
                self.flush();
            }
        }
        Ok(())
    }
}
