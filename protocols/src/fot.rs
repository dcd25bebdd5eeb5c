//! Invariant pointers and the Foreign Object Table (FOT) entry format.
//!
//! # Invariant pointer (`u64`)
//!
//! ```text
//!  63            40 39                                        0
//! +----------------+------------------------------------------+
//! |  FOT index (24) |               offset (40)                |
//! +----------------+------------------------------------------+
//! ```
//!
//! - **Index 0** means "this object" (an intra-object pointer); index `i ≥ 1`
//!   names FOT entry `i` of the object *holding the pointer*.
//! - **Null** is the all-zero word: index 0, offset 0, which lies in the
//!   never-mapped null page. Any offset below [`NULL_PAGE_SIZE`] faults.
//! - **Why 24:40.** The report keeps pointers at 64 bits and limits the FOT
//!   field to "16–24 bits" so objects can grow large. 24 bits allow 16 Mi
//!   entries, far beyond what the metadata region holds today
//!   ([`MAX_FOT_ENTRIES`]), so the FOT is never limited by the pointer. 40
//!   offset bits address 1 TiB: the 1 GiB slot needs 30, and the spare 10
//!   bits let a later layout grow the slot without changing a single stored
//!   pointer. Offsets at or past [`SLOT_SIZE`] are representable but fail to
//!   resolve.
//!
//! # FOT entry (64 bytes, little-endian)
//!
//! Entry `i` sits at [`crate::object::fot_entry_offset`]`(i)`.
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 8   | claim word (`u64`, 8-aligned, updated atomically in place; see [`claim`]) |
//! | 8   | 4   | flags ([`FotFlags`]): R/W/X protections to map the target with; `NAME` |
//! | 12  | 4   | reserved, zero |
//! | 16  | 16  | ID entry: target object ID (`u128`, not nil). Name entry: name offset (`u64`, in this object's data area) at 16, name length (`u32`, 1..=[`MAX_NAME_LEN`]) at 24, zero at 28 |
//! | 32  | 16  | name entry: the resolver to ask (object ID; nil = the system's default resolver). ID entry: zero |
//! | 48  | 16  | reserved, zero |
//!
//! A name entry holds a reference to the name bytes (stored in the object's
//! data area) and the resolver that turns it into an ID: late binding. Names
//! resolve in the Nomenclature issue; the format is fixed now.

use crate::le::{first_nonzero, put_u32, put_u64, put_u128, u32_at, u64_at, u128_at};
use crate::object::{BASE_OFFSET, DATA_END, FOT_ENTRY_SIZE, ObjId, Perms};

#[cfg(doc)]
use crate::object::{MAX_FOT_ENTRIES, NULL_PAGE_SIZE, SLOT_SIZE};

/// Bits of an invariant pointer that hold the offset.
pub const OFFSET_BITS: u32 = 40;
/// Bits of an invariant pointer that hold the FOT index.
pub const INDEX_BITS: u32 = 64 - OFFSET_BITS;
/// Largest offset an invariant pointer can hold.
pub const MAX_OFFSET: u64 = (1 << OFFSET_BITS) - 1;
/// Largest FOT index an invariant pointer can hold.
pub const MAX_FOT_INDEX: u32 = (1 << INDEX_BITS) - 1;
/// Longest name a name entry may reference.
pub const MAX_NAME_LEN: u32 = 1024;

/// Why an invariant pointer could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtrError {
    /// The FOT index needs more than [`INDEX_BITS`] bits.
    IndexTooLarge(u32),
    /// The offset needs more than [`OFFSET_BITS`] bits.
    OffsetTooLarge(u64),
}

/// An untyped invariant pointer: `FOT index : offset` in one `u64`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct InvPtr(u64);

impl InvPtr {
    /// The null pointer.
    pub const NULL: InvPtr = InvPtr(0);

