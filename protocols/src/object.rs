//! Objects: IDs, permissions and the fixed object layout.
//!
//! An object is addressed through a **slot** of [`SLOT_SIZE`] bytes (1 GiB)
//! in a view. Every offset below is from the start of the slot, and every
//! object has the same shape whatever its size (pages are backed lazily, so
//! an object only occupies what it touches):
//!
//! ```text
//! 0x0000_0000  null page ([NULL_PAGE_SIZE] bytes): never mapped, so a null
//!              or null-page invariant pointer faults
//! 0x0000_1000  BASE_OFFSET: the object's typed base (`Object<T>::base()`),
//!              then the data area, growing up to DATA_END
//! 0x3f00_0000  DATA_END = META_OFFSET: the metadata region (META_SIZE,
//!              16 MiB), which grows *down* from the top:
//!                ...
//!                FOT entry 2   at SLOT_SIZE - HEADER_SIZE - 2 * FOT_ENTRY_SIZE
//!                FOT entry 1   at SLOT_SIZE - HEADER_SIZE - 1 * FOT_ENTRY_SIZE
//! 0x3fff_ffc0  HEADER_OFFSET: the object header (HEADER_SIZE = 64 bytes)
//! 0x4000_0000  SLOT_SIZE
//! ```
//!
//! The FOT (see [`crate::fot`]) is an array of 64-byte entries below the
//! header; entry 0 does not exist (index 0 in an invariant pointer means
//! "this object"), so entry `i` (1-based) sits at [`fot_entry_offset`]`(i)`.
//! Growing the FOT never moves the data area, and the metadata region's fixed
//! size caps it at [`MAX_FOT_ENTRIES`].
//!
//! # Header (64 bytes at [`HEADER_OFFSET`], little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 4   | magic `b"PRNO"` ([`OBJ_MAGIC`]) |
//! | 4   | 2   | layout version, `1` ([`OBJ_VERSION`]) |
//! | 6   | 2   | header size, `64` (a later version may grow the header down) |
//! | 8   | 16  | ID nonce (`u128`), the random input of the object's ID |
//! | 24  | 16  | public-key object ID (`u128`; 0 = no key, so no capability can name this object) |
//! | 40  | 4   | default permissions ([`Perms`]): what every context gets without a capability |
//! | 44  | 4   | object flags ([`ObjFlags`]) |
//! | 48  | 4   | FOT entry count (`u32`, ≤ [`MAX_FOT_ENTRIES`]), the FOT's high-water mark; updated atomically in place ([`HDR_FOT_COUNT`]) |
//! | 52  | 4   | reserved, zero |
//! | 56  | 8   | data top (`u64`): first unused byte of the data area, 0 = nothing allocated; the runtime's bump allocator updates it atomically in place ([`HDR_DATA_TOP`]) |
//!
//! The object's ID is a hash over the nonce, the public-key object ID, the
//! flags and the default permissions ([`id_hash_input`] fixes the bytes; the
//! `caps` crate, which carries the hash, computes it). The kernel recomputes it on first use, so
//! an object cannot claim an ID, a key or default permissions it was not
//! created with. Those three header fields are therefore fixed at creation.

use core::fmt;

use crate::le::{
    first_nonzero, put_u16, put_u32, put_u64, put_u128, u16_at, u32_at, u64_at, u128_at,
};

/// Size of an object's slot: the most an object can address.
pub const SLOT_SIZE: u64 = 1 << 30;
/// Size of the null page at offset 0, never mapped.
pub const NULL_PAGE_SIZE: u64 = 4096;
/// Offset of an object's typed base: the first byte after the null page.
pub const BASE_OFFSET: u64 = NULL_PAGE_SIZE;
/// Size of the metadata region at the top of the slot (header and FOT).
pub const META_SIZE: u64 = 16 << 20;
/// Start of the metadata region.
pub const META_OFFSET: u64 = SLOT_SIZE - META_SIZE;
/// First offset past the data area (`[BASE_OFFSET, DATA_END)`).
pub const DATA_END: u64 = META_OFFSET;
/// Size of the object header.
pub const HEADER_SIZE: u64 = 64;
/// Offset of the object header: the last [`HEADER_SIZE`] bytes of the slot.
pub const HEADER_OFFSET: u64 = SLOT_SIZE - HEADER_SIZE;
/// Size of one FOT entry.
pub const FOT_ENTRY_SIZE: u64 = 64;
/// How many FOT entries fit in the metadata region (262 143).
pub const MAX_FOT_ENTRIES: u32 = ((META_SIZE - HEADER_SIZE) / FOT_ENTRY_SIZE) as u32;

