//! Typed objects and resolved references.

use alloc::rc::Rc;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::Ordering::{AcqRel, Acquire};

use protocols::fot::{FotEntry, FotFlags, FotTarget};
use protocols::object::{BASE_OFFSET, DATA_END, ObjHeader, ObjId};

use crate::error::ObjError;
use crate::fot;
use crate::invariant::Invariant;
use crate::ptr::InvPtr;
use crate::space::{Mapping, Space};

/// The object a pointer is resolved in: its mapping and space. Made from
/// `&Object<T>` or `&Ref<U>`; resolving from a [`Ref`] keeps its lifetime,
/// so a traversal can step from reference to reference.
#[derive(Clone, Copy)]
pub struct Holder<'a> {
    pub(crate) map: &'a Mapping,
    pub(crate) space: &'a Space,
}

impl<'a> Holder<'a> {
    /// The holding object's ID.
    pub fn id(&self) -> ObjId {
        self.map.id()
    }

    /// A pointer, to be stored in the holding object, to `target`: local if
    /// `target` is in the same object, otherwise through a FOT entry for the
    /// target's object (an equal entry is reused and counted, else one is
    /// added). Release it with [`Holder::release`] when it is overwritten.
    pub fn ptr_to<U>(&self, target: &Ref<'_, U>) -> Result<InvPtr<U>, ObjError> {
        if target.map.id() == self.map.id() {
            return InvPtr::local(target.off).map_err(|_| ObjError::OutOfRange(target.off));
        }
        let flags = FotFlags::from_prot(target.map.prot());
        let index = fot::add(&self.map.mem(), FotTarget::Id(target.map.id()), flags)?;
        InvPtr::new(index, target.off).map_err(|_| ObjError::FotFull)
    }

    /// Stops counting `p` against its FOT entry (no-op for local pointers).
    /// Returns the references left; at zero the entry is free.
    pub fn release<U>(&self, p: InvPtr<U>) -> Result<u32, ObjError> {
        if p.index() == 0 {
            return Ok(0);
        }
        let left = fot::release(&self.map.mem(), p.index())?;
        if left == 0 {
            self.map.forget(Some(p.index()));
        }
        Ok(left)
    }

    /// Retargets FOT entry `index` at object `id`: every pointer in this
    /// object that uses the entry now points into `id`.
    pub fn rebind(&self, index: u32, id: ObjId) -> Result<(), ObjError> {
        fot::rebind(&self.map.mem(), index, FotTarget::Id(id))?;
        self.map.forget(Some(index));
        Ok(())
    }

    /// FOT entry `index` of the holding object.
    pub fn fot_entry(&self, index: u32) -> Result<FotEntry, ObjError> {
        fot::entry(&self.map.mem(), index)
    }

    /// How many FOT entries the holding object may be using.
    pub fn fot_count(&self) -> u32 {
        fot::count(&self.map.mem())
    }
}

/// A resolved invariant pointer: a `U` at a checked offset of a mapped
/// object. Copy it freely; it lives as long as the handle it came from.
pub struct Ref<'a, U> {
    map: &'a Mapping,
    space: &'a Space,
    off: u64,
    _t: PhantomData<fn() -> U>,
}

impl<U> Clone for Ref<'_, U> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<U> Copy for Ref<'_, U> {}

impl<'a, U> From<&Ref<'a, U>> for Holder<'a> {
    fn from(r: &Ref<'a, U>) -> Holder<'a> {
        Holder {
            map: r.map,
            space: r.space,
        }
    }
}

impl<'a, U> Ref<'a, U> {
    pub(crate) fn new(map: &'a Mapping, space: &'a Space, off: u64) -> Self {
        Ref {
            map,
            space,
            off,
            _t: PhantomData,
        }
    }
    /// The object this reference is in.
    pub fn id(&self) -> ObjId {
        self.map.id()
    }
    /// The offset in that object.
    pub fn offset(&self) -> u64 {
        self.off
    }
    /// The object as a holder, to resolve pointers stored in it.
    pub fn holder(&self) -> Holder<'a> {
        Holder {
            map: self.map,
            space: self.space,
        }
    }
    /// The current virtual address (valid in this address space only; never
    /// store it in an object).
    pub fn as_ptr(&self) -> *mut U {
        // SAFETY: resolution checked `off` lies inside the slot, which
        // starts at the mapping's base.
        unsafe { self.map.base().add(self.off as usize).cast() }
    }
}

