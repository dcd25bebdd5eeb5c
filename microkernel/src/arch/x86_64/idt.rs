//! The IDT: all 256 vectors point at the entry stubs in `trap`, which save
//! the full register frame and call `trap::dispatch`. Double fault, NMI and
//! machine check run on their own IST stacks.

use core::cell::UnsafeCell;

use super::gdt::{IST_DOUBLE_FAULT, IST_MACHINE_CHECK, IST_NMI, KERNEL_CS};
use super::trap::{STUB_SIZE, stub_table};

/// One 16-byte interrupt gate.
#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    _reserved: u32,
}

impl Gate {
    const EMPTY: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        attributes: 0,
        offset_mid: 0,
        offset_high: 0,
        _reserved: 0,
    };

    /// A present, DPL 0 interrupt gate (IF cleared on entry).
    fn interrupt(handler: u64, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: KERNEL_CS,
            ist,
            attributes: 0x8e,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            _reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Idt(UnsafeCell<[Gate; 256]>);

// SAFETY: written once by `init` on the BSP before interrupts are enabled,
// read only by the CPU afterwards.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new([Gate::EMPTY; 256]));

/// Fills and loads the IDT.
pub fn init() {
    let stubs = stub_table();
    // SAFETY: boot, BSP, interrupts off: nothing reads the IDT while it is
    // filled; it is a static, so the pointer `lidt` keeps stays valid.
    unsafe {
        let idt = &mut *IDT.0.get();
        for (vector, gate) in idt.iter_mut().enumerate() {
            let ist = match vector {
                2 => IST_NMI,
                8 => IST_DOUBLE_FAULT,
                18 => IST_MACHINE_CHECK,
                _ => 0,
            };
            *gate = Gate::interrupt(stubs + (vector * STUB_SIZE) as u64, ist);
        }
        let pointer = ::x86_64::structures::DescriptorTablePointer {
            limit: (core::mem::size_of::<[Gate; 256]>() - 1) as u16,
            base: ::x86_64::VirtAddr::new(idt.as_ptr() as u64),
        };
        ::x86_64::instructions::tables::lidt(&pointer);
    }
}
