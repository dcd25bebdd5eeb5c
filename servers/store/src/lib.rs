//! The persistent object store's core: how the store lays out the
//! persistent memory (PM) it owns, how every change to that layout stays
//! crash-consistent, the operations the server exposes, the page lookups
//! the kernel asks for, and the checker (`fsck`) that verifies it all.
//!
//! [`StoreServer`] answers the object-store and pager interfaces of
//! [`protocols::objstore`] with a [`Store`]; the server binary only adds the
//! PPC loop, randomness and the ID hash.
//!
//! All PM access goes through [`Pmem`]: [`MappedPmem`] in the guest (mapped
//! NVDIMM, `clwb`/`clflushopt`/`clflush` + `sfence` from
//! `runtime::persist`), [`VecPmem`] for files on the host, and — with the
//! `std` feature or in tests — `CrashSim`, which can produce the image a
//! power cut would leave at any instant.
//!
//! # Layout (4 KiB pages; offsets from the start of the region)
//!
//! ```text
//! page 0          superblock copy A at 0, copy B at 2048 (128 bytes each)
//! log             redo log: commit line, transaction header, records
//! directory       `dir_entries` entries of 256 bytes
//! bitmap          one bit per data page, in u64 words
//! data            `data_pages` pages: objects' data and metadata pages
//! ```
//!
//! The geometry is a pure function of the region size and the directory
//! size ([`Geometry::compute`]); the superblock records it and the checker
//! recomputes it. Formats of each part: [`layout`] (superblock), [`log`],
//! [`dir`] (directory entry), [`bitmap`].
//!
//! An object occupies `meta_pages` pages (the top of its slot: its header
//! and FOT, same layout as any object, [`protocols::object`]) followed by
//! `ceil(size / 4096)` data pages (slot pages 1, 2, … from
//! [`protocols::object::BASE_OFFSET`]), described in its directory entry by
//! up to [`dir::MAX_EXTENTS`] extents of data pages in that logical order.
//!
//! # Crash consistency
//!
//! The only failure-atomic store is an aligned 8-byte word; a cache line
//! reaches PM when flushed and fenced, or at any earlier moment the cache
//! chooses (an eviction), possibly only some of its words. The store relies
//! on nothing else:
//!
//! 1. **Metadata changes only through the redo log.** An operation stages
//!    the new bytes of the directory entry and of the bitmap words it
//!    changes as records, writes them and a checksummed header to the log,
//!    flushes, fences; then writes the 8-byte *commit word* (the
//!    transaction's sequence number), flushes, fences. That fence is the
//!    commit point; the operation is acknowledged only after it. It then
//!    applies the records in place, flushes, fences, and writes the
//!    *applied word*, flushes, fences.
//! 2. **Before the commit, only free pages are written**: a new object's
//!    pages (zeroed, header written) and the bytes past an object's size
//!    that a grow will expose (zeroed) are flushed and fenced before the
//!    transaction commits. Free pages and bytes past a size belong to no
//!    acknowledged state, so a cut before the commit changes nothing
//!    visible.
//! 3. **Recovery** replays the logged transaction when `commit = applied +
//!    1` (records are idempotent whole-byte images), then sets `applied`.
//!    A cut during recovery just recovers again.
//! 4. **The superblock** is rewritten only as a whole copy into the
//!    *other* slot with a higher sequence number and a checksum; a torn
//!    copy fails its checksum and the older copy stays in force.
//!
//! So a cut at any instant leaves, after recovery, the metadata of before
//! or after each operation — never a torn entry, never a page both free and
//! used, never a leak. Object *data* written through [`Store::write`] (or
//! mapped stores) is durable once acknowledged (flushed and fenced), but a
//! multi-word write cut mid-way may be partly written, as with any memory.
//!
//! # Invariants (what [`fsck::check`] verifies, after replaying a pending
//! log transaction the way recovery would)
//!
//! - **S1** At least one superblock copy has the magic, version, page size
//!   and a valid checksum; the newest valid one is in force. Its size fits
//!   the region and its geometry equals [`Geometry::compute`] of its size
//!   and directory size.
//! - **L1** `applied ≤ commit ≤ applied + 1`; if `commit = applied + 1` the
//!   log header names that sequence number, its checksum holds and every
//!   record targets the directory or bitmap.
//! - **D1** Every directory entry is all zero (free) or used: magic state,
//!   valid checksum, non-nil ID, defined flags including `PERSISTENT`,
//!   defined permissions, `1 ≤ meta_pages`, `1 ≤ extent count ≤
//!   MAX_EXTENTS`, size within the data area, unused extent slots zero.
//! - **D2** Every extent is non-empty and inside the data pages; the
//!   extents of an entry hold exactly `meta_pages + ceil(size / 4096)`
//!   pages.
//! - **D3** No two used entries have the same ID.
//! - **B1** A data page's bitmap bit is set if and only if exactly one
//!   extent of one used entry covers it: no page is shared, none leaks,
//!   none is used unmarked. Bits past `data_pages` are zero.
//! - **H1** Every object's top metadata page holds a valid object header
//!   whose key, default permissions and flags equal its directory entry's.

#![cfg_attr(not(test), no_std)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod bitmap;
mod checksum;
#[cfg(any(test, feature = "std"))]
mod crashsim;
pub mod dir;
pub mod fsck;
pub mod layout;
pub mod log;
mod pmem;
mod report;
mod server;
mod store;

#[cfg(test)]
mod tests;

#[cfg(any(test, feature = "std"))]
pub use crashsim::{CrashSim, CutPolicy};
pub use layout::{FormatOptions, Geometry};
#[cfg(target_arch = "x86_64")]
pub use pmem::MappedPmem;
pub use pmem::{Pmem, VecPmem};
pub use server::{IdSource, StoreServer, check_report};
pub use store::{FormatError, LastRun, OpenError, Opened, Store};

pub use protocols::objstore::{CreateSpec, ObjInfo, StoreError};

/// Page size of the store (and of the kernel's mappings).
pub const PAGE: u64 = 4096;
/// Cache-line size: the unit of write-back.
pub const LINE: u64 = 64;
