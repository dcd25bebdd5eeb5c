//! Kernel stacks: one per thread, in their own region of the kernel half
//! with an unmapped guard below each (an overflow faults into the
//! double-fault handler instead of corrupting a neighbour).
//!
//! Slots are recycled: a freed stack keeps its frames and mapping and goes
//! on a free list, so stacks never need unmapping (no TLB shootdowns) and
//! the memory they hold is bounded by the most threads alive at once.

use alloc::vec::Vec;

use kcore::paging::PAGE_SIZE;

use crate::sync::IrqMutex;

/// Bytes of usable stack.
pub const STACK_SIZE: u64 = 32 * 1024;
/// Distance between slots (the rest of each slot is the guard).
const SLOT_STRIDE: u64 = 64 * 1024;
/// The first slot (PML4 slot 510, shared by every address space).
pub const REGION_BASE: u64 = 0xffff_ff00_0000_0000;
/// Most stacks that can exist at once.
pub const MAX_STACKS: u64 = 4096;

struct Pool {
    next_slot: u64,
    free: Vec<u64>,
}

static POOL: IrqMutex<Pool> = IrqMutex::new(Pool {
    next_slot: 0,
    free: Vec::new(),
});

/// A thread's kernel stack (returned to the pool on drop).
#[derive(Debug)]
pub struct KernelStack {
    slot: u64,
}

impl KernelStack {
    /// A stack from the pool, or a new one; `None` when out of slots or
    /// memory.
    pub fn new() -> Option<KernelStack> {
        if let Some(slot) = POOL.lock().free.pop() {
            return Some(KernelStack { slot });
        }
        let slot = {
            let mut pool = POOL.lock();
            if pool.next_slot >= MAX_STACKS {
                return None;
            }
            pool.next_slot += 1;
            pool.next_slot - 1
        };
        let stack = KernelStack { slot };
        let bottom = stack.top() - STACK_SIZE;
        for page in (bottom..stack.top()).step_by(PAGE_SIZE as usize) {
            let mapped = super::frames::allocate_zeroed().map(|frame| {
                let ok = super::kspace::map_kernel_data(page, frame).is_ok();
                if !ok {
                    super::frames::free(frame);
                }
                ok
            });
            if mapped != Some(true) {
                // Out of memory: the half-mapped slot is never reused.
                core::mem::forget(stack);
                return None;
            }
        }
        Some(stack)
    }

    /// The (16-byte aligned) top of the stack.
    pub fn top(&self) -> u64 {
        REGION_BASE + (self.slot + 1) * SLOT_STRIDE
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        POOL.lock().free.push(self.slot);
    }
}
