//! Memory management: the early mapper (boot, loader's tables), the frame
//! allocator, the kernel's own tables, kernel stacks, the heap and user
//! address spaces.

pub mod early;
pub mod frames;
pub mod heap;
pub mod kspace;
pub mod kstack;
mod tables;
pub mod uspace;

use core::sync::atomic::{AtomicU64, Ordering};

pub use tables::HhdmTables;

static HHDM: AtomicU64 = AtomicU64::new(0);

/// Records the HHDM offset (the loader's, which the kernel's tables keep).
pub fn set_hhdm(offset: u64) {
    HHDM.store(offset, Ordering::Relaxed);
}

/// The HHDM offset.
pub fn hhdm() -> u64 {
    HHDM.load(Ordering::Relaxed)
}

/// The HHDM address of physical address `phys`.
pub fn phys_to_virt(phys: u64) -> u64 {
    hhdm() + phys
}
