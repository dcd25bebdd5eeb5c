//! The kernel heap: a fixed region, a linked-list allocator.
//!
//! Size: [`HEAP_SIZE`] = 4 MiB, allocated once at boot and never grown. The
//! heap holds only bookkeeping whose count user space bounds through kernel
//! limits: thread and program records (a few hundred bytes each, at most
//! `sched::MAX_THREADS` threads), ready/wait queues, the boot module table
//! and the console input ring. 4 MiB holds all of them at their limits with
//! room to spare, while page tables, user memory and kernel stacks come
//! from the frame allocator. A bounded heap means a runaway allocation ends
//! in a clear out-of-memory panic instead of eating every frame.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use linked_list_allocator::Heap;

use crate::sync::IrqMutex;

/// Bytes of kernel heap.
pub const HEAP_SIZE: u64 = 4 << 20;

struct KernelHeap(IrqMutex<Heap>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(IrqMutex::new(Heap::empty()));

// SAFETY: `Heap` hands out disjoint blocks of the region `init` gave it,
// of at least the size and alignment asked for; the lock serialises it.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0
            .lock()
            .allocate_first_fit(layout)
            .map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: `GlobalAlloc`'s contract: `ptr` came from `alloc` with
            // this layout.
            unsafe { self.0.lock().deallocate(ptr, layout) };
        }
    }
}

/// Hands the heap its region.
///
/// # Safety
///
/// `[start, start + size)` must be mapped writable, owned by the heap for
/// ever, and `init` may be called only once.
pub unsafe fn init(start: u64, size: u64) {
    // SAFETY: the caller's guarantees are exactly `Heap::init`'s.
    unsafe { HEAP.0.lock().init(start as *mut u8, size as usize) };
}

/// `(used, size)` bytes.
pub fn stats() -> (u64, u64) {
    let heap = HEAP.0.lock();
    (heap.used() as u64, heap.size() as u64)
}
