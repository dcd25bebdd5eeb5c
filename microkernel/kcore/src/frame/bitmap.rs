//! The kernel's physical frame allocator: one bit per 4 KiB frame over the
//! span of allocatable memory.
//!
//! Every frame starts *used*; [`BitmapFrameAllocator::add_free`] hands ranges
//! over (usable memory at boot, bootloader-reclaimable memory once the kernel
//! no longer needs the loader's data) and [`BitmapFrameAllocator::reserve`]
//! takes frames back out (the early allocator's). Allocation is next-fit from
//! a moving hint; freeing checks the frame so a double free or a stray
//! address is an error, not silent corruption.

use core::fmt;

use super::FrameAllocator;
use crate::paging::PAGE_SIZE;

/// How many `u64` words a bitmap for `frames` frames needs.
pub const fn bitmap_words(frames: u64) -> usize {
    frames.div_ceil(64) as usize
}

/// Why a frame could not be freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The address is not 4 KiB aligned.
    Misaligned(u64),
    /// The frame is outside the span this allocator manages.
    NotManaged(u64),
    /// The frame is already free.
    DoubleFree(u64),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Misaligned(a) => write!(f, "frame {a:#x} is not 4 KiB aligned"),
            FrameError::NotManaged(a) => write!(f, "frame {a:#x} is not managed memory"),
            FrameError::DoubleFree(a) => write!(f, "frame {a:#x} freed twice"),
        }
    }
}

/// A bitmap frame allocator over `[base, base + frames * 4 KiB)`.
pub struct BitmapFrameAllocator<'a> {
    /// Bit set: frame in use (or never handed over).
    bits: &'a mut [u64],
    base: u64,
    frames: u64,
    free: u64,
    total: u64,
    hint: usize,
}

impl<'a> BitmapFrameAllocator<'a> {
    /// An allocator for the frames from `base` (rounded down to a frame),
    /// as many as `bits` can describe; every frame starts used.
    pub fn new(bits: &'a mut [u64], base: u64) -> Self {
        bits.fill(u64::MAX);
        let frames = bits.len() as u64 * 64;
        BitmapFrameAllocator {
            bits,
            base: base / PAGE_SIZE * PAGE_SIZE,
            frames,
            free: 0,
            total: 0,
            hint: 0,
        }
    }

    /// The frame indices wholly inside `[start, start + length)` that this
    /// allocator covers.
    fn frame_range(&self, start: u64, length: u64) -> core::ops::Range<u64> {
        let end = start.saturating_add(length) / PAGE_SIZE * PAGE_SIZE;
        let start = start.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let lo = start.max(self.base);
        let hi = end.min(self.base + self.frames * PAGE_SIZE);
        if hi <= lo {
            return 0..0;
        }
        (lo - self.base) / PAGE_SIZE..(hi - self.base) / PAGE_SIZE
    }

    fn is_used(&self, index: u64) -> bool {
        self.bits[(index / 64) as usize] & (1 << (index % 64)) != 0
    }

    fn set(&mut self, index: u64, used: bool) {
        let word = &mut self.bits[(index / 64) as usize];
        if used {
            *word |= 1 << (index % 64);
        } else {
            *word &= !(1 << (index % 64));
        }
    }

    /// Hands the whole frames inside `[start, start + length)` to the
    /// allocator; returns how many were added (frames already free, or
    /// outside the span, are skipped).
    pub fn add_free(&mut self, start: u64, length: u64) -> u64 {
        let mut added = 0;
        for index in self.frame_range(start, length) {
            if self.is_used(index) {
                self.set(index, false);
                added += 1;
            }
        }
        self.free += added;
        self.total += added;
        added
    }

    /// Marks the whole frames inside `[start, start + length)` used (frames
    /// some other code already owns); returns how many changed.
    pub fn reserve(&mut self, start: u64, length: u64) -> u64 {
        let mut taken = 0;
        for index in self.frame_range(start, length) {
            if !self.is_used(index) {
                self.set(index, true);
                taken += 1;
            }
        }
        self.free -= taken;
        taken
    }

    /// Returns `frame` to the pool.
    pub fn free_frame(&mut self, frame: u64) -> Result<(), FrameError> {
        if !frame.is_multiple_of(PAGE_SIZE) {
            return Err(FrameError::Misaligned(frame));
        }
        let range = self.frame_range(frame, PAGE_SIZE);
        if range.is_empty() {
            return Err(FrameError::NotManaged(frame));
        }
        if !self.is_used(range.start) {
            return Err(FrameError::DoubleFree(frame));
        }
        self.set(range.start, false);
        self.free += 1;
        Ok(())
    }

