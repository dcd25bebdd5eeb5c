//! `CrashSim`: persistent memory with an adversarial power cut.
//!
//! It keeps two images: what loads see (`current`) and what is certainly
//! on the media (`durable`). A write changes `current` and makes its lines
//! *dirty*; `flush` snapshots the dirty lines it covers; `fence` makes the
//! snapshots durable. At any moment, [`CrashSim::crash_image`] produces an
//! image a power cut could leave: `durable`, with each dirty line chosen at
//! random to be dropped (old bytes), kept (current bytes), its flushed
//! snapshot, or torn — each aligned 8-byte word old or new independently
//! (x86 guarantees only 8-byte failure atomicity). Writes also evict a
//! random dirty line now and then, making an intermediate state durable,
//! as a real cache may.
//!
//! A [`CutPolicy`] captures crash images while the store runs: at every
//! fence (just before and just after it), after every flush, and at random
//! writes.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::{LINE, Pmem};

const L: usize = LINE as usize;

/// When to capture crash images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CutPolicy {
    /// Capture just before and just after every fence.
    pub at_fences: bool,
    /// Capture just after every flush.
    pub at_flushes: bool,
    /// Capture after a write or flush with this probability (per mille).
    pub random_per_mille: u32,
    /// Images drawn per capture point (each with fresh random choices).
    pub variants: u32,
}

/// Simulated persistent memory with power cuts.
pub struct CrashSim {
    current: Vec<u8>,
    durable: Vec<u8>,
    /// Lines that may differ from `durable`.
    dirty: Vec<bool>,
    dirty_list: Vec<usize>,
    /// Flushed, not yet fenced: line → bytes at the flush.
    pending: BTreeMap<usize, [u8; L]>,
    rng: u64,
    /// Spontaneous evictions per write (per mille).
    evict_per_mille: u32,
    policy: Option<CutPolicy>,
    captures: Vec<Vec<u8>>,
    events: u64,
}

impl CrashSim {
    /// A zero-filled region of `len` bytes (a multiple of 64) whose random
    /// choices come from `seed`.
    pub fn new(len: usize, seed: u64) -> CrashSim {
        assert!(len.is_multiple_of(L));
        CrashSim {
            current: vec![0; len],
            durable: vec![0; len],
            dirty: vec![false; len / L],
            dirty_list: Vec::new(),
            pending: BTreeMap::new(),
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            evict_per_mille: 20,
            policy: None,
            captures: Vec::new(),
            events: 0,
        }
    }

    /// A region whose current and durable contents are `image`.
    pub fn from_image(image: Vec<u8>, seed: u64) -> CrashSim {
        let mut sim = CrashSim::new(image.len(), seed);
        sim.durable.clone_from(&image);
        sim.current = image;
        sim
    }

    fn next(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn chance(&mut self, per_mille: u32) -> bool {
        self.next() % 1000 < u64::from(per_mille)
    }

    /// Starts (or, with `None`, stops) capturing crash images.
    pub fn set_policy(&mut self, policy: Option<CutPolicy>) {
        self.policy = policy;
    }

    /// The images captured since the last call.
    pub fn take_captures(&mut self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.captures)
    }

    /// Writes, flushes and fences so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// What loads see now.
    pub fn current(&self) -> &[u8] {
        &self.current
    }

    /// Lines that may not be durable yet.
    pub fn dirty_lines(&self) -> usize {
        self.dirty_list.len()
    }

    /// An image a power cut now could leave.
    pub fn crash_image(&mut self) -> Vec<u8> {
        let mut image = self.durable.clone();
        for k in 0..self.dirty_list.len() {
            let line = self.dirty_list[k];
            let r = &mut image[line * L..(line + 1) * L];
            let choice = self.next() % 4;
            match choice {
                0 => {}
                1 => r.copy_from_slice(&self.current[line * L..(line + 1) * L]),
                2 => match self.pending.get(&line) {
                    Some(snap) => r.copy_from_slice(snap),
                    None => r.copy_from_slice(&self.current[line * L..(line + 1) * L]),
                },
                _ => {
                    let mask = self.next();
                    for w in 0..L / 8 {
                        if mask & (1 << w) != 0 {
                            let at = line * L + w * 8;
                            r[w * 8..w * 8 + 8].copy_from_slice(&self.current[at..at + 8]);
                        }
                    }
                }
            }
        }
        image
    }

    /// The image if every dirty line were lost.
    pub fn durable_image(&self) -> Vec<u8> {
        self.durable.clone()
    }

    fn capture(&mut self) {
        if let Some(p) = self.policy {
            for _ in 0..p.variants {
                let image = self.crash_image();
                self.captures.push(image);
            }
        }
    }

