//! A program's object space: its view (slot → object + protections) and one
//! page-table root per attached security context.
//!
//! Two-level mapping, composed by the MMU: every root shares the program's
//! lower-half tables (ELF, heap, stacks) and owns only its PML4 and the
//! PDPT of the slot region; slot `i`'s PDPT entry points at the mapped
//! object's own page directory (shared by every root and program mapping
//! it) and carries `view protections AND context permissions` as its
//! present/W/NX bits. Entries are filled on the first fault and cleared
//! when the slot or the context changes. Switching context is loading
//! another root (CR3, PCID-tagged): nothing is remapped.
//!
//! Root 0 is the default context (objects' default permissions), whose
//! PML4 is the address space's own. Roots belong to the program (one per
//! context any of its threads attached); attachment and the active context
//! are per thread, and each thread runs on its active context's root (the
//! scheduler loads the thread's recorded root).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use kcore::paging::{TableAccess, flags};
use protocols::kso::{
    CtxFlags, KSO_HEADER_SIZE, VIEW_ENTRY_SIZE, ViewEntry, decode_view_entry, decode_view_header,
    encode_view_entry, encode_view_header,
};
use protocols::layout::SLOT_COUNT;
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::syscall::SysError;

use super::secctx::{RootRef, SecCtx};
use super::table::{self, KObject};
use crate::arch::paging;
use crate::mm::uspace::{AddressSpace, SLOT_PML4, release_pcid, take_pcid};
use crate::mm::{HhdmTables, frames, hhdm};
use crate::sched::{self, Tid};
use crate::sync::IrqMutex;

struct Slot {
    obj: Arc<KObject>,
    prot: Perms,
}

/// One (view, security context) root of the program.
struct Root {
    /// `None`: the default context.
    ctx: Option<Arc<SecCtx>>,
    pml4: u64,
    pdpt: u64,
    pcid: u16,
}

/// A thread's security contexts: the active one and every attached one,
/// most recently used first (the default context is always attached).
struct ThreadSec {
    active: ObjId,
    mru: Vec<ObjId>,
}

impl Default for ThreadSec {
    fn default() -> ThreadSec {
        ThreadSec {
            active: ObjId::NIL,
            mru: alloc::vec![ObjId::NIL],
        }
    }
}

struct Inner {
    view: Option<Arc<KObject>>,
    slots: Vec<Option<Slot>>,
    roots: Vec<Root>,
    threads: BTreeMap<Tid, ThreadSec>,
}

/// A program's view, its security-context roots, and which contexts each
/// of its threads is attached to.
pub struct ObjSpace {
    inner: IrqMutex<Inner>,
}

/// What a fault in the slot region came to.
pub enum Fault {
    /// Mapped (perhaps after switching context): retry the access.
    Retry,
    /// Not an object access (empty slot, null page, past the object's
    /// size): an ordinary page fault.
    NotObject,
    /// A persistent object's page the kernel has no frame for yet: ask
    /// the store's pager, then retry.
    Page {
        /// The object.
        obj: Arc<KObject>,
        /// The page's offset in the slot.
        page: u64,
    },
    /// The object was deleted while mapped: its pages are gone.
    Gone {
        /// The object.
        id: ObjId,
    },
    /// No attached context allows it: a security fault.
    Denied {
        /// The object.
        id: ObjId,
        /// The offset in it.
        offset: u64,
        /// The active context (nil: the default one).
        ctx: ObjId,
    },
}

fn tables() -> HhdmTables {
    // SAFETY: every table frame used here comes from the frame allocator
    // and is mapped in the HHDM.
    unsafe { HhdmTables::new(hhdm()) }
}

/// The PDPT entry giving `eff` on the object with page directory `pd`.
fn pdpt_entry(pd: u64, eff: Perms) -> u64 {
    if !eff.contains(Perms::READ) && !eff.contains(Perms::EXEC) {
        return 0;
    }
    let mut e = pd | flags::PRESENT | flags::USER;
    if eff.contains(Perms::WRITE) {
        e |= flags::WRITABLE;
    }
    if !eff.contains(Perms::EXEC) {
        e |= flags::NO_EXECUTE;
    }
    e
}

