//! Four-level x86-64 page tables: walking and mapping 4 KiB pages.
//!
//! The [`Mapper`] reaches page-table frames only through [`TableAccess`]
//! (in the kernel: the HHDM; in tests: a `Vec` of fake frames) and takes new
//! table frames from a [`FrameAllocator`]. The kernel flushes the TLB itself
//! after [`Mapper::ensure_mapped`] reports [`MapOutcome::Mapped`]; nothing here touches CR3.

use core::fmt;

use crate::frame::FrameAllocator;

/// Size of a small page and of a page-table frame.
pub const PAGE_SIZE: u64 = 4096;

/// Page-table entry bits.
pub mod flags {
    /// The entry is valid.
    pub const PRESENT: u64 = 1 << 0;
    /// Writes allowed.
    pub const WRITABLE: u64 = 1 << 1;
    /// User-mode access allowed.
    pub const USER: u64 = 1 << 2;
    /// Write-through caching (PAT index bit 0).
    pub const WRITE_THROUGH: u64 = 1 << 3;
    /// Cache disable (PAT index bit 1).
    pub const CACHE_DISABLE: u64 = 1 << 4;
    /// Set by the CPU on access.
    pub const ACCESSED: u64 = 1 << 5;
    /// Set by the CPU on write (leaf entries).
    pub const DIRTY: u64 = 1 << 6;
    /// In a PDPT or PD entry: maps a 1 GiB or 2 MiB page.
    pub const HUGE: u64 = 1 << 7;
    /// Not flushed on CR3 reload (leaf entries, with CR4.PGE).
    pub const GLOBAL: u64 = 1 << 8;
    /// Instruction fetch forbidden (needs EFER.NXE).
    pub const NO_EXECUTE: u64 = 1 << 63;
}

/// The physical-address bits of an entry (bits 12..52).
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Entries per table.
pub const ENTRIES: usize = 512;

/// Access to page-table frames by physical address.
///
/// # Safety
///
/// Implementors promise that `read_entry`/`write_entry`/`zero_table` act on
/// the 4 KiB frame at physical address `table` (the one the CPU walks), and
/// that doing so is sound whenever `table` came from a page-table entry or
/// from the [`FrameAllocator`] used with the same [`Mapper`].
pub unsafe trait TableAccess {
    /// Reads entry `index` (< 512) of the table in frame `table`.
    fn read_entry(&mut self, table: u64, index: usize) -> u64;
    /// Writes entry `index` (< 512) of the table in frame `table`.
    fn write_entry(&mut self, table: u64, index: usize, value: u64);
    /// Fills the frame `table` with zeros (a fresh, empty table).
    fn zero_table(&mut self, table: u64);
}

/// Why a mapping could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The virtual address is not canonical (bits 63..47 differ).
    NotCanonical(u64),
    /// An address is not 4 KiB aligned.
    Misaligned(u64),
    /// The physical address has bits above bit 51.
    PhysTooLarge(u64),
    /// The frame allocator is empty.
    OutOfFrames,
    /// The page is already mapped to a different frame.
    MappedElsewhere {
        /// The page.
        virt: u64,
        /// Where it points now.
        existing: u64,
    },
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::NotCanonical(v) => write!(f, "virtual address {v:#x} is not canonical"),
            MapError::Misaligned(a) => write!(f, "address {a:#x} is not 4 KiB aligned"),
            MapError::PhysTooLarge(p) => write!(f, "physical address {p:#x} exceeds 52 bits"),
            MapError::OutOfFrames => f.write_str("out of page-table frames"),
            MapError::MappedElsewhere { virt, existing } => {
                write!(f, "page {virt:#x} already maps {existing:#x}")
            }
        }
    }
}

/// What [`Mapper::ensure_mapped`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapOutcome {
    /// The page already mapped the requested frame; nothing changed.
    AlreadyMapped,
    /// A new leaf entry was written; the caller must flush the page from the TLB.
    Mapped,
}

/// Whether `virt` is a canonical 48-bit address.
pub const fn is_canonical(virt: u64) -> bool {
    let top = virt >> 47;
    top == 0 || top == 0x1_ffff
}

/// The table indices (PML4, PDPT, PD, PT) of `virt`.
pub const fn indices(virt: u64) -> [usize; 4] {
    [
        ((virt >> 39) & 0x1ff) as usize,
        ((virt >> 30) & 0x1ff) as usize,
        ((virt >> 21) & 0x1ff) as usize,
        ((virt >> 12) & 0x1ff) as usize,
    ]
}

/// Walks and edits the four-level page tables rooted at one PML4.
pub struct Mapper<A> {
    access: A,
    root: u64,
}

