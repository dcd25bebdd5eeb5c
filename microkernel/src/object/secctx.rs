//! Security contexts: the kernel's cache of a context KSO (flags, mask) and
//! of the capability verdicts it has reached for it.
//!
//! The permissions a context grants on an object are the object's default
//! permissions, plus what the context's verified capabilities grant, AND
//! the context's mask. Capabilities are verified against the public key
//! the *target's* header names, only when an access needs them, and the
//! verdict is cached per (context, target) together with how many entries
//! were examined. The capability count is read live from the context
//! object on every miss, so appending a capability needs no invalidation;
//! `kso_invalidate` re-reads the header, drops every verdict, and empties
//! the slot entries of every program's root for the context (they refill
//! from the new permissions on the next fault).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use protocols::cap::{CAP_LEN, CapRecord, DELEGATION_LEN, GateMask, KEY_LEN};
use protocols::kso::{
    CTX_CAP_AT, CTX_DELEGATIONS_AT, CtxFlags, CtxHeader, KSO_HEADER_SIZE, KeyKind, KsoError,
    ctx_entry_offset, decode_ctx_entry_head, decode_key,
};
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::syscall::SysError;

use kcore::paging::TableAccess;

use super::table::{self, KObject};
use crate::arch::paging;
use crate::sync::IrqMutex;
use crate::time;

/// A capability verdict for one target.
#[derive(Clone, Copy)]
struct Verdict {
    /// What the context's capabilities grant on the target.
    perms: Perms,
    /// Capability entries examined so far.
    scanned: u32,
    /// The earliest expiry (Unix seconds) among the grants counted in
    /// `perms`: from then on the verdict is recomputed from scratch.
    expiry: u64,
    /// The gate masks of the grants counted (the first [`MAX_GATE_MASKS`]).
    gates: [GateMask; MAX_GATE_MASKS],
    /// How many of `gates` are used.
    gate_count: usize,
}

/// Gate masks a verdict remembers per target; later grants still add
/// permissions but not entry points.
const MAX_GATE_MASKS: usize = 4;

fn now_secs() -> u64 {
    time::realtime_ns() / 1_000_000_000
}

struct CtxState {
    flags: CtxFlags,
    mask: Perms,
    verdicts: BTreeMap<ObjId, Verdict>,
}

/// A page-table root built for a context (in some program's object
/// space): the PDPT whose slot entries carry the context's permissions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RootRef {
    /// The root's PML4.
    pub pml4: u64,
    /// Its slot-region PDPT.
    pub pdpt: u64,
    /// Its PCID (0: none).
    pub pcid: u16,
}

impl RootRef {
    /// Empties the slot entries and drops their cached translations.
    fn clear(&self) {
        // SAFETY: the PDPT frame is the root's, from the frame allocator,
        // mapped in the HHDM.
        unsafe { crate::mm::HhdmTables::new(crate::mm::hhdm()) }.zero_table(self.pdpt);
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

/// One security context, as the kernel caches it.
pub struct SecCtx {
    /// The context object's ID.
    pub id: ObjId,
    obj: Arc<KObject>,
    state: IrqMutex<CtxState>,
    /// Every program's root for this context: an invalidation empties
    /// them all, so no program keeps permissions the context lost.
    roots: IrqMutex<Vec<RootRef>>,
}

/// Why a KSO could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KsoUseError {
    /// The object is not a KSO.
    NotKso,
    /// Its record did not decode.
    Bad(KsoError),
}

impl From<KsoUseError> for SysError {
    fn from(_: KsoUseError) -> SysError {
        SysError::InvalidArgument
    }
}

fn read_header(obj: &KObject) -> Result<CtxHeader, KsoUseError> {
    if !obj.flags.contains(ObjFlags::KSO) {
        return Err(KsoUseError::NotKso);
    }
    let mut b = [0u8; KSO_HEADER_SIZE];
    obj.read(BASE_OFFSET, &mut b)
        .map_err(|_| KsoUseError::Bad(KsoError::Truncated(0)))?;
    CtxHeader::decode(&b).map_err(KsoUseError::Bad)
}

impl SecCtx {
    /// Its cached flags.
    pub fn flags(&self) -> CtxFlags {
        self.state.lock().flags
    }

    /// Re-reads the header and drops every cached verdict; on a bad
    /// record the old cache stays.
    pub fn invalidate(&self) -> Result<(), KsoUseError> {
        let h = read_header(&self.obj)?;
        let mut st = self.state.lock();
        st.flags = h.flags;
        st.mask = h.mask;
        st.verdicts.clear();
        drop(st);
        for r in self.roots.lock().iter() {
            r.clear();
        }
        Ok(())
    }

    /// Records a root built for this context.
    pub fn register(&self, r: RootRef) {
        self.roots.lock().push(r);
    }

    /// Forgets a root (its program ended).
    pub fn unregister(&self, pml4: u64) {
        self.roots.lock().retain(|r| r.pml4 != pml4);
    }

