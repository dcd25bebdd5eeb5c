//! The redo log: how a metadata change becomes durable atomically.
//!
//! # Log region (at the geometry's log offset, little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 8   | commit word: sequence number of the last committed transaction |
//! | 8   | 8   | applied word: sequence number of the last transaction applied in place |
//! | 64  | 8   | transaction header: its sequence number |
//! | 72  | 4   | record count |
//! | 76  | 4   | body length in bytes |
//! | 80  | 8   | checksum of bytes 64..80 and the body |
//! | 128 | …   | body: records, each `target u64, len u32, zero u32`, then `len` bytes padded to 8 |
//!
//! The protocol (crate docs, "Crash consistency"): body and header, flush,
//! fence; commit word, flush, fence (the commit point); records in place,
//! flush, fence; applied word, flush, fence. Recovery replays when
//! `commit = applied + 1` and the header checks out.

use alloc::vec;
use alloc::vec::Vec;

use crate::Pmem;
use crate::checksum::checksum;
use crate::dir::ENTRY_SIZE;
use crate::layout::Geometry;

/// Offset of the transaction header in the log.
const HEADER: u64 = 64;
/// Offset of the body in the log.
const BODY: u64 = 128;
/// Length of a record's head.
const RECORD_HEAD: u64 = 16;
/// Log bytes beyond the bitmap a transaction may need: the commit line,
/// the header line, two record heads and one directory entry.
pub const LOG_FIXED: u64 = BODY + 2 * RECORD_HEAD + ENTRY_SIZE;

/// A transaction being built: byte images of metadata to write in place.
#[derive(Clone, Debug, Default)]
pub struct Txn {
    records: Vec<(u64, Vec<u8>)>,
}

impl Txn {
    /// An empty transaction.
    pub fn new() -> Txn {
        Txn::default()
    }

    /// Adds a record: write `bytes` at `target`.
    pub fn write(&mut self, target: u64, bytes: &[u8]) {
        self.records.push((target, bytes.to_vec()));
    }

    fn body(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for (target, data) in &self.records {
            body.extend_from_slice(&target.to_le_bytes());
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(&[0; 4]);
            body.extend_from_slice(data);
            body.resize(body.len().next_multiple_of(8), 0);
        }
        body
    }
}

/// What is wrong with the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogProblem {
    /// The words are not `applied ≤ commit ≤ applied + 1`.
    Words {
        /// Commit word.
        commit: u64,
        /// Applied word.
        applied: u64,
    },
    /// The pending transaction's header names another sequence number.
    WrongSeq {
        /// Committed.
        commit: u64,
        /// In the header.
        header: u64,
    },
    /// The body length does not fit the log.
    BodyTooLong(u32),
    /// The checksum does not match header and body.
    BadChecksum {
        /// Stored.
        stored: u64,
        /// Computed.
        computed: u64,
    },
    /// Record `index` runs past the body or targets anything but the
    /// directory and bitmap.
    BadRecord {
        /// Which record.
        index: u32,
        /// Its target offset.
        target: u64,
        /// Its length.
        len: u32,
    },
}

/// The log's state: sequence numbers and, if one is committed but not
/// applied, its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogState {
    /// Last committed sequence number.
    pub commit: u64,
    /// Last applied sequence number.
    pub applied: u64,
    /// The pending transaction's records (`commit = applied + 1`).
    pub pending: Option<Vec<(u64, Vec<u8>)>>,
}

