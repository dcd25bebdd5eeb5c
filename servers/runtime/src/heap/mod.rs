//! The global allocator: an [`Arena`] over the program's demand-zero heap
//! region `[HEAP_BASE, HEAP_BASE + HEAP_SIZE)` (see
//! [`protocols::layout`]), behind a [`Mutex`].

mod arena;

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

pub use arena::{Arena, PAGE, SMALL_MAX};

use crate::sync::Mutex;

/// A thread-safe allocator over one [`Arena`].
pub struct Heap {
    arena: Mutex<Arena>,
}

impl Heap {
    /// A heap over `arena`.
    pub const fn new(arena: Arena) -> Heap {
        Heap {
            arena: Mutex::new(arena),
        }
    }

    /// Bytes of the region touched so far (its high-water mark).
    pub fn touched(&self) -> usize {
        self.arena.lock().touched()
    }
}

// SAFETY: blocks come from the arena, which hands each out once, aligned as
// the layout asks, and takes it back only through `dealloc` with the same
// layout (the `GlobalAlloc` contract the caller keeps).
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.arena.lock().alloc(layout)
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller returns a block from `alloc` with its layout.
        unsafe { self.arena.lock().dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        if Arena::fits_in_place(layout, new) {
            return block;
        }
        let mut arena = self.arena.lock();
        let fresh = arena.alloc(new);
        if !fresh.is_null() {
            // SAFETY: both blocks are live, distinct and at least this long;
            // the old one is then returned with its layout.
            unsafe {
                ptr::copy_nonoverlapping(block, fresh, layout.size().min(new_size));
                arena.dealloc(block, layout);
            }
        }
        fresh
    }
}

/// The program heap.
#[cfg(target_os = "none")]
#[global_allocator]
pub static HEAP: Heap = Heap::new(
    // SAFETY: the kernel gives every program this region as demand-zero
    // memory (protocols::layout) and nothing but this allocator uses it.
    unsafe {
        Arena::new(
            protocols::layout::HEAP_BASE as usize,
            protocols::layout::HEAP_SIZE as usize,
        )
    },
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realloc_keeps_contents_and_stays_in_place_when_it_fits() {
        let mut mem = vec![0u8; 64 * PAGE];
        // SAFETY: the Vec outlives the heap and is used only through it.
        let heap = Heap::new(unsafe { Arena::new(mem.as_mut_ptr() as usize, mem.len()) });
        let l = Layout::from_size_align(20, 8).unwrap();
        // SAFETY: GlobalAlloc contract kept: blocks used within their
        // layouts, returned with them.
        unsafe {
            let a = heap.alloc(l);
            a.write_bytes(7, 20);
            assert_eq!(heap.realloc(a, l, 30), a);
            let b = heap.realloc(a, Layout::from_size_align(30, 8).unwrap(), 5000);
            assert_ne!(b, a);
            assert_eq!(std::slice::from_raw_parts(b, 20), &[7u8; 20]);
            heap.dealloc(b, Layout::from_size_align(5000, 8).unwrap());
        }
    }
}
