//! Kernel state objects (KSOs) and the other object contents the kernel
//! reads: views, security contexts and key objects.
//!
//! Programs write these formats into ordinary objects (created with
//! [`ObjFlags::KSO`](crate::object::ObjFlags::KSO) for views and contexts)
//! and tell the kernel with `kso_invalidate`; the kernel re-reads them with
//! the decoders here, which check **every** field (magic, version, sizes,
//! counts, undefined bits, reserved bytes) and return a typed error, never
//! panic. KSOs hold no pointers: every reference is an object ID.
//!
//! All records start at the object's [`BASE_OFFSET`] and are little-endian.
//!
//! # View (`b"PVEW"`): the slot table
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 4   | magic `b"PVEW"` |
//! | 4   | 2   | version `1` |
//! | 6   | 2   | header size `64` |
//! | 8   | 4   | entry count `n` ≤ [`SLOT_COUNT`] (entries cover slots `0..n`) |
//! | 12  | 52  | reserved, zero |
//!
//! Then `n` entries of [`VIEW_ENTRY_SIZE`] (32) bytes, entry `i` for slot
//! `i`: object ID (`u128`; nil = slot empty, and then the whole entry is
//! zero), protections (`u32`, only READ/WRITE/EXEC), flags (`u32`, zero),
//! reserved (`u64`, zero).
//!
//! # Security context (`b"PSCX"`)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 4   | magic `b"PSCX"` |
//! | 4   | 2   | version `1` |
//! | 6   | 2   | header size `64` |
//! | 8   | 4   | flags ([`CtxFlags`]) |
//! | 12  | 4   | permission mask ([`Perms`]): nothing in this context exceeds it |
//! | 16  | 4   | capability count ≤ [`MAX_CTX_CAPS`] |
//! | 20  | 44  | reserved, zero |
//!
//! Capability entry `i` sits at [`ctx_entry_offset`]`(i)` (one per
//! [`CTX_ENTRY_SIZE`] bytes from `BASE_OFFSET + 4096`): delegation count
//! (`u32`, ≤ [`MAX_DELEGATIONS`]), reserved `u32` and `u64` (zero), the
//! capability record ([`CAP_LEN`] bytes) at entry offset 16, then the
//! delegation records back to back at entry offset 192.
//!
//! The kernel caches the flags and mask (so changing them needs
//! `kso_invalidate`) and the verdicts of capabilities it has verified (the
//! invalidation drops them). It never caches the capability count or the
//! entries it has not used: **appending a capability and bumping the count
//! needs no invalidation** — the next access the context lacks re-reads
//! them, as the report describes.
//!
//! # Key object (`b"PKEY"`)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 4   | magic `b"PKEY"` |
//! | 4   | 2   | version `1` |
//! | 6   | 2   | kind ([`KeyKind`]: 1 Ed25519 public key, 2 Ed25519 private seed) |
//! | 8   | 8   | reserved, zero |
//! | 16  | 32  | the key bytes |
//!
//! The object a target's header names as its key holds the *public* kind;
//! its private twin is an ordinary object whose access control keeps it
//! secret.

use crate::cap::{CAP_LEN, DELEGATION_LEN, KEY_LEN, MAX_DELEGATIONS};
use crate::layout::SLOT_COUNT;
use crate::le::{first_nonzero, put_u16, put_u32, put_u128, u16_at, u32_at, u128_at};
use crate::object::{BASE_OFFSET, ObjId, Perms};

/// `b"PVEW"` as a little-endian `u32`.
pub const VIEW_MAGIC: u32 = u32::from_le_bytes(*b"PVEW");
/// `b"PSCX"` as a little-endian `u32`.
pub const CTX_MAGIC: u32 = u32::from_le_bytes(*b"PSCX");
/// `b"PKEY"` as a little-endian `u32`.
pub const KEY_MAGIC: u32 = u32::from_le_bytes(*b"PKEY");
/// The version of every format here.
pub const KSO_VERSION: u16 = 1;
/// Size of a view or context header.
pub const KSO_HEADER_SIZE: usize = 64;
/// Size of one view entry.
pub const VIEW_ENTRY_SIZE: usize = 32;
/// Most capabilities one context holds.
pub const MAX_CTX_CAPS: u32 = 256;
/// Offset (from the object's start) of context capability entry 0.
pub const CTX_ENTRIES_OFFSET: u64 = BASE_OFFSET + 4096;
/// Size of one context capability entry.
pub const CTX_ENTRY_SIZE: u64 = 2048;
/// Offset, within an entry, of the capability record.
pub const CTX_CAP_AT: usize = 16;
/// Offset, within an entry, of the first delegation record.
pub const CTX_DELEGATIONS_AT: usize = CTX_CAP_AT + 176;
/// Size of a key record.
pub const KEY_RECORD_SIZE: usize = 16 + KEY_LEN;
/// Protections a view entry may ask for.
pub const VIEW_PROTS: Perms = Perms::from_bits_truncate(0b111);

