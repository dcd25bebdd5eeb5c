//! The panic handler: `panic in <program>: <message> at <file>:<line>` on
//! the console, then the thread ends with [`crate::PANIC_EXIT_CODE`] (a
//! joined thread's `join` reports the panic).

use core::panic::PanicInfo;

use crate::{PANIC_EXIT_CODE, println, start, thread};

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let (file, line) = info
        .location()
        .map_or(("<unknown>", 0), |l| (l.file(), l.line()));
    println!(
        "panic in {}: {} at {}:{}",
        start::program_name(),
        info.message(),
        file,
        line
    );
    thread::end_after_panic(PANIC_EXIT_CODE)
}
