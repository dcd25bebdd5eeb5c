//! Perennial's built-in UEFI boot loader.
//!
//! It reads `limine.conf` from its own boot volume, loads the kernel ELF and
//! the modules, answers the kernel's Limine requests the way Limine does,
//! and enters the kernel in the state the Limine protocol describes for
//! x86-64. The logic lives in `loader-core`; this crate talks to the
//! firmware and the CPU. Any failure prints `loader: error: ...` on COM1
//! and exits QEMU with `GuestExit::LoaderError`.

#![no_std]
#![no_main]

extern crate alloc;

mod error;
mod fail;
mod files;
mod firmware;
mod handoff;
mod memory;
mod prepare;
mod serial;

use uefi::{Status, entry};

/// Entered by the firmware.
#[entry]
fn main() -> Status {
    serial::init();
    log!("Perennial built-in loader {}", env!("CARGO_PKG_VERSION"));
    let prepared = memory::init_heap().and_then(|()| prepare::prepare());
    match prepared {
        Ok(handoff) => handoff::exit_and_enter(handoff),
        Err(e) => fail::fail(&e),
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    fail::fail(&format_args!("panic: {}", info))
}
