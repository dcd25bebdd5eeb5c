//! The runtime library for Perennial objects and invariant pointers
//! (report §2).
//!
//! Programs build persistent data structures out of **objects** and
//! **invariant pointers** without ever storing a virtual address:
//!
//! - [`Space`] is one address space's view of objects: it maps objects
//!   into free slots through a [`Mapper`] (the kernel's view object in the
//!   guest, `host::HeapMapper` on the host) and keeps, per mapping, a cache
//!   from FOT index to the mapping of its target.
//! - [`Object<T>`] is a typed handle on a mapped object whose base (at
//!   `BASE_OFFSET`, just past the null page) is a `T`.
//! - [`InvPtr<T>`] is one `u64`, `FOT index : offset`, meaningful only
//!   inside the object that holds it. [`InvPtr::resolve`] turns it into a
//!   [`Ref`]: an already-mapped target costs a shift, a mask, one indexed
//!   load from the cache and a bounds check.
//! - [`fot`] adds, deduplicates, reference-counts and rebinds FOT entries in
//!   place in the object's bytes (the claim word is updated atomically).
//!
//! Every format comes from `protocols` (`protocols::object`,
//! `protocols::fot`); this crate only manipulates it. Handles are
//! single-threaded (`Rc`); the object bytes themselves may be shared, and the
//! FOT's claim-word protocol keeps concurrent writers of one object apart.

#![cfg_attr(not(any(test, feature = "std")), no_std)]

extern crate alloc;

mod error;
pub mod fot;
mod invariant;
pub mod kernel;
mod mem;
mod object;
mod ptr;
pub mod setup;
mod space;

#[cfg(any(test, feature = "std"))]
pub mod host;

#[cfg(test)]
mod tests;

pub use error::ObjError;
pub use invariant::Invariant;
pub use mem::ObjMem;
pub use object::{Holder, Object, Ref};
pub use ptr::InvPtr;
pub use space::{MapError, Mapper, Mapping, NameResolver, SlotBase, Space};

pub use protocols::object::{ObjId, Perms};