    /// Frames free now.
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    /// Frames ever handed to the allocator (free or allocated).
    pub fn total_frames(&self) -> u64 {
        self.total
    }
}

impl FrameAllocator for BitmapFrameAllocator<'_> {
    fn allocate_frame(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.bits.len();
        for step in 0..words {
            let w = (self.hint + step) % words;
            let word = self.bits[w];
            if word != u64::MAX {
                let bit = (!word).trailing_zeros() as u64;
                let index = w as u64 * 64 + bit;
                if index >= self.frames {
                    continue;
                }
                self.set(index, true);
                self.free -= 1;
                self.hint = w;
                return Some(self.base + index * PAGE_SIZE);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x10_0000;

    #[test]
    fn starts_empty_and_hands_out_only_added_frames() {
        let mut bits = [0u64; 2];
        let mut a = BitmapFrameAllocator::new(&mut bits, BASE);
        assert_eq!(a.allocate_frame(), None);
        // Unaligned edges shrink inwards.
        assert_eq!(a.add_free(BASE + 0x1800, 0x3000), 2);
        assert_eq!((a.free_frames(), a.total_frames()), (2, 2));
        assert_eq!(a.allocate_frame(), Some(BASE + 0x2000));
        assert_eq!(a.allocate_frame(), Some(BASE + 0x3000));
        assert_eq!(a.allocate_frame(), None);
        assert_eq!(a.free_frames(), 0);
    }

    #[test]
    fn free_checks_alignment_span_and_double_frees() {
        let mut bits = [0u64; 1];
        let mut a = BitmapFrameAllocator::new(&mut bits, BASE);
        a.add_free(BASE, 4 * PAGE_SIZE);
        let f = a.allocate_frame().unwrap();
        assert_eq!(a.free_frame(f + 1), Err(FrameError::Misaligned(f + 1)));
        assert_eq!(a.free_frame(0x1000), Err(FrameError::NotManaged(0x1000)));
        let past = BASE + 64 * PAGE_SIZE;
        assert_eq!(a.free_frame(past), Err(FrameError::NotManaged(past)));
        assert_eq!(a.free_frame(f), Ok(()));
        assert_eq!(a.free_frame(f), Err(FrameError::DoubleFree(f)));
        assert_eq!(a.free_frames(), 4);
    }

    #[test]
    fn reserve_takes_frames_out_and_counts_only_changes() {
        let mut bits = [0u64; 1];
        let mut a = BitmapFrameAllocator::new(&mut bits, BASE);
        a.add_free(BASE, 8 * PAGE_SIZE);
        assert_eq!(a.reserve(BASE, 3 * PAGE_SIZE), 3);
        assert_eq!(a.reserve(BASE, 3 * PAGE_SIZE), 0);
        assert_eq!((a.free_frames(), a.total_frames()), (5, 8));
        let mut got = Vec::new();
        while let Some(f) = a.allocate_frame() {
            got.push(f);
        }
        assert_eq!(got.len(), 5);
        assert!(got.iter().all(|&f| f >= BASE + 3 * PAGE_SIZE));
        // Adding a range twice adds nothing new.
        assert_eq!(a.add_free(BASE, 3 * PAGE_SIZE), 3);
        assert_eq!(a.add_free(BASE, 3 * PAGE_SIZE), 0);
        assert_eq!(a.total_frames(), 11);
    }

    #[test]
    fn allocation_wraps_around_the_hint_and_skips_the_tail() {
        let mut bits = [0u64; bitmap_words(70)];
        let mut a = BitmapFrameAllocator::new(&mut bits, BASE);
        assert_eq!(a.add_free(BASE, 200 * PAGE_SIZE), 128);
        let all: Vec<u64> = core::iter::from_fn(|| a.allocate_frame()).collect();
        assert_eq!(all.len(), 128);
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 128, "no frame handed out twice");
        a.free_frame(BASE + 5 * PAGE_SIZE).unwrap();
        assert_eq!(a.allocate_frame(), Some(BASE + 5 * PAGE_SIZE));
    }

    #[test]
    fn ranges_outside_the_span_are_ignored() {
        let mut bits = [0u64; 1];
        let mut a = BitmapFrameAllocator::new(&mut bits, BASE);
        assert_eq!(a.add_free(0, BASE), 0);
        assert_eq!(a.add_free(u64::MAX - 0x1000, 0x5000), 0);
        assert_eq!(a.add_free(BASE + 63 * PAGE_SIZE, 10 * PAGE_SIZE), 1);
    }
}
