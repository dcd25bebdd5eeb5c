//! The 8254 PIT, used once: channel 2 as a stopwatch to calibrate the TSC
//! and the local APIC timer.

use x86_64::instructions::port::Port;

/// The PIT's input clock in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// Busy-waits `ms` milliseconds (at most 50) on PIT channel 2, calling
/// `start` just after the count begins and `stop` just after it ends.
pub fn measure(ms: u64, start: impl FnOnce(), stop: impl FnOnce()) {
    let count = (PIT_HZ * ms.min(50) / 1000) as u16;
    // SAFETY: ports 0x42/0x43 (PIT channel 2 and mode) and 0x61 (its gate
    // and output); nothing else in the kernel uses them.
    unsafe {
        let mut gate = Port::<u8>::new(0x61);
        let mut mode = Port::<u8>::new(0x43);
        let mut data = Port::<u8>::new(0x42);
        let g = gate.read();
        gate.write((g & !0x02) & !0x01); // speaker off, gate low
        mode.write(0b1011_0000); // channel 2, lo/hi byte, mode 0, binary
        data.write(count as u8);
        data.write((count >> 8) as u8);
        let g = gate.read();
        gate.write(g | 0x01); // gate high: counting starts
        start();
        while gate.read() & 0x20 == 0 {
            core::hint::spin_loop();
        }
        stop();
        gate.write(g & !0x01);
    }
}
