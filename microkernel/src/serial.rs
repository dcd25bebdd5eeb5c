//! The COM1 serial console: a polled 16550 UART driver and the `kprint!` /
//! `kprintln!` macros.
//!
//! One interrupt-safe lock guards the port for ordinary output and for
//! draining received bytes. The panic path does not take it: it writes
//! through its own [`Uart`] handle ([`panic_console`]), so a panic while the
//! lock is held still reaches the console. Transmission polls; reception is
//! by interrupt (see `console`), with [`receive`] draining the FIFO.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::instructions::port::Port;

use crate::sync::IrqMutex;

/// I/O base of COM1.
pub const COM1: u16 = 0x3f8;

/// Register offsets from the I/O base.
const DATA: u16 = 0; // THR/RBR; divisor low with DLAB
const INT_ENABLE: u16 = 1; // IER; divisor high with DLAB
const FIFO_CTRL: u16 = 2;
const LINE_CTRL: u16 = 3;
const MODEM_CTRL: u16 = 4;
const LINE_STATUS: u16 = 5;

/// LSR: a received byte is waiting.
const LSR_DATA_READY: u8 = 1 << 0;
/// IER: interrupt when a byte arrives.
const IER_RX: u8 = 1 << 0;
/// LSR: the transmit holding register is empty.
const LSR_THR_EMPTY: u8 = 1 << 5;
/// LCR: divisor latch access.
const LCR_DLAB: u8 = 1 << 7;
/// LCR: 8 data bits, no parity, 1 stop bit.
const LCR_8N1: u8 = 0b0000_0011;
/// 115200 baud from the 1.8432 MHz clock (115200 / 115200).
const DIVISOR: u16 = 1;
/// How long to wait for the transmitter before dropping a byte (no UART, or
/// a stuck one, must not hang the kernel).
const TX_SPINS: u32 = 100_000;

/// A polled 16550-compatible UART at an I/O base.
pub struct Uart {
    base: u16,
}

impl Uart {
    /// A handle to the UART at `base`; it does no I/O until used.
    pub const fn new(base: u16) -> Self {
        Uart { base }
    }

    fn out(&mut self, reg: u16, value: u8) {
        // SAFETY: `base..base + 8` are the UART's registers (COM1 on every PC
        // and QEMU machine); writing them has no effect on memory.
        unsafe { Port::<u8>::new(self.base + reg).write(value) }
    }

    fn inb(&mut self, reg: u16) -> u8 {
        // SAFETY: as in `out`; reading LSR/RBR has no memory side effects.
        unsafe { Port::<u8>::new(self.base + reg).read() }
    }

    /// Programs 115200 baud, 8N1, FIFOs on, interrupts off.
    pub fn init(&mut self) {
        self.out(INT_ENABLE, 0x00);
        self.out(LINE_CTRL, LCR_DLAB);
        let [lo, hi] = DIVISOR.to_le_bytes();
        self.out(DATA, lo);
        self.out(INT_ENABLE, hi);
        self.out(LINE_CTRL, LCR_8N1);
        self.out(FIFO_CTRL, 0xc7); // enable, clear both FIFOs, 14-byte threshold
        self.out(MODEM_CTRL, 0x03); // DTR + RTS, no loopback, no OUT2 (IRQs off)
    }

    /// Turns the receive interrupt on or off (MCR OUT2 gates the IRQ line
    /// on PC hardware, so it is set too).
    pub fn set_rx_interrupt(&mut self, on: bool) {
        self.out(MODEM_CTRL, if on { 0x0b } else { 0x03 });
        self.out(INT_ENABLE, if on { IER_RX } else { 0 });
    }

    /// Sends one byte, waiting (bounded) for room in the transmitter.
    pub fn write_byte(&mut self, byte: u8) {
        for _ in 0..TX_SPINS {
            if self.inb(LINE_STATUS) & LSR_THR_EMPTY != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        self.out(DATA, byte);
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.write_byte(b));
        Ok(())
    }
}

static CONSOLE: IrqMutex<Uart> = IrqMutex::new(Uart::new(COM1));
static READY: AtomicBool = AtomicBool::new(false);

/// Initialises COM1; call first thing in `kmain`.
pub fn init() {
    CONSOLE.lock().init();
    READY.store(true, Ordering::Release);
}

/// Writes formatted text to the console (the macros' back end).
pub fn write_fmt(args: fmt::Arguments<'_>) {
    // The UART never reports an error; a formatting error has nowhere to go.
    let _ = fmt::Write::write_fmt(&mut *CONSOLE.lock(), args);
}

/// Writes raw bytes (a program's console output) under the console lock.
pub fn write_bytes(bytes: &[u8]) {
    let mut uart = CONSOLE.lock();
    bytes.iter().for_each(|&b| uart.write_byte(b));
}

/// Moves up to `max` received bytes into `push`. Returns `true` if it
/// stopped at `max` with more bytes waiting in the UART.
pub fn receive(max: usize, mut push: impl FnMut(u8)) -> bool {
    let mut uart = CONSOLE.lock();
    for _ in 0..max {
        if uart.inb(LINE_STATUS) & LSR_DATA_READY == 0 {
            return false;
        }
        push(uart.inb(DATA));
    }
    uart.inb(LINE_STATUS) & LSR_DATA_READY != 0
}

/// Turns COM1's receive interrupt on or off.
pub fn set_rx_interrupt(on: bool) {
    CONSOLE.lock().set_rx_interrupt(on);
}

/// A console for the panic handler that bypasses [`CONSOLE`]'s lock (the
/// panicking code may hold it). Initialises the UART if `init` never ran.
pub fn panic_console() -> Uart {
    let mut uart = Uart::new(COM1);
    if !READY.load(Ordering::Acquire) {
        uart.init();
    }
    uart
}

/// Prints to the serial console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::serial::write_fmt(format_args!($($arg)*)) };
}

/// Prints a line (`"\n"` ending) to the serial console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => { $crate::serial::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
