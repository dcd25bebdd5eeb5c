//! The program entry: `_start` (from [`crate::entry!`]) → [`run`] → the
//! program's `main(args) -> u64` → `program_exit(code)`.
//!
//! The kernel starts the first thread with `rdi` = address of the argument
//! bytes, `rsi` = their length and `rsp` 16-byte aligned
//! ([`protocols::layout`]). `_start` is a few instructions of assembly so
//! that Rust code sees the stack alignment the System V ABI promises (a
//! `call` pushed a return address).

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

static NAME_PTR: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static NAME_LEN: AtomicUsize = AtomicUsize::new(0);

/// The running program's name (its package name), for messages.
pub fn program_name() -> &'static str {
    let ptr = NAME_PTR.load(Ordering::Acquire);
    if ptr.is_null() {
        return "?";
    }
    // SAFETY: set once in `run` from a `&'static str` (pointer stored after
    // the length, read after it with Acquire).
    unsafe {
        core::str::from_utf8_unchecked(core::slice::from_raw_parts(
            ptr,
            NAME_LEN.load(Ordering::Relaxed),
        ))
    }
}

/// Records `name`, runs `main` on the argument string, and ends the thread
/// with its result. Invalid UTF-8 arguments (the kernel promises UTF-8) are
/// passed as an empty string.
///
/// # Safety
///
/// `args .. args + len` is readable memory that stays unchanged for the
/// program's life (the kernel's argument copy at the top of the stack), or
/// `len` is 0.
pub unsafe fn run(name: &'static str, main: fn(&str) -> u64, args: *const u8, len: usize) -> ! {
    NAME_LEN.store(name.len(), Ordering::Relaxed);
    NAME_PTR.store(name.as_ptr().cast_mut(), Ordering::Release);
    let bytes: &[u8] = if len == 0 || args.is_null() {
        &[]
    } else {
        // SAFETY: the caller guarantees the range is readable and stable.
        unsafe { core::slice::from_raw_parts(args, len) }
    };
    let code = main(core::str::from_utf8(bytes).unwrap_or(""));
    // Returning from main ends the program, whatever other threads are doing.
    crate::sys::program_exit(code)
}

/// Declares the program's entry point: `runtime::entry!(main)` with
/// `fn main(args: &str) -> u64`. The returned value is the exit code.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[cfg(target_os = "none")]
        ::core::arch::global_asm!(
            ".globl _start",
            ".type _start, @function",
            "_start:",
            "xor ebp, ebp",
            "call {start}",
            "ud2",
            start = sym __perennial_start,
        );

        #[cfg(target_os = "none")]
        extern "C" fn __perennial_start(args: *const u8, len: usize) -> ! {
            // SAFETY: `_start` forwards the kernel's `rdi`/`rsi`: the
            // argument bytes it copied to the top of the first stack, which
            // nothing writes afterwards (protocols::layout, "Program entry").
            unsafe { $crate::start::run(env!("CARGO_PKG_NAME"), $main, args, len) }
        }

        /// Off the target there is no entry point; this keeps `main` (and
        /// what it calls) counted as used, so host checks stay meaningful.
        #[cfg(not(target_os = "none"))]
        const _: fn(&str) -> u64 = $main;
    };
}