    fn maybe_capture(&mut self) {
        if let Some(p) = self.policy
            && self.chance(p.random_per_mille)
        {
            self.capture();
        }
    }

    fn persist_line(&mut self, line: usize, bytes: [u8; L]) {
        self.durable[line * L..(line + 1) * L].copy_from_slice(&bytes);
        if self.current[line * L..(line + 1) * L] == bytes {
            self.dirty[line] = false;
        }
    }

    fn line(&self, line: usize) -> [u8; L] {
        let mut b = [0u8; L];
        b.copy_from_slice(&self.current[line * L..(line + 1) * L]);
        b
    }

    fn compact_dirty(&mut self) {
        let dirty = &self.dirty;
        self.dirty_list.retain(|&l| dirty[l]);
    }
}

impl Pmem for CrashSim {
    fn len(&self) -> u64 {
        self.current.len() as u64
    }

    fn read(&self, off: u64, buf: &mut [u8]) {
        let off = off as usize;
        buf.copy_from_slice(&self.current[off..off + buf.len()]);
    }

    fn write(&mut self, off: u64, bytes: &[u8]) {
        self.events += 1;
        let off = off as usize;
        self.current[off..off + bytes.len()].copy_from_slice(bytes);
        if !bytes.is_empty() {
            for line in off / L..=(off + bytes.len() - 1) / L {
                if !self.dirty[line] {
                    self.dirty[line] = true;
                    self.dirty_list.push(line);
                }
            }
        }
        if !self.dirty_list.is_empty() && self.chance(self.evict_per_mille) {
            let k = (self.next() % self.dirty_list.len() as u64) as usize;
            let line = self.dirty_list[k];
            let bytes = self.line(line);
            // The eviction wrote back newer bytes than a pending flush
            // snapshot; that flush has nothing older left to persist.
            self.pending.remove(&line);
            self.persist_line(line, bytes);
            self.compact_dirty();
        }
        self.maybe_capture();
    }

    fn flush(&mut self, off: u64, len: u64) {
        self.events += 1;
        if len > 0 {
            let (first, last) = (off as usize / L, (off + len - 1) as usize / L);
            assert!(last < self.dirty.len(), "flush past the region");
            for line in first..=last {
                if self.dirty[line] {
                    let bytes = self.line(line);
                    self.pending.insert(line, bytes);
                }
            }
        }
        if self.policy.is_some_and(|p| p.at_flushes) {
            self.capture();
        } else {
            self.maybe_capture();
        }
    }

    fn fence(&mut self) {
        if self.policy.is_some_and(|p| p.at_fences) {
            self.capture();
        }
        self.events += 1;
        for (line, bytes) in core::mem::take(&mut self.pending) {
            self.persist_line(line, bytes);
        }
        self.compact_dirty();
        if self.policy.is_some_and(|p| p.at_fences) {
            self.capture();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_flushed_and_fenced_lines_are_certain() {
        let mut sim = CrashSim::new(4096, 1);
        sim.evict_per_mille = 0;
        sim.write(0, &[1; 128]);
        sim.flush(0, 64);
        assert_eq!(sim.durable_image()[0], 0, "flushed but not fenced");
        sim.fence();
        let d = sim.durable_image();
        assert_eq!((d[0], d[64]), (1, 0), "line 0 durable, line 1 not");
        assert_eq!(sim.dirty_lines(), 1);
        let mut saw = [false; 2];
        for _ in 0..64 {
            let img = sim.crash_image();
            assert_eq!(img[0], 1);
            saw[usize::from(img[64])] = true;
        }
        assert_eq!(saw, [true, true], "an unflushed line is kept or dropped");
    }

    #[test]
    fn a_store_after_the_flush_is_not_made_durable_by_the_fence() {
        let mut sim = CrashSim::new(4096, 2);
        sim.evict_per_mille = 0;
        sim.write(0, &[1; 8]);
        sim.flush(0, 8);
        sim.write(8, &[2; 8]);
        sim.fence();
        assert_eq!(&sim.durable_image()[..16], &[[1u8; 8], [0; 8]].concat()[..]);
        assert_eq!(sim.dirty_lines(), 1);
    }

    #[test]
    fn torn_lines_mix_aligned_words_only() {
        let mut sim = CrashSim::new(4096, 3);
        sim.evict_per_mille = 0;
        sim.write(0, &[0xff; 64]);
        for _ in 0..64 {
            let img = sim.crash_image();
            for w in img[..64].chunks(8) {
                assert!(w == [0; 8] || w == [0xff; 8]);
            }
        }
    }
}
