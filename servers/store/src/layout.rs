//! The region's geometry and the superblock that records it.
//!
//! # Superblock (128 bytes, little-endian; copies at [`SB_OFFSETS`])
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 8   | magic `b"PRNSTORE"` ([`SB_MAGIC`]) |
//! | 8   | 4   | version, `1` ([`SB_VERSION`]) |
//! | 12  | 4   | page size, `4096` |
//! | 16  | 8   | region size in bytes |
//! | 24  | 8   | sequence number: of two valid copies, the higher is in force |
//! | 32  | 8   | generation: how many times the store has been opened |
//! | 40  | 4   | directory entries |
//! | 44  | 4   | data pages |
//! | 48  | 8   | log offset |
//! | 56  | 8   | log length |
//! | 64  | 8   | directory offset |
//! | 72  | 8   | bitmap offset |
//! | 80  | 8   | bitmap length |
//! | 88  | 8   | data offset |
//! | 96  | 8   | flags: bit 0 [`SB_CLEAN`] (the store was shut down cleanly and nothing changed since); the rest zero |
//! | 104 | 16  | reserved, zero |
//! | 120 | 8   | checksum of bytes 0..120 |

use crate::checksum::checksum;
use crate::dir::ENTRY_SIZE;
use crate::log::LOG_FIXED;
use crate::{LINE, PAGE};

/// `b"PRNSTORE"` as a little-endian `u64`.
pub const SB_MAGIC: u64 = u64::from_le_bytes(*b"PRNSTORE");
/// The format version this crate reads and writes.
pub const SB_VERSION: u32 = 1;
/// Length of one superblock copy.
pub const SB_LEN: usize = 128;
/// Where the two superblock copies live (different cache lines).
pub const SB_OFFSETS: [u64; 2] = [0, 2048];
/// Flags bit: the last run shut the store down cleanly and nothing changed
/// since. Opening clears it; an open that finds it clear knows the last run
/// ended without a shutdown — a power cut or a crash.
pub const SB_CLEAN: u64 = 1;
/// Smallest directory.
pub const MIN_DIR_ENTRIES: u32 = 16;
/// Largest directory.
pub const MAX_DIR_ENTRIES: u32 = 1 << 20;

const _: () = assert!(SB_OFFSETS[1].is_multiple_of(LINE) && SB_OFFSETS[1] >= SB_LEN as u64);

/// Choices made when formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatOptions {
    /// Directory entries (how many objects the store can hold); `None`:
    /// one per 16 pages of the region, at least [`MIN_DIR_ENTRIES`].
    pub dir_entries: Option<u32>,
}

impl FormatOptions {
    /// The directory size these options give a region of `size` bytes.
    pub fn dir_entries_for(&self, size: u64) -> u32 {
        self.dir_entries.unwrap_or_else(|| {
            let by_size = (size / PAGE / 16).min(u64::from(MAX_DIR_ENTRIES)) as u32;
            by_size.max(MIN_DIR_ENTRIES)
        })
    }
}

/// Where everything lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Region size in bytes (a multiple of the page size).
    pub size: u64,
    /// Log offset.
    pub log_off: u64,
    /// Log length.
    pub log_len: u64,
    /// Directory offset.
    pub dir_off: u64,
    /// Directory entries.
    pub dir_entries: u32,
    /// Bitmap offset.
    pub bitmap_off: u64,
    /// Bitmap length in bytes (whole pages).
    pub bitmap_len: u64,
    /// First data page's offset.
    pub data_off: u64,
    /// Data pages.
    pub data_pages: u32,
}

/// Why a geometry cannot be laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryError {
    /// The region size is not a multiple of the page size.
    Unaligned(u64),
    /// The directory size is outside `MIN_DIR_ENTRIES..=MAX_DIR_ENTRIES`.
    DirEntries(u32),
    /// The metadata leaves no data page (or more than `u32::MAX`).
    TooSmall(u64),
}

