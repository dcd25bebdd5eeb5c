//! The I/O APIC (routing device interrupts to the local APIC) and the
//! legacy 8259 PICs (remapped out of the exception range, then masked).

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::port::Port;

const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const REG_VERSION: u32 = 0x01;
const REDIRECTION: u32 = 0x10;

/// Vectors the remapped PICs would use (all masked; spurious ones land here).
pub const PIC_BASE_VECTOR: u8 = 0xe0;

static BASE: AtomicU64 = AtomicU64::new(0);

fn read(reg: u32) -> u32 {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: `init` mapped the I/O APIC's register window uncached at
    // `base`; IOREGSEL/IOWIN are aligned 32-bit registers. Callers hold the
    // interrupt routing lock (boot, BSP only).
    unsafe {
        ((base + IOREGSEL) as *mut u32).write_volatile(reg);
        ((base + IOWIN) as *const u32).read_volatile()
    }
}

fn write(reg: u32, value: u32) {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: as in `read`.
    unsafe {
        ((base + IOREGSEL) as *mut u32).write_volatile(reg);
        ((base + IOWIN) as *mut u32).write_volatile(value);
    }
}

/// Uses the I/O APIC mapped at `virt`; returns how many pins it has.
pub fn init(virt: u64) -> u32 {
    BASE.store(virt, Ordering::Relaxed);
    let pins = ((read(REG_VERSION) >> 16) & 0xff) + 1;
    for pin in 0..pins {
        write(REDIRECTION + 2 * pin, 1 << 16); // masked
    }
    pins
}

/// Routes `pin` to `vector` on the CPU with APIC id `dest`, unmasked.
pub fn route(pin: u32, vector: u8, dest: u8, active_low: bool, level: bool) {
    let low = u32::from(vector) | (u32::from(active_low) << 13) | (u32::from(level) << 15);
    write(REDIRECTION + 2 * pin + 1, u32::from(dest) << 24);
    write(REDIRECTION + 2 * pin, low);
}

/// Remaps the 8259 PICs to [`PIC_BASE_VECTOR`] and masks every line.
pub fn disable_pic() {
    let ports: [(u16, u8); 10] = [
        (0x20, 0x11),
        (0xa0, 0x11),
        (0x21, PIC_BASE_VECTOR),
        (0xa1, PIC_BASE_VECTOR + 8),
        (0x21, 4),
        (0xa1, 2),
        (0x21, 1),
        (0xa1, 1),
        (0x21, 0xff),
        (0xa1, 0xff),
    ];
    for (port, value) in ports {
        // SAFETY: the 8259 command/data ports; the sequence is the standard
        // initialisation, leaving every line masked.
        unsafe { Port::<u8>::new(port).write(value) };
    }
}
