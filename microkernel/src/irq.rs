//! Device interrupts: the APIC timer, COM1 input, spurious vectors.

use core::fmt::Write;

use crate::arch::{apic, ioapic};
use crate::{console, sched, serial, time};

/// COM1's vector (ISA IRQ 4 through the I/O APIC).
pub const COM1_VECTOR: u8 = 0x34;

/// Handles interrupt `vector` (≥ 32).
pub fn handle(vector: u8) {
    match vector {
        apic::TIMER_VECTOR => {
            apic::eoi();
            sched::on_tick(time::now_ns());
        }
        COM1_VECTOR => {
            console::on_receive();
            apic::eoi();
        }
        apic::SPURIOUS_VECTOR => {}
        v if (ioapic::PIC_BASE_VECTOR..ioapic::PIC_BASE_VECTOR + 16).contains(&v) => {}
        _ => apic::eoi(),
    }
}

/// Reports an NMI through the lock-free panic console and carries on.
pub fn nmi(rip: u64) {
    let mut uart = serial::panic_console();
    let _ = writeln!(uart, "nmi: non-maskable interrupt at rip {rip:#x}; ignored");
}
