//! x86-64 4-level page table construction, independent of where the tables
//! live: a [`FrameSource`] hands out zeroed 4 KiB frames and gives access to
//! them. The loader backs it with UEFI page allocations; the tests with heap
//! memory, and walk the result with [`PageTables::translate`].
//!
//! Intermediate entries are present and writable and never no-execute, so
//! the leaf alone decides the rights. No 1 GiB pages are used (the CPU may
//! not support them); 2 MiB pages are used where both addresses are aligned.

use core::fmt;

/// Present.
pub const PRESENT: u64 = 1 << 0;
/// Writable.
pub const WRITABLE: u64 = 1 << 1;
/// Page size (2 MiB leaf in a page directory).
pub const HUGE: u64 = 1 << 7;
/// No-execute (needs EFER.NXE).
pub const NO_EXECUTE: u64 = 1 << 63;
/// The physical address bits of an entry.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// 4 KiB.
pub const SIZE_4K: u64 = 1 << 12;
/// 2 MiB.
pub const SIZE_2M: u64 = 1 << 21;

/// Rights of a leaf mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rights {
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

impl Rights {
    /// Read, write and execute (the HHDM, as Limine maps it).
    pub const RWX: Rights = Rights {
        write: true,
        execute: true,
    };

    fn leaf_bits(self) -> u64 {
        let mut bits = PRESENT;
        if self.write {
            bits |= WRITABLE;
        }
        if !self.execute {
            bits |= NO_EXECUTE;
        }
        bits
    }
}

/// Where page-table frames come from.
pub trait FrameSource {
    /// A zeroed, 4 KiB-aligned frame's physical address.
    fn allocate_zeroed(&mut self) -> Result<u64, PagingError>;
    /// The 512 entries of the table frame at `phys`, which this source
    /// handed out earlier.
    fn table(&mut self, phys: u64) -> &mut [u64; 512];
}

/// Why a mapping cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PagingError {
    /// The frame source is exhausted.
    OutOfFrames,
    /// An address or length is not 4 KiB aligned.
    Misaligned {
        /// The virtual address.
        virt: u64,
    },
    /// The virtual address is not canonical.
    NonCanonical {
        /// The virtual address.
        virt: u64,
    },
    /// The page is already mapped.
    AlreadyMapped {
        /// The virtual address.
        virt: u64,
    },
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PagingError::OutOfFrames => f.write_str("out of memory for page tables"),
            PagingError::Misaligned { virt } => {
                write!(f, "mapping at {virt:#x} is not page aligned")
            }
            PagingError::NonCanonical { virt } => write!(f, "{virt:#x} is not canonical"),
            PagingError::AlreadyMapped { virt } => write!(f, "{virt:#x} is already mapped"),
        }
    }
}

/// A page table hierarchy under construction.
pub struct PageTables<F: FrameSource> {
    frames: F,
    pml4: u64,
}

fn index(virt: u64, level: u32) -> usize {
    ((virt >> (12 + 9 * level)) & 0x1ff) as usize
}

fn is_canonical(virt: u64) -> bool {
    let top = virt >> 47;
    top == 0 || top == 0x1_ffff
}

impl<F: FrameSource> PageTables<F> {
    /// Starts with an empty PML4.
    pub fn new(mut frames: F) -> Result<Self, PagingError> {
        let pml4 = frames.allocate_zeroed()?;
        Ok(PageTables { frames, pml4 })
    }

    /// Physical address of the PML4 (the CR3 value).
    pub fn root(&self) -> u64 {
        self.pml4
    }

    /// The frame source, e.g. to learn how many frames were used.
    pub fn frames(&self) -> &F {
        &self.frames
    }

    /// Maps `[virt, virt + len)` to `[phys, phys + len)`, with 2 MiB pages
    /// wherever both sides are 2 MiB aligned and enough length remains.
    pub fn map_range(
        &mut self,
        virt: u64,
        phys: u64,
        len: u64,
        rights: Rights,
    ) -> Result<(), PagingError> {
        if !virt.is_multiple_of(SIZE_4K)
            || !phys.is_multiple_of(SIZE_4K)
            || !len.is_multiple_of(SIZE_4K)
        {
            return Err(PagingError::Misaligned { virt });
        }
        let mut done = 0;
        while done < len {
            let (v, p) = (virt.wrapping_add(done), phys + done);
            if v.is_multiple_of(SIZE_2M) && p.is_multiple_of(SIZE_2M) && len - done >= SIZE_2M {
                self.map_page(v, p, rights, true)?;
                done += SIZE_2M;
            } else {
                self.map_page(v, p, rights, false)?;
                done += SIZE_4K;
            }
        }
        Ok(())
    }

    /// Maps one 4 KiB page (or a 2 MiB page when `huge`).
    pub fn map_page(
        &mut self,
        virt: u64,
        phys: u64,
        rights: Rights,
        huge: bool,
    ) -> Result<(), PagingError> {
        if !is_canonical(virt) {
            return Err(PagingError::NonCanonical { virt });
        }
        let size = if huge { SIZE_2M } else { SIZE_4K };
        if !virt.is_multiple_of(size) || !phys.is_multiple_of(size) {
            return Err(PagingError::Misaligned { virt });
        }
        let leaf_level = if huge { 1 } else { 0 };
        let mut table = self.pml4;
        for level in (leaf_level + 1..=3).rev() {
            let slot = index(virt, level);
            let entry = self.frames.table(table)[slot];
            table = if entry & PRESENT == 0 {
                let next = self.frames.allocate_zeroed()?;
                self.frames.table(table)[slot] = next | PRESENT | WRITABLE;
                next
            } else if entry & HUGE != 0 {
                return Err(PagingError::AlreadyMapped { virt });
            } else {
                entry & ADDR_MASK
            };
        }
        let slot = index(virt, leaf_level);
        let leaf = &mut self.frames.table(table)[slot];
        if *leaf & PRESENT != 0 {
            return Err(PagingError::AlreadyMapped { virt });
        }
        *leaf = phys | rights.leaf_bits() | if huge { HUGE } else { 0 };
        Ok(())
    }

    /// Walks the tables: the physical address `virt` maps to, the leaf's
    /// rights and the page size, as the CPU would see them.
    pub fn translate(&mut self, virt: u64) -> Option<(u64, Rights, u64)> {
        let mut table = self.pml4;
        for level in (0..=3).rev() {
            let entry = self.frames.table(table)[index(virt, level)];
            if entry & PRESENT == 0 {
                return None;
            }
            let rights = Rights {
                write: entry & WRITABLE != 0,
                execute: entry & NO_EXECUTE == 0,
            };
            if level == 0 || (level == 1 && entry & HUGE != 0) {
                let size = if level == 0 { SIZE_4K } else { SIZE_2M };
                return Some((
                    (entry & ADDR_MASK & !(size - 1)) + virt % size,
                    rights,
                    size,
                ));
            }
            table = entry & ADDR_MASK;
        }
        None
    }

    /// The PML4 entry `slot` (e.g. to check the temporary identity map).
    pub fn pml4_entry(&mut self, slot: usize) -> u64 {
        let root = self.pml4;
        self.frames.table(root)[slot]
    }
}

#[cfg(test)]
mod tests;
