//! Durable transactions on persistent memory.
//!
//! A *transactional region* is a range of a persistent object (any
//! [`Pmem`]) holding a checksummed header, an undo log and a user data
//! area. Changes to the data area made inside a [`Transaction`] become
//! durable together at [`Transaction::commit`], or not at all: a power cut
//! at any instant leaves, once the region is opened again, the data of
//! before the transaction or of after it, never a mix. Opening a region
//! ([`Tx::open`]) runs recovery itself, so a server or program that opens
//! its objects after a cut finds them consistent without doing anything.
//!
//! ```text
//! let mut tx = Tx::open_or_format(pmem, Layout::new(0, 4096, 65536))?;
//! let mut t = tx.begin();
//! t.write_u64(0, balance - 10)?;
//! t.write_u64(8, other + 10)?;
//! t.commit()?;              // both words durable, or (after a cut) neither
//! ```
//!
//! [`TxMap`] is a fixed-capacity persistent map built on top.
//!
//! # Layout of a region (offsets from its base, which is 64-byte aligned)
//!
//! | off | len | what |
//! |----:|----:|------|
//! | 0 | 64 | header: magic, version, log and data lengths, checksum ([`layout`]) |
//! | 64 | 8 | state word: `seq << 1 \| active` |
//! | 128 | `log_len` | undo log: entries `seq, target, len, prev, checksum, old bytes` ([`log`]) |
//! | 128 + `log_len` | `data_len` | the data area the transactions change |
//!
//! # The protocol (undo logging)
//!
//! The only failure-atomic store is an aligned 8-byte word, and a cache
//! line reaches the media when flushed ([`Pmem::flush`]: `clwb`,
//! `clflushopt` or `clflush`) and fenced ([`Pmem::fence`]: `sfence`), or at
//! any earlier moment the cache evicts it. The transaction relies on
//! nothing else:
//!
//! 1. **Log before write.** `write(off, bytes)` appends an entry holding
//!    the *old* bytes at `off`, tagged with the transaction's sequence
//!    number and checksummed; flushes it; for the first write also stores
//!    the state word `seq << 1 | 1` (active) and flushes it; **fences**.
//!    Only then does it store the new bytes in place and flush them (no
//!    fence yet). So no new byte can reach the media before the entry that
//!    can undo it.
//! 2. **Commit.** A **fence** makes every in-place write durable; then the
//!    state word becomes `seq << 1` (inactive), is flushed and **fenced**:
//!    that fence is the commit point. `commit` returns after it, so an
//!    acknowledged transaction is durable.
//! 3. **Abort** (dropping the guard, or [`Transaction::abort`]) and
//!    **recovery** (opening a region whose state word says active) walk
//!    the valid entries of the active sequence number from the newest to
//!    the oldest, copy each one's old bytes back and flush them, **fence**,
//!    then clear the active bit, flush, **fence**. Undo is idempotent, so a
//!    cut during recovery just recovers again.
//!
//! An entry is valid when its sequence number is the active one, its
//! checksum holds and it links to the entry before it. The first entry
//! that is not valid ends the log: entries are written in order and each is
//! fenced before the next is begun, so an invalid entry is the torn last
//! one, whose in-place write never started. A *valid* entry that targets
//! bytes outside the data area or links to the wrong predecessor cannot
//! come from a cut; it is corruption, reported as
//! [`OpenError::CorruptLog`], and nothing is applied. Formatting zeroes the
//! log, and every transaction takes a new sequence number, so stale
//! entries never pass as current ones.
//!
//! A transaction that only reads writes nothing and fences nothing. A
//! small update costs three fences (log, data, commit) against one for an
//! unlogged flush + fence; `txn-bench` measures both.
//!
//! # Nesting
//!
//! Nesting is *flattened*: [`Transaction::begin`] inside a transaction
//! joins it. An inner commit only ends the inner scope; the outermost
//! commit makes everything durable. An inner abort rolls the **whole**
//! transaction back at once; the outer guard then refuses further writes
//! and its commit returns [`TxError::Aborted`]. Code that should work both
//! standalone and inside a caller's transaction takes `&mut impl`
//! [`Begin`].
//!
//! # Damage
//!
//! Opening never panics on what the region holds. A header with a wrong
//! magic, checksum, version, reserved bits or layout is an
//! [`OpenError`]; so is a checksummed log entry that points outside the
//! data area or links wrongly, and then nothing is applied. An entry whose
//! checksum fails ends the log (that is what a cut leaves), so damage to
//! the log of an *unfinished* transaction can shorten its rollback; the
//! log of a finished one is never read. The map checks its own slots
//! ([`MapError`]).
//!
//! # In the guest
//!
//! A program or server maps a persistent object and wraps the range in
//! `store::MappedPmem` (whose flush and fence are `runtime::persist`), then
//! opens a region in it with [`Tx::open_or_format`]: after a power cut,
//! that call is the recovery.
//!
//! # Concurrency
//!
//! A [`Tx`] owns its region (`&mut` access); one transaction runs at a
//! time per region. Servers that share a region between threads wrap the
//! `Tx` in their lock.

#![cfg_attr(not(test), no_std)]

mod checksum;
mod guard;
pub mod layout;
pub mod log;
pub mod map;
mod tx;

#[cfg(test)]
mod tests;

pub use guard::{Begin, Transaction, atomically};
pub use layout::{Layout, OpenError};
pub use log::LogProblem;
pub use map::{MapError, MapTxn, TxMap};
pub use store::Pmem;
pub use tx::{Recovery, Tx, TxError};

/// Cache-line size: the unit of write-back.
pub const LINE: u64 = 64;
