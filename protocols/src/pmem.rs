//! The record `obj_pmem_attach` takes: a persistent object the store
//! describes to the kernel — its identity and where each run of its slot
//! pages lives in persistent memory (the pager's answers, given up front).
//!
//! ```text
//! off len field
//!   0  16 object ID
//!  16  16 public-key object ID (nil: none)
//!  32   8 data-area size in bytes
//!  40   4 flags (ObjFlags; PERSISTENT set)
//!  44   4 default permissions (Perms)
//!  48   4 run count (1 ..= MAX_RUNS)
//!  52   4 reserved, zero
//!  56  24 × runs: slot offset (page aligned), pmem offset (page aligned,
//!             from the start of the store's region), pages (≥ 1)
//! ```

use crate::object::{ObjFlags, ObjId, Perms};

/// Bytes before the runs.
pub const HEADER_LEN: usize = 56;
/// Bytes per run.
pub const RUN_LEN: usize = 24;
/// Most runs one record holds.
pub const MAX_RUNS: usize = 128;
/// Longest record.
pub const MAX_RECORD: usize = HEADER_LEN + MAX_RUNS * RUN_LEN;

/// One run of consecutive slot pages in consecutive pmem pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// Offset of the first page in the slot.
    pub slot_offset: u64,
    /// Offset of its frame in the store's region.
    pub pmem_offset: u64,
    /// How many pages.
    pub pages: u64,
}

/// A persistent object as the kernel is told about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attach {
    /// Its ID.
    pub id: ObjId,
    /// Its public-key object.
    pub key: ObjId,
    /// Data-area size.
    pub size: u64,
    /// Flags.
    pub flags: ObjFlags,
    /// Default permissions.
    pub default_perms: Perms,
}

/// Why a record does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// Shorter than its header and runs, or longer than [`MAX_RECORD`].
    BadLength,
    /// No runs, or more than [`MAX_RUNS`].
    BadRunCount,
    /// An undefined flag or permission bit, or PERSISTENT missing.
    BadBits,
    /// A reserved field is not zero.
    Reserved,
    /// A run is empty, unaligned, or leaves the slot.
    BadRun,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// Encodes `a` and `runs` into `out`; returns the length.
pub fn encode(a: &Attach, runs: &[Run], out: &mut [u8; MAX_RECORD]) -> Result<usize, RecordError> {
    if runs.is_empty() || runs.len() > MAX_RUNS {
        return Err(RecordError::BadRunCount);
    }
    out[..HEADER_LEN].fill(0);
    out[0..16].copy_from_slice(&a.id.to_le_bytes());
    out[16..32].copy_from_slice(&a.key.to_le_bytes());
    out[32..40].copy_from_slice(&a.size.to_le_bytes());
    out[40..44].copy_from_slice(&a.flags.bits().to_le_bytes());
    out[44..48].copy_from_slice(&a.default_perms.bits().to_le_bytes());
    out[48..52].copy_from_slice(&(runs.len() as u32).to_le_bytes());
    for (i, r) in runs.iter().enumerate() {
        let at = HEADER_LEN + i * RUN_LEN;
        out[at..at + 8].copy_from_slice(&r.slot_offset.to_le_bytes());
        out[at + 8..at + 16].copy_from_slice(&r.pmem_offset.to_le_bytes());
        out[at + 16..at + 24].copy_from_slice(&r.pages.to_le_bytes());
    }
    Ok(HEADER_LEN + runs.len() * RUN_LEN)
}