    /// A pointer to `offset` in the object named by FOT entry `index` (0:
    /// this object).
    pub const fn new(index: u32, offset: u64) -> Result<InvPtr, PtrError> {
        if index > MAX_FOT_INDEX {
            return Err(PtrError::IndexTooLarge(index));
        }
        if offset > MAX_OFFSET {
            return Err(PtrError::OffsetTooLarge(offset));
        }
        Ok(InvPtr(((index as u64) << OFFSET_BITS) | offset))
    }
    /// A pointer from its stored word. Every word is a well-formed pointer;
    /// whether it resolves is checked when it is resolved.
    pub const fn from_raw(raw: u64) -> InvPtr {
        InvPtr(raw)
    }
    /// The stored word.
    pub const fn raw(self) -> u64 {
        self.0
    }
    /// The FOT index (0: this object).
    pub const fn index(self) -> u32 {
        (self.0 >> OFFSET_BITS) as u32
    }
    /// The offset within the target object.
    pub const fn offset(self) -> u64 {
        self.0 & MAX_OFFSET
    }
    /// Whether this is the null pointer.
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }
    /// Whether the pointer stays in the object holding it.
    pub const fn is_local(self) -> bool {
        self.index() == 0
    }
}

impl core::fmt::Debug for InvPtr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "InvPtr({}:{:#x})", self.index(), self.offset())
    }
}

bitset! {
    /// Flags of a FOT entry.
    pub struct FotFlags(u32) {
        /// Map the target readable (same bit as [`Perms::READ`]).
        READ = 1 << 0,
        /// Map the target writable (same bit as [`Perms::WRITE`]).
        WRITE = 1 << 1,
        /// Map the target executable (same bit as [`Perms::EXEC`]).
        EXEC = 1 << 2,
        /// The target is a name, resolved by the entry's resolver.
        NAME = 1 << 8,
    }
}

impl FotFlags {
    /// The protections these flags ask the view for.
    pub const fn prot(self) -> Perms {
        Perms::from_bits_truncate(self.bits() & 0b111)
    }
    /// Flags asking for protections `p` (R/W/X only).
    pub const fn from_prot(p: Perms) -> FotFlags {
        FotFlags::from_bits_truncate(p.bits() & 0b111)
    }
}

/// The claim word at the start of every FOT entry, updated atomically in
/// place (compare-and-swap on the 8-aligned `u64`):
///
/// ```text
///  63       62     61          32 31            0
/// +--------+------+--------------+---------------+
/// |CLAIMED | BUSY | generation   | refcount      |
/// +--------+------+--------------+---------------+
/// ```
///
/// - `CLAIMED`: the entry is in use. A free entry has it clear (its other
///   fields are then meaningless).
/// - `BUSY`: a writer is filling or rebinding the entry; readers retry.
/// - generation: bumped each time the entry is claimed, so a stale
///   compare-and-swap on a freed-and-reused entry fails (no ABA).
/// - refcount: how many stored pointers use the entry; when it drops to zero
///   the entry is freed and may be reused.
///
/// Claiming: CAS `free(gen)` → `CLAIMED|BUSY|gen+1`, write the fields, then
/// store `CLAIMED|gen+1|1` with release ordering.
pub mod claim {
    /// The entry is in use.
    pub const CLAIMED: u64 = 1 << 63;
    /// A writer holds the entry.
    pub const BUSY: u64 = 1 << 62;
    /// Shift of the generation field.
    pub const GEN_SHIFT: u32 = 32;
    /// Mask of the generation field (after shifting down).
    pub const GEN_MASK: u64 = (1 << 30) - 1;
    /// Mask of the refcount field.
    pub const REFS_MASK: u64 = (1 << 32) - 1;

    /// The refcount of claim word `w`.
    pub const fn refs(w: u64) -> u32 {
        (w & REFS_MASK) as u32
    }
    /// The generation of claim word `w`.
    pub const fn generation(w: u64) -> u32 {
        ((w >> GEN_SHIFT) & GEN_MASK) as u32
    }
    /// Whether `w` is claimed and not being written: safe to read the entry.
    pub const fn is_ready(w: u64) -> bool {
        w & (CLAIMED | BUSY) == CLAIMED
    }
    /// A claim word from its parts.
    pub const fn make(claimed: bool, busy: bool, generation: u32, refs: u32) -> u64 {
        (if claimed { CLAIMED } else { 0 })
            | (if busy { BUSY } else { 0 })
            | (((generation as u64) & GEN_MASK) << GEN_SHIFT)
            | refs as u64
    }
}

/// What a FOT entry points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FotTarget {
    /// A fixed object.
    Id(ObjId),
    /// A name, resolved late by `resolver` (nil: the default resolver).
    Name {
        /// Offset of the name bytes in the holding object's data area.
        offset: u64,
        /// Length of the name in bytes.
        len: u32,
        /// The resolver to ask.
        resolver: ObjId,
    },
}

