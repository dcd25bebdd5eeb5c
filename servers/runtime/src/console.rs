//! `print!` and `println!` over `console_write`.
//!
//! Formatting goes into a small stack buffer that is written out when it
//! fills and at the end, so one `println!` is usually one system call and
//! lines from different threads rarely interleave.

use core::fmt::{self, Write};

use protocols::syscall::{MAX_IO_LEN, SysError};

use crate::sys::console_write;

/// Writes all of `bytes`, looping over short writes and the per-call limit.
pub fn write_all(mut bytes: &[u8]) -> Result<(), SysError> {
    while !bytes.is_empty() {
        let chunk = &bytes[..bytes.len().min(MAX_IO_LEN)];
        let n = console_write(chunk)?;
        if n == 0 {
            return Err(SysError::Busy);
        }
        bytes = &bytes[n.min(chunk.len())..];
    }
    Ok(())
}

/// A `fmt::Write` that gathers up to `N` bytes before writing them out.
pub struct Buffered<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Buffered<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Buffered {
            buf: [0; N],
            len: 0,
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> Result<(), SysError> {
        let result = write_all(&self.buf[..self.len]);
        self.len = 0;
        result
    }
}

impl<const N: usize> Default for Buffered<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Write for Buffered<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        if self.len + bytes.len() > N {
            self.flush().map_err(|_| fmt::Error)?;
        }
        if bytes.len() > N {
            return write_all(bytes).map_err(|_| fmt::Error);
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}

/// Formats `args` to the console; what `print!` calls. Console errors are
/// dropped (there is nowhere else to report them).
pub fn print_fmt(args: fmt::Arguments<'_>) {
    let mut out = Buffered::<256>::new();
    let _ = out.write_fmt(args);
    let _ = out.flush();
}

/// Prints to the serial console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print_fmt(format_args!($($arg)*)) };
}

/// Prints a line (`"\n"` ending) to the serial console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use crate::raw::host::take_console;

    #[test]
    fn print_buffers_and_flushes_long_output_in_order() {
        take_console();
        let long = "x".repeat(1000);
        crate::println!("a {} b", 1);
        crate::print!("{long}{}", "end");
        assert_eq!(take_console(), format!("a 1 b\n{long}end").into_bytes());
    }
}
