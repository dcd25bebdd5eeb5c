//! `badinput`: runs the table of [`utest::badinput`] — every call number
//! with garbage — checks each answer, and shows the program still runs.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::AtomicU64;

use protocols::layout::MAX_ARGS_LEN;
use runtime::println;
use utest::badinput::{Addrs, call_name, cases};

use crate::ensure;
use crate::report::Report;

/// Read-only bytes for the table (in `.rodata`).
static READ_ONLY: [u8; 64] = [0xa5; 64];

/// Spare stack size for `thread_create` cases.
const SPARE_STACK: usize = 16 * 1024;

// A harmless thread entry: exits at once without touching its stack, so
// even a wrongly accepted `thread_create` does nothing.
#[cfg(target_os = "none")]
core::arch::global_asm!(
    ".globl utest_harmless_thread",
    "utest_harmless_thread:",
    "mov eax, {exit}",
    "xor edi, edi",
    "xor esi, esi",
    "xor edx, edx",
    "xor r10d, r10d",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "syscall",
    "ud2",
    exit = const protocols::syscall::Syscall::ThreadExit as u64,
);

unsafe extern "C" {
    /// The harmless entry above.
    fn utest_harmless_thread();
}

/// Runs the group.
pub fn run() -> u64 {
    let writable: &'static mut [u8] = Vec::leak(vec![0u8; 4096]);
    let big: &'static [u8] = Vec::leak(vec![0u8; MAX_ARGS_LEN as usize * 2]);
    let word: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(5)));
    let stack: &'static mut [u8] = Vec::leak(vec![0u8; SPARE_STACK]);
    let addrs = Addrs {
        readonly: READ_ONLY.as_ptr() as u64,
        writable: writable.as_mut_ptr() as u64,
        big: big.as_ptr() as u64,
        word: word.as_ptr() as u64,
        word_value: 5,
        entry: utest_harmless_thread as *const () as u64,
        stack_top: (stack.as_ptr() as u64 + SPARE_STACK as u64) & !15,
    };
    let cases = cases(&addrs);
    let mut report = Report::default();
    let mut calls = 0u64;
    for group in cases.chunk_by(|a, b| a.number == b.number) {
        let name = format!(
            "badinput {} ({} calls)",
            call_name(group[0].number),
            group.len()
        );
        report.test(&name, || {
            let mut failures = Vec::new();
            for case in group {
                // SAFETY: every case is garbage the kernel must refuse; the
                // table is built so that even a wrongly accepted call writes
                // only into `writable` (leaked, unused elsewhere), runs only
                // the harmless entry on the spare stack, and neither ends
                // this thread nor the machine (see `utest::badinput`).
                let raw = unsafe { runtime::raw::syscall(case.number, case.args) };
                calls += 1;
                if let Err(why) = case.expect.check(protocols::syscall::decode(raw)) {
                    failures.push(format!("{} {:x?}: {why}", case.what, &case.args[..]));
                }
            }
            ensure!(failures.is_empty(), "{}", failures.join("; "));
            Ok(())
        });
    }
    report.test("still running after bad input", || {
        runtime::sys::null().map_err(|e| format!("{e}"))?;
        let v: Vec<u64> = (0..1000).collect();
        ensure!(v.iter().sum::<u64>() == 499_500, "heap broken");
        Ok(())
    });
    println!("utest: badinput made {calls} calls");
    report.finish()
}
