//! The undo log: appending entries, finding the valid ones, rolling back.
//!
//! # Entry (8-byte aligned, at a log offset; little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0 | 8 | sequence number of the transaction |
//! | 8 | 8 | target: offset in the data area of the bytes it undoes |
//! | 16 | 4 | length of the old bytes (at least 1) |
//! | 20 | 4 | log offset of the previous entry, or `u32::MAX` for the first |
//! | 24 | 8 | checksum of bytes 0..24 and the old bytes |
//! | 32 | … | the old bytes, padded to a multiple of 8 |
//!
//! Entries of a transaction start at log offset 0 and follow each other
//! without gaps; the `prev` links let an abort walk them newest first.

use crate::Pmem;
use crate::checksum::Checksum;
use crate::layout::Layout;

/// Bytes before an entry's old bytes.
pub const ENTRY_HEAD: u64 = 32;
/// `prev` of the first entry.
const NO_PREV: u32 = u32::MAX;
/// Bytes copied at a time through the stack.
const CHUNK: usize = 256;

/// Bytes an entry holding `len` old bytes takes in the log.
pub const fn entry_len(len: u64) -> u64 {
    ENTRY_HEAD + len.div_ceil(8) * 8
}

/// What is wrong with a valid-looking (checksummed) log entry. A cut
/// cannot produce these; they mean the region was damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogProblem {
    /// An entry undoes bytes outside the data area, or none.
    BadTarget {
        /// Log offset of the entry.
        at: u64,
        /// Its target.
        target: u64,
        /// Its length.
        len: u32,
    },
    /// An entry links to another predecessor than the entry before it.
    BadLink {
        /// Log offset of the entry.
        at: u64,
        /// The link it holds.
        prev: u32,
    },
}

/// An entry's head, decoded.
#[derive(Clone, Copy, Debug)]
struct Head {
    seq: u64,
    target: u64,
    len: u32,
    prev: u32,
    sum: u64,
}

fn read_head<P: Pmem + ?Sized>(pmem: &P, at: u64) -> ([u8; 24], Head) {
    let mut h = [0u8; 32];
    pmem.read(at, &mut h);
    let word = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().unwrap_or([0; 8]));
    let head = Head {
        seq: word(0),
        target: word(8),
        len: word(16) as u32,
        prev: (word(16) >> 32) as u32,
        sum: word(24),
    };
    let mut first = [0u8; 24];
    first.copy_from_slice(&h[..24]);
    (first, head)
}

/// The valid entries of one transaction in a log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// How many.
    pub count: u64,
    /// Log offset of the newest.
    pub last: Option<u64>,
    /// Log offset just past the newest: where the next one goes.
    pub tail: u64,
}

/// Finds the valid entries of transaction `seq`: from log offset 0, each
/// with that sequence number, a matching checksum and a link to the one
/// before, up to the first that is not (the torn or stale end). A valid
/// entry that targets bytes outside the data area or links wrongly is
/// corruption.
pub(crate) fn scan<P: Pmem + ?Sized>(pmem: &P, l: &Layout, seq: u64) -> Result<Scan, LogProblem> {
    let mut s = Scan::default();
    loop {
        let at = s.tail;
        if at + ENTRY_HEAD > l.log_len {
            return Ok(s);
        }
        let (head_bytes, h) = read_head(pmem, l.log_off() + at);
        let len = u64::from(h.len);
        if h.seq != seq || entry_len(len) > l.log_len - at {
            return Ok(s);
        }
        let mut sum = Checksum::new();
        sum.update(&head_bytes);
        let mut buf = [0u8; CHUNK];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(CHUNK as u64) as usize;
            pmem.read(l.log_off() + at + ENTRY_HEAD + done, &mut buf[..n]);
            sum.update(&buf[..n]);
            done += n as u64;
        }
        if sum.finish() != h.sum {
            return Ok(s);
        }
        let in_data = h.target.checked_add(len).is_some_and(|e| e <= l.data_len);
        if len == 0 || !in_data {
            return Err(LogProblem::BadTarget {
                at,
                target: h.target,
                len: h.len,
            });
        }
        let want = s.last.map_or(NO_PREV, |p| p as u32);
        if h.prev != want {
            return Err(LogProblem::BadLink { at, prev: h.prev });
        }
        s.count += 1;
        s.last = Some(at);
        s.tail = at + entry_len(len);
    }
}

/// Appends an entry for transaction `seq` at log offset `at` holding the
/// current bytes of `[target, target + len)` of the data area, linked to
/// `prev`, and flushes it. The caller checked it fits and the range lies
/// in the data area; it fences.
pub(crate) fn append<P: Pmem + ?Sized>(
    pmem: &mut P,
    l: &Layout,
    at: u64,
    seq: u64,
    target: u64,
    len: u32,
    prev: Option<u64>,
) {
    let prev = prev.map_or(NO_PREV, |p| p as u32);
    let mut head = [0u8; 32];
    head[0..8].copy_from_slice(&seq.to_le_bytes());
    head[8..16].copy_from_slice(&target.to_le_bytes());
    head[16..20].copy_from_slice(&len.to_le_bytes());
    head[20..24].copy_from_slice(&prev.to_le_bytes());
    let mut sum = Checksum::new();
    sum.update(&head[..24]);
    let entry = l.log_off() + at;
    let (len, mut done) = (u64::from(len), 0);
    let mut buf = [0u8; CHUNK];
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        pmem.read(l.data_off() + target + done, &mut buf[..n]);
        pmem.write(entry + ENTRY_HEAD + done, &buf[..n]);
        sum.update(&buf[..n]);
        done += n as u64;
    }
    let pad = entry_len(len) - ENTRY_HEAD - len;
    if pad > 0 {
        pmem.write(entry + ENTRY_HEAD + len, &[0u8; 8][..pad as usize]);
    }
    head[24..32].copy_from_slice(&sum.finish().to_le_bytes());
    pmem.write(entry, &head);
    pmem.flush(entry, entry_len(len));
}

/// Copies the old bytes of every entry back, newest first, starting at
/// log offset `last` (an entry [`scan`] found valid) and following the
/// links; flushes each range. The caller fences.
pub(crate) fn undo<P: Pmem + ?Sized>(pmem: &mut P, l: &Layout, last: Option<u64>) {
    let mut next = last;
    let mut buf = [0u8; CHUNK];
    while let Some(at) = next {
        let (_, h) = read_head(pmem, l.log_off() + at);
        let (len, mut done) = (u64::from(h.len), 0);
        while done < len {
            let n = (len - done).min(CHUNK as u64) as usize;
            pmem.read(l.log_off() + at + ENTRY_HEAD + done, &mut buf[..n]);
            pmem.write(l.data_off() + h.target + done, &buf[..n]);
            done += n as u64;
        }
        pmem.flush(l.data_off() + h.target, len);
        next = (h.prev != NO_PREV).then_some(u64::from(h.prev));
    }
}
