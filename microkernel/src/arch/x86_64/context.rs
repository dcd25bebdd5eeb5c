//! Switching kernel stacks between threads, and the first frames a new
//! thread starts from.
//!
//! A switched-out thread's kernel stack holds its callee-saved registers
//! under a return address; its saved `rsp` points at them. A new user
//! thread's stack is prepared to look the same: the switch "returns" into
//! [`thread_start`], which finishes the switch and leaves through the trap
//! exit path with a [`TrapFrame`] that enters user mode.

use core::arch::naked_asm;

use super::trap::{FRAME_SIZE, TrapFrame, trap_return};

/// Saves the callee-saved registers and `rsp` into `*save`, loads `load`
/// as `rsp` and restores the registers saved there.
///
/// # Safety
///
/// `load` must be a saved stack pointer from an earlier switch (or from
/// [`prepare_user_stack`]) of a thread that is not running, whose stack is
/// still mapped; `save` must be writable. Interrupts must be off.
#[unsafe(naked)]
pub unsafe extern "C" fn switch(save: *mut u64, load: u64) {
    naked_asm!(
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rdi], rsp",
        "mov rsp, rsi",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    )
}

/// Where a new thread's first switch returns to: finish the switch
/// (`r12` holds the kernel's hook), then leave through the trap exit path
/// with the frame above.
#[unsafe(naked)]
unsafe extern "C" fn thread_start() {
    naked_asm!("call r12", "jmp r13")
}

/// Runs `f` on the stack whose top is `top` (16-byte aligned); `f` must
/// not return.
///
/// # Safety
///
/// `top` must be the top of a mapped, unused stack that stays mapped for
/// as long as `f` runs.
pub unsafe fn run_on_stack(top: u64, f: extern "C" fn() -> !) -> ! {
    // SAFETY: the caller provides the stack; `f` never returns, so nothing
    // runs on the old stack again.
    unsafe {
        core::arch::asm!("mov rsp, {top}", "xor ebp, ebp", "call {f}", "ud2",
            top = in(reg) top, f = in(reg) f, options(noreturn))
    }
}

/// Lays out a new thread's kernel stack (top `top`, 16-byte aligned) so
/// that switching to the returned `rsp` calls `hook` and then enters user
/// mode with `frame`.
///
/// # Safety
///
/// `top` must be the top of a mapped kernel stack of at least
/// `FRAME_SIZE + 64` bytes that nothing else uses.
pub unsafe fn prepare_user_stack(top: u64, frame: TrapFrame, hook: extern "C" fn()) -> u64 {
    let frame_at = top - FRAME_SIZE as u64;
    // Callee-saved registers in pop order, then the return address.
    let regs: [u64; 7] = [
        0,
        0,
        trap_return(),
        hook as *const () as u64,
        0,
        0,
        thread_start as *const () as u64,
    ];
    // r15, r14, r13 (= trap exit), r12 (= hook), rbx, rbp, return address.
    let regs_at = frame_at - 7 * 8;
    // SAFETY: both ranges are inside the stack the caller provides; the
    // frame address is 16-byte aligned (FRAME_SIZE is a multiple of 16),
    // so `hook` is called with the ABI's alignment.
    unsafe {
        (frame_at as *mut TrapFrame).write(frame);
        (regs_at as *mut [u64; 7]).write(regs);
    }
    regs_at
}
