//! COM1 (I/O port 0x3f8) output, programmed directly: works before and after
//! the firmware's boot services and needs no allocation.

use core::arch::asm;
use core::fmt;

const COM1: u16 = 0x3f8;

/// Writes `value` to I/O port `port`.
///
/// # Safety
///
/// The port must belong to a device for which the write has no effect that
/// breaks memory safety (UART, PIC, debug-exit).
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: the caller vouches for the device; `out` touches no memory.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    };
}

/// Writes the 32-bit `value` to I/O port `port`.
///
/// # Safety
///
/// As for [`outb`].
pub unsafe fn outl(port: u16, value: u32) {
    // SAFETY: the caller vouches for the device; `out` touches no memory.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    };
}

fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: only called for COM1's line status register, a read without
    // side effects; `in` touches no memory.
    unsafe {
        asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags))
    };
    value
}

/// Programs COM1 for 115200 baud, 8N1, FIFOs on, interrupts off.
pub fn init() {
    // SAFETY: these are the standard 16550 registers of COM1; the firmware
    // uses the same settings, so its own console output stays readable.
    unsafe {
        outb(COM1 + 1, 0x00); // no interrupts
        outb(COM1 + 3, 0x80); // DLAB on
        outb(COM1, 0x01); // divisor 1: 115200 baud
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x03); // 8N1, DLAB off
        outb(COM1 + 2, 0xc7); // FIFO on, cleared, 14-byte threshold
        outb(COM1 + 4, 0x03); // DTR, RTS
    }
}

fn write_byte(byte: u8) {
    // Bounded wait for the transmitter: never hang on a missing UART.
    for _ in 0..100_000 {
        if inb(COM1 + 5) & 0x20 != 0 {
            break;
        }
    }
    // SAFETY: COM1's transmit register.
    unsafe { outb(COM1, byte) };
}

/// A `fmt::Write` sink for COM1. Lines end in a bare `\n`, like the kernel's.
pub struct Serial;

impl fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(write_byte);
        Ok(())
    }
}

/// Prints one line starting with `loader: ` to COM1.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = write!($crate::serial::Serial, "loader: ");
        let _ = writeln!($crate::serial::Serial, $($arg)*);
    }};
}
