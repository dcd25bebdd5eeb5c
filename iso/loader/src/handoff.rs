//! Leaving the firmware and entering the kernel: exit boot services, fill
//! the memory map response, set up the CPU and jump through the trampoline.
//!
//! The trampoline runs first from its identity mapping (PML4 slot 0, which
//! the kernel's tables carry only for this moment), switches to the kernel's
//! tables, continues at its HHDM alias, loads the GDT and segments, drops the
//! identity mapping (unless base revision 0 asks to keep low memory
//! identity-mapped), sets CR0.WP, and "returns" into the kernel with a zero
//! return address on the new stack and every other register zero.

use core::arch::{asm, global_asm};
use core::sync::atomic::Ordering;

use loader_core::answer::{MemmapSlot, fill_memmap};
use loader_core::arena::Arena;
use loader_core::machine::{EFER_NXE, IA32_EFER, IA32_PAT, KERNEL_CS, KERNEL_DS, PAT_VALUE};
use loader_core::memmap;
use uefi::boot;

use crate::fail::{BOOT_SERVICES_EXITED, fail};
use crate::firmware::regions_of;
use crate::log;
use crate::serial::outb;

/// Everything needed to enter the kernel, prepared while boot services run.
pub struct Handoff {
    /// Physical address of the kernel's PML4.
    pub cr3: u64,
    /// The HHDM offset.
    pub hhdm: u64,
    /// Kernel entry point.
    pub entry: u64,
    /// Initial `rsp` (HHDM address of the zero return-address slot).
    pub rsp: u64,
    /// HHDM address of the 10-byte GDTR image.
    pub gdtr: u64,
    /// Keep PML4 slot 0 (identity map of low memory, base revision 0).
    pub keep_identity: bool,
    /// The response arena.
    pub arena: Arena<'static>,
    /// The memory map response to fill, if requested.
    pub memmap: Option<MemmapSlot>,
}

global_asm!(
    ".globl perennial_trampoline",
    ".globl perennial_trampoline_end",
    ".balign 16",
    "perennial_trampoline:",
    // rdi = PML4, rsi = HHDM offset, rdx = entry, rcx = rsp, r8 = GDTR,
    // r9 = 1 to drop PML4 slot 0.
    "cli",
    "mov cr3, rdi",
    "lea rax, [rip + 2f]",
    "add rax, rsi",
    "jmp rax",
    "2:",
    "mov rsp, rcx",
    "lgdt [r8]",
    "test r9, r9",
    "jz 3f",
    "mov qword ptr [rdi + rsi], 0",
    "3:",
    "mov rax, cr3",
    "mov cr3, rax",
    // Toggle CR4.PGE to flush global translations the firmware may have left.
    "mov rax, cr4",
    "mov rbx, rax",
    "and rax, -129",
    "mov cr4, rax",
    "mov cr4, rbx",
    "mov ax, {ds}",
    "mov ds, ax",
    "mov es, ax",
    "mov ss, ax",
    "mov fs, ax",
    "mov gs, ax",
    "push {cs}",
    "lea rax, [rip + 4f]",
    "push rax",
    "retfq",
    "4:",
    "mov rax, cr0",
    "or rax, 0x10000",
    "mov cr0, rax",
    "cld",
    "mov qword ptr [rsp], 0",
    "push rdx",
    "xor eax, eax",
    "xor ebx, ebx",
    "xor ecx, ecx",
    "xor edx, edx",
    "xor esi, esi",
    "xor edi, edi",
    "xor ebp, ebp",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "xor r10d, r10d",
    "xor r11d, r11d",
    "xor r12d, r12d",
    "xor r13d, r13d",
    "xor r14d, r14d",
    "xor r15d, r15d",
    "ret",
    "perennial_trampoline_end:",
    ds = const KERNEL_DS,
    cs = const KERNEL_CS,
);

unsafe extern "C" {
    /// First byte of the trampoline (not callable from Rust: jumped to).
    static perennial_trampoline: u8;
    /// One past its last byte.
    static perennial_trampoline_end: u8;
}

/// The physical range of the trampoline's code (identity-mapped now).
pub fn trampoline_range() -> (u64, u64) {
    (
        (&raw const perennial_trampoline) as u64,
        (&raw const perennial_trampoline_end) as u64,
    )
}

fn wrmsr(msr: u32, value: u64) {
    // SAFETY: only called with IA32_PAT and IA32_EFER and values valid for
    // them; neither write affects memory the loader is using.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
             options(nostack, preserves_flags));
    }
}

fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: reading an architectural MSR has no side effects.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Leaves boot services and enters the kernel.
pub fn exit_and_enter(mut h: Handoff) -> ! {
    log!("entering kernel at {:#x}", h.entry);
    // SAFETY: no boot-services objects remain: the volume and every
    // protocol were dropped by `prepare`, the heap and all handed-over
    // memory are our own page allocations, and `fail` stops using ConOut
    // once the flag below is set.
    let map = unsafe { boot::exit_boot_services(None) };
    BOOT_SERVICES_EXITED.store(true, Ordering::SeqCst);

    if let Some(slot) = h.memmap {
        let entries = memmap::build(&regions_of(&map));
        if let Err(e) = fill_memmap(&mut h.arena, slot, &entries) {
            fail(&e);
        }
    }
    core::mem::forget(map);

    // SAFETY: interrupts off for good; the PIC data ports mask every line;
    // nothing here touches memory.
    unsafe {
        asm!("cli", options(nomem, nostack));
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
        asm!("wbinvd", options(nostack, preserves_flags));
    }
    wrmsr(IA32_PAT, PAT_VALUE);
    wrmsr(IA32_EFER, rdmsr(IA32_EFER) | EFER_NXE);

    // SAFETY: `cr3` holds complete tables mapping the HHDM (which covers the
    // stack, GDT and tables), the kernel, and this trampoline at its
    // identity address; the trampoline never returns.
    unsafe {
        asm!(
            "jmp {t}",
            t = sym perennial_trampoline,
            in("rdi") h.cr3,
            in("rsi") h.hhdm,
            in("rdx") h.entry,
            in("rcx") h.rsp,
            in("r8") h.gdtr,
            in("r9") u64::from(!h.keep_identity),
            options(noreturn),
        )
    }
}
