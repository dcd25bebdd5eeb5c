//! Ending the kernel: the QEMU `isa-debug-exit` device, and halting.

use protocols::exit::{DEBUG_EXIT_PORT, GuestExit};
use x86_64::instructions::{hlt, interrupts, port::Port};

/// Ends the VM with `code` (QEMU exits with `code.host_status()`); on a
/// machine without the device, halts.
pub fn exit(code: GuestExit) -> ! {
    // SAFETY: port 0xf4 is the isa-debug-exit device in every QEMU command
    // Perennial runs under; elsewhere it is an unused legacy port. The write
    // touches no memory.
    unsafe { Port::<u32>::new(DEBUG_EXIT_PORT).write(code as u32) };
    halt_forever()
}

/// Stops this CPU for good: interrupts off, `hlt` in a loop.
pub fn halt_forever() -> ! {
    loop {
        interrupts::disable();
        hlt();
    }
}