impl<A: TableAccess> Mapper<A> {
    /// A mapper for the PML4 at physical address `root` (CR3 without flags).
    pub fn new(access: A, root: u64) -> Self {
        Mapper {
            access,
            root: root & ADDR_MASK,
        }
    }

    /// The physical address `virt` translates to, following 1 GiB and 2 MiB
    /// pages; `None` if not mapped (or not canonical).
    pub fn translate(&mut self, virt: u64) -> Option<u64> {
        self.lookup(virt).map(|leaf| leaf.phys)
    }

    /// The translation of `virt` with the access every level of the walk
    /// allows (writable and user only if every level says so, executable
    /// unless any level says no-execute); `None` if not mapped.
    pub fn lookup(&mut self, virt: u64) -> Option<Leaf> {
        if !is_canonical(virt) {
            return None;
        }
        let idx = indices(virt);
        let mut table = self.root;
        let mut all = flags::WRITABLE | flags::USER;
        let mut nx = 0;
        for (level, &index) in idx.iter().enumerate() {
            let entry = self.access.read_entry(table, index);
            if entry & flags::PRESENT == 0 {
                return None;
            }
            all &= entry;
            nx |= entry & flags::NO_EXECUTE;
            // Level 1 is the PDPT (1 GiB pages), level 2 the PD (2 MiB pages).
            let page_shift = match level {
                1 => 30,
                2 => 21,
                _ => 0,
            };
            if page_shift != 0 && entry & flags::HUGE != 0 {
                let page_mask = (1u64 << page_shift) - 1;
                let phys = (entry & ADDR_MASK & !page_mask) | (virt & page_mask);
                return Some(Leaf::new(phys, all, nx));
            }
            table = entry & ADDR_MASK;
        }
        Some(Leaf::new(table | (virt & (PAGE_SIZE - 1)), all, nx))
    }

    /// Maps the 4 KiB page `virt` to frame `phys` with leaf `flags`
    /// (`PRESENT` is added), unless it already maps `phys`. Missing tables
    /// are allocated from `frames` and entered as present + writable (+ user
    /// if the leaf is user); existing intermediate entries are left as they
    /// are.
    ///
    /// # Safety
    ///
    /// When the tables are live, the new mapping must not break memory safety
    /// of the running program (the frame must be one it may alias with these
    /// permissions), and the caller must flush `virt` from the TLB when the
    /// result is [`MapOutcome::Mapped`].
    pub unsafe fn ensure_mapped(
        &mut self,
        virt: u64,
        phys: u64,
        leaf_flags: u64,
        frames: &mut impl FrameAllocator,
    ) -> Result<MapOutcome, MapError> {
        if !is_canonical(virt) {
            return Err(MapError::NotCanonical(virt));
        }
        for addr in [virt, phys] {
            if addr % PAGE_SIZE != 0 {
                return Err(MapError::Misaligned(addr));
            }
        }
        if phys & !ADDR_MASK != 0 {
            return Err(MapError::PhysTooLarge(phys));
        }
        match self.translate(virt) {
            Some(existing) if existing == phys => return Ok(MapOutcome::AlreadyMapped),
            Some(existing) => return Err(MapError::MappedElsewhere { virt, existing }),
            None => {}
        }
        let idx = indices(virt);
        let table_flags = flags::PRESENT | flags::WRITABLE | (leaf_flags & flags::USER);
        let mut table = self.root;
        for &index in &idx[..3] {
            let entry = self.access.read_entry(table, index);
            table = if entry & flags::PRESENT != 0 {
                // Not huge: a present huge entry would have translated above.
                entry & ADDR_MASK
            } else {
                let frame = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
                self.access.zero_table(frame);
                self.access.write_entry(table, index, frame | table_flags);
                frame
            };
        }
        self.access
            .write_entry(table, idx[3], phys | leaf_flags | flags::PRESENT);
        Ok(MapOutcome::Mapped)
    }