/// `b"PRNO"` read as a little-endian `u32`.
pub const OBJ_MAGIC: u32 = u32::from_le_bytes(*b"PRNO");
/// The layout version this crate reads and writes.
pub const OBJ_VERSION: u16 = 1;
/// Offset, within the header, of the FOT entry count (`u32`, atomic).
pub const HDR_FOT_COUNT: u64 = 48;
/// Offset, within the header, of the data top (`u64`, atomic).
pub const HDR_DATA_TOP: u64 = 56;

const _: () = assert!(MAX_FOT_ENTRIES <= crate::fot::MAX_FOT_INDEX);
const _: () =
    assert!(HEADER_OFFSET.is_multiple_of(64) && META_OFFSET.is_multiple_of(NULL_PAGE_SIZE));

/// Offset of FOT entry `index` (1-based) from the slot base, or `None` for
/// index 0 (which means "this object") and indices past [`MAX_FOT_ENTRIES`].
pub const fn fot_entry_offset(index: u32) -> Option<u64> {
    if index == 0 || index > MAX_FOT_ENTRIES {
        return None;
    }
    Some(HEADER_OFFSET - index as u64 * FOT_ENTRY_SIZE)
}

/// Domain tag that starts the bytes an object ID is hashed from.
pub const OBJID_DOMAIN: [u8; 16] = *b"perennial/objid1";
/// Length of [`id_hash_input`]'s result.
pub const OBJID_INPUT_LEN: usize = 56;

/// The bytes an object's ID is hashed from (SHA-512, first 16 bytes read as
/// a little-endian `u128`; the `caps` crate computes it): the domain tag,
/// then the nonce, the public-key object ID, the flags and the default
/// permissions, little-endian — the header fields the ID vouches for.
pub fn id_hash_input(
    nonce: u128,
    key_id: ObjId,
    flags: ObjFlags,
    default_perms: Perms,
) -> [u8; OBJID_INPUT_LEN] {
    let mut b = [0u8; OBJID_INPUT_LEN];
    b[..16].copy_from_slice(&OBJID_DOMAIN);
    put_u128(&mut b, 16, nonce);
    put_u128(&mut b, 32, key_id.as_u128());
    put_u32(&mut b, 48, flags.bits());
    put_u32(&mut b, 52, default_perms.bits());
    b
}

/// A 128-bit object ID. Zero is the nil ID: "no object".
///
/// IDs are derived, not chosen (see the module docs), and written
/// little-endian wherever they appear in a format.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct ObjId(u128);

impl ObjId {
    /// The nil ID.
    pub const NIL: ObjId = ObjId(0);

    /// An ID from its 128-bit value.
    pub const fn from_u128(v: u128) -> ObjId {
        ObjId(v)
    }
    /// The 128-bit value.
    pub const fn as_u128(self) -> u128 {
        self.0
    }
    /// Whether this is the nil ID.
    pub const fn is_nil(self) -> bool {
        self.0 == 0
    }
    /// The ID's 16 bytes as formats store them (little-endian).
    pub const fn to_le_bytes(self) -> [u8; 16] {
        self.0.to_le_bytes()
    }
    /// An ID from its stored 16 bytes.
    pub const fn from_le_bytes(b: [u8; 16]) -> ObjId {
        ObjId(u128::from_le_bytes(b))
    }
}

impl fmt::Display for ObjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for ObjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjId({:032x})", self.0)
    }
}

