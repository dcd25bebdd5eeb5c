//! Where a transactional region's parts lie, and its header.
//!
//! # Header (first cache line of the region, little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0 | 8 | magic [`MAGIC`] |
//! | 8 | 4 | version [`VERSION`] |
//! | 12 | 4 | flags (zero) |
//! | 16 | 8 | log length |
//! | 24 | 8 | data length |
//! | 32 | 24 | reserved (zero) |
//! | 56 | 8 | checksum of bytes 0..56 |
//!
//! The header is written once, by [`crate::Tx::format`]: every field but
//! the magic, then (after a fence) the magic. A cut during formatting
//! leaves no magic, which [`crate::Tx::open_or_format`] formats again.

use crate::LINE;
use crate::checksum::checksum;
use crate::log::LogProblem;

/// The header's magic number (`"PRNTXN"`, then the format's major number).
pub const MAGIC: u64 = u64::from_le_bytes(*b"PRNTXN\x00\x01");
/// The header's version.
pub const VERSION: u32 = 1;
/// Offset of the state word from the region's base.
pub const STATE_OFF: u64 = 64;
/// Offset of the log from the region's base.
pub const LOG_OFF: u64 = 128;
/// The smallest log: room for one entry of 32 bytes of old data.
pub const MIN_LOG: u64 = 64;
/// The largest log (entry links are 32-bit log offsets).
pub const MAX_LOG: u64 = 1 << 31;

/// Where a transactional region lies in its persistent memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Offset of the region (its header) in the persistent memory; a
    /// multiple of 64.
    pub base: u64,
    /// Bytes of undo log: a multiple of 64, from [`MIN_LOG`] to
    /// [`MAX_LOG`]. A transaction needs 32 bytes plus its write's length
    /// rounded up to 8 for each write.
    pub log_len: u64,
    /// Bytes of user data; at least one.
    pub data_len: u64,
}

impl Layout {
    /// A region at `base` with `log_len` bytes of log and `data_len` bytes
    /// of data.
    pub const fn new(base: u64, log_len: u64, data_len: u64) -> Layout {
        Layout {
            base,
            log_len,
            data_len,
        }
    }

    /// Offset of the log in the persistent memory.
    pub const fn log_off(&self) -> u64 {
        self.base + LOG_OFF
    }

    /// Offset of the data area in the persistent memory.
    pub const fn data_off(&self) -> u64 {
        self.base + LOG_OFF + self.log_len
    }

    /// Bytes the whole region takes (header, state, log and data).
    pub const fn total_len(&self) -> u64 {
        LOG_OFF + self.log_len + self.data_len
    }

    /// The smallest layout at `base` whose data area holds `data_len`
    /// bytes and whose log holds one write of `max_write` bytes.
    pub const fn for_data(base: u64, data_len: u64, max_write: u64) -> Layout {
        let need = crate::log::entry_len(max_write);
        let log = need.div_ceil(LINE) * LINE;
        let log_len = if log < MIN_LOG { MIN_LOG } else { log };
        Layout::new(base, log_len, data_len)
    }

    /// Checks the layout is well formed and fits a region of `pmem_len`
    /// bytes.
    pub fn check(&self, pmem_len: u64) -> Result<(), OpenError> {
        let bad = || OpenError::BadLayout(*self);
        if !self.base.is_multiple_of(LINE)
            || !self.log_len.is_multiple_of(LINE)
            || !(MIN_LOG..=MAX_LOG).contains(&self.log_len)
            || self.data_len == 0
        {
            return Err(bad());
        }
        let end = self
            .base
            .checked_add(LOG_OFF)
            .and_then(|x| x.checked_add(self.log_len))
            .and_then(|x| x.checked_add(self.data_len))
            .ok_or_else(bad)?;
        if end > pmem_len {
            return Err(OpenError::TooSmall {
                need: end,
                have: pmem_len,
            });
        }
        Ok(())
    }

    /// The header bytes describing this layout.
    pub(crate) fn header(&self) -> [u8; 64] {
        let mut h = [0u8; 64];
        h[0..8].copy_from_slice(&MAGIC.to_le_bytes());
        h[8..12].copy_from_slice(&VERSION.to_le_bytes());
        h[16..24].copy_from_slice(&self.log_len.to_le_bytes());
        h[24..32].copy_from_slice(&self.data_len.to_le_bytes());
        let sum = checksum(&h[..56]);
        h[56..64].copy_from_slice(&sum.to_le_bytes());
        h
    }

    /// Checks `header` (read at this layout's base) describes this layout.
    pub(crate) fn verify_header(&self, header: &[u8; 64]) -> Result<(), OpenError> {
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let magic = word(0);
        if magic == 0 {
            return Err(OpenError::NotFormatted);
        }
        if magic != MAGIC {
            return Err(OpenError::BadMagic(magic));
        }
        let stored = word(56);
        let computed = checksum(&header[..56]);
        if stored != computed {
            return Err(OpenError::BadHeaderChecksum { stored, computed });
        }
        let version = word(8) as u32;
        if version != VERSION {
            return Err(OpenError::UnsupportedVersion(version));
        }
        if word(8) >> 32 != 0 || header[32..56].iter().any(|&b| b != 0) {
            return Err(OpenError::ReservedBitsSet);
        }
        let found = Layout::new(self.base, word(16), word(24));
        if found != *self {
            return Err(OpenError::LayoutMismatch { found });
        }
        Ok(())
    }
}

/// Why a region cannot be opened or formatted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The layout is malformed (misaligned, log out of range, no data).
    BadLayout(Layout),
    /// The persistent memory is shorter than the layout.
    TooSmall {
        /// Bytes the layout needs from offset 0.
        need: u64,
        /// Bytes the persistent memory has.
        have: u64,
    },
    /// The header has no magic: the region was never formatted (or a cut
    /// interrupted its formatting).
    NotFormatted,
    /// The header holds another magic number: not a transactional region.
    BadMagic(u64),
    /// The header's checksum does not match it.
    BadHeaderChecksum {
        /// Stored checksum.
        stored: u64,
        /// Checksum of the stored header.
        computed: u64,
    },
    /// The header has a version this code does not know.
    UnsupportedVersion(u32),
    /// Flags or reserved header bytes are not zero.
    ReservedBitsSet,
    /// The header describes another layout than the one asked for.
    LayoutMismatch {
        /// The layout the header describes.
        found: Layout,
    },
    /// The log of an unfinished transaction is corrupt; nothing was
    /// applied.
    CorruptLog(LogProblem),
}

impl From<LogProblem> for OpenError {
    fn from(p: LogProblem) -> OpenError {
        OpenError::CorruptLog(p)
    }
}
