//! What every Perennial name resolver shares (report §7, ARCHITECTURE.md
//! "Servers": Nomenclature).
//!
//! - [`Persisted`]: a resolver's state kept in persistent memory (any
//!   [`store::Pmem`]: a mapped persistent object in the guest, a `Vec` or
//!   the store's `CrashSim` on the host), updated crash-consistently by a
//!   shadow copy and an atomic commit word.
//! - [`Resolve`]: the trait a resolver's state implements — the only thing
//!   a new resolver writes (see the `resolver-template` crate).
//! - [`ResolverService`]: turns any [`Resolve`] state plus its persistent
//!   memory into a server of [`protocols::resolver::Resolver`]: reads answer
//!   from the state, every change is committed durably before it is
//!   acknowledged, and the commit sequence number is the resolver's epoch.
//! - [`RegistryService`]: the registry of resolvers (name → identity, with
//!   generations), persistent the same way.
//! - [`Remote`]: a resolver reached through a PPC client, usable wherever
//!   a local one is (the POSIX layer, late binding).

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod checksum;
pub mod config;
pub mod name;
mod registry;
mod remote;
mod resolve;
mod state;

#[cfg(test)]
mod tests;

pub use registry::{Registry, RegistryService};
pub use remote::{Remote, StoreEnv};
pub use resolve::{Env, Resolve, ResolverService, SeqIds, page};
pub use state::{HEADER_LEN, Persisted, StateError};

pub use protocols::resolver::{EntryKind, ListPage, Matches, NameError, Resolved, Tag};
pub use store::Pmem;
