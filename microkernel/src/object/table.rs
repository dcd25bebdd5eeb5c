//! The kernel object table: every object in DRAM by ID, with the page-table
//! subtree that maps its slot.
//!
//! Each object owns one page directory covering its whole 1 GiB slot (and
//! the page tables and data frames under it, allocated on first touch).
//! Every (view, security context) page-table root that maps the object
//! points its slot's PDPT entry at this one directory, so an object's pages
//! are mapped once and shared by every address space; the PDPT entry's
//! R/W/NX bits carry the combined protections and permissions.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kcore::paging::{ADDR_MASK, ENTRIES, PAGE_SIZE, TableAccess, flags};
use protocols::object::{
    BASE_OFFSET, DATA_END, HEADER_OFFSET, META_OFFSET, ObjFlags, ObjHeader, ObjId, ObjInfo, Perms,
    SLOT_SIZE,
};
use protocols::syscall::SysError;

use crate::mm::{HhdmTables, frames, hhdm, phys_to_virt};
use crate::sync::IrqMutex;

mod durable;
pub use durable::Word;

/// Largest data area an object may have.
pub const MAX_SIZE: u64 = DATA_END - BASE_OFFSET;

/// One object in DRAM.
pub struct KObject {
    /// Its ID.
    pub id: ObjId,
    /// Its public-key object (nil: none).
    pub key_id: ObjId,
    /// What every context gets without a capability.
    pub default_perms: Perms,
    /// Creation flags.
    pub flags: ObjFlags,
    /// Bytes in its data area.
    pub size: u64,
    /// The page directory mapping its slot (physical address).
    pd: u64,
    /// Data pages backing it now.
    pages: IrqMutex<u64>,
    /// Backed by persistent memory the store described: never backed by
    /// fresh DRAM frames on touch.
    persistent: bool,
    /// Revoked: the store deleted or replaced this persistent object, its
    /// page-table entries are gone and it is never backed again (set under
    /// `pages`).
    revoked: AtomicBool,
}

fn tables() -> HhdmTables {
    // SAFETY: every table frame used here comes from the frame allocator
    // and is mapped in the HHDM.
    unsafe { HhdmTables::new(hhdm()) }
}

impl KObject {
    /// The page directory frame to point a PDPT entry at.
    pub fn pd(&self) -> u64 {
        self.pd
    }

    /// Whether `offset` lies in a page the object may back: its data area
    /// (after the null page, up to `size`) or its metadata region.
    pub fn offset_valid(&self, offset: u64) -> bool {
        (BASE_OFFSET..BASE_OFFSET + self.size).contains(&offset)
            || (META_OFFSET..SLOT_SIZE).contains(&offset)
    }

    /// The frame backing the page at `offset` (`alloc`: back it with a
    /// zeroed frame if it has none). `None`: not backed (or out of memory).
    pub fn frame(&self, offset: u64, alloc: bool) -> Result<Option<u64>, SysError> {
        if !self.offset_valid(offset) {
            return Err(SysError::BadAddress);
        }
        let mut pages = self.pages.lock();
        if self.is_revoked() {
            return Err(SysError::NotFound);
        }
        let mut t = tables();
        let pt_index = ((offset >> 12) & 0x1ff) as usize;
        let Some(pt) = page_table(&mut t, self.pd, offset, alloc)? else {
            return Ok(None);
        };
        let pte = t.read_entry(pt, pt_index);
        if pte & flags::PRESENT != 0 {
            return Ok(Some(pte & ADDR_MASK));
        }
        if !alloc {
            return Ok(None);
        }
        if self.persistent {
            // The store says where a persistent page lives: ask its pager.
            return Err(SysError::WouldBlock);
        }
        let frame = frames::allocate_zeroed().ok_or(SysError::NoMemory)?;
        t.write_entry(
            pt,
            pt_index,
            frame | flags::PRESENT | flags::WRITABLE | flags::USER,
        );
        *pages += 1;
        Ok(Some(frame))
    }

    /// Maps the page at `offset` of a persistent object to persistent
    /// memory frame `phys` (the pager's answer); a page already mapped
    /// keeps its frame. A revoked object is never mapped again
    /// (`NotFound`).
    pub fn set_frame(&self, offset: u64, phys: u64) -> Result<(), SysError> {
        if !self.persistent || !self.offset_valid(offset) || !crate::acpi::in_pmem(phys) {
            return Err(SysError::InvalidArgument);
        }
        let mut pages = self.pages.lock();
        if self.is_revoked() {
            return Err(SysError::NotFound);
        }
        let mut t = tables();
        let pt_index = ((offset >> 12) & 0x1ff) as usize;
        let pt = page_table(&mut t, self.pd, offset, true)?.ok_or(SysError::NoMemory)?;
        if t.read_entry(pt, pt_index) & flags::PRESENT == 0 {
            t.write_entry(
                pt,
                pt_index,
                (phys & ADDR_MASK) | flags::PRESENT | flags::WRITABLE | flags::USER,
            );
            *pages += 1;
        }
        Ok(())
    }