fn ctx_id(r: &Root) -> ObjId {
    r.ctx.as_ref().map_or(ObjId::NIL, |c| c.id)
}

/// What root `r`'s context grants on `obj` (`need`: what the caller
/// wants; a cached verdict that allows it is used as is).
fn perms_in(r: &Root, obj: &KObject, need: Perms) -> Perms {
    match &r.ctx {
        None => obj.default_perms,
        Some(c) => c.perms(obj, need),
    }
}

impl Root {
    /// What threads record as their root (`root | pcid`; 0 for the
    /// default root, the space's own).
    fn tag(&self) -> u64 {
        match self.ctx {
            None => 0,
            Some(_) => self.pml4 | u64::from(self.pcid),
        }
    }

    /// Drops this root's cached translations after its entries changed.
    fn flush(&self) {
        // SAFETY: every root's kernel half is the kernel's.
        unsafe {
            if paging::current_root() == self.pml4 {
                paging::load_root(self.pml4, self.pcid, true);
            } else if self.pcid != 0 {
                paging::flush_tagged(self.pml4, self.pcid);
            }
        }
    }
}

impl Inner {
    /// Clears slot PDPT entries (`slot`: one, `None`: all) of root `i`.
    fn clear(&mut self, i: usize, slot: Option<usize>) {
        let mut t = tables();
        let r = &self.roots[i];
        match slot {
            Some(s) => t.write_entry(r.pdpt, s, 0),
            None => t.zero_table(r.pdpt),
        }
        r.flush();
    }

    fn clear_all(&mut self, slot: Option<usize>) {
        for i in 0..self.roots.len() {
            self.clear(i, slot);
        }
    }

    fn root_index(&self, id: ObjId) -> Option<usize> {
        self.roots.iter().position(|r| ctx_id(r) == id)
    }

    fn thread(&mut self, tid: Tid) -> &mut ThreadSec {
        self.threads.entry(tid).or_default()
    }

    /// The root of `tid`'s active context.
    fn active_root(&mut self, tid: Tid) -> usize {
        let active = self.thread(tid).active;
        self.root_index(active).unwrap_or(0)
    }

    /// Makes context `id` (attached to `tid`, root `i`) active: the
    /// thread's record, the MRU order, and the CPU's root.
    fn switch_to(&mut self, space: &AddressSpace, tid: Tid, id: ObjId, i: usize) {
        let t = self.thread(tid);
        t.active = id;
        t.mru.retain(|&c| c != id);
        t.mru.insert(0, id);
        let tag = self.roots[i].tag();
        sched::set_current_root(tag);
        space.activate_root(tag);
    }
}

impl ObjSpace {
    /// An object space for `space`: an empty view, the default context.
    pub fn new(space: &AddressSpace) -> Result<ObjSpace, SysError> {
        let pdpt = frames::allocate_zeroed().ok_or(SysError::NoMemory)?;
        tables().write_entry(
            space.root(),
            SLOT_PML4,
            pdpt | flags::PRESENT | flags::WRITABLE | flags::USER,
        );
        let mut slots = Vec::new();
        slots.resize_with(SLOT_COUNT as usize, || None);
        Ok(ObjSpace {
            inner: IrqMutex::new(Inner {
                view: None,
                slots,
                roots: alloc::vec![Root {
                    ctx: None,
                    pml4: space.root(),
                    pdpt,
                    pcid: space.pcid(),
                }],
                threads: BTreeMap::new(),
            }),
        })
    }

    /// Puts `obj` in `slot` with `prot`, writing through to the view object.
    pub fn map(&self, slot: u64, obj: Arc<KObject>, prot: Perms) -> Result<(), SysError> {
        let s = usize::try_from(slot).map_err(|_| SysError::InvalidArgument)?;
        if slot >= SLOT_COUNT || !prot.is_subset_of(protocols::kso::VIEW_PROTS) {
            return Err(SysError::InvalidArgument);
        }
        let mut inner = self.inner.lock();
        if inner.slots[s].is_some() {
            return Err(SysError::Busy);
        }
        if let Some(view) = &inner.view {
            write_view_entry(view, s, Some(ViewEntry { id: obj.id, prot }))?;
        }
        inner.slots[s] = Some(Slot { obj, prot });
        Ok(())
    }