impl Geometry {
    /// The one layout of a region of `size` bytes with `dir_entries`
    /// directory entries.
    pub fn compute(size: u64, dir_entries: u32) -> Result<Geometry, GeometryError> {
        if !size.is_multiple_of(PAGE) {
            return Err(GeometryError::Unaligned(size));
        }
        if !(MIN_DIR_ENTRIES..=MAX_DIR_ENTRIES).contains(&dir_entries) {
            return Err(GeometryError::DirEntries(dir_entries));
        }
        let pages = size / PAGE;
        // The bitmap has a bit for every page of the region (a slight
        // over-estimate of the data pages), so its size does not depend on
        // the metadata it sits among.
        let bitmap_pages = pages.div_ceil(PAGE * 8);
        // One transaction logs at most one entry and the whole bitmap.
        let log_pages = (LOG_FIXED + bitmap_pages * PAGE).div_ceil(PAGE);
        let dir_pages = (u64::from(dir_entries) * ENTRY_SIZE).div_ceil(PAGE);
        let meta = 1 + log_pages + dir_pages + bitmap_pages;
        if pages <= meta || pages - meta > u64::from(u32::MAX) {
            return Err(GeometryError::TooSmall(size));
        }
        let log_off = PAGE;
        let dir_off = log_off + log_pages * PAGE;
        let bitmap_off = dir_off + dir_pages * PAGE;
        let data_off = bitmap_off + bitmap_pages * PAGE;
        Ok(Geometry {
            size,
            log_off,
            log_len: log_pages * PAGE,
            dir_off,
            dir_entries,
            bitmap_off,
            bitmap_len: bitmap_pages * PAGE,
            data_off,
            data_pages: (pages - meta) as u32,
        })
    }

    /// Offset of directory entry `index`.
    pub fn entry_off(&self, index: u32) -> u64 {
        self.dir_off + u64::from(index) * ENTRY_SIZE
    }

    /// Offset of data page `page`.
    pub fn page_off(&self, page: u32) -> u64 {
        self.data_off + u64::from(page) * PAGE
    }

    /// Bitmap words that hold a bit for a data page.
    pub fn bitmap_words(&self) -> usize {
        (self.data_pages as usize).div_ceil(64)
    }
}

/// A superblock copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Superblock {
    /// Sequence number of this copy.
    pub seq: u64,
    /// Times the store has been opened.
    pub generation: u64,
    /// [`SB_CLEAN`]: shut down cleanly, unchanged since.
    pub clean: bool,
    /// The recorded geometry.
    pub geometry: Geometry,
}

/// A superblock field, as the checker names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbField {
    /// Data pages.
    DataPages,
    /// Log offset.
    LogOff,
    /// Log length.
    LogLen,
    /// Directory offset.
    DirOff,
    /// Bitmap offset.
    BitmapOff,
    /// Bitmap length.
    BitmapLen,
    /// Data offset.
    DataOff,
}

/// What is wrong with a superblock copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbProblem {
    /// The region (of this length) is shorter than the superblock page.
    RegionTooSmall(u64),
    /// The magic is not [`SB_MAGIC`] (a never-written copy reads 0).
    BadMagic(u64),
    /// A version this code does not know.
    BadVersion(u32),
    /// A page size other than 4096.
    BadPageSize(u32),
    /// The checksum does not match the bytes.
    BadChecksum {
        /// Stored.
        stored: u64,
        /// Computed over the bytes.
        computed: u64,
    },
    /// A reserved byte (at this offset) is not zero.
    ReservedNotZero(usize),
    /// The recorded size is larger than the region.
    LargerThanRegion {
        /// Recorded.
        recorded: u64,
        /// The region's length.
        region: u64,
    },
    /// The size and directory size admit no layout.
    NoGeometry(GeometryError),
    /// A geometry field differs from the layout its size implies.
    Geometry {
        /// Which field.
        field: SbField,
        /// Recorded.
        found: u64,
        /// Implied by size and directory size.
        expected: u64,
    },
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or([0; 4]))
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]))
}

