//! Console input: COM1's receive interrupt (ISA IRQ 4, routed through the
//! I/O APIC) moves bytes into a ring buffer that `console_read` drains;
//! blocked readers wake when input arrives.
//!
//! Nothing is dropped: when the ring is full the receive interrupt is
//! switched off and the bytes wait in the UART (QEMU then holds back the
//! rest), until a reader makes room.

use crate::sched::{self, WaitKey};
use crate::serial;
use crate::sync::IrqMutex;

/// Bytes the ring holds.
const RING_SIZE: usize = 16 * 1024;

struct Ring {
    buf: [u8; RING_SIZE],
    head: usize,
    len: usize,
    paused: bool,
}

impl Ring {
    fn push(&mut self, byte: u8) {
        self.buf[(self.head + self.len) % RING_SIZE] = byte;
        self.len += 1;
    }

    /// Moves what the UART holds into the ring; pauses reception when full.
    fn pull(&mut self) {
        let room = RING_SIZE - self.len;
        let mut got = [0u8; 64];
        let mut n = 0;
        let mut more = true;
        while more && n < room {
            let want = (room - n).min(got.len());
            let mut k = 0;
            more = serial::receive(want, |b| {
                got[k] = b;
                k += 1;
            });
            got[..k].iter().for_each(|&b| self.push(b));
            n += k;
            if k < want {
                more = false;
            }
        }
        if more && !self.paused {
            self.paused = true;
            serial::set_rx_interrupt(false);
        }
    }
}

static INPUT: IrqMutex<Ring> = IrqMutex::new(Ring {
    buf: [0; RING_SIZE],
    head: 0,
    len: 0,
    paused: false,
});

/// Turns on COM1's receive interrupt (the I/O APIC route is set by the caller).
pub fn start() {
    serial::set_rx_interrupt(true);
    on_receive();
}

/// The receive interrupt: drain the UART, wake readers.
pub fn on_receive() {
    let any = {
        let mut ring = INPUT.lock();
        ring.pull();
        ring.len > 0
    };
    if any {
        sched::wake(WaitKey::Console, u64::MAX);
    }
}

/// Whether input is waiting (polls the UART too).
pub fn has_input() -> bool {
    let mut ring = INPUT.lock();
    ring.pull();
    ring.len > 0
}

/// Moves up to `out.len()` buffered bytes into `out`; returns how many.
pub fn take(out: &mut [u8]) -> usize {
    let mut ring = INPUT.lock();
    ring.pull();
    let n = out.len().min(ring.len);
    for slot in &mut out[..n] {
        *slot = ring.buf[ring.head];
        ring.head = (ring.head + 1) % RING_SIZE;
        ring.len -= 1;
    }
    if ring.paused && ring.len < RING_SIZE {
        ring.paused = false;
        serial::set_rx_interrupt(true);
        ring.pull();
    }
    n
}