    /// Empties `slot`.
    pub fn unmap(&self, slot: u64) -> Result<(), SysError> {
        let s = usize::try_from(slot).map_err(|_| SysError::InvalidArgument)?;
        if slot >= SLOT_COUNT {
            return Err(SysError::InvalidArgument);
        }
        let mut inner = self.inner.lock();
        if inner.slots[s].is_none() {
            return Err(SysError::NotFound);
        }
        if let Some(view) = &inner.view {
            write_view_entry(view, s, None)?;
        }
        inner.clear_all(Some(s));
        inner.slots[s] = None;
        Ok(())
    }

    /// Reads view object `view` (every field checked) and makes it the
    /// view: its slot table replaces the current one.
    pub fn attach_view(&self, view: Arc<KObject>) -> Result<(), SysError> {
        let slots = checked_view(&view)?;
        let mut inner = self.inner.lock();
        inner.clear_all(None);
        inner.slots = slots;
        inner.view = Some(view);
        Ok(())
    }

    /// Re-reads the view object after the program changed it; `false` if
    /// `id` is not the view.
    pub fn invalidate_view(&self, id: ObjId) -> Result<bool, SysError> {
        let view = match &self.inner.lock().view {
            Some(v) if v.id == id => v.clone(),
            _ => return Ok(false),
        };
        self.attach_view(view).map(|()| true)
    }

    /// Attaches context `ctx` to thread `tid` (least recently used), making
    /// the program's root for it if it has none.
    pub fn attach(&self, tid: Tid, space: &AddressSpace, ctx: Arc<SecCtx>) -> Result<(), SysError> {
        let mut inner = self.inner.lock();
        let id = ctx.id;
        if inner.thread(tid).mru.contains(&id) {
            return Err(SysError::Exists);
        }
        if inner.root_index(id).is_none() {
            let root = new_root(space, ctx)?;
            inner.roots.push(root);
        }
        inner.thread(tid).mru.push(id);
        Ok(())
    }

    /// Detaches context `id` from thread `tid`; the default context becomes
    /// active if it was. The program keeps the root for a later attach.
    pub fn detach(&self, tid: Tid, space: &AddressSpace, id: ObjId) -> Result<(), SysError> {
        let mut inner = self.inner.lock();
        if id.is_nil() || !inner.thread(tid).mru.contains(&id) {
            return Err(SysError::NotFound);
        }
        if inner.thread(tid).active == id {
            inner.switch_to(space, tid, ObjId::NIL, 0);
        }
        inner.thread(tid).mru.retain(|&c| c != id);
        Ok(())
    }

    /// Makes context `id` (nil: the default) active for thread `tid`.
    pub fn activate(&self, tid: Tid, space: &AddressSpace, id: ObjId) -> Result<(), SysError> {
        let mut inner = self.inner.lock();
        if !inner.thread(tid).mru.contains(&id) {
            return Err(SysError::NotFound);
        }
        let i = inner.root_index(id).ok_or(SysError::NotFound)?;
        inner.switch_to(space, tid, id, i);
        Ok(())
    }

    /// Thread `tid`'s active context (nil: the default one).
    pub fn current(&self, tid: Tid) -> ObjId {
        self.inner.lock().thread(tid).active
    }

    /// What context `id`, attached to `tid`, grants on `target`.
    pub fn check(&self, tid: Tid, id: ObjId, target: &KObject) -> Result<Perms, SysError> {
        let mut inner = self.inner.lock();
        if !inner.thread(tid).mru.contains(&id) {
            return Err(SysError::NotFound);
        }
        let i = inner.root_index(id).ok_or(SysError::NotFound)?;
        Ok(perms_in(&inner.roots[i], target, Perms::ALL))
    }

    /// What `tid`'s active context grants on `target`.
    pub fn active_perms(&self, tid: Tid, target: &KObject) -> Perms {
        let mut inner = self.inner.lock();
        let i = inner.active_root(tid);
        perms_in(&inner.roots[i], target, Perms::ALL)
    }