/// Checks and decodes a record; the runs go to `f` one by one, each
/// checked (page aligned, non-empty, inside the slot).
pub fn decode(b: &[u8], mut f: impl FnMut(Run)) -> Result<Attach, RecordError> {
    if b.len() < HEADER_LEN || b.len() > MAX_RECORD {
        return Err(RecordError::BadLength);
    }
    let count = u32_at(b, 48) as usize;
    if count == 0 || count > MAX_RUNS {
        return Err(RecordError::BadRunCount);
    }
    if b.len() != HEADER_LEN + count * RUN_LEN {
        return Err(RecordError::BadLength);
    }
    if u32_at(b, 52) != 0 {
        return Err(RecordError::Reserved);
    }
    let flags = ObjFlags::from_bits(u32_at(b, 40)).ok_or(RecordError::BadBits)?;
    let default_perms = Perms::from_bits(u32_at(b, 44)).ok_or(RecordError::BadBits)?;
    if !flags.contains(ObjFlags::PERSISTENT) {
        return Err(RecordError::BadBits);
    }
    let id = |at: usize| {
        let mut w = [0u8; 16];
        w.copy_from_slice(&b[at..at + 16]);
        ObjId::from_le_bytes(w)
    };
    let page = crate::layout::PAGE_SIZE;
    for i in 0..count {
        let at = HEADER_LEN + i * RUN_LEN;
        let r = Run {
            slot_offset: u64_at(b, at),
            pmem_offset: u64_at(b, at + 8),
            pages: u64_at(b, at + 16),
        };
        let end = r
            .pages
            .checked_mul(page)
            .and_then(|n| n.checked_add(r.slot_offset));
        if r.pages == 0
            || !r.slot_offset.is_multiple_of(page)
            || !r.pmem_offset.is_multiple_of(page)
            || r.slot_offset == 0
            || end.is_none_or(|e| e > crate::object::SLOT_SIZE)
        {
            return Err(RecordError::BadRun);
        }
        f(r);
    }
    Ok(Attach {
        id: id(0),
        key: id(16),
        size: u64_at(b, 32),
        flags,
        default_perms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Attach, [Run; 2]) {
        (
            Attach {
                id: ObjId::from_u128(0x1234),
                key: ObjId::NIL,
                size: 5000,
                flags: ObjFlags::PERSISTENT,
                default_perms: Perms::READ | Perms::WRITE,
            },
            [
                Run {
                    slot_offset: 0x1000,
                    pmem_offset: 0x20_0000,
                    pages: 2,
                },
                Run {
                    slot_offset: crate::object::SLOT_SIZE - 0x1000,
                    pmem_offset: 0x30_0000,
                    pages: 1,
                },
            ],
        )
    }

    #[test]
    fn records_round_trip() {
        let (a, runs) = sample();
        let mut buf = [0u8; MAX_RECORD];
        let n = encode(&a, &runs, &mut buf).unwrap();
        let mut got = alloc_free_vec();
        assert_eq!(decode(&buf[..n], |r| got.push(r)), Ok(a));
        assert_eq!(&got.items[..got.len], &runs);
    }

    #[test]
    fn malformed_records_are_refused() {
        let (a, runs) = sample();
        let mut buf = [0u8; MAX_RECORD];
        let n = encode(&a, &runs, &mut buf).unwrap();
        assert_eq!(decode(&buf[..n - 1], |_| {}), Err(RecordError::BadLength));
        let mut b = buf;
        b[52] = 1;
        assert_eq!(decode(&b[..n], |_| {}), Err(RecordError::Reserved));
        let mut b = buf;
        b[40..44].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(decode(&b[..n], |_| {}), Err(RecordError::BadBits));
        let mut b = buf;
        b[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&0x1001u64.to_le_bytes());
        assert_eq!(decode(&b[..n], |_| {}), Err(RecordError::BadRun));
        let mut b = buf;
        let at = HEADER_LEN + RUN_LEN + 16;
        b[at..at + 8].copy_from_slice(&2u64.to_le_bytes());
        assert_eq!(decode(&b[..n], |_| {}), Err(RecordError::BadRun));
        let mut b = buf;
        b[48..52].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(decode(&b[..n], |_| {}), Err(RecordError::BadRunCount));
    }

    struct Few {
        items: [Run; 4],
        len: usize,
    }
    impl Few {
        fn push(&mut self, r: Run) {
            self.items[self.len] = r;
            self.len += 1;
        }
    }
    fn alloc_free_vec() -> Few {
        Few {
            items: [Run {
                slot_offset: 0,
                pmem_offset: 0,
                pages: 0,
            }; 4],
            len: 0,
        }
    }
}
