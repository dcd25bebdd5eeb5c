//! Capability and delegation records: the signed byte formats, and the
//! object-ID derivation their verifiers rely on.
//!
//! The format below is shared, word for word, with the `caps` crate docs.

#![doc = include_str!("cap_format.md")]

use crate::le::{put_u16, put_u32, put_u64, put_u128, u16_at, u32_at, u64_at, u128_at};
use crate::object::{ObjId, Perms, SLOT_SIZE};

/// Length of a capability record.
pub const CAP_LEN: usize = 176;
/// Length of the signed part of a capability record.
pub const CAP_SIGNED_LEN: usize = 112;
/// Length of a delegation record.
pub const DELEGATION_LEN: usize = 192;
/// Length of the signed part of a delegation record.
pub const DELEGATION_SIGNED_LEN: usize = 128;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of an Ed25519 public key.
pub const KEY_LEN: usize = 32;
/// Longest delegation chain after the capability.
pub const MAX_DELEGATIONS: usize = 8;
/// `b"PCAP"` as a little-endian `u32`.
pub const CAP_MAGIC: u32 = u32::from_le_bytes(*b"PCAP");
/// `b"PDLG"` as a little-endian `u32`.
pub const DELEGATION_MAGIC: u32 = u32::from_le_bytes(*b"PDLG");
/// The record version this crate reads and writes.
pub const CAP_VERSION: u16 = 1;
/// Scheme tag: pure Ed25519 over the signed bytes.
pub const SCHEME_ED25519: u16 = 1;
/// Expiry meaning "never".
pub const NEVER: u64 = u64::MAX;

bitset! {
    /// Flags of a capability or delegation.
    pub struct CapFlags(u32) {
        /// The accessor may delegate this grant; the record carries its
        /// holder key.
        DELEGATE = 1 << 0,
    }
}

/// Which entry points of the target a grant may call (used by protected
/// procedure calls): `entry` is allowed when
/// `offset <= entry < offset + length` and `entry % align == 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GateMask {
    /// First allowed entry point.
    pub offset: u64,
    /// Length of the range (0: no gates).
    pub length: u64,
    /// Alignment of entry points (a power of two).
    pub align: u64,
}

impl GateMask {
    /// No entry point allowed.
    pub const NONE: GateMask = GateMask {
        offset: 0,
        length: 0,
        align: 1,
    };
    /// Every offset of the slot allowed.
    pub const ALL: GateMask = GateMask {
        offset: 0,
        length: SLOT_SIZE,
        align: 1,
    };

    /// Whether the mask is well formed: `align` a power of two, `offset`
    /// aligned to it, and the range inside the slot.
    pub const fn is_valid(&self) -> bool {
        self.align.is_power_of_two()
            && self.offset.is_multiple_of(self.align)
            && match self.offset.checked_add(self.length) {
                Some(end) => end <= SLOT_SIZE,
                None => false,
            }
    }
    /// Whether `entry` is an allowed entry point.
    pub const fn allows(&self, entry: u64) -> bool {
        entry >= self.offset
            && entry - self.offset < self.length
            && entry.is_multiple_of(self.align)
    }
    /// Whether every entry point this (valid) mask allows is allowed by
    /// (valid) `parent`.
    pub const fn within(&self, parent: &GateMask) -> bool {
        self.length == 0
            || (self.offset >= parent.offset
                && self.offset + self.length <= parent.offset + parent.length
                && self.align.is_multiple_of(parent.align))
    }
}

/// Why a capability or delegation record did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The record (or the chain) has the wrong length.
    BadLength(usize),
    /// The magic is not this record kind's.
    BadMagic(u32),
    /// A version this code does not know.
    UnsupportedVersion(u16),
    /// A scheme tag this code does not know.
    UnknownScheme(u16),
    /// Permissions with an undefined bit.
    UnknownPerms(u32),
    /// Flags with an undefined bit.
    UnknownFlags(u32),
    /// A nil target, accessor or delegator.
    NilId,
    /// A gate mask that is not [valid](GateMask::is_valid).
    BadGateMask,
    /// A holder key present without `DELEGATE`, or missing with it.
    HolderKeyMismatch,
}

