//! The KSO persistence server's logic (the `ksod` program is
//! `src/main.rs`): the KSO root ([`root`]), what a boot finds in the thread
//! KSOs it lists ([`boot`]), and the `protocols::ksod` service over any
//! object store ([`service`]).
//!
//! # What `ksod` keeps, and how it stays consistent
//!
//! - The **KSO root** is one persistent object, found after any reboot by
//!   the mark in its key field (`protocols::ksod::KSO_ROOT_MARK`). Its data
//!   area is a durable-transaction region (`txn`) holding a table of
//!   `(name, thread KSO, live | quarantined)` entries; each change is one
//!   transaction, and opening the region rolls back a change a power cut
//!   interrupted.
//! - Each **thread KSO** is its own persistent object flagged
//!   `ObjFlags::KSO` (the store attaches its pages to the kernel at once)
//!   and marked with `KSO_THREAD_MARK`. `record` writes its record and has
//!   the store flush and fence it *before* the transaction that lists it,
//!   so the root never names an unwritten record; a cut between the two
//!   leaves an unlisted object, which the next start deletes (an
//!   *orphan*).
//! - Once listed, the record's live fields are the kernel's: `ksod` only
//!   reads them, once, at start — the **boot snapshot** `list` and
//!   `status` report, taken before anything was restarted.
//!
//! Thread KSOs are created readable and not writable by any context: the
//! kernel writes their live fields and `ksod` writes the record through
//! the store, which owns the memory. Known gap: the root is created with
//! default permissions READ | WRITE (as the registry's state object is),
//! because `ksod` maps it to change it in transactions, so any program
//! can map and change it; `ksod` checks every entry it opens.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod boot;
pub mod root;
pub mod service;

#[cfg(test)]
mod tests;

pub use boot::{BootLine, Counts, Seen, Snapshot};
pub use root::{RootEntry, RootError, RootTable};
pub use service::{Ksod, Objects, StartError, start};
