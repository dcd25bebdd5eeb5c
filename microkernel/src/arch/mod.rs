//! The architecture seam: everything that is x86-64 specific lives below
//! `arch/x86_64/`, and the rest of the kernel uses only what this module
//! re-exports.

pub mod x86_64;

pub use self::x86_64::{
    TrapFrame, apic, context, cpu, disable_interrupts, enable_interrupts, gdt,
    halt_until_interrupt, interrupts_enabled, ioapic, paging, pit, syscall_entry, trap, usercopy,
};
