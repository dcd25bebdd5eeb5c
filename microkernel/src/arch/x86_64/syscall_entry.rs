//! The `syscall`/`sysret` path: MSR setup and the entry stub.
//!
//! `syscall` leaves `rsp` on the user stack, so the stub first swaps to the
//! current thread's kernel stack, kept in a fixed per-CPU area ([`PerCpu`];
//! one CPU runs the kernel for now, so a static suffices and no `swapgs` is
//! needed — SMP will key it by CPU through GS). It builds the same
//! [`TrapFrame`] an interrupt would, calls the kernel's dispatcher with
//! interrupts still off, and returns with `sysretq` — or with `iretq` when
//! the frame it returns to was saved by an exception (its vector is not the
//! system-call one: see `crate::ppc::pager`), so `rcx` and `r11` come back
//! too.
//!
//! SFMASK clears IF, DF, TF and AC on entry: the kernel starts with
//! interrupts off, string ops forward, no single-stepping and SMAP armed.

use core::cell::UnsafeCell;

use x86_64::registers::model_specific::{LStar, Msr, SFMask};
use x86_64::registers::rflags::RFlags;

use super::gdt::{KERNEL_CS, SYSRET_BASE};
use super::trap::TrapFrame;

/// The per-CPU area the entry stub reads through RIP-relative addressing.
#[repr(C)]
pub struct PerCpu {
    /// Top of the running thread's kernel stack.
    kernel_rsp: u64,
    /// The user `rsp` while the stub builds the frame.
    user_rsp: u64,
}

struct Area(UnsafeCell<PerCpu>);

// SAFETY: one CPU runs the kernel; the fields are written by the scheduler
// with interrupts off and read by the entry stub, which runs with interrupts
// off until the frame is built.
unsafe impl Sync for Area {}

static PERCPU: Area = Area(UnsafeCell::new(PerCpu {
    kernel_rsp: 0,
    user_rsp: 0,
}));

core::arch::global_asm!(
    ".pushsection .text.perennial_syscall, \"ax\"",
    ".global perennial_syscall_entry",
    "perennial_syscall_entry:",
    "movq %rsp, {percpu}+8(%rip)",
    "movq {percpu}+0(%rip), %rsp",
    "pushq ${user_ds}",
    "pushq {percpu}+8(%rip)",
    "pushq %r11",
    "pushq ${user_cs}",
    "pushq %rcx",
    "pushq $0",
    "pushq ${vector}",
    "pushq %rax", "pushq %rbx", "pushq %rcx", "pushq %rdx", "pushq %rsi", "pushq %rdi",
    "pushq %rbp", "pushq %r8", "pushq %r9", "pushq %r10", "pushq %r11", "pushq %r12",
    "pushq %r13", "pushq %r14", "pushq %r15",
    "movq %rsp, %rdi",
    "call {dispatch}",
    "cli",
    // A frame some exception saved (a protected procedure call the kernel
    // made for a faulting thread returns to it) needs every register back,
    // `rcx` and `r11` included: leave through the trap path's exit.
    "cmpq ${vector}, 120(%rsp)",
    "jne perennial_trap_return",
    "popq %r15", "popq %r14", "popq %r13", "popq %r12", "popq %r11", "popq %r10",
    "popq %r9", "popq %r8", "popq %rbp", "popq %rdi", "popq %rsi", "popq %rdx",
    "popq %rcx", "popq %rbx", "popq %rax",
    "addq $16, %rsp",
    // rip, cs, rflags, rsp, ss: sysret takes rip from rcx, rflags from r11.
    "movq 0(%rsp), %rcx",
    "movq 16(%rsp), %r11",
    "movq 24(%rsp), %rsp",
    "sysretq",
    ".popsection",
    percpu = sym PERCPU,
    user_ds = const super::gdt::USER_DS,
    user_cs = const super::gdt::USER_CS,
    vector = const super::trap::SYSCALL_VECTOR,
    dispatch = sym entry,
    options(att_syntax),
);

unsafe extern "C" {
    static perennial_syscall_entry: u8;
}

/// The stub's call into the kernel. The kernel's handler must leave the
/// frame's `rip` canonical and in user space (sysret to a non-canonical
/// address would fault in ring 0).
extern "C" fn entry(frame: &mut TrapFrame) {
    crate::syscall::dispatch(frame);
    if frame.rip >= protocols::layout::USER_END {
        // Only a `syscall` in the last two bytes of user space gets here.
        crate::fault::bad_return_address(frame.rip);
    }
}

/// Programs STAR, LSTAR and SFMASK (EFER.SCE is set by `cpu::init`).
pub fn init() {
    let star = (u64::from(SYSRET_BASE) << 48) | (u64::from(KERNEL_CS) << 32);
    // SAFETY: the GDT has the layout STAR describes (see `gdt`), and LSTAR
    // points at the entry stub above.
    unsafe {
        Msr::new(0xc000_0081).write(star);
        LStar::write(::x86_64::VirtAddr::new(
            &raw const perennial_syscall_entry as u64,
        ));
        SFMask::write(
            RFlags::INTERRUPT_FLAG
                | RFlags::DIRECTION_FLAG
                | RFlags::TRAP_FLAG
                | RFlags::ALIGNMENT_CHECK,
        );
    }
}

/// Sets the kernel stack the next system call enters on.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: see `Area`: the scheduler calls this with interrupts off.
    unsafe { (*PERCPU.0.get()).kernel_rsp = top };
}