/// The fields of a grant, shared by both record kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The object the grant is for.
    pub target: ObjId,
    /// The security context that holds the grant.
    pub accessor: ObjId,
    /// What the grant allows.
    pub perms: Perms,
    /// Record flags.
    pub flags: CapFlags,
    /// Seconds since the Unix epoch after which the grant is void.
    pub expiry: u64,
    /// Allowed entry points.
    pub gates: GateMask,
    /// The accessor's delegation key (zero unless `DELEGATE`).
    pub holder_key: [u8; KEY_LEN],
}

/// A capability record: a grant signed by the target's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapRecord {
    /// What is granted.
    pub grant: Grant,
    /// Signature over [`CapRecord::signed_bytes`].
    pub signature: [u8; SIGNATURE_LEN],
}

/// A delegation record: a grant passed on by `delegator`, signed by the
/// previous link's holder key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelegationRecord {
    /// The context passing the grant on.
    pub delegator: ObjId,
    /// What is granted, to `grant.accessor`.
    pub grant: Grant,
    /// Signature over [`DelegationRecord::signed_bytes`].
    pub signature: [u8; SIGNATURE_LEN],
}

/// Checks the common header (magic, version, scheme) of a record.
fn check_header(b: &[u8], len: usize, magic: u32) -> Result<(), FormatError> {
    if b.len() != len {
        return Err(FormatError::BadLength(b.len()));
    }
    let m = u32_at(b, 0);
    if m != magic {
        return Err(FormatError::BadMagic(m));
    }
    let version = u16_at(b, 4);
    if version != CAP_VERSION {
        return Err(FormatError::UnsupportedVersion(version));
    }
    let scheme = u16_at(b, 6);
    if scheme != SCHEME_ED25519 {
        return Err(FormatError::UnknownScheme(scheme));
    }
    Ok(())
}

/// Decodes the grant tail (perms, flags, expiry, gates, holder key) at `at`.
fn decode_tail(b: &[u8], at: usize, target: ObjId, accessor: ObjId) -> Result<Grant, FormatError> {
    if target.is_nil() || accessor.is_nil() {
        return Err(FormatError::NilId);
    }
    let raw_perms = u32_at(b, at);
    let perms = Perms::from_bits(raw_perms).ok_or(FormatError::UnknownPerms(raw_perms))?;
    let raw_flags = u32_at(b, at + 4);
    let flags = CapFlags::from_bits(raw_flags).ok_or(FormatError::UnknownFlags(raw_flags))?;
    let gates = GateMask {
        offset: u64_at(b, at + 16),
        length: u64_at(b, at + 24),
        align: u64_at(b, at + 32),
    };
    if !gates.is_valid() {
        return Err(FormatError::BadGateMask);
    }
    let mut holder_key = [0u8; KEY_LEN];
    holder_key.copy_from_slice(&b[at + 40..at + 40 + KEY_LEN]);
    if flags.contains(CapFlags::DELEGATE) == (holder_key == [0; KEY_LEN]) {
        return Err(FormatError::HolderKeyMismatch);
    }
    Ok(Grant {
        target,
        accessor,
        perms,
        flags,
        expiry: u64_at(b, at + 8),
        gates,
        holder_key,
    })
}

/// Encodes the grant tail at `at`.
fn encode_tail(b: &mut [u8], at: usize, g: &Grant) {
    put_u32(b, at, g.perms.bits());
    put_u32(b, at + 4, g.flags.bits());
    put_u64(b, at + 8, g.expiry);
    put_u64(b, at + 16, g.gates.offset);
    put_u64(b, at + 24, g.gates.length);
    put_u64(b, at + 32, g.gates.align);
    b[at + 40..at + 40 + KEY_LEN].copy_from_slice(&g.holder_key);
}

fn encode_header(b: &mut [u8], magic: u32) {
    put_u32(b, 0, magic);
    put_u16(b, 4, CAP_VERSION);
    put_u16(b, 6, SCHEME_ED25519);
}

impl CapRecord {
    /// The bytes the target's key signs for `grant`.
    pub fn signed_bytes(grant: &Grant) -> [u8; CAP_SIGNED_LEN] {
        let mut b = [0u8; CAP_SIGNED_LEN];
        encode_header(&mut b, CAP_MAGIC);
        put_u128(&mut b, 8, grant.target.as_u128());
        put_u128(&mut b, 24, grant.accessor.as_u128());
        encode_tail(&mut b, 40, grant);
        b
    }

