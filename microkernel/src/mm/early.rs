//! Early memory management: mapping physical pages into the HHDM on demand.
//!
//! Limine (base revision 3) does not promise that the HHDM covers ACPI or
//! reserved memory, so before the kernel reads such memory it asks
//! [`EarlyMm::map_hhdm`] to map the page. The walking and mapping logic is
//! `kcore::paging` (host-tested); this module supplies the live parts: the
//! tables reached through the HHDM, CR3, EFER.NXE and `invlpg`. Page-table
//! frames come from a bump allocator over the largest usable memory-map
//! region; the real frame allocator takes them over ([`EarlyMm::into_frames`]).

use core::fmt;

use kcore::frame::EarlyFrameAllocator;
use kcore::paging::{self, MapError, MapOutcome, Mapper, PAGE_SIZE};
use x86_64::VirtAddr;

use super::tables::HhdmTables;
use x86_64::registers::control::{Cr3, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};

/// Why early memory management could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmError {
    /// The loader enabled 5-level paging; this kernel walks 4 levels.
    FiveLevelPaging,
    /// The memory map has no usable region for page-table frames.
    NoUsableMemory,
}

impl fmt::Display for MmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MmError::FiveLevelPaging => f.write_str("5-level paging is not supported yet"),
            MmError::NoUsableMemory => f.write_str("no usable memory for page tables"),
        }
    }
}

/// The early mapper: maps physical pages into the HHDM, read-only.
pub struct EarlyMm {
    hhdm: u64,
    mapper: Mapper<HhdmTables>,
    frames: EarlyFrameAllocator,
    leaf_flags: u64,
}

impl EarlyMm {
    /// Starts on the live page tables (CR3), taking new table frames from
    /// `[frames_base, frames_base + frames_len)`.
    ///
    /// # Safety
    ///
    /// `hhdm` must be the HHDM offset the loader reported, with every
    /// page-table frame and the frame range mapped writable under it; the
    /// frame range must be usable memory nothing else uses; and only one
    /// `EarlyMm` may exist (it edits the live tables).
    pub unsafe fn new(hhdm: u64, frames_base: u64, frames_len: u64) -> Result<EarlyMm, MmError> {
        if Cr4::read().contains(Cr4Flags::L5_PAGING) {
            return Err(MmError::FiveLevelPaging);
        }
        let frames = EarlyFrameAllocator::new(frames_base, frames_len);
        if frames.remaining_frames() == 0 {
            return Err(MmError::NoUsableMemory);
        }
        let root = Cr3::read().0.start_address().as_u64();
        // NX is a reserved bit unless EFER.NXE is on.
        let nx = if Efer::read().contains(EferFlags::NO_EXECUTE_ENABLE) {
            paging::flags::NO_EXECUTE
        } else {
            0
        };
        Ok(EarlyMm {
            hhdm,
            // SAFETY: the caller guarantees `hhdm` maps every table frame.
            mapper: Mapper::new(unsafe { HhdmTables::new(hhdm) }, root),
            frames,
            leaf_flags: nx,
        })
    }

    /// The HHDM offset.
    pub fn hhdm(&self) -> u64 {
        self.hhdm
    }

    /// Makes sure the 4 KiB page holding `phys` is mapped at `hhdm + page`
    /// (read-only, no-execute, write-back) and returns its virtual address.
    pub fn map_hhdm(&mut self, phys: u64) -> Result<u64, MapError> {
        let page = phys & !(PAGE_SIZE - 1);
        let virt = self
            .hhdm
            .checked_add(page)
            .ok_or(MapError::NotCanonical(u64::MAX))?;
        // SAFETY: the page was not mapped, or already maps `page`; a new
        // read-only alias of a physical page in the HHDM (which exists to
        // alias physical memory) breaks no reference the kernel holds.
        let outcome = unsafe {
            self.mapper
                .ensure_mapped(virt, page, self.leaf_flags, &mut self.frames)?
        };
        if outcome == MapOutcome::Mapped {
            x86_64::instructions::tlb::flush(VirtAddr::new_truncate(virt));
        }
        Ok(virt + (phys - page))
    }

    /// Ends early mapping; the bump allocator (with the frames it handed
    /// out so far) goes on to feed the real frame allocator's setup.
    pub fn into_frames(self) -> EarlyFrameAllocator {
        self.frames
    }
}