    /// What this context grants on `target`. A cached verdict that allows
    /// `need` is the answer; otherwise capabilities appended since (the
    /// count is read live) are verified first.
    pub fn perms(&self, target: &KObject, need: Perms) -> Perms {
        let (mask, cached) = {
            let st = self.state.lock();
            (st.mask, st.verdicts.get(&target.id).copied())
        };
        let cached = cached.filter(|v| now_secs() < v.expiry);
        if let Some(v) = cached {
            let p = (target.default_perms | v.perms) & mask;
            if need.is_subset_of(p) {
                return p;
            }
        }
        let mut verdict = cached.unwrap_or(Verdict {
            perms: Perms::EMPTY,
            scanned: 0,
            expiry: u64::MAX,
            gates: [GateMask::NONE; MAX_GATE_MASKS],
            gate_count: 0,
        });
        // The count is read live: a capability appended since the last
        // scan is found without an invalidation.
        let count = read_header(&self.obj).map_or(0, |h| h.cap_count);
        if count > verdict.scanned || cached.is_none() {
            for i in verdict.scanned..count {
                if let Some((perms, expiry, gates)) = self.entry_grant(i, target) {
                    verdict.perms = verdict.perms | perms;
                    verdict.expiry = verdict.expiry.min(expiry);
                    if gates.length != 0 && verdict.gate_count < MAX_GATE_MASKS {
                        verdict.gates[verdict.gate_count] = gates;
                        verdict.gate_count += 1;
                    }
                }
            }
            verdict.scanned = verdict.scanned.max(count);
            self.state.lock().verdicts.insert(target.id, verdict);
        }
        (target.default_perms | verdict.perms) & mask
    }

    /// Whether this context may enter `target` at gate `entry`: it grants
    /// EXEC, and either `target`'s default permissions include EXEC (a
    /// public gate object) or a verified capability's gate mask allows
    /// `entry`.
    pub fn gate_allowed(&self, target: &KObject, entry: u64) -> bool {
        if !Perms::EXEC.is_subset_of(self.perms(target, Perms::EXEC)) {
            return false;
        }
        if Perms::EXEC.is_subset_of(target.default_perms) {
            return true;
        }
        let st = self.state.lock();
        st.verdicts.get(&target.id).is_some_and(|v| {
            v.gates[..v.gate_count.min(MAX_GATE_MASKS)]
                .iter()
                .any(|g| g.allows(entry))
        })
    }

    /// What capability entry `i` grants on `target`, with its expiry
    /// (nothing unless it is for `target`, for this context, unexpired, and
    /// every signature verifies against the target's public key).
    fn entry_grant(&self, i: u32, target: &KObject) -> Option<(Perms, u64, GateMask)> {
        let at = ctx_entry_offset(i);
        let mut head = [0u8; CTX_CAP_AT];
        let mut cap = [0u8; CAP_LEN];
        if self.obj.read(at, &mut head).is_err()
            || self.obj.read(at + CTX_CAP_AT as u64, &mut cap).is_err()
        {
            return None;
        }
        let Ok(n) = decode_ctx_entry_head(&head) else {
            return None;
        };
        // Cheap filter before any curve arithmetic.
        match CapRecord::decode(&cap) {
            Ok(rec) if rec.grant.target == target.id => {}
            _ => return None,
        }
        let key = table::get(target.key_id).as_deref().and_then(public_key)?;
        let mut chain = [0u8; DELEGATION_LEN * protocols::cap::MAX_DELEGATIONS];
        let chain = &mut chain[..n * DELEGATION_LEN];
        if self
            .obj
            .read(at + CTX_DELEGATIONS_AT as u64, chain)
            .is_err()
        {
            return None;
        }
        match caps::verify_chain(&cap, chain, &key, self.id, now_secs()) {
            Ok(g) if g.target == target.id => Some((g.perms, g.expiry, g.gates)),
            _ => None,
        }
    }
}

/// The public key a key object holds (`None`: not a public-key record).
pub fn public_key(obj: &KObject) -> Option<[u8; KEY_LEN]> {
    let mut b = [0u8; protocols::kso::KEY_RECORD_SIZE];
    obj.read(BASE_OFFSET, &mut b).ok()?;
    match decode_key(&b) {
        Ok((KeyKind::Public, key)) => Some(key),
        _ => None,
    }
}

static CTXS: IrqMutex<BTreeMap<ObjId, Arc<SecCtx>>> = IrqMutex::new(BTreeMap::new());

/// The cached context `id`, reading it the first time.
pub fn get_or_load(id: ObjId) -> Result<Arc<SecCtx>, SysError> {
    if let Some(c) = CTXS.lock().get(&id) {
        return Ok(c.clone());
    }
    let obj = table::get(id).ok_or(SysError::NotFound)?;
    let h = read_header(&obj).inspect_err(|e| {
        if let KsoUseError::Bad(why) = e {
            crate::kprintln!(
                "kso: quarantined security context {id}: its record is corrupt ({why:?}); not used"
            );
        }
    })?;
    let ctx = Arc::new(SecCtx {
        id,
        obj,
        state: IrqMutex::new(CtxState {
            flags: h.flags,
            mask: h.mask,
            verdicts: BTreeMap::new(),
        }),
        roots: IrqMutex::new(Vec::new()),
    });
    Ok(CTXS.lock().entry(id).or_insert(ctx).clone())
}

/// Drops the cached context `id` (its object was replaced or deleted):
/// the next attach reads the object in the table then. Roots already
/// built from it keep their entries until the context is invalidated.
pub fn forget(id: ObjId) {
    let gone = CTXS.lock().remove(&id);
    drop(gone);
}

/// The cached context `id`, if the kernel has read it.
pub fn cached(id: ObjId) -> Option<Arc<SecCtx>> {
    CTXS.lock().get(&id).cloned()
}
