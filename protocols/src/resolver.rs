//! `Resolver` and `Registry`: the Nomenclature interfaces (report §7).
//!
//! A **resolver** is a server that turns names into object IDs. Every
//! resolver speaks the same [`Resolver`] interface; what a name looks like
//! and which optional gates do anything depends on its kind:
//!
//! - hierarchical: paths (`/home/a/notes`), `bind`, `unbind`, `rename`,
//!   `list`, `mkdir`;
//! - attribute: `tag` objects with `key=value` pairs and `query` them
//!   (`type=account owner=alice`);
//! - current-version: `publish` moves a name, `history` lists where it
//!   pointed.
//!
//! A gate a resolver does not support answers [`NameError::Unsupported`].
//! `custom` carries operations of resolvers added later without changing
//! this interface.
//!
//! Every resolver reports an **epoch**: a number that changes whenever any
//! binding changes. A late-binding cache compares epochs to learn, with one
//! cheap call, that a cached ID may have moved.
//!
//! The **registry** maps resolver names (`"hier"`, `"attr"`, …) to the
//! resolver's identity: the object naming it (what a FOT name entry holds)
//! and the gate to call it through, with a generation bumped on every
//! re-registration so a stale incarnation is never reached. The registry is
//! itself reachable by a well-known object ID ([`REGISTRY_ID`]) and name
//! ([`REGISTRY_NAME`]).

use serde::{Deserialize, Serialize};

use crate::ipc::{Bytes, Text};
use crate::object::ObjId;

/// Longest name (path, query, …) one call carries, in bytes.
pub const MAX_NAME: usize = 256;
/// Longest single path component (or tag key/value, entry name), in bytes.
pub const MAX_COMPONENT: usize = 64;
/// Most entries one `list` page holds.
pub const MAX_LIST: usize = 16;
/// Most IDs one query or history page holds.
pub const MAX_MATCHES: usize = 32;
/// Most tags one `tag` call sets.
pub const MAX_TAGS: usize = 8;
/// Longest resolver name in the registry.
pub const MAX_RESOLVER_NAME: usize = 32;
/// Most registry records one `list` page holds.
pub const MAX_RECORDS: usize = 16;
/// Largest argument or result of a `custom` call.
pub const MAX_CUSTOM: usize = 1024;

/// The registry's well-known object ID: FOT name entries and programs that
/// know nothing else reach the registry through it.
pub const REGISTRY_ID: ObjId = ObjId::from_u128(u128::from_le_bytes(*b"NOMENCLATURE-REG"));
/// The registry's well-known name (in the registry and the shell).
pub const REGISTRY_NAME: &str = "registry";

/// A name in a call: a path, a query, a plain name.
pub type Name = Text<MAX_NAME>;
/// A path component, tag key or tag value.
pub type Component = Text<MAX_COMPONENT>;

/// What a binding names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntryKind {
    /// A plain object (a file, an account record, …).
    Object,
    /// A directory: an object holding further bindings.
    Directory,
}

/// A successful resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// The object the name names now.
    pub id: ObjId,
    /// What it is.
    pub kind: EntryKind,
    /// The resolver's epoch at the time of the answer.
    pub epoch: u64,
}

/// One binding in a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// The name within the listed directory.
    pub name: Component,
    /// The object it names.
    pub id: ObjId,
    /// What it is.
    pub kind: EntryKind,
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPage {
    /// Entries in name order.
    pub entries: heapless::Vec<DirEntry, MAX_LIST>,
    /// The cursor for the next page; `None` at the end.
    pub next: Option<u64>,
}

/// One page of matching objects (a query, a history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matches {
    /// The matching objects (oldest first for a history).
    pub ids: heapless::Vec<ObjId, MAX_MATCHES>,
    /// How many objects match in all (may exceed `ids.len()`).
    pub total: u32,
    /// The cursor for the next page; `None` at the end.
    pub next: Option<u64>,
}

/// One `key=value` tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tag {
    /// The key (no `=`, no whitespace).
    pub key: Component,
    /// The value (no whitespace).
    pub value: Component,
}

/// What a resolver says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolverInfo {
    /// Its kind (`"hierarchical"`, `"attribute"`, …).
    pub kind: Text<MAX_RESOLVER_NAME>,
    /// Its current epoch.
    pub epoch: u64,
    /// How many bindings it holds.
    pub bindings: u64,
}

/// Why a resolver call failed. Nothing changed on a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NameError {
    /// The name (its last component) is not bound.
    NotFound,
    /// A component before the last is not bound (`/a/b/c` with no `/a/b`).
    MissingComponent,
    /// The name is already bound.
    Exists,
    /// A component used as a directory names a plain object.
    NotADirectory,
    /// The operation needs a plain object and the name is a directory.
    IsADirectory,
    /// The directory still holds bindings.
    NotEmpty,
    /// The name is empty, too long, or has a character the resolver refuses.
    InvalidName,
    /// The operation would move a directory inside itself.
    WouldLoop,
    /// A query matched more than one object where one was asked for.
    Ambiguous(u32),
    /// This resolver does not implement the operation.
    Unsupported,
    /// The resolver's persistent state is full.
    NoSpace,
    /// The resolver's persistent state failed its checks.
    Corrupt,
    /// The resolver could not be reached (gone, restarted, refused).
    Unavailable,
}