bitset! {
    /// Access rights to an object: the protections a view asks for, the
    /// permissions a security context grants, an object's defaults, a
    /// capability's grant. Effective access is protections AND permissions.
    pub struct Perms(u32) {
        /// Read the object's bytes.
        READ = 1 << 0,
        /// Write the object's bytes.
        WRITE = 1 << 1,
        /// Execute the object's bytes (and, with a gate mask, call its gates).
        EXEC = 1 << 2,
        /// Use the object as a kernel state object: attach it as a view,
        /// security context or thread.
        USE = 1 << 3,
        /// Delete the object.
        DELETE = 1 << 4,
    }
}

bitset! {
    /// Flags fixed when an object is created (they are part of its ID).
    pub struct ObjFlags(u32) {
        /// The object lives in persistent memory (the object store's).
        PERSISTENT = 1 << 0,
        /// The object is a kernel state object: the kernel reads it, so it
        /// must hold no invariant pointers (its FOT stays empty).
        KSO = 1 << 1,
    }
}

/// Why an object header did not decode. Every field is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// The buffer is not [`HEADER_SIZE`] bytes.
    BadLength(usize),
    /// The magic is not [`OBJ_MAGIC`].
    BadMagic(u32),
    /// A layout version this code does not know.
    UnsupportedVersion(u16),
    /// The header-size field is not [`HEADER_SIZE`].
    BadHeaderSize(u16),
    /// The default permissions have an undefined bit.
    UnknownPerms(u32),
    /// The object flags have an undefined bit.
    UnknownFlags(u32),
    /// The FOT count exceeds [`MAX_FOT_ENTRIES`].
    FotTooLarge(u32),
    /// A KSO with FOT entries (KSOs hold no pointers).
    KsoWithFot(u32),
    /// The data top lies outside the data area.
    BadDataTop(u64),
    /// A reserved byte (at this header offset) is not zero.
    ReservedNotZero(usize),
}

/// An object header, decoded and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjHeader {
    /// The random input of the object's ID.
    pub nonce: u128,
    /// The object naming this object's public key (nil: none).
    pub key_id: ObjId,
    /// What every context may do without a capability.
    pub default_perms: Perms,
    /// Creation flags.
    pub flags: ObjFlags,
    /// The FOT's high-water mark: entries `1..=fot_count` may be in use.
    pub fot_count: u32,
    /// First unused data byte; 0 when nothing has been allocated.
    pub data_top: u64,
}

impl ObjHeader {
    /// A fresh header: empty FOT, nothing allocated.
    pub const fn new(
        nonce: u128,
        key_id: ObjId,
        default_perms: Perms,
        flags: ObjFlags,
    ) -> ObjHeader {
        ObjHeader {
            nonce,
            key_id,
            default_perms,
            flags,
            fot_count: 0,
            data_top: 0,
        }
    }

    /// Encodes the header into its 64 bytes.
    pub fn encode(&self) -> [u8; HEADER_SIZE as usize] {
        let mut b = [0u8; HEADER_SIZE as usize];
        put_u32(&mut b, 0, OBJ_MAGIC);
        put_u16(&mut b, 4, OBJ_VERSION);
        put_u16(&mut b, 6, HEADER_SIZE as u16);
        put_u128(&mut b, 8, self.nonce);
        put_u128(&mut b, 24, self.key_id.as_u128());
        put_u32(&mut b, 40, self.default_perms.bits());
        put_u32(&mut b, 44, self.flags.bits());
        put_u32(&mut b, HDR_FOT_COUNT as usize, self.fot_count);
        put_u64(&mut b, HDR_DATA_TOP as usize, self.data_top);
        b
    }

