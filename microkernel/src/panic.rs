//! The panic handler: report on the console, end the VM as `KernelPanic`.

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use protocols::exit::GuestExit;

use crate::{halt, serial};

/// Set by the first panic; a panic inside the handler skips straight to exit.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    x86_64::instructions::interrupts::disable();
    if !PANICKING.swap(true, Ordering::SeqCst) {
        let mut console = serial::panic_console();
        let (file, line) = info
            .location()
            .map_or(("<unknown>", 0), |l| (l.file(), l.line()));
        let _ = writeln!(console, "KERNEL PANIC at {file}:{line}: {}", info.message());
    }
    halt::exit(GuestExit::KernelPanic)
}