/// Why a FOT entry did not decode. Every field is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FotError {
    /// The buffer is not [`FOT_ENTRY_SIZE`] bytes.
    BadLength(usize),
    /// The entry is free.
    Free,
    /// A writer holds the entry; try again.
    Busy,
    /// Flags with an undefined bit.
    UnknownFlags(u32),
    /// An ID entry naming the nil object.
    NilTarget,
    /// An ID entry with a resolver.
    ResolverOnIdEntry,
    /// A name length of zero or above [`MAX_NAME_LEN`].
    BadNameLen(u32),
    /// A name not wholly inside the data area.
    NameOutOfRange(u64),
    /// A reserved byte (at this entry offset) is not zero.
    ReservedNotZero(usize),
}

/// A FOT entry in use, decoded and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FotEntry {
    /// The claim word as read.
    pub claim: u64,
    /// Protections to map the target with (`NAME` is implied by `target`).
    pub flags: FotFlags,
    /// The target.
    pub target: FotTarget,
}

impl FotEntry {
    /// Encodes the entry's 64 bytes, claim word included.
    pub fn encode(&self) -> [u8; FOT_ENTRY_SIZE as usize] {
        let mut b = [0u8; FOT_ENTRY_SIZE as usize];
        put_u64(&mut b, 0, self.claim);
        let mut flags = self.flags.difference(FotFlags::NAME);
        match self.target {
            FotTarget::Id(id) => put_u128(&mut b, 16, id.as_u128()),
            FotTarget::Name {
                offset,
                len,
                resolver,
            } => {
                flags = flags.union(FotFlags::NAME);
                put_u64(&mut b, 16, offset);
                put_u32(&mut b, 24, len);
                put_u128(&mut b, 32, resolver.as_u128());
            }
        }
        put_u32(&mut b, 8, flags.bits());
        b
    }