    /// Decodes and checks a header from exactly [`HEADER_SIZE`] bytes.
    pub fn decode(b: &[u8]) -> Result<ObjHeader, HeaderError> {
        if b.len() != HEADER_SIZE as usize {
            return Err(HeaderError::BadLength(b.len()));
        }
        let magic = u32_at(b, 0);
        if magic != OBJ_MAGIC {
            return Err(HeaderError::BadMagic(magic));
        }
        let version = u16_at(b, 4);
        if version != OBJ_VERSION {
            return Err(HeaderError::UnsupportedVersion(version));
        }
        let size = u16_at(b, 6);
        if u64::from(size) != HEADER_SIZE {
            return Err(HeaderError::BadHeaderSize(size));
        }
        let perms = u32_at(b, 40);
        let default_perms = Perms::from_bits(perms).ok_or(HeaderError::UnknownPerms(perms))?;
        let raw_flags = u32_at(b, 44);
        let flags = ObjFlags::from_bits(raw_flags).ok_or(HeaderError::UnknownFlags(raw_flags))?;
        let fot_count = u32_at(b, HDR_FOT_COUNT as usize);
        if fot_count > MAX_FOT_ENTRIES {
            return Err(HeaderError::FotTooLarge(fot_count));
        }
        if flags.contains(ObjFlags::KSO) && fot_count != 0 {
            return Err(HeaderError::KsoWithFot(fot_count));
        }
        if let Some(off) = first_nonzero(b, 52, 56) {
            return Err(HeaderError::ReservedNotZero(off));
        }
        let data_top = u64_at(b, HDR_DATA_TOP as usize);
        if data_top != 0 && !(BASE_OFFSET..=DATA_END).contains(&data_top) {
            return Err(HeaderError::BadDataTop(data_top));
        }
        Ok(ObjHeader {
            nonce: u128_at(b, 8),
            key_id: ObjId::from_u128(u128_at(b, 24)),
            default_perms,
            flags,
            fot_count,
            data_top,
        })
    }
}

/// Length of an [`ObjInfo`] record.
pub const OBJ_INFO_LEN: usize = 64;

/// What `obj_info` reports about an object (64 bytes, little-endian: ID
/// at 0, key ID at 16, size at 32, default permissions at 40, flags at 44,
/// backed pages at 48, reserved zero to 64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjInfo {
    /// Its ID.
    pub id: ObjId,
    /// Its public-key object (nil: none).
    pub key_id: ObjId,
    /// Bytes in its data area.
    pub size: u64,
    /// What every context gets.
    pub default_perms: Perms,
    /// Creation flags.
    pub flags: ObjFlags,
    /// Pages of memory backing it now.
    pub pages: u64,
}

impl ObjInfo {
    /// Encodes the record.
    pub fn encode(&self) -> [u8; OBJ_INFO_LEN] {
        let mut b = [0u8; OBJ_INFO_LEN];
        put_u128(&mut b, 0, self.id.as_u128());
        put_u128(&mut b, 16, self.key_id.as_u128());
        put_u64(&mut b, 32, self.size);
        put_u32(&mut b, 40, self.default_perms.bits());
        put_u32(&mut b, 44, self.flags.bits());
        put_u64(&mut b, 48, self.pages);
        b
    }

