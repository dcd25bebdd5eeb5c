//! Physical frame allocation.
//!
//! [`FrameAllocator`] is the seam the page-table code allocates through.
//! [`EarlyFrameAllocator`] is a bump allocator over one free range, used
//! before the kernel knows which memory it may keep; [`BitmapFrameAllocator`]
//! takes over from it (treating [`EarlyFrameAllocator::used`] as allocated)
//! and manages every usable frame, and later the reclaimed ones, for good.

mod bitmap;

pub use bitmap::{BitmapFrameAllocator, FrameError, bitmap_words};

use crate::paging::PAGE_SIZE;

/// Hands out 4 KiB physical frames.
pub trait FrameAllocator {
    /// The physical address of a free 4 KiB frame, or `None` when out of memory.
    /// The frame's contents are unspecified.
    fn allocate_frame(&mut self) -> Option<u64>;
}

/// A bump allocator over one physical range; it never frees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyFrameAllocator {
    start: u64,
    next: u64,
    end: u64,
}

impl EarlyFrameAllocator {
    /// An allocator over the whole frames inside `[base, base + length)`.
    pub fn new(base: u64, length: u64) -> Self {
        let start = base
            .checked_next_multiple_of(PAGE_SIZE)
            .unwrap_or(!(PAGE_SIZE - 1));
        let end = base.saturating_add(length) / PAGE_SIZE * PAGE_SIZE;
        let end = end.max(start);
        EarlyFrameAllocator {
            start,
            next: start,
            end,
        }
    }

    /// The frames handed out so far, as `(base, length)`.
    pub fn used(&self) -> (u64, u64) {
        (self.start, self.next - self.start)
    }

    /// How many frames are left.
    pub fn remaining_frames(&self) -> u64 {
        (self.end - self.next) / PAGE_SIZE
    }

    /// `count` physically contiguous frames; returns the first one's
    /// address, or `None` if fewer than `count` remain.
    pub fn allocate_run(&mut self, count: u64) -> Option<u64> {
        if count == 0 || self.remaining_frames() < count {
            return None;
        }
        let first = self.next;
        self.next += count * PAGE_SIZE;
        Some(first)
    }
}

impl FrameAllocator for EarlyFrameAllocator {
    fn allocate_frame(&mut self) -> Option<u64> {
        if self.next >= self.end {
            return None;
        }
        let frame = self.next;
        self.next += PAGE_SIZE;
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_through_whole_frames_then_stops() {
        let mut alloc = EarlyFrameAllocator::new(0x1800, 0x3000);
        assert_eq!(alloc.remaining_frames(), 2);
        assert_eq!(alloc.allocate_frame(), Some(0x2000));
        assert_eq!(alloc.allocate_frame(), Some(0x3000));
        assert_eq!(alloc.allocate_frame(), None);
        assert_eq!(alloc.used(), (0x2000, 0x2000));
    }

    #[test]
    fn runs_are_contiguous_and_bounded() {
        let mut alloc = EarlyFrameAllocator::new(0x1000, 0x5000);
        assert_eq!(alloc.allocate_run(2), Some(0x1000));
        assert_eq!(alloc.allocate_frame(), Some(0x3000));
        assert_eq!(alloc.allocate_run(3), None);
        assert_eq!(alloc.allocate_run(0), None);
        assert_eq!(alloc.allocate_run(2), Some(0x4000));
        assert_eq!(alloc.used(), (0x1000, 0x5000));
    }

    #[test]
    fn empty_and_degenerate_ranges_give_nothing() {
        assert_eq!(EarlyFrameAllocator::new(0x1000, 0).allocate_frame(), None);
        assert_eq!(
            EarlyFrameAllocator::new(0x1001, 0x1000).allocate_frame(),
            None
        );
        assert_eq!(
            EarlyFrameAllocator::new(u64::MAX - 5, 100).allocate_frame(),
            None
        );
    }
}