impl<U: Invariant> Ref<'_, U> {
    /// Reads the value.
    #[inline]
    pub fn read(&self) -> U {
        // SAFETY: resolution checked that a `U` fits at `off` inside the data
        // area, aligned; the slot is mapped readable while `'a` lasts; every
        // bit pattern is a valid `U` (`Invariant`).
        unsafe { self.as_ptr().read() }
    }
    /// Writes the value; the object must be mapped writable.
    pub fn write(&self, v: U) -> Result<(), ObjError> {
        self.map.mem().write(self.off, v)
    }
}

/// A typed handle on a mapped object whose base (at `BASE_OFFSET`) is a `T`.
pub struct Object<T> {
    space: Rc<Space>,
    map: NonNull<Mapping>,
    _t: PhantomData<fn() -> T>,
}

impl<'a, T> From<&'a Object<T>> for Holder<'a> {
    fn from(o: &'a Object<T>) -> Holder<'a> {
        o.holder()
    }
}

impl<T> Object<T> {
    pub(crate) fn new(space: Rc<Space>, map: NonNull<Mapping>) -> Self {
        Object {
            space,
            map,
            _t: PhantomData,
        }
    }
    fn mapping(&self) -> &Mapping {
        // SAFETY: the mapping is boxed and owned by `self.space`, which this
        // handle keeps alive.
        unsafe { self.map.as_ref() }
    }
    /// The object as a holder, to resolve pointers stored in it.
    pub fn holder(&self) -> Holder<'_> {
        Holder {
            map: self.mapping(),
            space: &self.space,
        }
    }
    /// The object's ID.
    pub fn id(&self) -> ObjId {
        self.mapping().id()
    }
    /// The object's mapping (protections, raw bytes).
    pub fn mapping_info(&self) -> &Mapping {
        self.mapping()
    }
    /// The object's header.
    pub fn header(&self) -> Result<ObjHeader, ObjError> {
        Ok(self.mapping().mem().header()?)
    }
    /// The pointer to the typed base, as stored in this object.
    pub const fn base_ptr() -> InvPtr<T> {
        InvPtr::base()
    }
    /// Reinterprets the handle with another base type.
    pub fn cast<U>(self) -> Object<U> {
        Object {
            space: self.space,
            map: self.map,
            _t: PhantomData,
        }
    }
}

impl<T: Invariant> Object<T> {
    /// The typed base.
    pub fn base(&self) -> Ref<'_, T> {
        const {
            assert!(
                core::mem::align_of::<T>() as u64 <= BASE_OFFSET
                    && core::mem::size_of::<T>() as u64 <= DATA_END - BASE_OFFSET
            )
        };
        Ref::new(self.mapping(), &self.space, BASE_OFFSET)
    }

    /// Writes the base and, on a fresh object, reserves it from the bump
    /// allocator.
    pub fn init(&self, base: T) -> Result<Ref<'_, T>, ObjError> {
        let r = self.base();
        r.write(base)?;
        let end = BASE_OFFSET + core::mem::size_of::<T>() as u64;
        let _ = self
            .mapping()
            .mem()
            .data_top()
            .compare_exchange(0, end, AcqRel, Acquire);
        Ok(r)
    }

    /// Allocates room for `value` in the data area (a bump allocator on the
    /// header's data top, updated atomically) and writes it there.
    pub fn alloc<U: Invariant>(&self, value: U) -> Result<Ref<'_, U>, ObjError> {
        let m = self.mapping();
        m.mem().check_writable()?;
        let mem = m.mem();
        let top = mem.data_top();
        let size = core::mem::size_of::<U>() as u64;
        let align = core::mem::align_of::<U>() as u64;
        let mut cur = top.load(Acquire);
        loop {
            let from = if cur == 0 {
                BASE_OFFSET + core::mem::size_of::<T>() as u64
            } else {
                cur
            };
            let start = from.next_multiple_of(align);
            let end = start
                .checked_add(size.max(1))
                .filter(|&e| e <= DATA_END)
                .ok_or(ObjError::OutOfSpace)?;
            match top.compare_exchange(cur, end, AcqRel, Acquire) {
                Ok(_) => {
                    let r = Ref::new(m, &self.space, start);
                    r.write(value)?;
                    return Ok(r);
                }
                Err(now) => cur = now,
            }
        }
    }
}