    /// The whole record.
    pub fn encode(&self) -> [u8; CAP_LEN] {
        let mut b = [0u8; CAP_LEN];
        b[..CAP_SIGNED_LEN].copy_from_slice(&Self::signed_bytes(&self.grant));
        b[CAP_SIGNED_LEN..].copy_from_slice(&self.signature);
        b
    }

    /// Decodes and checks a record (not its signature).
    pub fn decode(b: &[u8]) -> Result<CapRecord, FormatError> {
        check_header(b, CAP_LEN, CAP_MAGIC)?;
        let target = ObjId::from_u128(u128_at(b, 8));
        let accessor = ObjId::from_u128(u128_at(b, 24));
        let grant = decode_tail(b, 40, target, accessor)?;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&b[CAP_SIGNED_LEN..]);
        Ok(CapRecord { grant, signature })
    }
}

impl DelegationRecord {
    /// The bytes the delegator's holder key signs.
    pub fn signed_bytes(delegator: ObjId, grant: &Grant) -> [u8; DELEGATION_SIGNED_LEN] {
        let mut b = [0u8; DELEGATION_SIGNED_LEN];
        encode_header(&mut b, DELEGATION_MAGIC);
        put_u128(&mut b, 8, grant.target.as_u128());
        put_u128(&mut b, 24, delegator.as_u128());
        put_u128(&mut b, 40, grant.accessor.as_u128());
        encode_tail(&mut b, 56, grant);
        b
    }

    /// The whole record.
    pub fn encode(&self) -> [u8; DELEGATION_LEN] {
        let mut b = [0u8; DELEGATION_LEN];
        b[..DELEGATION_SIGNED_LEN]
            .copy_from_slice(&Self::signed_bytes(self.delegator, &self.grant));
        b[DELEGATION_SIGNED_LEN..].copy_from_slice(&self.signature);
        b
    }

