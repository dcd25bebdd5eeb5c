//! The one error type of the object runtime.

use protocols::fot::FotError;
use protocols::object::HeaderError;

use crate::space::MapError;

/// Why an object operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjError {
    /// Dereferencing the null pointer.
    Null,
    /// An offset outside the data area (the null page, the metadata or past
    /// the slot) for a value of this size.
    OutOfRange(u64),
    /// An offset not aligned for the pointee type.
    Misaligned(u64),
    /// A FOT index past the holding object's FOT.
    BadIndex(u32),
    /// The FOT entry is free, busy or malformed.
    Entry(FotError),
    /// A name entry and no name resolver (or the resolver does not know the name).
    NameUnresolved,
    /// The object's header is malformed.
    Header(HeaderError),
    /// The mapper could not map the object.
    Map(MapError),
    /// A write through a read-only mapping.
    NotWritable,
    /// The FOT has no room for another entry.
    FotFull,
    /// Kernel state objects hold no pointers.
    KsoHoldsNoPointers,
    /// The data area has no room for the allocation.
    OutOfSpace,
    /// Releasing a pointer whose entry has no references left.
    NotReferenced(u32),
    /// The entry's reference count is saturated.
    TooManyRefs(u32),
}

impl From<MapError> for ObjError {
    fn from(e: MapError) -> ObjError {
        ObjError::Map(e)
    }
}

impl From<HeaderError> for ObjError {
    fn from(e: HeaderError) -> ObjError {
        ObjError::Header(e)
    }
}

impl From<FotError> for ObjError {
    fn from(e: FotError) -> ObjError {
        ObjError::Entry(e)
    }
}