    /// Whether the store deleted or replaced this object (see
    /// [`KObject::revoke`]).
    pub fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::Acquire)
    }

    /// Takes every page of a persistent object away from every address
    /// space at once: the store deleted it (its NVDIMM frames may go to
    /// another object next) or replaced it (a resize). Every root that maps
    /// the object points at this one page directory, so clearing its page
    /// tables and flushing the TLB leaves no translation to the old frames
    /// anywhere; a later access faults, and the fault handler moves the
    /// mapping to the object now in the table under the same ID, if any.
    /// The page tables themselves stay until the object is dropped.
    fn revoke(&self) {
        let mut pages = self.pages.lock();
        self.revoked.store(true, Ordering::Release);
        let mut t = tables();
        for i in 0..ENTRIES {
            let pde = t.read_entry(self.pd, i);
            if pde & flags::PRESENT != 0 {
                t.zero_table(pde & ADDR_MASK);
            }
        }
        *pages = 0;
        drop(pages);
        // Only this CPU runs user code (the APs are parked), so flushing
        // its TLB for every PCID reaches every cached translation; with
        // APs running this becomes a shootdown IPI.
        crate::arch::paging::flush_everything();
    }

    /// Copies the object's bytes at `offset` into `out` (unbacked pages
    /// read as zero).
    pub fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), SysError> {
        let mut done = 0usize;
        while done < out.len() {
            let at = offset + done as u64;
            let n = ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(out.len() - done);
            match self.frame(at & !(PAGE_SIZE - 1), false)? {
                Some(frame) => {
                    let src = phys_to_virt(frame + at % PAGE_SIZE) as *const u8;
                    // SAFETY: the frame is this object's, mapped in the
                    // HHDM, and `n` stays inside it. User space may write
                    // it concurrently; the bytes are only decoded, never
                    // trusted, after the copy.
                    unsafe { core::ptr::copy_nonoverlapping(src, out[done..].as_mut_ptr(), n) };
                }
                None => out[done..done + n].fill(0),
            }
            done += n;
        }
        Ok(())
    }

    /// Writes `data` into the object at `offset`, backing pages as needed.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), SysError> {
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let n = ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(data.len() - done);
            let frame = self
                .frame(at & !(PAGE_SIZE - 1), true)?
                .ok_or(SysError::NoMemory)?;
            let dst = phys_to_virt(frame + at % PAGE_SIZE) as *mut u8;
            // SAFETY: as in `read`; the kernel writes only whole fields of
            // formats the program also reads through its own checks.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), dst, n) };
            done += n;
        }
        Ok(())
    }

    /// What `obj_info` reports.
    pub fn info(&self) -> ObjInfo {
        ObjInfo {
            id: self.id,
            key_id: self.key_id,
            size: self.size,
            default_perms: self.default_perms,
            flags: self.flags,
            pages: *self.pages.lock(),
        }
    }
}

impl Drop for KObject {
    fn drop(&mut self) {
        // No page-table root points at the directory any more: every root
        // holds an `Arc` to the object while its PDPT entry names it.
        let mut t = tables();
        for i in 0..ENTRIES {
            let pde = t.read_entry(self.pd, i);
            if pde & flags::PRESENT == 0 {
                continue;
            }
            let pt = pde & ADDR_MASK;
            for j in 0..ENTRIES {
                let pte = t.read_entry(pt, j);
                if pte & flags::PRESENT != 0 {
                    frames::free(pte & ADDR_MASK);
                }
            }
            frames::free(pt);
        }
        frames::free(self.pd);
    }
}

/// The page table under page directory `pd` covering slot `offset`
/// (`alloc`: made, zeroed, when missing; else `None`).
fn page_table(
    t: &mut HhdmTables,
    pd: u64,
    offset: u64,
    alloc: bool,
) -> Result<Option<u64>, SysError> {
    let pd_index = ((offset >> 21) & 0x1ff) as usize;
    let pde = t.read_entry(pd, pd_index);
    if pde & flags::PRESENT != 0 {
        return Ok(Some(pde & ADDR_MASK));
    }
    if !alloc {
        return Ok(None);
    }
    let pt = frames::allocate_zeroed().ok_or(SysError::NoMemory)?;
    t.write_entry(
        pd,
        pd_index,
        pt | flags::PRESENT | flags::WRITABLE | flags::USER,
    );
    Ok(Some(pt))
}

static TABLE: IrqMutex<BTreeMap<ObjId, Arc<KObject>>> = IrqMutex::new(BTreeMap::new());

/// Bumped (under the table's lock) whenever an ID stops naming the object
/// it named: a delete, a detach, a replacement. A lookup remembered
/// together with the epoch read *before* it is still the table's answer
/// while the epoch is unchanged (see [`epoch`]).
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// The table's epoch: read it before a [`get`] whose answer is kept; the
/// answer stands while `epoch()` still returns the same value.
pub fn epoch() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

