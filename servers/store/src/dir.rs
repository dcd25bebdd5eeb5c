//! The object directory: one 256-byte entry per object.
//!
//! # Entry (256 bytes, little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 4   | state: `b"PRDE"` ([`ENTRY_USED`]) for a used entry; a free entry is all zero |
//! | 4   | 2   | extent count (1..=[`MAX_EXTENTS`]) |
//! | 6   | 2   | metadata pages (≥ 1): the top of the slot, header last |
//! | 8   | 16  | object ID (not nil) |
//! | 24  | 16  | public-key object ID (nil: none) |
//! | 40  | 4   | default permissions ([`Perms`]) |
//! | 44  | 4   | flags ([`ObjFlags`], `PERSISTENT` set) |
//! | 48  | 8   | data size in bytes (≤ [`MAX_SIZE`]) |
//! | 56  | 8   | checksum of the 256 bytes with this field zero |
//! | 64  | 192 | extents: [`MAX_EXTENTS`] × (first data page `u32`, pages `u32`); unused ones zero |
//!
//! The extents list the object's pages in logical order: its metadata
//! pages (slot pages `SLOT_PAGES - meta_pages ..`), then its data pages
//! (slot pages `1 ..`).

use alloc::vec::Vec;

use protocols::object::{BASE_OFFSET, DATA_END, ObjFlags, ObjId, Perms, SLOT_SIZE};

use crate::PAGE;
use crate::StoreError;
use crate::checksum::checksum;
use crate::layout::Geometry;

/// Length of an entry.
pub const ENTRY_SIZE: u64 = 256;
/// `b"PRDE"` as a little-endian `u32`: the state of a used entry.
pub const ENTRY_USED: u32 = u32::from_le_bytes(*b"PRDE");
/// Extents one entry holds.
pub const MAX_EXTENTS: usize = 24;
/// Largest data size: the data area of a slot.
pub const MAX_SIZE: u64 = DATA_END - BASE_OFFSET;
/// Pages in a slot.
pub const SLOT_PAGES: u64 = SLOT_SIZE / PAGE;
/// Metadata pages a new object gets (its header and 63 FOT entries).
pub const DEFAULT_META_PAGES: u16 = 1;

/// A run of data pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// First data page.
    pub start: u32,
    /// Pages.
    pub len: u32,
}

impl Extent {
    /// One past the last page.
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.len)
    }
}

/// A used directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Object ID.
    pub id: ObjId,
    /// Public-key object.
    pub key: ObjId,
    /// Default permissions.
    pub perms: Perms,
    /// Flags.
    pub flags: ObjFlags,
    /// Data size in bytes.
    pub size: u64,
    /// Metadata pages.
    pub meta_pages: u16,
    /// The pages, in logical order.
    pub extents: Vec<Extent>,
}

/// Data pages a size needs.
pub fn data_pages(size: u64) -> u64 {
    size.div_ceil(PAGE)
}

impl Entry {
    /// Pages the entry should hold: metadata plus data.
    pub fn expected_pages(&self) -> u64 {
        u64::from(self.meta_pages) + data_pages(self.size)
    }

    /// Pages its extents hold.
    pub fn pages(&self) -> u64 {
        self.extents.iter().map(|e| u64::from(e.len)).sum()
    }

    /// The data page holding logical page `logical`, if any.
    pub fn backing(&self, mut logical: u64) -> Option<u32> {
        for e in &self.extents {
            if logical < u64::from(e.len) {
                return Some(e.start + logical as u32);
            }
            logical -= u64::from(e.len);
        }
        None
    }

    /// The logical page of slot page `slot_page`: the kernel's question.
    pub fn logical_of_slot_page(&self, slot_page: u64) -> Result<u64, StoreError> {
        let meta = u64::from(self.meta_pages);
        if slot_page == 0 {
            Err(StoreError::NullPage)
        } else if slot_page <= data_pages(self.size) {
            Ok(meta + slot_page - 1)
        } else if (SLOT_PAGES - meta..SLOT_PAGES).contains(&slot_page) {
            Ok(slot_page - (SLOT_PAGES - meta))
        } else {
            Err(StoreError::NotBacked)
        }
    }

    /// Encodes the entry, checksum included.
    pub fn encode(&self) -> [u8; ENTRY_SIZE as usize] {
        let mut b = [0u8; ENTRY_SIZE as usize];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        put(0, &ENTRY_USED.to_le_bytes());
        put(4, &(self.extents.len() as u16).to_le_bytes());
        put(6, &self.meta_pages.to_le_bytes());
        put(8, &self.id.to_le_bytes());
        put(24, &self.key.to_le_bytes());
        put(40, &self.perms.bits().to_le_bytes());
        put(44, &self.flags.bits().to_le_bytes());
        put(48, &self.size.to_le_bytes());
        for (i, e) in self.extents.iter().enumerate() {
            put(64 + i * 8, &e.start.to_le_bytes());
            put(68 + i * 8, &e.len.to_le_bytes());
        }
        let sum = checksum(&[&b]);
        b[56..64].copy_from_slice(&sum.to_le_bytes());
        b
    }
}

