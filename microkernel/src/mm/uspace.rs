//! User address spaces: one PML4 per program, sharing the kernel half.
//!
//! The lower half holds the program's ELF segments (mapped at load time)
//! and two demand-zero regions from `protocols::layout`, the heap and the
//! first thread's stack: a not-present access there gets a zeroed frame
//! (in [`AddressSpace::fault_in`]), whether the CPU faulted or a system call
//! is about to touch the page. Dropping the space frees every frame and
//! table of its lower half.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kcore::paging::{Leaf, MapOutcome, Mapper, PAGE_SIZE, TableAccess, flags};
use protocols::layout::{HEAP_BASE, HEAP_SIZE, STACK_SIZE, STACK_TOP, USER_END};

use super::frames::{self, GlobalFrames};
use super::{HhdmTables, hhdm, kspace, phys_to_virt};
use crate::arch::{cpu, paging};
use crate::sync::IrqMutex;

/// Why a page could not be given to a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceError {
    /// Out of frames.
    NoMemory,
    /// The address is not a user page this operation may create.
    BadAddress,
}

struct PcidPool {
    next: u16,
    free: Vec<u16>,
}

static PCIDS: IrqMutex<PcidPool> = IrqMutex::new(PcidPool {
    next: 1,
    free: Vec::new(),
});
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Returns a PCID from [`take_pcid`] to the pool (0 is ignored).
pub fn release_pcid(pcid: u16) {
    if pcid != 0 {
        PCIDS.lock().free.push(pcid);
    }
}

/// A PCID no live page-table root uses (0 when PCIDs are off or used up:
/// untagged, flushed on every load).
pub fn take_pcid() -> u16 {
    if !cpu::pcid_enabled() {
        return 0;
    }
    let mut pool = PCIDS.lock();
    if let Some(p) = pool.free.pop() {
        return p;
    }
    if pool.next < 4096 {
        pool.next += 1;
        return pool.next - 1;
    }
    0 // out of PCIDs: untagged (flushed on every load)
}

/// The PML4 entry covering the object slots (`layout::SLOT_BASE`).
pub const SLOT_PML4: usize = (protocols::layout::SLOT_BASE >> 39) as usize;

/// Whether `page` lies in a demand-zero region.
pub fn is_demand_zero(page: u64) -> bool {
    (HEAP_BASE..HEAP_BASE + HEAP_SIZE).contains(&page)
        || (STACK_TOP - STACK_SIZE..STACK_TOP).contains(&page)
}

/// One program's address space.
pub struct AddressSpace {
    id: u64,
    root: u64,
    pcid: u16,
    /// The PCID's TLB entries may be stale (fresh or recycled PCID).
    needs_flush: AtomicBool,
    /// The root the program runs on now (`root | pcid`): this space's own
    /// PML4, or the (view, security context) root of its active context.
    live: AtomicU64,
    mapper: IrqMutex<Mapper<HhdmTables>>,
}

impl AddressSpace {
    /// An empty space: the kernel half copied from the kernel's PML4.
    pub fn new() -> Result<AddressSpace, SpaceError> {
        let root = frames::allocate_zeroed().ok_or(SpaceError::NoMemory)?;
        // SAFETY: page-table frames come from the frame allocator and are
        // mapped in the HHDM.
        let mut tables = unsafe { HhdmTables::new(hhdm()) };
        let kernel = kspace::root();
        for slot in 256..512 {
            let entry = tables.read_entry(kernel, slot);
            tables.write_entry(root, slot, entry);
        }
        let pcid = take_pcid();
        Ok(AddressSpace {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            root,
            pcid,
            needs_flush: AtomicBool::new(true),
            live: AtomicU64::new(root | u64::from(pcid)),
            mapper: IrqMutex::new(Mapper::new(tables, root)),
        })
    }

    /// A number no other live space has (thread-sync wait keys use it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Makes this the live address space on `root` (`root | pcid` of one
    /// of its security-context roots; 0: the space's own root), unless
    /// that root is loaded already.
    pub fn activate_root(&self, root: u64) {
        let (phys, pcid) = match root {
            0 => (self.root, self.pcid),
            r => (r & !0xfff, (r & 0xfff) as u16),
        };
        if paging::current_root() == phys {
            return;
        }
        let flush =
            pcid == 0 || (phys == self.root && self.needs_flush.swap(false, Ordering::Relaxed));
        self.live.store(phys | u64::from(pcid), Ordering::Relaxed);
        // SAFETY: the kernel half of every root of this space is the
        // kernel's (copied at creation).
        unsafe { paging::load_root(phys, pcid, flush) };
    }

    /// Whether this is the live address space (on any of its roots).
    pub fn is_active(&self) -> bool {
        paging::current_root() == self.live.load(Ordering::Relaxed) & !0xfff
    }

    /// The space's own PML4 (the default security context's root).
    pub fn root(&self) -> u64 {
        self.root
    }

    /// The PCID of [`AddressSpace::root`].
    pub fn pcid(&self) -> u16 {
        self.pcid
    }

    /// The page holding `virt`, with the access the program has to it.
    pub fn lookup(&self, virt: u64) -> Option<Leaf> {
        self.mapper.lock().lookup(virt)
    }

