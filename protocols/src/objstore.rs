//! `ObjStore`: the object store server's interface (persistent objects on
//! the NVDIMM), and [`pager`], the interface the kernel uses to ask the
//! store where a persistent object's page lives.
//!
//! Sizes are in bytes of the object's data area, which starts at
//! [`crate::object::BASE_OFFSET`] in the slot; `read`/`write` offsets are
//! relative to that base (offset 0 is the object's first data byte). A
//! persistent object has the same layout as any other
//! ([`crate::object`]): its header and FOT live at the top of the slot.
//!
//! The store acts for its caller, so it asks the kernel what the caller's
//! active security context grants on the object (`ppc_caller_perms`) and
//! answers [`StoreError::Denied`] unless it grants READ for `read`, WRITE
//! for `write` and `resize`, and DELETE for `delete`: the same rights the
//! caller's own access to the object would need, so the store is no way
//! around the capability system. `create`, `create_with`, `stat`, `list`
//! and `check` need none.

use serde::{Deserialize, Serialize};

use crate::ipc::{Bytes, Text};
use crate::object::{ObjFlags, ObjId, Perms};

/// Most bytes one `read` or `write` moves (the shell's `obj read/write`).
pub const MAX_RW: usize = 1024;
/// Most objects one `list` reply holds.
pub const MAX_LIST: usize = 16;
/// Longest checker report `check` returns.
pub const MAX_REPORT: usize = 2048;

/// What `create` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSpec {
    /// Data-area size in bytes (may be 0).
    pub size: u64,
    /// Creation flags ([`ObjFlags::PERSISTENT`] is implied).
    pub flags: ObjFlags,
    /// What every context may do without a capability.
    pub default_perms: Perms,
    /// The object naming the new object's public key (nil: none).
    pub key: ObjId,
}

/// What the store knows about one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjInfo {
    /// The object's ID.
    pub id: ObjId,
    /// Data-area size in bytes.
    pub size: u64,
    /// Creation flags.
    pub flags: ObjFlags,
    /// Default permissions.
    pub default_perms: Perms,
    /// Public-key object (nil: none).
    pub key: ObjId,
    /// Persistent-memory pages the object occupies (data and metadata).
    pub pages: u32,
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPage {
    /// Objects, in directory order.
    pub objects: heapless::Vec<ObjInfo, MAX_LIST>,
    /// The cursor to pass for the next page; `None` at the end.
    pub next: Option<u64>,
}

/// The result of running the checker (`fsck`) over the store's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// How many problems were found (0: every invariant holds).
    pub findings: u32,
    /// The findings, one per line, as much as fits.
    pub text: Text<MAX_REPORT>,
}

/// Why an object-store call failed. Nothing changed on a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreError {
    /// No object has that ID.
    NotFound,
    /// An object with that ID already exists.
    Exists,
    /// The nil ID names no object.
    NilId,
    /// Not enough free persistent memory.
    NoSpace,
    /// The object directory is full.
    DirectoryFull,
    /// The free space is too fragmented to describe the object in one
    /// directory entry.
    TooFragmented,
    /// Larger than an object can be (its data area).
    TooLarge,
    /// An offset or length past the object's data.
    OutOfRange,
    /// Offset 0 of the slot is the null page; it is never backed.
    NullPage,
    /// The slot page is in neither the data area nor the metadata pages.
    NotBacked,
    /// The caller may not do this.
    Denied,
    /// The store's metadata is damaged (the checker says how).
    Corrupt,
}

crate::interface! {
    /// The object store.
    interface ObjStore {
        id: u64::from_le_bytes(*b"OBJSTOR1"),
        error: StoreError,
        gates {
            /// Creates a persistent object; replies once it is durable.
            1 => Create fn create(spec: CreateSpec) -> ObjInfo;
            /// Deletes an object; its space is reusable at once.
            2 => Delete fn delete(id: ObjId) -> ();
            /// Grows (new bytes read as zero) or shrinks an object.
            3 => Resize fn resize(id: ObjId, size: u64) -> ObjInfo;
            /// Describes an object.
            4 => Stat fn stat(id: ObjId) -> ObjInfo;
            /// Lists up to `max` objects from `cursor` (0: the start).
            5 => List fn list(cursor: u64, max: u8) -> ListPage;
            /// Reads `len` bytes of the data area at `offset`.
            6 => Read fn read(id: ObjId, offset: u64, len: u32) -> Bytes<MAX_RW>;
            /// Writes bytes into the data area at `offset`; replies once
            /// they are durable.
            7 => Write fn write(id: ObjId, offset: u64, data: Bytes<MAX_RW>) -> ();
            /// Runs the checker over the store's metadata.
            8 => Check fn check() -> CheckReport;
            /// Marks the store shut down cleanly (the system is powering
            /// off): the next start knows the run ended on purpose. Any
            /// later change clears the mark again.
            9 => Shutdown fn shutdown() -> ();
            /// Creates a persistent object like `create` with `data` at the
            /// start of its data area; replies once both are durable. (A
            /// creator may give an object permissions that do not let it
            /// write, e.g. a record readable by all and writable by none.)
            10 => CreateWith fn create_with(spec: CreateSpec, data: Bytes<MAX_RW>) -> ObjInfo;
        }
    }
}

/// The kernel ↔ store interface: where a persistent object's pages live.
pub mod pager {
    use super::StoreError;
    use crate::object::ObjId;

    crate::interface! {
        /// Page lookups for the kernel's mapping of persistent objects.
        interface Pager {
            id: u64::from_le_bytes(*b"OBJPAGR1"),
            error: StoreError,
            gates {
                /// The persistent-memory offset (from the start of the
                /// store's region) of slot page `page` of object `id`.
                /// The kernel maps that frame directly: loads and stores go
                /// to the NVDIMM.
                1 => Lookup fn lookup(id: ObjId, page: u32) -> u64;
            }
        }
    }
}

#[cfg(test)]
mod tests;