const _: () = assert!(CTX_DELEGATIONS_AT == CTX_CAP_AT + CAP_LEN);
const _: () =
    assert!(CTX_DELEGATIONS_AT + MAX_DELEGATIONS * DELEGATION_LEN <= CTX_ENTRY_SIZE as usize);

/// Offset (from the object's start) of context capability entry `i`.
pub const fn ctx_entry_offset(i: u32) -> u64 {
    CTX_ENTRIES_OFFSET + i as u64 * CTX_ENTRY_SIZE
}

/// Size in bytes of a view record with `n` entries.
pub const fn view_size(n: u32) -> usize {
    KSO_HEADER_SIZE + n as usize * VIEW_ENTRY_SIZE
}

bitset! {
    /// Flags of a security context.
    pub struct CtxFlags(u32) {
        /// The kernel may switch a thread into this context automatically
        /// only on an instruction fetch (a call into code this context may
        /// execute), never on a data access: the report's Figure 3 trusted
        /// context, whose private data an untrusted library must not reach
        /// by merely touching it.
        ENTER_ON_EXEC_ONLY = 1 << 0,
    }
}

/// Why a KSO or key record did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KsoError {
    /// The buffer is too short for what the header says.
    Truncated(usize),
    /// The magic is not this record's.
    BadMagic(u32),
    /// A version this code does not know.
    UnsupportedVersion(u16),
    /// The header-size field is wrong.
    BadHeaderSize(u16),
    /// A count above its limit.
    TooMany(u32),
    /// Permissions (at this byte offset) with a bit not allowed there.
    BadPerms {
        /// Byte offset of the field.
        at: usize,
        /// The raw word.
        bits: u32,
    },
    /// Flags (at this byte offset) with an undefined bit.
    BadFlags {
        /// Byte offset of the field.
        at: usize,
        /// The raw word.
        bits: u32,
    },
    /// A reserved byte (at this offset) is not zero.
    ReservedNotZero(usize),
    /// An unknown key kind.
    BadKeyKind(u16),
}

/// One decoded view entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewEntry {
    /// The object in the slot.
    pub id: ObjId,
    /// The protections the program asks for (READ/WRITE/EXEC only).
    pub prot: Perms,
}

/// Encodes a view header for `n` entries.
pub fn encode_view_header(n: u32) -> [u8; KSO_HEADER_SIZE] {
    let mut b = [0u8; KSO_HEADER_SIZE];
    put_u32(&mut b, 0, VIEW_MAGIC);
    put_u16(&mut b, 4, KSO_VERSION);
    put_u16(&mut b, 6, KSO_HEADER_SIZE as u16);
    put_u32(&mut b, 8, n);
    b
}

/// Encodes one view entry (`None`: empty slot).
pub fn encode_view_entry(entry: Option<ViewEntry>) -> [u8; VIEW_ENTRY_SIZE] {
    let mut b = [0u8; VIEW_ENTRY_SIZE];
    if let Some(e) = entry {
        put_u128(&mut b, 0, e.id.as_u128());
        put_u32(&mut b, 16, e.prot.bits());
    }
    b
}

fn check_common(b: &[u8], magic: u32) -> Result<(), KsoError> {
    if b.len() < KSO_HEADER_SIZE {
        return Err(KsoError::Truncated(b.len()));
    }
    let m = u32_at(b, 0);
    if m != magic {
        return Err(KsoError::BadMagic(m));
    }
    let v = u16_at(b, 4);
    if v != KSO_VERSION {
        return Err(KsoError::UnsupportedVersion(v));
    }
    let h = u16_at(b, 6);
    if usize::from(h) != KSO_HEADER_SIZE {
        return Err(KsoError::BadHeaderSize(h));
    }
    Ok(())
}

/// Decodes and checks a view header; returns the entry count.
pub fn decode_view_header(b: &[u8]) -> Result<u32, KsoError> {
    check_common(b, VIEW_MAGIC)?;
    let n = u32_at(b, 8);
    if u64::from(n) > SLOT_COUNT {
        return Err(KsoError::TooMany(n));
    }
    if let Some(off) = first_nonzero(b, 12, KSO_HEADER_SIZE) {
        return Err(KsoError::ReservedNotZero(off));
    }
    Ok(n)
}

