//! Time: the TSC, calibrated against the PIT, gives the monotonic clock in
//! nanoseconds; the firmware's boot time gives the real-time clock. The
//! local APIC timer, calibrated in the same PIT window, ticks the scheduler.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::{apic, cpu, pit};

static TSC_PER_MS: AtomicU64 = AtomicU64::new(0);
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);
static BOOT_UNIX_SECS: AtomicU64 = AtomicU64::new(0);

/// Records the TSC at kernel entry: the monotonic clock counts from here.
pub fn mark_boot() {
    BOOT_TSC.store(cpu::rdtsc(), Ordering::Relaxed);
}

/// The calibration window.
const CALIBRATION_MS: u64 = 20;

/// Starts the clocks: records boot time (UNIX seconds, from the loader),
/// measures the TSC and APIC timer rates against the PIT, and starts the
/// APIC timer at `apic::TICK_HZ`. Returns (TSC kHz, APIC timer counts per
/// tick).
pub fn init(boot_unix_secs: u64) -> (u64, u32) {
    BOOT_UNIX_SECS.store(boot_unix_secs, Ordering::Relaxed);
    let mut tsc = (0, 0);
    pit::measure(
        CALIBRATION_MS,
        || {
            apic::start_free_count();
            tsc.0 = cpu::rdtsc();
        },
        || tsc.1 = cpu::rdtsc(),
    );
    let apic_counts = u64::from(apic::counted());
    let tsc_per_ms = ((tsc.1 - tsc.0) / CALIBRATION_MS).max(1);
    TSC_PER_MS.store(tsc_per_ms, Ordering::Relaxed);
    let per_tick =
        (apic_counts * 1000 / CALIBRATION_MS / apic::TICK_HZ).clamp(1, u64::from(u32::MAX)) as u32;
    apic::start_periodic(per_tick);
    (tsc_per_ms, per_tick)
}

/// TSC cycles as nanoseconds (0 before calibration).
pub fn cycles_to_ns(cycles: u64) -> u64 {
    let per_ms = TSC_PER_MS.load(Ordering::Relaxed);
    if per_ms == 0 {
        return 0;
    }
    (u128::from(cycles) * 1_000_000 / u128::from(per_ms)).min(u128::from(u64::MAX)) as u64
}

/// Nanoseconds since the kernel was entered; never goes backwards.
pub fn now_ns() -> u64 {
    cycles_to_ns(cpu::rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed)))
}

/// Nanoseconds since 1970-01-01 UTC.
pub fn realtime_ns() -> u64 {
    BOOT_UNIX_SECS
        .load(Ordering::Relaxed)
        .saturating_mul(1_000_000_000)
        .saturating_add(now_ns())
}

/// The raw TSC.
pub fn cycles() -> u64 {
    cpu::rdtsc()
}

/// The monotonic deadline `nanos` from now (saturating).
pub fn deadline_after(nanos: u64) -> u64 {
    now_ns().saturating_add(nanos)
}
