//! The global physical frame allocator (`kcore::frame::BitmapFrameAllocator`)
//! built from the Limine memory map.
//!
//! Its bitmap lives in frames taken from the early bump allocator, whose
//! frames (page tables made for ACPI, the bitmap, the kernel heap) it then
//! marks used. Bootloader-reclaimable memory is added by [`reclaim`] once
//! nothing points into it any more.

use kcore::frame::{BitmapFrameAllocator, EarlyFrameAllocator, FrameAllocator, bitmap_words};
use kcore::memmap::{self, Entry, Kind};
use kcore::paging::PAGE_SIZE;

use super::phys_to_virt;
use crate::sync::IrqMutex;

static FRAMES: IrqMutex<Option<BitmapFrameAllocator<'static>>> = IrqMutex::new(None);

/// Why the frame allocator could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramesError {
    /// The memory map has no allocatable memory.
    NoMemory,
    /// The early allocator has no room for the bitmap.
    NoRoomForBitmap,
}

/// Builds the allocator over every usable frame, minus what `early` handed
/// out (after taking the bitmap's own frames from it).
pub fn init(
    entries: impl Iterator<Item = Entry> + Clone,
    mut early: EarlyFrameAllocator,
) -> Result<(), FramesError> {
    let (lo, hi) = memmap::allocatable_span(entries.clone()).ok_or(FramesError::NoMemory)?;
    let base = lo / PAGE_SIZE * PAGE_SIZE;
    let words = bitmap_words((hi - base).div_ceil(PAGE_SIZE));
    let bytes = (words * 8) as u64;
    let bitmap = early
        .allocate_run(bytes.div_ceil(PAGE_SIZE))
        .ok_or(FramesError::NoRoomForBitmap)?;
    // SAFETY: the frames just came from the early allocator (usable memory
    // nothing else uses, mapped in the HHDM), they are never freed, and a
    // `u64` slice has no invalid bit patterns (`new` fills it).
    let bits = unsafe { core::slice::from_raw_parts_mut(phys_to_virt(bitmap) as *mut u64, words) };
    let mut alloc = BitmapFrameAllocator::new(bits, base);
    for e in entries.filter(|e| e.kind == Kind::Usable) {
        alloc.add_free(e.base, e.length);
    }
    let (used_base, used_len) = early.used();
    alloc.reserve(used_base, used_len);
    *FRAMES.lock() = Some(alloc);
    Ok(())
}

/// Adds every bootloader-reclaimable frame; returns the bytes added.
pub fn reclaim(entries: impl Iterator<Item = Entry>) -> u64 {
    let mut guard = FRAMES.lock();
    let Some(alloc) = guard.as_mut() else {
        return 0;
    };
    entries
        .filter(|e| e.kind == Kind::BootloaderReclaimable)
        .map(|e| alloc.add_free(e.base, e.length) * PAGE_SIZE)
        .sum()
}

/// A frame with unspecified contents.
pub fn allocate() -> Option<u64> {
    FRAMES.lock().as_mut()?.allocate_frame()
}

/// A zero-filled frame.
pub fn allocate_zeroed() -> Option<u64> {
    let frame = allocate()?;
    // SAFETY: the frame was just allocated (nobody else uses it) and is
    // mapped writable in the HHDM.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize) };
    Some(frame)
}

/// Returns `frame` to the allocator. A bad free is a kernel bug.
pub fn free(frame: u64) {
    // Persistent-memory frames mapped into objects and the store's space
    // were never the allocator's.
    if crate::acpi::in_pmem(frame) {
        return;
    }
    let mut guard = FRAMES.lock();
    if let Some(alloc) = guard.as_mut()
        && let Err(err) = alloc.free_frame(frame)
    {
        drop(guard);
        panic!("frame allocator: {err}");
    }
}

/// `(total, free)` frames.
pub fn stats() -> (u64, u64) {
    FRAMES
        .lock()
        .as_ref()
        .map_or((0, 0), |a| (a.total_frames(), a.free_frames()))
}

/// The global allocator as a `kcore` [`FrameAllocator`] (for the mapper).
pub struct GlobalFrames;

impl FrameAllocator for GlobalFrames {
    fn allocate_frame(&mut self) -> Option<u64> {
        allocate()
    }
}