/// Marks every remembered lookup stale (called with the table locked,
/// after the change).
fn bump_epoch() {
    EPOCH.fetch_add(1, Ordering::AcqRel);
}

/// The object `id`, if it exists.
pub fn get(id: ObjId) -> Option<Arc<KObject>> {
    TABLE.lock().get(&id).cloned()
}

/// Creates an object; see `obj_create` in `protocols::syscall`.
pub fn create(
    size: u64,
    flags: ObjFlags,
    default_perms: Perms,
    key_id: ObjId,
) -> Result<Arc<KObject>, SysError> {
    if size == 0 || size > MAX_SIZE {
        return Err(SysError::InvalidArgument);
    }
    if !key_id.is_nil() {
        let key = get(key_id).ok_or(SysError::NotFound)?;
        super::secctx::public_key(&key).ok_or(SysError::NotFound)?;
    }
    let pd = frames::allocate_zeroed().ok_or(SysError::NoMemory)?;
    let nonce = super::random::nonce();
    let id = caps::derive_id(nonce, key_id, flags, default_perms);
    let obj = Arc::new(KObject {
        id,
        key_id,
        default_perms,
        flags,
        size,
        pd,
        pages: IrqMutex::new(0),
        persistent: false,
        revoked: AtomicBool::new(false),
    });
    let header = ObjHeader::new(nonce, key_id, default_perms, flags);
    obj.write(HEADER_OFFSET, &header.encode())?;
    let mut table = TABLE.lock();
    if table.contains_key(&id) {
        return Err(SysError::Exists);
    }
    table.insert(id, obj.clone());
    Ok(obj)
}

/// Enters persistent object `a` into the table (replacing an earlier one
/// with its ID), its slot pages mapped straight to the persistent-memory
/// frames `runs` names (`(slot offset, physical address, pages)`, each
/// already checked to lie in the slot and in persistent memory).
pub fn attach_persistent(
    a: &protocols::pmem::Attach,
    runs: &[(u64, u64, u64)],
) -> Result<Arc<KObject>, SysError> {
    if a.size > MAX_SIZE {
        return Err(SysError::InvalidArgument);
    }
    let pd = frames::allocate_zeroed().ok_or(SysError::NoMemory)?;
    let obj = Arc::new(KObject {
        id: a.id,
        key_id: a.key,
        default_perms: a.default_perms,
        flags: a.flags,
        size: a.size,
        pd,
        pages: IrqMutex::new(0),
        persistent: true,
        revoked: AtomicBool::new(false),
    });
    let mut t = tables();
    for &(slot, phys, pages) in runs {
        for i in 0..pages {
            let offset = slot + i * PAGE_SIZE;
            if !obj.offset_valid(offset) {
                continue;
            }
            let pt_index = ((offset >> 12) & 0x1ff) as usize;
            // Dropping `obj` on failure frees the tables made so far.
            let pt = page_table(&mut t, pd, offset, true)?.ok_or(SysError::NoMemory)?;
            t.write_entry(
                pt,
                pt_index,
                (phys + i * PAGE_SIZE) | flags::PRESENT | flags::WRITABLE | flags::USER,
            );
            *obj.pages.lock() += 1;
        }
    }
    let mut table = TABLE.lock();
    if table.get(&a.id).is_some_and(|o| !o.persistent) {
        // A DRAM object (or a KSO) keeps its ID.
        return Err(SysError::Exists);
    }
    let old = table.insert(a.id, obj.clone());
    if old.is_some() {
        bump_epoch();
    }
    drop(table);
    // The replaced incarnation (a resize) may have had pages the store no
    // longer gives this object: nobody keeps them mapped.
    if let Some(old) = old {
        old.revoke();
        if old.flags.contains(ObjFlags::KSO) {
            super::secctx::forget(old.id);
        }
    }
    Ok(obj)
}

/// Removes persistent object `id` from the table.
pub fn detach_persistent(id: ObjId) -> Result<(), SysError> {
    let mut table = TABLE.lock();
    match table.get(&id) {
        Some(o) if o.persistent => {}
        Some(_) => return Err(SysError::PermissionDenied),
        None => return Err(SysError::NotFound),
    }
    let removed = table.remove(&id);
    bump_epoch();
    drop(table);
    // The store may hand its frames to the next object it creates.
    if let Some(old) = removed {
        old.revoke();
        if old.flags.contains(ObjFlags::KSO) {
            super::secctx::forget(old.id);
        }
    }
    Ok(())
}

/// Removes `id` from the table.
pub fn delete(id: ObjId) -> Result<(), SysError> {
    let removed = {
        let mut table = TABLE.lock();
        let removed = table.remove(&id);
        if removed.is_some() {
            bump_epoch();
        }
        removed
    };
    // Dropped outside the lock: the last reference frees its frames.
    removed.map(drop).ok_or(SysError::NotFound)
}
