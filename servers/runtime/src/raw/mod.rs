//! The raw system-call instruction: number in `rax`, six arguments in
//! `rdi, rsi, rdx, r10, r8, r9`, result in `rax` (see
//! [`protocols::syscall`]). Everything else goes through [`crate::sys`].
//!
//! Off the target there is no kernel: in host unit tests the calls the lock,
//! thread-sync and time code need are emulated with `std` (so that logic is
//! tested for real); in other host builds every call fails with
//! `UnknownSyscall`.

#[cfg(all(test, not(target_os = "none")))]
pub(crate) mod host;

/// Makes system call `number` with `args` and returns the raw `rax`.
///
/// # Safety
///
/// The call may write through pointer arguments (the kernel checks that the
/// memory is mapped user memory, not that Rust has no other reference to
/// it), and some calls end the thread or the machine. The caller makes sure
/// every pointer it passes for the kernel to write is exclusively borrowed
/// for the call, and that ending the thread here is sound.
#[cfg(target_os = "none")]
#[inline(always)]
pub unsafe fn syscall(number: u64, args: [u64; 6]) -> u64 {
    let ret: u64;
    // SAFETY: `syscall` follows the convention in `protocols::syscall`: it
    // clobbers only `rcx`, `r11` and `rax`, does not touch the user stack
    // (the kernel switches stacks), and memory effects are allowed (no
    // `nomem`), so the compiler assumes the kernel may read or write memory
    // the pointers reach; the caller upholds this function's contract.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Makes system call `number` with `args` and returns the raw `rax`
/// (host unit tests: an emulation of the calls `std` can stand in for).
///
/// # Safety
///
/// As on the target: pointer arguments must be valid for what the call
/// does with them.
#[cfg(all(test, not(target_os = "none")))]
pub unsafe fn syscall(number: u64, args: [u64; 6]) -> u64 {
    // SAFETY: forwarded contract.
    unsafe { host::syscall(number, args) }
}

/// Makes system call `number` with `args` (host builds outside tests: there
/// is no kernel, every call fails with `UnknownSyscall`).
///
/// # Safety
///
/// None needed here; the signature matches the target's.
#[cfg(all(not(test), not(target_os = "none")))]
pub unsafe fn syscall(number: u64, args: [u64; 6]) -> u64 {
    let _ = (number, args);
    protocols::syscall::SysError::UnknownSyscall.to_raw()
}