    /// Decodes a record (`None`: wrong length or undefined bits).
    pub fn decode(b: &[u8]) -> Option<ObjInfo> {
        if b.len() != OBJ_INFO_LEN {
            return None;
        }
        Some(ObjInfo {
            id: ObjId::from_u128(u128_at(b, 0)),
            key_id: ObjId::from_u128(u128_at(b, 16)),
            size: u64_at(b, 32),
            default_perms: Perms::from_bits(u32_at(b, 40))?,
            flags: ObjFlags::from_bits(u32_at(b, 44))?,
            pages: u64_at(b, 48),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ObjHeader {
        let mut h = ObjHeader::new(
            0x0123_4567_89ab_cdef_0011_2233_4455_6677,
            ObjId::from_u128(42),
            Perms::READ,
            ObjFlags::PERSISTENT,
        );
        h.fot_count = 3;
        h.data_top = BASE_OFFSET + 128;
        h
    }

    #[test]
    fn layout_constants_fit_together() {
        assert_eq!(HEADER_OFFSET, 0x3fff_ffc0);
        assert_eq!(DATA_END, 0x3f00_0000);
        assert_eq!(MAX_FOT_ENTRIES, 262_143);
        assert_eq!(fot_entry_offset(0), None);
        assert_eq!(fot_entry_offset(1), Some(HEADER_OFFSET - 64));
        let last = fot_entry_offset(MAX_FOT_ENTRIES).unwrap();
        assert!(last >= META_OFFSET && last.is_multiple_of(64));
        assert_eq!(fot_entry_offset(MAX_FOT_ENTRIES + 1), None);
    }

    #[test]
    fn header_round_trips_with_documented_bytes() {
        let h = sample();
        let b = h.encode();
        assert_eq!(&b[0..4], b"PRNO");
        assert_eq!(b[4], 1);
        assert_eq!(b[6], 64);
        assert_eq!(b[8], 0x77, "nonce is little-endian");
        assert_eq!(b[24], 42);
        assert_eq!(b[40], 1);
        assert_eq!(b[44], 1);
        assert_eq!(b[48], 3);
        assert_eq!(ObjHeader::decode(&b), Ok(h));
    }

    #[test]
    fn every_header_field_is_checked() {
        let good = sample().encode();
        let with = |off: usize, bytes: &[u8]| {
            let mut b = good;
            b[off..off + bytes.len()].copy_from_slice(bytes);
            ObjHeader::decode(&b)
        };
        assert_eq!(
            ObjHeader::decode(&good[..63]),
            Err(HeaderError::BadLength(63))
        );
        assert_eq!(
            with(0, b"XRNO"),
            Err(HeaderError::BadMagic(u32::from_le_bytes(*b"XRNO")))
        );
        assert_eq!(with(4, &[2, 0]), Err(HeaderError::UnsupportedVersion(2)));
        assert_eq!(with(6, &[65, 0]), Err(HeaderError::BadHeaderSize(65)));
        assert_eq!(
            with(40, &[0x20, 0, 0, 0]),
            Err(HeaderError::UnknownPerms(0x20))
        );
        assert_eq!(
            with(44, &[0, 0, 0, 0x80]),
            Err(HeaderError::UnknownFlags(0x8000_0000))
        );
        assert_eq!(
            with(48, &(MAX_FOT_ENTRIES + 1).to_le_bytes()),
            Err(HeaderError::FotTooLarge(MAX_FOT_ENTRIES + 1))
        );
        assert_eq!(with(44, &[2, 0, 0, 0]), Err(HeaderError::KsoWithFot(3)));
        assert_eq!(with(53, &[1]), Err(HeaderError::ReservedNotZero(53)));
        assert_eq!(
            with(56, &8u64.to_le_bytes()),
            Err(HeaderError::BadDataTop(8))
        );
        assert_eq!(
            with(56, &(DATA_END + 1).to_le_bytes()),
            Err(HeaderError::BadDataTop(DATA_END + 1))
        );
    }

    #[test]
    fn obj_info_round_trips() {
        let i = ObjInfo {
            id: ObjId::from_u128(1 << 100),
            key_id: ObjId::from_u128(9),
            size: 4096,
            default_perms: Perms::READ,
            flags: ObjFlags::KSO,
            pages: 2,
        };
        assert_eq!(ObjInfo::decode(&i.encode()), Some(i));
        assert_eq!(ObjInfo::decode(&[0; 3]), None);
    }

    #[test]
    fn perms_are_checked_sets() {
        assert_eq!(Perms::from_bits(0b1_1111), Some(Perms::ALL));
        assert_eq!(Perms::from_bits(0b10_0000), None);
        assert!((Perms::READ | Perms::WRITE).contains(Perms::READ));
        assert!(Perms::READ.is_subset_of(Perms::READ | Perms::EXEC));
        assert!(!Perms::WRITE.is_subset_of(Perms::READ));
        assert_eq!((Perms::READ | Perms::WRITE) & Perms::WRITE, Perms::WRITE);
        assert_eq!(
            std::format!("{:?}", Perms::READ | Perms::EXEC),
            "Perms(READ|EXEC)"
        );
        assert_eq!(
            std::format!("{}", ObjId::from_u128(0xab)),
            "000000000000000000000000000000ab"
        );
    }
}