/// Decodes and checks view entry `b` (exactly [`VIEW_ENTRY_SIZE`] bytes);
/// `base` is its offset in the record, for error reports.
pub fn decode_view_entry(b: &[u8], base: usize) -> Result<Option<ViewEntry>, KsoError> {
    if b.len() != VIEW_ENTRY_SIZE {
        return Err(KsoError::Truncated(b.len()));
    }
    let id = ObjId::from_u128(u128_at(b, 0));
    let raw = u32_at(b, 16);
    if id.is_nil() {
        return match first_nonzero(b, 0, VIEW_ENTRY_SIZE) {
            Some(off) => Err(KsoError::ReservedNotZero(base + off)),
            None => Ok(None),
        };
    }
    let prot = match Perms::from_bits(raw) {
        Some(p) if p.is_subset_of(VIEW_PROTS) => p,
        _ => {
            return Err(KsoError::BadPerms {
                at: base + 16,
                bits: raw,
            });
        }
    };
    let flags = u32_at(b, 20);
    if flags != 0 {
        return Err(KsoError::BadFlags {
            at: base + 20,
            bits: flags,
        });
    }
    if let Some(off) = first_nonzero(b, 24, VIEW_ENTRY_SIZE) {
        return Err(KsoError::ReservedNotZero(base + off));
    }
    Ok(Some(ViewEntry { id, prot }))
}

/// A decoded security-context header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxHeader {
    /// Context flags.
    pub flags: CtxFlags,
    /// Nothing in this context exceeds this.
    pub mask: Perms,
    /// How many capability entries follow (read live, never cached).
    pub cap_count: u32,
}

impl CtxHeader {
    /// Encodes the header.
    pub fn encode(&self) -> [u8; KSO_HEADER_SIZE] {
        let mut b = [0u8; KSO_HEADER_SIZE];
        put_u32(&mut b, 0, CTX_MAGIC);
        put_u16(&mut b, 4, KSO_VERSION);
        put_u16(&mut b, 6, KSO_HEADER_SIZE as u16);
        put_u32(&mut b, 8, self.flags.bits());
        put_u32(&mut b, 12, self.mask.bits());
        put_u32(&mut b, 16, self.cap_count);
        b
    }

    /// Decodes and checks a header.
    pub fn decode(b: &[u8]) -> Result<CtxHeader, KsoError> {
        check_common(b, CTX_MAGIC)?;
        let raw = u32_at(b, 8);
        let flags = CtxFlags::from_bits(raw).ok_or(KsoError::BadFlags { at: 8, bits: raw })?;
        let raw = u32_at(b, 12);
        let mask = Perms::from_bits(raw).ok_or(KsoError::BadPerms { at: 12, bits: raw })?;
        let cap_count = u32_at(b, 16);
        if cap_count > MAX_CTX_CAPS {
            return Err(KsoError::TooMany(cap_count));
        }
        if let Some(off) = first_nonzero(b, 20, KSO_HEADER_SIZE) {
            return Err(KsoError::ReservedNotZero(off));
        }
        Ok(CtxHeader {
            flags,
            mask,
            cap_count,
        })
    }
}

/// Encodes the 16-byte head of a context capability entry.
pub fn encode_ctx_entry_head(delegations: u32) -> [u8; CTX_CAP_AT] {
    let mut b = [0u8; CTX_CAP_AT];
    put_u32(&mut b, 0, delegations);
    b
}

/// Decodes the 16-byte head of a context capability entry: the delegation
/// count.
pub fn decode_ctx_entry_head(b: &[u8]) -> Result<usize, KsoError> {
    if b.len() < CTX_CAP_AT {
        return Err(KsoError::Truncated(b.len()));
    }
    let n = u32_at(b, 0);
    if n as usize > MAX_DELEGATIONS {
        return Err(KsoError::TooMany(n));
    }
    if let Some(off) = first_nonzero(b, 4, CTX_CAP_AT) {
        return Err(KsoError::ReservedNotZero(off));
    }
    Ok(n as usize)
}

/// What a key object holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// An Ed25519 public key.
    Public = 1,
    /// An Ed25519 private key (the 32-byte seed).
    Private = 2,
}

/// Encodes a key record.
pub fn encode_key(kind: KeyKind, key: &[u8; KEY_LEN]) -> [u8; KEY_RECORD_SIZE] {
    let mut b = [0u8; KEY_RECORD_SIZE];
    put_u32(&mut b, 0, KEY_MAGIC);
    put_u16(&mut b, 4, KSO_VERSION);
    put_u16(&mut b, 6, kind as u16);
    b[16..].copy_from_slice(key);
    b
}