/// What is wrong with a directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryProblem {
    /// The state word is neither 0 nor [`ENTRY_USED`].
    BadState(u32),
    /// A free entry has a non-zero byte at this offset.
    FreeNotZero(usize),
    /// The checksum does not match the bytes.
    BadChecksum {
        /// Stored.
        stored: u64,
        /// Computed.
        computed: u64,
    },
    /// The extent count is 0 or past [`MAX_EXTENTS`].
    ExtentCount(u16),
    /// The metadata-page count is 0 or past the metadata region.
    MetaPages(u16),
    /// The nil ID.
    NilId,
    /// Undefined permission bits.
    UnknownPerms(u32),
    /// Undefined flag bits, or `PERSISTENT` missing.
    BadFlags(u32),
    /// A size past [`MAX_SIZE`].
    SizeTooLarge(u64),
    /// An extent of zero pages.
    EmptyExtent(usize),
    /// An extent past the data pages.
    ExtentOutOfRange {
        /// Which extent.
        extent: usize,
        /// Its first page.
        start: u32,
        /// Its length.
        len: u32,
    },
    /// An unused extent slot is not zero.
    UnusedExtentNotZero(usize),
    /// The extents hold another number of pages than the size needs.
    PageCount {
        /// `meta_pages + ceil(size / 4096)`.
        expected: u64,
        /// What the extents hold.
        found: u64,
    },
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

fn u128_at(b: &[u8], off: usize) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[off..off + 16]);
    u128::from_le_bytes(a)
}

/// Decodes and checks an entry: `None` for a free one. Every field is
/// checked (invariants D1 and D2 of the crate docs).
pub fn decode(b: &[u8; ENTRY_SIZE as usize], g: &Geometry) -> Result<Option<Entry>, EntryProblem> {
    let state = u32_at(b, 0);
    if state == 0 {
        return match b.iter().position(|&x| x != 0) {
            None => Ok(None),
            Some(off) => Err(EntryProblem::FreeNotZero(off)),
        };
    }
    if state != ENTRY_USED {
        return Err(EntryProblem::BadState(state));
    }
    let stored = u64_at(b, 56);
    let mut zeroed = *b;
    zeroed[56..64].fill(0);
    let computed = checksum(&[&zeroed]);
    if stored != computed {
        return Err(EntryProblem::BadChecksum { stored, computed });
    }
    let count = u16_at(b, 4);
    if count == 0 || usize::from(count) > MAX_EXTENTS {
        return Err(EntryProblem::ExtentCount(count));
    }
    let meta_pages = u16_at(b, 6);
    if meta_pages == 0 || u64::from(meta_pages) > protocols::object::META_SIZE / PAGE {
        return Err(EntryProblem::MetaPages(meta_pages));
    }
    let id = ObjId::from_u128(u128_at(b, 8));
    if id.is_nil() {
        return Err(EntryProblem::NilId);
    }
    let raw_perms = u32_at(b, 40);
    let perms = Perms::from_bits(raw_perms).ok_or(EntryProblem::UnknownPerms(raw_perms))?;
    let raw_flags = u32_at(b, 44);
    let flags = ObjFlags::from_bits(raw_flags)
        .filter(|f| f.contains(ObjFlags::PERSISTENT))
        .ok_or(EntryProblem::BadFlags(raw_flags))?;
    let size = u64_at(b, 48);
    if size > MAX_SIZE {
        return Err(EntryProblem::SizeTooLarge(size));
    }
    let mut extents = Vec::with_capacity(usize::from(count));
    for i in 0..MAX_EXTENTS {
        let (start, len) = (u32_at(b, 64 + i * 8), u32_at(b, 68 + i * 8));
        if i >= usize::from(count) {
            if start != 0 || len != 0 {
                return Err(EntryProblem::UnusedExtentNotZero(i));
            }
            continue;
        }
        let e = Extent { start, len };
        if len == 0 {
            return Err(EntryProblem::EmptyExtent(i));
        }
        if e.end() > u64::from(g.data_pages) {
            return Err(EntryProblem::ExtentOutOfRange {
                extent: i,
                start,
                len,
            });
        }
        extents.push(e);
    }
    let entry = Entry {
        id,
        key: ObjId::from_u128(u128_at(b, 24)),
        perms,
        flags,
        size,
        meta_pages,
        extents,
    };
    if entry.pages() != entry.expected_pages() {
        return Err(EntryProblem::PageCount {
            expected: entry.expected_pages(),
            found: entry.pages(),
        });
    }
    Ok(Some(entry))
}

/// Reads and decodes entry `index`.
pub fn read<P: crate::Pmem + ?Sized>(
    pmem: &P,
    g: &Geometry,
    index: u32,
) -> Result<Option<Entry>, EntryProblem> {
    let mut b = [0u8; ENTRY_SIZE as usize];
    pmem.read(g.entry_off(index), &mut b);
    decode(&b, g)
}
