//! The user-space runtime every Perennial program links.
//!
//! - [`raw`]: the `syscall` instruction itself (and, in host unit tests, a
//!   small emulation of the calls the lock and time code use);
//! - [`sys`]: one typed wrapper per call in [`protocols::syscall::Syscall`];
//! - [`entry!`]: the program entry point (`_start`) calling
//!   `main(args: &str) -> u64`;
//! - [`heap`]: the global allocator over the demand-zero heap region;
//! - [`console`]: `print!` / `println!`;
//! - the panic handler (`panic in <program>: <message> at <file>:<line>`,
//!   then exit code [`PANIC_EXIT_CODE`]);
//! - [`thread`], [`sync`] and [`time`]: threads, locks and clocks.
//!
//! Everything that is logic rather than a machine instruction is unit-tested
//! on the host (`cargo test -p runtime`).

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod console;
pub mod debug;
pub mod heap;
pub mod kso;
#[cfg(target_os = "none")]
mod panic;
#[cfg(target_arch = "x86_64")]
pub mod persist;
pub mod ppc;
pub mod raw;
pub mod start;
pub mod sync;
pub mod sys;
pub mod thread;
pub mod time;

/// The exit code of a program (thread) that panicked.
pub const PANIC_EXIT_CODE: u64 = 101;

pub use protocols;
pub use protocols::syscall::SysError;