    /// Whether `tid`'s active context may call gate `entry` of `target`
    /// (see [`SecCtx::gate_allowed`]; the default context only enters
    /// public gate objects, whose default permissions include EXEC).
    pub fn gate_allowed(&self, tid: Tid, target: &KObject, entry: u64) -> bool {
        let ctx = {
            let mut inner = self.inner.lock();
            let i = inner.active_root(tid);
            inner.roots[i].ctx.clone()
        };
        match ctx {
            None => Perms::EXEC.is_subset_of(target.default_perms),
            Some(c) => c.gate_allowed(target, entry),
        }
    }

    /// Forgets thread `tid` (it ended).
    pub fn thread_ended(&self, tid: Tid) {
        self.inner.lock().threads.remove(&tid);
    }

    /// Copies the lower half's PML4 entries into every context root (after
    /// a fault created a new one in the space's own PML4).
    pub fn sync_lower(&self, space: &AddressSpace) {
        let inner = self.inner.lock();
        let mut t = tables();
        for r in &inner.roots[1..] {
            for i in (0..256).filter(|&i| i != SLOT_PML4) {
                let e = t.read_entry(space.root(), i);
                if t.read_entry(r.pml4, i) != e {
                    t.write_entry(r.pml4, i, e);
                }
            }
        }
    }

    /// Handles thread `tid`'s fault at `(slot, offset)` for `access` (one
    /// of READ, WRITE, EXEC): maps the page when the active context allows
    /// it, else switches to the most recently used attached context that
    /// does (a context with `ENTER_ON_EXEC_ONLY` only for EXEC), else
    /// denies.
    pub fn fault(
        &self,
        tid: Tid,
        space: &AddressSpace,
        slot: u64,
        offset: u64,
        access: Perms,
    ) -> Fault {
        let mut inner = self.inner.lock();
        let (mut obj, prot) = match inner.slots.get(slot as usize) {
            Some(Some(s)) => (s.obj.clone(), s.prot),
            _ => return Fault::NotObject,
        };
        if obj.is_revoked() {
            // The store deleted or replaced the object since it was
            // mapped: follow its ID to the incarnation in the table now
            // (a resize), or fault (a delete).
            match table::get(obj.id).filter(|o| !o.is_revoked()) {
                Some(now) => {
                    if let Some(Some(s)) = inner.slots.get_mut(slot as usize) {
                        s.obj = now.clone();
                    }
                    obj = now;
                }
                None => return Fault::Gone { id: obj.id },
            }
        }
        let page = offset & !0xfff;
        if !obj.offset_valid(page) {
            return Fault::NotObject;
        }
        let active = inner.thread(tid).active;
        let ai = inner.active_root(tid);
        let mut chosen = None;
        let eff = prot & perms_in(&inner.roots[ai], &obj, access);
        if access.is_subset_of(eff) {
            chosen = Some((active, ai, eff));
        } else {
            let candidates: Vec<ObjId> = inner.thread(tid).mru.clone();
            for id in candidates.into_iter().filter(|&c| c != active) {
                let Some(i) = inner.root_index(id) else {
                    continue;
                };
                let r = &inner.roots[i];
                let exec_only = r
                    .ctx
                    .as_ref()
                    .is_some_and(|c| c.flags().contains(CtxFlags::ENTER_ON_EXEC_ONLY));
                if exec_only && access != Perms::EXEC {
                    continue;
                }
                let eff = prot & perms_in(r, &obj, access);
                if access.is_subset_of(eff) {
                    chosen = Some((id, i, eff));
                    break;
                }
            }
        }
        let Some((id, i, eff)) = chosen else {
            return Fault::Denied {
                id: obj.id,
                offset,
                ctx: active,
            };
        };
        let ask_pager = match obj.frame(page, true) {
            Ok(_) => false,
            Err(SysError::WouldBlock) => true,
            Err(_) => return Fault::NotObject,
        };
        let want = pdpt_entry(obj.pd(), eff);
        let mut t = tables();
        let r = &inner.roots[i];
        // The CPU sets ACCESSED in the entry it walks: compare without it.
        let have = t.read_entry(r.pdpt, slot as usize);
        if have & !flags::ACCESSED != want {
            t.write_entry(r.pdpt, slot as usize, want);
            // A not-present entry is never cached; a present one may be.
            if have & flags::PRESENT != 0 {
                r.flush();
            }
        }
        if i != ai {
            inner.switch_to(space, tid, id, i);
        }
        if ask_pager {
            return Fault::Page { obj, page };
        }
        Fault::Retry
    }
}

