//! `InvPtr<T>`: a typed invariant pointer, one `u64`.

use core::fmt;
use core::marker::PhantomData;

use protocols::fot::{self, PtrError};
use protocols::object::BASE_OFFSET;

use crate::error::ObjError;
use crate::invariant::Invariant;
use crate::mem::ObjMem;
use crate::object::{Holder, Ref};

/// An invariant pointer to a `T`: `FOT index : offset` (24 : 40 bits, see
/// `protocols::fot`), meaningful inside the object that holds it. Index 0
/// is that object; the all-zero word is null.
#[repr(transparent)]
pub struct InvPtr<T> {
    raw: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for InvPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for InvPtr<T> {}
impl<T> PartialEq for InvPtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl<T> Eq for InvPtr<T> {}
impl<T> fmt::Debug for InvPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvPtr({}:{:#x})", self.index(), self.offset())
    }
}
impl<T> Default for InvPtr<T> {
    fn default() -> Self {
        Self::null()
    }
}

// SAFETY: one `u64`; every value is a well-formed pointer (checked when
// resolved), and it holds an object-relative location, not an address.
unsafe impl<T: 'static> Invariant for InvPtr<T> {}

impl<T> InvPtr<T> {
    /// The null pointer.
    pub const fn null() -> Self {
        InvPtr {
            raw: 0,
            _t: PhantomData,
        }
    }
    /// A pointer to `offset` in the object named by FOT entry `index`.
    pub const fn new(index: u32, offset: u64) -> Result<Self, PtrError> {
        match fot::InvPtr::new(index, offset) {
            Ok(p) => Ok(Self::from_raw(p.raw())),
            Err(e) => Err(e),
        }
    }
    /// A pointer to `offset` in the holding object itself (index 0).
    pub const fn local(offset: u64) -> Result<Self, PtrError> {
        Self::new(0, offset)
    }
    /// The pointer to an object's typed base.
    pub const fn base() -> Self {
        Self::from_raw(BASE_OFFSET)
    }
    /// A pointer from its stored word.
    pub const fn from_raw(raw: u64) -> Self {
        InvPtr {
            raw,
            _t: PhantomData,
        }
    }
    /// The stored word.
    pub const fn raw(self) -> u64 {
        self.raw
    }
    /// The FOT index (0: the holding object).
    pub const fn index(self) -> u32 {
        (self.raw >> fot::OFFSET_BITS) as u32
    }
    /// The offset in the target object.
    pub const fn offset(self) -> u64 {
        self.raw & fot::MAX_OFFSET
    }
    /// Whether this is null.
    pub const fn is_null(self) -> bool {
        self.raw == 0
    }
    /// The same location as a pointer to another type.
    pub const fn cast<U>(self) -> InvPtr<U> {
        InvPtr::from_raw(self.raw)
    }
    /// The same FOT entry, `bytes` further on (e.g. a field).
    pub const fn byte_add(self, bytes: u64) -> Result<Self, PtrError> {
        match self.offset().checked_add(bytes) {
            Some(off) => Self::new(self.index(), off),
            None => Err(PtrError::OffsetTooLarge(u64::MAX)),
        }
    }
}

impl<T: Invariant> InvPtr<T> {
    /// Resolves the pointer as held by `from` (an object handle or a
    /// [`Ref`] into the object holding the pointer).
    ///
    /// Index 0 stays in `from`'s object. Any other index goes through the
    /// holding mapping's FOT cache: a hit costs one indexed load; a miss
    /// reads the FOT entry, maps the target into a free slot and fills the
    /// cache. The offset must leave room for a `T` inside the target's data
    /// area, aligned.
    #[inline]
    pub fn resolve<'a>(self, from: impl Into<Holder<'a>>) -> Result<Ref<'a, T>, ObjError> {
        let h = from.into();
        if self.raw == 0 {
            return Err(ObjError::Null);
        }
        let index = self.index();
        let map = if index == 0 {
            h.map
        } else {
            match h.map.cached(index) {
                Some(m) => m,
                None => h.space.resolve_slow(h.map, index)?,
            }
        };
        let off = self.offset();
        ObjMem::check::<T>(off)?;
        Ok(Ref::new(map, h.space, off))
    }
}