    /// Decodes and checks an entry from exactly [`FOT_ENTRY_SIZE`] bytes.
    pub fn decode(b: &[u8]) -> Result<FotEntry, FotError> {
        if b.len() != FOT_ENTRY_SIZE as usize {
            return Err(FotError::BadLength(b.len()));
        }
        let w = u64_at(b, 0);
        if w & claim::CLAIMED == 0 {
            return Err(FotError::Free);
        }
        if w & claim::BUSY != 0 {
            return Err(FotError::Busy);
        }
        let raw = u32_at(b, 8);
        let flags = FotFlags::from_bits(raw).ok_or(FotError::UnknownFlags(raw))?;
        for (start, end) in [(12, 16), (48, 64)] {
            if let Some(off) = first_nonzero(b, start, end) {
                return Err(FotError::ReservedNotZero(off));
            }
        }
        let target = if flags.contains(FotFlags::NAME) {
            if let Some(off) = first_nonzero(b, 28, 32) {
                return Err(FotError::ReservedNotZero(off));
            }
            let offset = u64_at(b, 16);
            let len = u32_at(b, 24);
            if len == 0 || len > MAX_NAME_LEN {
                return Err(FotError::BadNameLen(len));
            }
            if offset < BASE_OFFSET || offset.saturating_add(u64::from(len)) > DATA_END {
                return Err(FotError::NameOutOfRange(offset));
            }
            FotTarget::Name {
                offset,
                len,
                resolver: ObjId::from_u128(u128_at(b, 32)),
            }
        } else {
            if first_nonzero(b, 32, 48).is_some() {
                return Err(FotError::ResolverOnIdEntry);
            }
            let id = ObjId::from_u128(u128_at(b, 16));
            if id.is_nil() {
                return Err(FotError::NilTarget);
            }
            FotTarget::Id(id)
        };
        Ok(FotEntry {
            claim: w,
            flags: flags.difference(FotFlags::NAME),
            target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_edge_cases() {
        assert!(InvPtr::NULL.is_null() && InvPtr::NULL.is_local());
        assert_eq!(InvPtr::new(0, 0), Ok(InvPtr::NULL));
        let max = InvPtr::new(MAX_FOT_INDEX, MAX_OFFSET).unwrap();
        assert_eq!(max.raw(), u64::MAX);
        assert_eq!((max.index(), max.offset()), (MAX_FOT_INDEX, MAX_OFFSET));
        let p = InvPtr::new(1, 0).unwrap();
        assert!(!p.is_null() && !p.is_local() && p.offset() == 0);
        let q = InvPtr::new(0, MAX_OFFSET).unwrap();
        assert_eq!((q.index(), q.offset()), (0, MAX_OFFSET));
        assert_eq!(
            InvPtr::new(MAX_FOT_INDEX + 1, 0),
            Err(PtrError::IndexTooLarge(1 << 24))
        );
        assert_eq!(
            InvPtr::new(0, MAX_OFFSET + 1),
            Err(PtrError::OffsetTooLarge(1 << 40))
        );
        assert_eq!(InvPtr::new(3, 0x1234).unwrap().raw(), (3 << 40) | 0x1234);
        assert_eq!(InvPtr::from_raw((7 << 40) | 9), InvPtr::new(7, 9).unwrap());
    }

    #[test]
    fn claim_word_parts() {
        let w = claim::make(true, false, 5, 7);
        assert!(claim::is_ready(w));
        assert_eq!((claim::generation(w), claim::refs(w)), (5, 7));
        assert!(!claim::is_ready(claim::make(true, true, 5, 7)));
        assert!(!claim::is_ready(claim::make(false, false, 5, 0)));
        assert_eq!(
            claim::generation(claim::make(false, false, u32::MAX, 0)),
            (1 << 30) - 1
        );
    }

    fn id_entry() -> FotEntry {
        FotEntry {
            claim: claim::make(true, false, 1, 2),
            flags: FotFlags::READ | FotFlags::WRITE,
            target: FotTarget::Id(ObjId::from_u128(0xfeed)),
        }
    }

    fn name_entry() -> FotEntry {
        FotEntry {
            claim: claim::make(true, false, 1, 1),
            flags: FotFlags::READ,
            target: FotTarget::Name {
                offset: BASE_OFFSET + 64,
                len: 9,
                resolver: ObjId::from_u128(77),
            },
        }
    }

    #[test]
    fn entries_round_trip_with_documented_bytes() {
        let b = id_entry().encode();
        assert_eq!(b[8], 0b011);
        assert_eq!(b[16], 0xed);
        assert_eq!(b[7], 0x80, "claimed bit is bit 63");
        assert_eq!(FotEntry::decode(&b), Ok(id_entry()));
        let n = name_entry().encode();
        assert_eq!(u32::from_le_bytes(n[8..12].try_into().unwrap()), 0x101);
        assert_eq!(n[24], 9);
        assert_eq!(n[32], 77);
        assert_eq!(FotEntry::decode(&n), Ok(name_entry()));
        assert_eq!(
            FotFlags::from_prot(Perms::ALL).prot(),
            Perms::READ | Perms::WRITE | Perms::EXEC
        );
    }

    #[test]
    fn every_entry_field_is_checked() {
        let with = |good: [u8; 64], off: usize, bytes: &[u8]| {
            let mut b = good;
            b[off..off + bytes.len()].copy_from_slice(bytes);
            FotEntry::decode(&b)
        };
        let id = id_entry().encode();
        let name = name_entry().encode();
        assert_eq!(FotEntry::decode(&id[..8]), Err(FotError::BadLength(8)));
        assert_eq!(with(id, 7, &[0]), Err(FotError::Free));
        assert_eq!(with(id, 7, &[0xc0]), Err(FotError::Busy));
        assert_eq!(with(id, 8, &[0, 2]), Err(FotError::UnknownFlags(0x200)));
        assert_eq!(with(id, 13, &[1]), Err(FotError::ReservedNotZero(13)));
        assert_eq!(with(id, 63, &[1]), Err(FotError::ReservedNotZero(63)));
        assert_eq!(with(id, 16, &[0; 16]), Err(FotError::NilTarget));
        assert_eq!(with(id, 40, &[1]), Err(FotError::ResolverOnIdEntry));
        assert_eq!(with(name, 24, &[0; 4]), Err(FotError::BadNameLen(0)));
        assert_eq!(
            with(name, 24, &(MAX_NAME_LEN + 1).to_le_bytes()),
            Err(FotError::BadNameLen(1025))
        );
        assert_eq!(
            with(name, 16, &8u64.to_le_bytes()),
            Err(FotError::NameOutOfRange(8))
        );
        assert_eq!(
            with(name, 16, &(DATA_END - 4).to_le_bytes()),
            Err(FotError::NameOutOfRange(DATA_END - 4))
        );
        assert_eq!(
            with(name, 16, &u64::MAX.to_le_bytes()),
            Err(FotError::NameOutOfRange(u64::MAX))
        );
        assert_eq!(with(name, 29, &[1]), Err(FotError::ReservedNotZero(29)));
    }
}