crate::interface! {
    /// A name resolver.
    interface Resolver {
        id: u64::from_le_bytes(*b"RESOLVR1"),
        error: NameError,
        gates {
            /// What `name` names now.
            1 => Resolve fn resolve(name: Name) -> Resolved;
            /// Binds `name` to object `id` of kind `kind` (`Exists` if bound).
            2 => Bind fn bind(name: Name, id: ObjId, kind: EntryKind) -> ();
            /// Removes the binding of `name` and returns what it named
            /// (`NotEmpty` for a directory holding bindings).
            3 => Unbind fn unbind(name: Name) -> Resolved;
            /// Lists the bindings in directory `name` from `cursor` (0: start).
            4 => List fn list(name: Name, cursor: u64) -> ListPage;
            /// Moves the binding `from` to `to`, replacing a plain object
            /// or an empty directory already bound at `to` (whose ID it
            /// returns, nil if none).
            5 => Rename fn rename(from: Name, to: Name) -> ObjId;
            /// Creates a directory at `name` and returns its object ID.
            6 => Mkdir fn mkdir(name: Name) -> ObjId;
            /// The objects a resolver-specific query matches, from `cursor`.
            7 => Query fn query(query: Name, cursor: u64) -> Matches;
            /// Sets tags on object `id` (a tag with an empty value removes
            /// the key).
            8 => SetTags fn set_tags(id: ObjId, tags: heapless::Vec<Tag, MAX_TAGS>) -> ();
            /// Moves `name` to object `id` (creating it if unbound) and
            /// returns the new version number (1 for the first).
            9 => Publish fn publish(name: Name, id: ObjId) -> u64;
            /// The objects `name` has named, oldest first, from `cursor`.
            10 => History fn history(name: Name, cursor: u64) -> Matches;
            /// The resolver's kind, epoch and size.
            11 => Info fn info() -> ResolverInfo;
            /// An operation specific to one resolver kind (`op` is its own).
            12 => Custom fn custom(op: u32, arg: Bytes<MAX_CUSTOM>) -> Bytes<MAX_CUSTOM>;
        }
    }
}

/// A resolver's identity in the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolverRecord {
    /// The name it is registered under.
    pub name: Text<MAX_RESOLVER_NAME>,
    /// The object naming the resolver: what FOT name entries hold.
    pub id: ObjId,
    /// The gate (capability handle) to call it through.
    pub gate: u64,
    /// Bumped each time the name is registered again (a restart).
    pub generation: u64,
}

/// One page of the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPage {
    /// Records in name order.
    pub records: heapless::Vec<ResolverRecord, MAX_RECORDS>,
    /// The cursor for the next page; `None` at the end.
    pub next: Option<u64>,
}

/// Why a registry call failed. Nothing changed on a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistryError {
    /// No resolver is registered under that name (or ID).
    NotFound,
    /// The name is empty, too long or not `[a-z0-9_-]`.
    InvalidName,
    /// Another name already uses that resolver object ID.
    IdInUse,
    /// The generation given is not the registered one (a stale caller).
    StaleGeneration(u64),
    /// The name is reserved (the registry's own).
    Reserved,
    /// The registry is full.
    NoSpace,
    /// The registry's persistent state failed its checks.
    Corrupt,
}

/// The registry's interface (its own module: one interface per module).
pub mod registry {
    use super::{MAX_RESOLVER_NAME, RecordPage, RegistryError, ResolverRecord};
    use crate::ipc::Text;
    use crate::object::ObjId;

    crate::interface! {
        /// The registry of resolvers.
        interface Registry {
            id: u64::from_le_bytes(*b"RESOLREG"),
            error: RegistryError,
            gates {
                /// Registers (or re-registers, bumping the generation)
                /// resolver `name` with object `id` and gate `gate`;
                /// returns its record.
                1 => Register fn register(name: Text<MAX_RESOLVER_NAME>, id: ObjId, gate: u64) -> ResolverRecord;
                /// Removes `name` if its generation is still `generation`.
                2 => Unregister fn unregister(name: Text<MAX_RESOLVER_NAME>, generation: u64) -> ();
                /// The record registered under `name`.
                3 => Lookup fn lookup(name: Text<MAX_RESOLVER_NAME>) -> ResolverRecord;
                /// The record of the resolver whose object is `id` (how a
                /// FOT name entry's resolver is found).
                4 => LookupId fn lookup_id(id: ObjId) -> ResolverRecord;
                /// Lists records from `cursor` (0: the start).
                5 => List fn list(cursor: u64) -> RecordPage;
            }
        }
    }
}

#[cfg(test)]
mod tests;