    /// Maps a zeroed frame at user page `page` with the given access;
    /// returns the frame. A page already mapped is left alone.
    pub fn map_zeroed(
        &self,
        page: u64,
        writable: bool,
        executable: bool,
    ) -> Result<u64, SpaceError> {
        if !page.is_multiple_of(PAGE_SIZE) || page >= USER_END {
            return Err(SpaceError::BadAddress);
        }
        let mut m = self.mapper.lock();
        if let Some(leaf) = m.lookup(page) {
            return Ok(leaf.phys);
        }
        let frame = frames::allocate_zeroed().ok_or(SpaceError::NoMemory)?;
        let mut leaf = flags::USER;
        if writable {
            leaf |= flags::WRITABLE;
        }
        if !executable {
            leaf |= flags::NO_EXECUTE;
        }
        // SAFETY: a fresh zeroed frame at an unmapped user page: no Rust
        // reference can point there.
        match unsafe { m.ensure_mapped(page, frame, leaf, &mut GlobalFrames) } {
            Ok(MapOutcome::Mapped) => {
                if self.is_active() {
                    paging::flush_page(page);
                }
                Ok(frame)
            }
            Ok(MapOutcome::AlreadyMapped) | Err(_) => {
                frames::free(frame);
                Err(SpaceError::NoMemory)
            }
        }
    }

    /// Maps physical frame `phys` (persistent memory, never an allocator
    /// frame) at user page `page`, writable, not executable.
    pub fn map_phys(&self, page: u64, phys: u64) -> Result<(), SpaceError> {
        if !page.is_multiple_of(PAGE_SIZE) || page >= USER_END || !phys.is_multiple_of(PAGE_SIZE) {
            return Err(SpaceError::BadAddress);
        }
        let mut m = self.mapper.lock();
        let leaf = flags::USER | flags::WRITABLE | flags::NO_EXECUTE;
        // SAFETY: `phys` is persistent memory no Rust reference points at;
        // the program owns whatever it stores there.
        match unsafe { m.ensure_mapped(page, phys, leaf, &mut GlobalFrames) } {
            Ok(MapOutcome::Mapped) => {
                if self.is_active() {
                    paging::flush_page(page);
                }
                Ok(())
            }
            Ok(MapOutcome::AlreadyMapped) => Ok(()),
            Err(_) => Err(SpaceError::NoMemory),
        }
    }

    /// Backs the demand-zero page holding `virt` if it is not mapped yet;
    /// `false` if `virt` is not in a demand-zero region.
    pub fn fault_in(&self, virt: u64) -> Result<bool, SpaceError> {
        let page = virt / PAGE_SIZE * PAGE_SIZE;
        if !is_demand_zero(page) {
            return Ok(false);
        }
        self.map_zeroed(page, true, false).map(|_| true)
    }

    /// Whether the program may access the page holding `virt` (`write`:
    /// for writing), faulting in demand-zero pages.
    pub fn check_access(&self, virt: u64, write: bool) -> bool {
        let leaf = match self.lookup(virt) {
            Some(leaf) => leaf,
            None => match self.fault_in(virt) {
                Ok(true) => match self.lookup(virt) {
                    Some(leaf) => leaf,
                    None => return false,
                },
                _ => return false,
            },
        };
        leaf.user && (leaf.writable || !write)
    }

    /// Whether the program may access every page from `first` to `last`
    /// (page addresses, `first <= last`; `write`: for writing), faulting
    /// in demand-zero pages: [`AddressSpace::check_access`] for each, with
    /// one trip through the page-table lock while every page is present.
    pub fn check_pages(&self, first: u64, last: u64, write: bool) -> bool {
        let mut page = first;
        {
            let mut m = self.mapper.lock();
            loop {
                match m.lookup(page) {
                    Some(leaf) if leaf.user && (leaf.writable || !write) => {}
                    Some(_) => return false,
                    // Not mapped yet: the slow path below may fault it in.
                    None => break,
                }
                if page >= last {
                    return true;
                }
                page += PAGE_SIZE;
            }
        }
        (page..=last)
            .step_by(PAGE_SIZE as usize)
            .all(|p| self.check_access(p, write))
    }

    /// Copies `bytes` to user address `virt` through the HHDM (the pages
    /// must be mapped); used while building a program, before it runs.
    pub fn write(&self, virt: u64, bytes: &[u8]) -> Result<(), SpaceError> {
        let mut done = 0usize;
        while done < bytes.len() {
            let at = virt + done as u64;
            let leaf = self.lookup(at).ok_or(SpaceError::BadAddress)?;
            let n = ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(bytes.len() - done);
            // SAFETY: the frame is this space's, mapped in the HHDM; the
            // program does not run yet, so nothing else touches it.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    bytes[done..].as_ptr(),
                    phys_to_virt(leaf.phys) as *mut u8,
                    n,
                );
            }
            done += n;
        }
        Ok(())
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        debug_assert!(!self.is_active(), "dropping the live address space");
        let mut m = self.mapper.lock();
        // SAFETY: the space is not live (its last thread was switched away
        // from before being reaped), and every frame below slot 256 is its
        // own, except the object slots' PML4 entry, whose tables belong to
        // the program's object space and its objects (cleared, not freed).
        unsafe {
            m.teardown(0..SLOT_PML4, &mut frames::free);
            m.teardown(SLOT_PML4 + 1..256, &mut frames::free);
        }
        drop(m);
        // SAFETY: as above; the entry is cleared, nothing is freed.
        let mut tables = unsafe { HhdmTables::new(hhdm()) };
        tables.write_entry(self.root, SLOT_PML4, 0);
        frames::free(self.root);
        if self.pcid != 0 {
            PCIDS.lock().free.push(self.pcid);
        }
    }
}
