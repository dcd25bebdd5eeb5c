//! The local APIC (xAPIC, memory-mapped): enabling it, its timer, EOI.
//!
//! The timer is calibrated against the PIT (see [`pit`](super::pit)) and
//! then runs periodically at [`TICK_HZ`]; every tick is vector
//! [`TIMER_VECTOR`].

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::model_specific::Msr;

/// Timer interrupts per second.
pub const TICK_HZ: u64 = 1000;
/// The timer's vector.
pub const TIMER_VECTOR: u8 = 0x30;
/// The spurious-interrupt vector (never acknowledged).
pub const SPURIOUS_VECTOR: u8 = 0xff;

const IA32_APIC_BASE: u32 = 0x1b;
const REG_ID: u64 = 0x20;
const REG_TPR: u64 = 0x80;
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_TIMER_INIT: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;
const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;

/// Virtual address of the registers (0 until `init`).
static BASE: AtomicU64 = AtomicU64::new(0);

fn read(reg: u64) -> u32 {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: `init` mapped the 4 KiB register page uncached at `base`;
    // registers are 32-bit and aligned.
    unsafe { ((base + reg) as *const u32).read_volatile() }
}

fn write(reg: u64, value: u32) {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: as in `read`.
    unsafe { ((base + reg) as *mut u32).write_volatile(value) }
}

/// The physical address of this CPU's local APIC.
pub fn physical_base() -> u64 {
    // SAFETY: IA32_APIC_BASE exists on every x86-64 CPU; reading it has no
    // side effects.
    unsafe { Msr::new(IA32_APIC_BASE).read() & 0x000f_ffff_ffff_f000 }
}

/// Enables the local APIC whose registers are mapped at `virt`, with the
/// timer masked.
pub fn init(virt: u64) {
    BASE.store(virt, Ordering::Relaxed);
    // SAFETY: sets the global enable bit of the APIC this CPU already has.
    unsafe {
        let mut msr = Msr::new(IA32_APIC_BASE);
        let value = msr.read();
        msr.write(value | (1 << 11));
    }
    write(REG_TPR, 0);
    write(REG_SVR, 0x100 | u32::from(SPURIOUS_VECTOR));
    write(REG_TIMER_DIVIDE, 0x3); // divide by 16
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
}

/// This CPU's APIC id.
pub fn id() -> u8 {
    (read(REG_ID) >> 24) as u8
}

/// Starts the timer counting down from its maximum, masked (calibration).
pub fn start_free_count() {
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
    write(REG_TIMER_INIT, u32::MAX);
}

/// Counts the timer has gone down since [`start_free_count`].
pub fn counted() -> u32 {
    u32::MAX - read(REG_TIMER_CURRENT)
}

/// Runs the timer periodically, interrupting every `count` timer counts.
pub fn start_periodic(count: u32) {
    write(REG_LVT_TIMER, LVT_PERIODIC | u32::from(TIMER_VECTOR));
    write(REG_TIMER_INIT, count.max(1));
}

/// Acknowledges the interrupt being handled.
pub fn eoi() {
    write(REG_EOI, 0);
}
