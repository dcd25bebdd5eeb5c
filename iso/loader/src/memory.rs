//! Memory from the firmware: page allocations of the two types the memory
//! map distinguishes, the loader's heap, and frames for page tables.
//!
//! Under UEFI, memory is identity-mapped, so a physical address is also a
//! usable pointer until the loader switches to the kernel's page tables.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};
use core::sync::atomic::{AtomicUsize, Ordering};

use loader_core::memmap::KERNEL_AND_MODULES_UEFI_TYPE;
use loader_core::paging::{FrameSource, PagingError};
use uefi::boot::{self, AllocateType, MemoryType};

use crate::error::LoaderError;

/// The kernel file, kernel image and modules: executable-and-modules.
pub const KERNEL_AND_MODULES: MemoryType = MemoryType::custom(KERNEL_AND_MODULES_UEFI_TYPE);
/// Responses, page tables, GDT, stack, heap: bootloader-reclaimable.
pub const RECLAIMABLE: MemoryType = MemoryType::LOADER_DATA;

const PAGE: usize = 4096;

/// Zeroed pages that are never freed: they are handed to the kernel.
pub struct Pages {
    /// Physical (and, under UEFI, virtual) address.
    pub phys: u64,
    /// The pages' bytes.
    pub bytes: &'static mut [u8],
}

/// Allocates at least `bytes` (one page minimum) of zeroed memory of `ty`.
pub fn allocate(what: &'static str, bytes: usize, ty: MemoryType) -> Result<Pages, LoaderError> {
    let pages = bytes.div_ceil(PAGE).max(1);
    let ptr = boot::allocate_pages(AllocateType::AnyPages, ty, pages).map_err(|e| {
        LoaderError::OutOfMemory {
            what,
            pages,
            status: e.status(),
        }
    })?;
    // SAFETY: the firmware just gave us `pages` pages at `ptr`, identity
    // mapped and owned by nobody else; they are never freed, so the slice
    // may live for the rest of the loader.
    let bytes = unsafe { core::slice::from_raw_parts_mut(ptr.as_ptr(), pages * PAGE) };
    bytes.fill(0);
    Ok(Pages {
        phys: ptr.as_ptr() as u64,
        bytes,
    })
}

/// A bump allocator over one reclaimable region; only the most recent
/// allocation can be freed. It never calls the firmware, so it keeps
/// working after boot services are gone.
struct BumpHeap {
    next: AtomicUsize,
    end: AtomicUsize,
}

#[global_allocator]
static HEAP: BumpHeap = BumpHeap {
    next: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
};

/// Heap size: configuration, small vectors and the memory map scratch.
const HEAP_BYTES: usize = 4 << 20;

/// Gives the heap its memory. Allocations before this fail.
pub fn init_heap() -> Result<(), LoaderError> {
    let region = allocate("the loader heap", HEAP_BYTES, RECLAIMABLE)?;
    let start = region.bytes.as_mut_ptr() as usize;
    HEAP.end.store(start + region.bytes.len(), Ordering::SeqCst);
    HEAP.next.store(start, Ordering::SeqCst);
    Ok(())
}

// SAFETY: `alloc` hands out disjoint, suitably aligned ranges of the region
// given to `init_heap` (or null), reserved with a compare-exchange so no
// range is handed out twice; `dealloc` only rewinds when the freed block is
// the last one handed out.
unsafe impl GlobalAlloc for BumpHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut current = self.next.load(Ordering::Relaxed);
        loop {
            let end = self.end.load(Ordering::Relaxed);
            let start = current.next_multiple_of(layout.align());
            let Some(new) = start
                .checked_add(layout.size())
                .filter(|&n| n <= end && current != 0)
            else {
                return null_mut();
            };
            match self
                .next
                .compare_exchange(current, new, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => return start as *mut u8,
                Err(seen) => current = seen,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let block_end = ptr as usize + layout.size();
        let _ = self.next.compare_exchange(
            block_end,
            ptr as usize,
            Ordering::SeqCst,
            Ordering::Relaxed,
        );
    }
}

/// Page-table frames, carved out of reclaimable chunks.
pub struct TableFrames {
    chunk: Option<NonNull<u8>>,
    used: usize,
    /// Frames handed out so far.
    pub count: usize,
}

/// Frames per chunk requested from the firmware.
const CHUNK_FRAMES: usize = 64;

impl TableFrames {
    /// No frames yet.
    pub fn new() -> TableFrames {
        TableFrames {
            chunk: None,
            used: CHUNK_FRAMES,
            count: 0,
        }
    }
}

impl FrameSource for TableFrames {
    fn allocate_zeroed(&mut self) -> Result<u64, PagingError> {
        if self.used == CHUNK_FRAMES {
            let chunk = allocate("page tables", CHUNK_FRAMES * PAGE, RECLAIMABLE)
                .map_err(|_| PagingError::OutOfFrames)?;
            self.chunk = NonNull::new(chunk.bytes.as_mut_ptr());
            self.used = 0;
        }
        let base = self.chunk.ok_or(PagingError::OutOfFrames)?.as_ptr() as u64;
        let frame = base + (self.used * PAGE) as u64;
        self.used += 1;
        self.count += 1;
        Ok(frame)
    }

    fn table(&mut self, phys: u64) -> &mut [u64; 512] {
        // SAFETY: `PageTables` only passes addresses it got from
        // `allocate_zeroed` (the root and addresses it stored in entries):
        // zeroed, page-aligned, identity-mapped frames owned by these tables.
        // The returned borrow is tied to `&mut self`, so no two exist at once.
        unsafe { &mut *(phys as *mut [u64; 512]) }
    }
}