/// Decodes and checks a key record.
pub fn decode_key(b: &[u8]) -> Result<(KeyKind, [u8; KEY_LEN]), KsoError> {
    if b.len() < KEY_RECORD_SIZE {
        return Err(KsoError::Truncated(b.len()));
    }
    let m = u32_at(b, 0);
    if m != KEY_MAGIC {
        return Err(KsoError::BadMagic(m));
    }
    let v = u16_at(b, 4);
    if v != KSO_VERSION {
        return Err(KsoError::UnsupportedVersion(v));
    }
    let kind = match u16_at(b, 6) {
        1 => KeyKind::Public,
        2 => KeyKind::Private,
        k => return Err(KsoError::BadKeyKind(k)),
    };
    if let Some(off) = first_nonzero(b, 8, 16) {
        return Err(KsoError::ReservedNotZero(off));
    }
    let mut key = [0u8; KEY_LEN];
    key.copy_from_slice(&b[16..KEY_RECORD_SIZE]);
    Ok((kind, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_round_trips_and_every_field_is_checked() {
        let h = encode_view_header(3);
        assert_eq!(&h[..4], b"PVEW");
        assert_eq!(decode_view_header(&h), Ok(3));
        let mut bad = h;
        bad[8..12].copy_from_slice(&513u32.to_le_bytes());
        assert_eq!(decode_view_header(&bad), Err(KsoError::TooMany(513)));
        let mut bad = h;
        bad[40] = 1;
        assert_eq!(decode_view_header(&bad), Err(KsoError::ReservedNotZero(40)));
        let mut bad = h;
        bad[0] = b'X';
        assert!(matches!(
            decode_view_header(&bad),
            Err(KsoError::BadMagic(_))
        ));
        assert_eq!(decode_view_header(&h[..10]), Err(KsoError::Truncated(10)));

        let e = ViewEntry {
            id: ObjId::from_u128(7),
            prot: Perms::READ | Perms::WRITE,
        };
        let b = encode_view_entry(Some(e));
        assert_eq!(decode_view_entry(&b, 64), Ok(Some(e)));
        assert_eq!(decode_view_entry(&encode_view_entry(None), 64), Ok(None));
        let mut bad = b;
        bad[16] = Perms::DELETE.bits() as u8;
        assert_eq!(
            decode_view_entry(&bad, 64),
            Err(KsoError::BadPerms { at: 80, bits: 16 })
        );
        let mut bad = b;
        bad[20] = 1;
        assert_eq!(
            decode_view_entry(&bad, 64),
            Err(KsoError::BadFlags { at: 84, bits: 1 })
        );
        let mut bad = encode_view_entry(None);
        bad[30] = 1;
        assert_eq!(
            decode_view_entry(&bad, 0),
            Err(KsoError::ReservedNotZero(30))
        );
    }

    #[test]
    fn ctx_round_trips_and_every_field_is_checked() {
        let h = CtxHeader {
            flags: CtxFlags::ENTER_ON_EXEC_ONLY,
            mask: Perms::READ | Perms::EXEC,
            cap_count: 2,
        };
        let b = h.encode();
        assert_eq!(&b[..4], b"PSCX");
        assert_eq!(CtxHeader::decode(&b), Ok(h));
        let with = |off: usize, v: u32| {
            let mut x = b;
            x[off..off + 4].copy_from_slice(&v.to_le_bytes());
            CtxHeader::decode(&x)
        };
        assert_eq!(with(8, 2), Err(KsoError::BadFlags { at: 8, bits: 2 }));
        assert_eq!(
            with(12, 0x40),
            Err(KsoError::BadPerms { at: 12, bits: 0x40 })
        );
        assert_eq!(with(16, 257), Err(KsoError::TooMany(257)));
        assert_eq!(with(20, 1), Err(KsoError::ReservedNotZero(20)));
        assert_eq!(with(4, 9), Err(KsoError::UnsupportedVersion(9)));
        assert_eq!(with(4, 1 | (65 << 16)), Err(KsoError::BadHeaderSize(65)));
        assert_eq!(decode_ctx_entry_head(&encode_ctx_entry_head(3)), Ok(3));
        assert_eq!(
            decode_ctx_entry_head(&encode_ctx_entry_head(9)),
            Err(KsoError::TooMany(9))
        );
        assert_eq!(ctx_entry_offset(1) - ctx_entry_offset(0), CTX_ENTRY_SIZE);
    }

    #[test]
    fn key_records_round_trip_and_are_checked() {
        let k = [5u8; KEY_LEN];
        let b = encode_key(KeyKind::Public, &k);
        assert_eq!(decode_key(&b), Ok((KeyKind::Public, k)));
        let mut bad = b;
        bad[6] = 3;
        assert_eq!(decode_key(&bad), Err(KsoError::BadKeyKind(3)));
        let mut bad = b;
        bad[9] = 1;
        assert_eq!(decode_key(&bad), Err(KsoError::ReservedNotZero(9)));
        assert_eq!(decode_key(&b[..20]), Err(KsoError::Truncated(20)));
    }
}