    /// Decodes and checks a record (not its signature).
    pub fn decode(b: &[u8]) -> Result<DelegationRecord, FormatError> {
        check_header(b, DELEGATION_LEN, DELEGATION_MAGIC)?;
        let delegator = ObjId::from_u128(u128_at(b, 24));
        if delegator.is_nil() {
            return Err(FormatError::NilId);
        }
        let target = ObjId::from_u128(u128_at(b, 8));
        let accessor = ObjId::from_u128(u128_at(b, 40));
        let grant = decode_tail(b, 56, target, accessor)?;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&b[DELEGATION_SIGNED_LEN..]);
        Ok(DelegationRecord {
            delegator,
            grant,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(flags: CapFlags) -> Grant {
        Grant {
            target: ObjId::from_u128(0x1111),
            accessor: ObjId::from_u128(0x2222),
            perms: Perms::READ | Perms::EXEC,
            flags,
            expiry: 1_900_000_000,
            gates: GateMask {
                offset: 0x1000,
                length: 0x100,
                align: 16,
            },
            holder_key: if flags.contains(CapFlags::DELEGATE) {
                [7; 32]
            } else {
                [0; 32]
            },
        }
    }

    #[test]
    fn capability_round_trips_with_documented_bytes() {
        let rec = CapRecord {
            grant: grant(CapFlags::DELEGATE),
            signature: [9; 64],
        };
        let b = rec.encode();
        assert_eq!(&b[0..4], b"PCAP");
        assert_eq!((b[4], b[6]), (1, 1));
        assert_eq!((b[8], b[9], b[24]), (0x11, 0x11, 0x22));
        assert_eq!((b[40], b[44]), (0b101, 1));
        assert_eq!(
            u64::from_le_bytes(b[48..56].try_into().unwrap()),
            1_900_000_000
        );
        assert_eq!((b[57], b[65], b[72]), (0x10, 0x01, 16));
        assert_eq!((b[80], b[111], b[112]), (7, 7, 9));
        assert_eq!(CapRecord::decode(&b), Ok(rec));
    }

    #[test]
    fn delegation_round_trips_with_documented_bytes() {
        let rec = DelegationRecord {
            delegator: ObjId::from_u128(0x3333),
            grant: grant(CapFlags::EMPTY),
            signature: [5; 64],
        };
        let b = rec.encode();
        assert_eq!(&b[0..4], b"PDLG");
        assert_eq!((b[8], b[24], b[40], b[56]), (0x11, 0x33, 0x22, 0b101));
        assert_eq!(&b[96..128], &[0; 32]);
        assert_eq!(b[128], 5);
        assert_eq!(DelegationRecord::decode(&b), Ok(rec));
    }

    #[test]
    fn every_record_field_is_checked() {
        let good = CapRecord {
            grant: grant(CapFlags::EMPTY),
            signature: [0; 64],
        }
        .encode();
        let with = |off: usize, bytes: &[u8]| {
            let mut b = good;
            b[off..off + bytes.len()].copy_from_slice(bytes);
            CapRecord::decode(&b)
        };
        assert_eq!(
            CapRecord::decode(&good[..175]),
            Err(FormatError::BadLength(175))
        );
        assert_eq!(
            CapRecord::decode(&[0; 177]),
            Err(FormatError::BadLength(177))
        );
        assert_eq!(
            with(0, b"PDLG"),
            Err(FormatError::BadMagic(DELEGATION_MAGIC))
        );
        assert_eq!(with(4, &[2, 0]), Err(FormatError::UnsupportedVersion(2)));
        assert_eq!(with(6, &[2, 0]), Err(FormatError::UnknownScheme(2)));
        assert_eq!(with(8, &[0; 16]), Err(FormatError::NilId));
        assert_eq!(with(24, &[0; 16]), Err(FormatError::NilId));
        assert_eq!(
            with(40, &[0x40, 0, 0, 0]),
            Err(FormatError::UnknownPerms(0x40))
        );
        assert_eq!(with(44, &[2, 0, 0, 0]), Err(FormatError::UnknownFlags(2)));
        assert_eq!(with(72, &3u64.to_le_bytes()), Err(FormatError::BadGateMask));
        assert_eq!(
            with(56, &0x1008u64.to_le_bytes()),
            Err(FormatError::BadGateMask)
        );
        assert_eq!(
            with(64, &u64::MAX.to_le_bytes()),
            Err(FormatError::BadGateMask)
        );
        assert_eq!(with(80, &[1]), Err(FormatError::HolderKeyMismatch));
        assert_eq!(with(44, &[1, 0, 0, 0]), Err(FormatError::HolderKeyMismatch));
        let d = DelegationRecord {
            delegator: ObjId::from_u128(3),
            grant: grant(CapFlags::EMPTY),
            signature: [0; 64],
        }
        .encode();
        let mut nil = d;
        nil[24..40].fill(0);
        assert_eq!(DelegationRecord::decode(&nil), Err(FormatError::NilId));
        assert_eq!(
            DelegationRecord::decode(&good),
            Err(FormatError::BadLength(CAP_LEN))
        );
    }

    #[test]
    fn gate_masks_narrow_and_allow() {
        let p = GateMask {
            offset: 0x1000,
            length: 0x100,
            align: 16,
        };
        assert!(
            p.allows(0x1000)
                && p.allows(0x10f0)
                && !p.allows(0x1100)
                && !p.allows(0x1008)
                && !p.allows(0)
        );
        assert!(
            GateMask {
                offset: 0x1040,
                length: 0x40,
                align: 64
            }
            .within(&p)
        );
        assert!(GateMask::NONE.within(&p));
        assert!(
            !GateMask {
                offset: 0x1040,
                length: 0x40,
                align: 8
            }
            .within(&p)
        );
        assert!(
            !GateMask {
                offset: 0xff0,
                length: 0x20,
                align: 16
            }
            .within(&p)
        );
        assert!(
            !GateMask {
                offset: 0x1000,
                length: 0x110,
                align: 16
            }
            .within(&p)
        );
        assert!(GateMask::ALL.is_valid() && GateMask::NONE.is_valid());
        assert!(
            !GateMask {
                offset: 0,
                length: SLOT_SIZE + 1,
                align: 1
            }
            .is_valid()
        );
        assert!(
            !GateMask {
                offset: 0,
                length: 1,
                align: 0
            }
            .is_valid()
        );
    }
}
