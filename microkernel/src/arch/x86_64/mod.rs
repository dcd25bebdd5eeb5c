//! x86-64: descriptor tables, traps, system-call entry, the local and I/O
//! APICs, the PIT, context switching, paging registers and user copies.

pub mod apic;
pub mod context;
pub mod cpu;
pub mod gdt;
pub mod idt;
pub mod ioapic;
pub mod paging;
pub mod pit;
pub mod syscall_entry;
pub mod trap;
pub mod usercopy;

pub use trap::TrapFrame;

/// Whether interrupts are enabled (RFLAGS.IF).
pub fn interrupts_enabled() -> bool {
    ::x86_64::instructions::interrupts::are_enabled()
}

/// Disables interrupts.
pub fn disable_interrupts() {
    ::x86_64::instructions::interrupts::disable();
}

/// Enables interrupts.
pub fn enable_interrupts() {
    ::x86_64::instructions::interrupts::enable();
}

/// Enables interrupts and halts until one arrives (atomically: `sti; hlt`).
pub fn halt_until_interrupt() {
    ::x86_64::instructions::interrupts::enable_and_hlt();
}