    /// Maps the 2 MiB page `virt` to the 2 MiB frame `phys` (both 2 MiB
    /// aligned) with leaf `flags` (`PRESENT` and `HUGE` are added), unless it
    /// already maps exactly that. Missing PDPTs are allocated as for
    /// [`Mapper::ensure_mapped`]; a PD slot that already holds a table or a
    /// different page is an error.
    ///
    /// # Safety
    ///
    /// As for [`Mapper::ensure_mapped`].
    pub unsafe fn ensure_mapped_2m(
        &mut self,
        virt: u64,
        phys: u64,
        leaf_flags: u64,
        frames: &mut impl FrameAllocator,
    ) -> Result<MapOutcome, MapError> {
        const HUGE_SIZE: u64 = 2 << 20;
        if !is_canonical(virt) {
            return Err(MapError::NotCanonical(virt));
        }
        for addr in [virt, phys] {
            if addr % HUGE_SIZE != 0 {
                return Err(MapError::Misaligned(addr));
            }
        }
        if phys & !ADDR_MASK != 0 {
            return Err(MapError::PhysTooLarge(phys));
        }
        let idx = indices(virt);
        let table_flags = flags::PRESENT | flags::WRITABLE | (leaf_flags & flags::USER);
        let mut table = self.root;
        for &index in &idx[..2] {
            let entry = self.access.read_entry(table, index);
            table = if entry & flags::PRESENT != 0 {
                if entry & flags::HUGE != 0 {
                    // A 1 GiB page covers it (only possible at the PDPT).
                    let existing = (entry & ADDR_MASK) | (virt & ((1 << 30) - 1));
                    return match existing == phys {
                        true => Ok(MapOutcome::AlreadyMapped),
                        false => Err(MapError::MappedElsewhere { virt, existing }),
                    };
                }
                entry & ADDR_MASK
            } else {
                let frame = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
                self.access.zero_table(frame);
                self.access.write_entry(table, index, frame | table_flags);
                frame
            };
        }
        let entry = self.access.read_entry(table, idx[2]);
        if entry & flags::PRESENT != 0 {
            let existing = entry & ADDR_MASK;
            return match entry & flags::HUGE != 0 && existing == phys {
                true => Ok(MapOutcome::AlreadyMapped),
                false => Err(MapError::MappedElsewhere { virt, existing }),
            };
        }
        let leaf = phys | leaf_flags | flags::PRESENT | flags::HUGE;
        self.access.write_entry(table, idx[2], leaf);
        Ok(MapOutcome::Mapped)
    }

    /// Removes the 4 KiB mapping of `virt` and returns the frame it mapped;
    /// `None` (and nothing changed) if it was not mapped by a 4 KiB leaf.
    /// Tables are kept even when they become empty.
    ///
    /// # Safety
    ///
    /// When the tables are live, nothing may use the page any more, and the
    /// caller must flush `virt` from the TLB.
    pub unsafe fn unmap(&mut self, virt: u64) -> Option<u64> {
        if !is_canonical(virt) {
            return None;
        }
        let idx = indices(virt);
        let mut table = self.root;
        for &index in &idx[..3] {
            let entry = self.access.read_entry(table, index);
            if entry & flags::PRESENT == 0 || entry & flags::HUGE != 0 {
                return None;
            }
            table = entry & ADDR_MASK;
        }
        let entry = self.access.read_entry(table, idx[3]);
        if entry & flags::PRESENT == 0 {
            return None;
        }
        self.access.write_entry(table, idx[3], 0);
        Some(entry & ADDR_MASK)
    }

    /// Empties the PML4 slots `slots` (e.g. `0..256`, a user half): hands
    /// every 4 KiB leaf frame and every table frame below them to `release`
    /// exactly once, and clears the slots. Huge leaves are dropped without
    /// being released (the mapper never owns them).
    ///
    /// # Safety
    ///
    /// The tables must not be live on any CPU (or the caller flushes the TLB
    /// of everything they mapped), and the frames under these slots must be
    /// owned by the caller, not shared with another PML4.
    pub unsafe fn teardown(
        &mut self,
        slots: core::ops::Range<usize>,
        release: &mut impl FnMut(u64),
    ) {
        for slot in slots {
            let entry = self.access.read_entry(self.root, slot);
            if entry & flags::PRESENT != 0 {
                self.release_table(entry & ADDR_MASK, 1, release);
                self.access.write_entry(self.root, slot, 0);
            }
        }
    }

    /// Releases the table at `table` (level 1 = PDPT, 2 = PD, 3 = PT), its
    /// subtables and its 4 KiB leaves.
    fn release_table(&mut self, table: u64, level: u8, release: &mut impl FnMut(u64)) {
        for index in 0..ENTRIES {
            let entry = self.access.read_entry(table, index);
            if entry & flags::PRESENT == 0 {
                continue;
            }
            if level == 3 {
                release(entry & ADDR_MASK);
            } else if entry & flags::HUGE == 0 {
                self.release_table(entry & ADDR_MASK, level + 1, release);
            }
        }
        release(table);
    }

    /// The PML4's physical address.
    pub fn root(&self) -> u64 {
        self.root
    }
}

/// A translation and the access the whole walk allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The physical address the virtual address maps to.
    pub phys: u64,
    /// Writes allowed (every level writable).
    pub writable: bool,
    /// User-mode access allowed (every level user).
    pub user: bool,
    /// Instruction fetch allowed (no level no-execute).
    pub executable: bool,
}

impl Leaf {
    fn new(phys: u64, all: u64, nx: u64) -> Leaf {
        Leaf {
            phys,
            writable: all & flags::WRITABLE != 0,
            user: all & flags::USER != 0,
            executable: nx == 0,
        }
    }
}

#[cfg(test)]
mod tests;