/// A root for `ctx`: a fresh PML4 sharing `space`'s lower and kernel
/// halves, and an empty slot PDPT.
fn new_root(space: &AddressSpace, ctx: Arc<SecCtx>) -> Result<Root, SysError> {
    let pml4 = frames::allocate_zeroed().ok_or(SysError::NoMemory)?;
    let Some(pdpt) = frames::allocate_zeroed() else {
        frames::free(pml4);
        return Err(SysError::NoMemory);
    };
    let mut t = tables();
    for i in 0..512 {
        let e = t.read_entry(space.root(), i);
        t.write_entry(pml4, i, e);
    }
    t.write_entry(
        pml4,
        SLOT_PML4,
        pdpt | flags::PRESENT | flags::WRITABLE | flags::USER,
    );
    let pcid = take_pcid();
    ctx.register(RootRef { pml4, pdpt, pcid });
    let root = Root {
        ctx: Some(ctx),
        pml4,
        pdpt,
        pcid,
    };
    // A recycled PCID may still tag another root's translations.
    root.flush();
    Ok(root)
}

fn free_root(r: &Root) {
    if let Some(c) = &r.ctx {
        c.unregister(r.pml4);
    }
    frames::free(r.pdpt);
    if r.ctx.is_some() {
        frames::free(r.pml4);
        release_pcid(r.pcid);
    }
}

impl Drop for ObjSpace {
    fn drop(&mut self) {
        // The program's last thread is gone and its roots are not live; the
        // object directories they point at belong to the objects.
        for r in &self.inner.lock().roots {
            free_root(r);
        }
    }
}

fn write_view_entry(view: &KObject, slot: usize, e: Option<ViewEntry>) -> Result<(), SysError> {
    let mut h = [0u8; KSO_HEADER_SIZE];
    view.read(BASE_OFFSET, &mut h)?;
    let n = decode_view_header(&h).map_err(|_| SysError::InvalidArgument)?;
    if slot as u32 >= n {
        view.write(BASE_OFFSET, &encode_view_header(slot as u32 + 1))?;
    }
    let at = BASE_OFFSET + (KSO_HEADER_SIZE + slot * VIEW_ENTRY_SIZE) as u64;
    view.write(at, &encode_view_entry(e))
}

/// Whether view object `view` would attach: every field checked, a
/// corrupt record quarantined (not used) with a log line.
pub fn check_view(view: &KObject) -> Result<(), SysError> {
    checked_view(view).map(drop)
}

/// View object `view`'s slot table, every field checked; a corrupt record
/// is quarantined (not used) with a log line.
fn checked_view(view: &KObject) -> Result<Vec<Option<Slot>>, SysError> {
    read_view(view).inspect_err(|e| {
        if *e == SysError::InvalidArgument {
            crate::kprintln!(
                "kso: quarantined view {}: its record is corrupt; not used",
                view.id
            );
        }
    })
}

fn read_view(view: &KObject) -> Result<Vec<Option<Slot>>, SysError> {
    if !view.flags.contains(ObjFlags::KSO) {
        return Err(SysError::InvalidArgument);
    }
    let mut h = [0u8; KSO_HEADER_SIZE];
    view.read(BASE_OFFSET, &mut h)?;
    let n = decode_view_header(&h).map_err(|_| SysError::InvalidArgument)?;
    let mut slots = Vec::new();
    slots.resize_with(SLOT_COUNT as usize, || None);
    for (i, slot) in slots.iter_mut().enumerate().take(n as usize) {
        let at = KSO_HEADER_SIZE + i * VIEW_ENTRY_SIZE;
        let mut b = [0u8; VIEW_ENTRY_SIZE];
        view.read(BASE_OFFSET + at as u64, &mut b)?;
        if let Some(e) = decode_view_entry(&b, at).map_err(|_| SysError::InvalidArgument)? {
            let obj = table::get(e.id).ok_or(SysError::NotFound)?;
            *slot = Some(Slot { obj, prot: e.prot });
        }
    }
    Ok(slots)
}