impl Superblock {
    /// Encodes the copy, checksum included.
    pub fn encode(&self) -> [u8; SB_LEN] {
        let g = &self.geometry;
        let mut b = [0u8; SB_LEN];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        put(0, &SB_MAGIC.to_le_bytes());
        put(8, &SB_VERSION.to_le_bytes());
        put(12, &(PAGE as u32).to_le_bytes());
        put(16, &g.size.to_le_bytes());
        put(24, &self.seq.to_le_bytes());
        put(32, &self.generation.to_le_bytes());
        put(40, &g.dir_entries.to_le_bytes());
        put(44, &g.data_pages.to_le_bytes());
        put(48, &g.log_off.to_le_bytes());
        put(56, &g.log_len.to_le_bytes());
        put(64, &g.dir_off.to_le_bytes());
        put(72, &g.bitmap_off.to_le_bytes());
        put(80, &g.bitmap_len.to_le_bytes());
        put(88, &g.data_off.to_le_bytes());
        put(96, &(if self.clean { SB_CLEAN } else { 0 }).to_le_bytes());
        let sum = checksum(&[&b[..120]]);
        b[120..].copy_from_slice(&sum.to_le_bytes());
        b
    }

    /// Decodes and checks a copy from a region of `region` bytes: every
    /// field, and the geometry against [`Geometry::compute`].
    pub fn decode(b: &[u8; SB_LEN], region: u64) -> Result<Superblock, SbProblem> {
        let magic = u64_at(b, 0);
        if magic != SB_MAGIC {
            return Err(SbProblem::BadMagic(magic));
        }
        let stored = u64_at(b, 120);
        let computed = checksum(&[&b[..120]]);
        if stored != computed {
            return Err(SbProblem::BadChecksum { stored, computed });
        }
        let version = u32_at(b, 8);
        if version != SB_VERSION {
            return Err(SbProblem::BadVersion(version));
        }
        let page = u32_at(b, 12);
        if u64::from(page) != PAGE {
            return Err(SbProblem::BadPageSize(page));
        }
        let flags = u64_at(b, 96);
        if flags & !SB_CLEAN != 0 {
            return Err(SbProblem::ReservedNotZero(96));
        }
        if let Some(i) = b[104..120].iter().position(|&x| x != 0) {
            return Err(SbProblem::ReservedNotZero(104 + i));
        }
        let size = u64_at(b, 16);
        if size > region {
            return Err(SbProblem::LargerThanRegion {
                recorded: size,
                region,
            });
        }
        let expected = Geometry::compute(size, u32_at(b, 40)).map_err(SbProblem::NoGeometry)?;
        let fields = [
            (
                SbField::DataPages,
                u64::from(u32_at(b, 44)),
                u64::from(expected.data_pages),
            ),
            (SbField::LogOff, u64_at(b, 48), expected.log_off),
            (SbField::LogLen, u64_at(b, 56), expected.log_len),
            (SbField::DirOff, u64_at(b, 64), expected.dir_off),
            (SbField::BitmapOff, u64_at(b, 72), expected.bitmap_off),
            (SbField::BitmapLen, u64_at(b, 80), expected.bitmap_len),
            (SbField::DataOff, u64_at(b, 88), expected.data_off),
        ];
        for (field, found, expected) in fields {
            if found != expected {
                return Err(SbProblem::Geometry {
                    field,
                    found,
                    expected,
                });
            }
        }
        Ok(Superblock {
            seq: u64_at(b, 24),
            generation: u64_at(b, 32),
            clean: flags & SB_CLEAN != 0,
            geometry: expected,
        })
    }
}

/// Reads both copies: the one in force (the valid copy with the higher
/// sequence number) and its index, or each copy's problem.
pub fn read_superblock<P: crate::Pmem + ?Sized>(
    pmem: &P,
) -> Result<(Superblock, usize), [SbProblem; 2]> {
    if pmem.len() < PAGE {
        return Err([SbProblem::RegionTooSmall(pmem.len()); 2]);
    }
    let mut copies = [Err(SbProblem::BadMagic(0)); 2];
    for (i, off) in SB_OFFSETS.iter().enumerate() {
        let mut b = [0u8; SB_LEN];
        pmem.read(*off, &mut b);
        copies[i] = Superblock::decode(&b, pmem.len());
    }
    match copies {
        [Ok(a), Ok(b)] => Ok(if b.seq > a.seq { (b, 1) } else { (a, 0) }),
        [Ok(a), Err(_)] => Ok((a, 0)),
        [Err(_), Ok(b)] => Ok((b, 1)),
        [Err(a), Err(b)] => Err([a, b]),
    }
}