/// Reads and checks the log (invariant L1).
pub fn read<P: Pmem + ?Sized>(pmem: &P, g: &Geometry) -> Result<LogState, LogProblem> {
    let commit = pmem.read_u64(g.log_off);
    let applied = pmem.read_u64(g.log_off + 8);
    if commit == applied {
        return Ok(LogState {
            commit,
            applied,
            pending: None,
        });
    }
    if applied.checked_add(1) != Some(commit) {
        return Err(LogProblem::Words { commit, applied });
    }
    let mut head = [0u8; 24];
    pmem.read(g.log_off + HEADER, &mut head);
    let seq = u64::from_le_bytes(head[0..8].try_into().unwrap_or_default());
    if seq != commit {
        return Err(LogProblem::WrongSeq {
            commit,
            header: seq,
        });
    }
    let count = u32::from_le_bytes(head[8..12].try_into().unwrap_or_default());
    let body_len = u32::from_le_bytes(head[12..16].try_into().unwrap_or_default());
    if u64::from(body_len) > g.log_len - BODY {
        return Err(LogProblem::BodyTooLong(body_len));
    }
    let mut body = vec![0u8; body_len as usize];
    pmem.read(g.log_off + BODY, &mut body);
    let stored = u64::from_le_bytes(head[16..24].try_into().unwrap_or_default());
    let computed = checksum(&[&head[..16], &body]);
    if stored != computed {
        return Err(LogProblem::BadChecksum { stored, computed });
    }
    let mut records = Vec::new();
    let mut at = 0usize;
    for index in 0..count {
        let bad = |target, len| LogProblem::BadRecord { index, target, len };
        let Some(h) = body.get(at..at + RECORD_HEAD as usize) else {
            return Err(bad(0, 0));
        };
        let target = u64::from_le_bytes(h[0..8].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(h[8..12].try_into().unwrap_or_default());
        let start = at + RECORD_HEAD as usize;
        let data = body
            .get(start..start + len as usize)
            .ok_or(bad(target, len))?;
        let in_meta = target >= g.dir_off
            && target
                .checked_add(u64::from(len))
                .is_some_and(|end| end <= g.data_off);
        if !in_meta {
            return Err(bad(target, len));
        }
        records.push((target, data.to_vec()));
        at = (start + len as usize).next_multiple_of(8);
    }
    if at != body.len() {
        return Err(LogProblem::BadRecord {
            index: count,
            target: 0,
            len: (body.len() - at) as u32,
        });
    }
    Ok(LogState {
        commit,
        applied,
        pending: Some(records),
    })
}

fn persist<P: Pmem + ?Sized>(pmem: &mut P, off: u64, bytes: &[u8]) {
    pmem.write(off, bytes);
    pmem.flush(off, bytes.len() as u64);
}

/// Applies `records` in place and marks `seq` applied.
pub fn apply<P: Pmem + ?Sized>(pmem: &mut P, g: &Geometry, seq: u64, records: &[(u64, Vec<u8>)]) {
    for (target, data) in records {
        persist(pmem, *target, data);
    }
    pmem.fence();
    persist(pmem, g.log_off + 8, &seq.to_le_bytes());
    pmem.fence();
}

/// Commits `txn` as sequence number `seq` (the previous one applied), then
/// applies it. Durable when this returns; the commit point is the fence
/// after the commit word. Everything the caller flushed before the call is
/// durable before that commit point (the fence before the commit word
/// covers it), so callers need no fence of their own.
pub fn commit<P: Pmem + ?Sized>(pmem: &mut P, g: &Geometry, seq: u64, txn: Txn) {
    let body = txn.body();
    assert!(
        body.len() as u64 <= g.log_len - BODY,
        "a transaction outgrew the log the geometry sized for it"
    );
    let mut head = [0u8; 24];
    head[0..8].copy_from_slice(&seq.to_le_bytes());
    head[8..12].copy_from_slice(&(txn.records.len() as u32).to_le_bytes());
    head[12..16].copy_from_slice(&(body.len() as u32).to_le_bytes());
    let sum = checksum(&[&head[..16], &body]);
    head[16..24].copy_from_slice(&sum.to_le_bytes());
    persist(pmem, g.log_off + BODY, &body);
    persist(pmem, g.log_off + HEADER, &head);
    pmem.fence();
    persist(pmem, g.log_off, &seq.to_le_bytes());
    pmem.fence();
    apply(pmem, g, seq, &txn.records);
}

/// Whether the log holds a committed transaction not yet applied (what
/// [`recover`] would replay).
pub fn pending<P: Pmem + ?Sized>(pmem: &P, g: &Geometry) -> Result<bool, LogProblem> {
    read(pmem, g).map(|s| s.pending.is_some())
}

/// Recovery: replays a committed, unapplied transaction. Returns the last
/// sequence number.
pub fn recover<P: Pmem + ?Sized>(pmem: &mut P, g: &Geometry) -> Result<u64, LogProblem> {
    let state = read(pmem, g)?;
    if let Some(records) = &state.pending {
        apply(pmem, g, state.commit, records);
    }
    Ok(state.commit)
}
