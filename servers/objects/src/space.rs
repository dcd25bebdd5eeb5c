//! An address space's objects: mapping through a [`Mapper`], and each
//! mapping's FOT cache.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell, UnsafeCell};
use core::marker::PhantomData;
use core::ptr::NonNull;

use protocols::fot::{FotTarget, MAX_NAME_LEN};
use protocols::object::{ObjId, Perms};

use crate::error::ObjError;
use crate::fot;
use crate::mem::ObjMem;
use crate::object::Object;

/// Where a mapper put an object: the base of its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotBase(pub NonNull<u8>);

/// Why a mapper could not map an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No such object.
    NotFound(ObjId),
    /// The view has no free slot.
    NoFreeSlot,
    /// The security context does not allow these protections.
    Denied(ObjId),
}

/// Maps objects into slots of the current view (the kernel's view object
/// in the guest, a fake on the host).
///
/// # Safety
///
/// A returned base must be page aligned and start `SLOT_SIZE` bytes of the
/// object's memory, readable, writable if `prot` has `WRITE`, that stay
/// valid and at that address for as long as the mapper lives. Mapping an
/// object already mapped must return the same base (widening protections
/// in place).
pub unsafe trait Mapper {
    /// Maps object `id` with protections `prot` and returns its slot base.
    fn map(&mut self, id: ObjId, prot: Perms) -> Result<SlotBase, MapError>;
}

/// Resolves FOT names (the Nomenclature issue plugs resolvers in here).
pub trait NameResolver {
    /// The object `name` names according to resolver object `resolver`
    /// (nil: the default resolver).
    fn resolve(&mut self, resolver: ObjId, name: &[u8]) -> Option<ObjId>;
}

/// One mapped object in a [`Space`], with its FOT cache.
///
/// Mappings live as long as their space, at a fixed address, so a cache
/// entry can point at its target's mapping directly.
pub struct Mapping {
    id: ObjId,
    base: NonNull<u8>,
    prot: Cell<Perms>,
    /// FOT index → the target's mapping (`None`: not resolved yet).
    cache: UnsafeCell<Vec<Option<NonNull<Mapping>>>>,
    _not_sync: PhantomData<*const ()>,
}

impl Mapping {
    /// The mapped object's ID.
    pub fn id(&self) -> ObjId {
        self.id
    }
    /// The object's bytes, writable if the mapping is.
    #[inline]
    pub fn mem(&self) -> ObjMem {
        // SAFETY: the `Mapper` contract: `base` starts the object's slot,
        // readable, and writable once mapped with `WRITE`, for as long as the
        // space (which owns both the mapper and this mapping) lives.
        unsafe { ObjMem::new(self.base, self.prot.get().contains(Perms::WRITE)) }
    }
    /// The slot's base address (valid in this address space only).
    #[inline]
    pub(crate) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }
    /// The protections it is mapped with.
    pub fn prot(&self) -> Perms {
        self.prot.get()
    }

    /// The cached target of FOT entry `index`: the hot path.
    #[inline]
    pub(crate) fn cached(&self, index: u32) -> Option<&Mapping> {
        // SAFETY: `Mapping` is neither `Sync` nor reentrant here: the only
        // other access to `cache` is `set_cached`/`forget`, which never run
        // while this shared borrow is alive (it ends in this expression).
        let hit = unsafe { (&*self.cache.get()).get(index as usize).copied().flatten() }?;
        // SAFETY: cached mappings are owned by the same space as `self`,
        // boxed and never freed before it, so they outlive `&self`.
        Some(unsafe { hit.as_ref() })
    }

    fn set_cached(&self, index: u32, target: NonNull<Mapping>) {
        // SAFETY: no borrow of `cache` is alive (see `cached`).
        let cache = unsafe { &mut *self.cache.get() };
        if cache.len() <= index as usize {
            cache.resize(index as usize + 1, None);
        }
        cache[index as usize] = Some(target);
    }

    /// Drops the cached target of `index` (after a rebind), or of every
    /// entry (`None`: after another program changed the FOT).
    pub fn forget(&self, index: Option<u32>) {
        // SAFETY: no borrow of `cache` is alive (see `cached`).
        let cache = unsafe { &mut *self.cache.get() };
        match index {
            Some(i) => {
                if let Some(slot) = cache.get_mut(i as usize) {
                    *slot = None;
                }
            }
            None => cache.clear(),
        }
    }
}

struct Inner {
    mapper: Box<dyn Mapper>,
    names: Option<Box<dyn NameResolver>>,
    maps: BTreeMap<ObjId, Box<Mapping>>,
}

/// One address space's mapped objects. Shared by every [`Object`] handle
/// (through `Rc`); it keeps every mapping alive until the last handle goes.
pub struct Space {
    inner: RefCell<Inner>,
}

impl Space {
    /// A space mapping objects through `mapper`.
    pub fn new(mapper: impl Mapper + 'static) -> Rc<Space> {
        Rc::new(Space {
            inner: RefCell::new(Inner {
                mapper: Box::new(mapper),
                names: None,
                maps: BTreeMap::new(),
            }),
        })
    }

    /// Resolves FOT names through `names` from now on.
    pub fn set_name_resolver(&self, names: impl NameResolver + 'static) {
        self.inner.borrow_mut().names = Some(Box::new(names));
    }

    /// Maps object `id` (or widens its protections to include `prot`) and
    /// returns a handle whose base is a `T`. The header must decode.
    pub fn open<T>(self: &Rc<Space>, id: ObjId, prot: Perms) -> Result<Object<T>, ObjError> {
        let map = self.map(id, prot)?;
        Ok(Object::new(self.clone(), map))
    }

    /// How many objects are mapped.
    pub fn mapped(&self) -> usize {
        self.inner.borrow().maps.len()
    }

    /// Drops every cached FOT target of every mapping (after other programs
    /// rebound entries in shared objects).
    pub fn invalidate(&self) {
        for m in self.inner.borrow().maps.values() {
            m.forget(None);
        }
    }

    pub(crate) fn map(&self, id: ObjId, prot: Perms) -> Result<NonNull<Mapping>, ObjError> {
        let mut inner = self.inner.borrow_mut();
        if let Some(m) = inner.maps.get(&id) {
            let have = m.prot();
            if prot.is_subset_of(have) {
                return Ok(NonNull::from(&**m));
            }
            let want = have.union(prot);
            let base = inner.mapper.map(id, want)?;
            let m = inner
                .maps
                .get(&id)
                .ok_or(ObjError::Map(MapError::NotFound(id)))?;
            debug_assert_eq!(base.0, m.base, "mapper moved a mapped object");
            m.prot.set(want);
            return Ok(NonNull::from(&**m));
        }
        let base = inner.mapper.map(id, prot)?;
        let m = Box::new(Mapping {
            id,
            base: base.0,
            prot: Cell::new(prot),
            cache: UnsafeCell::new(Vec::new()),
            _not_sync: PhantomData,
        });
        m.mem().header()?;
        let ptr = NonNull::from(&*m);
        inner.maps.insert(id, m);
        Ok(ptr)
    }

    /// The slow path of resolution: reads FOT entry `index` of `from`,
    /// resolves a name if it is one, maps the target and caches it.
    #[inline(never)]
    pub(crate) fn resolve_slow<'a>(
        &'a self,
        from: &'a Mapping,
        index: u32,
    ) -> Result<&'a Mapping, ObjError> {
        let e = fot::entry(&from.mem(), index)?;
        let id = match e.target {
            FotTarget::Id(id) => id,
            FotTarget::Name {
                offset,
                len,
                resolver,
            } => {
                let mut name = [0u8; MAX_NAME_LEN as usize];
                let name = &mut name[..len as usize];
                from.mem().read_bytes(offset, name);
                let mut inner = self.inner.borrow_mut();
                let names = inner.names.as_mut().ok_or(ObjError::NameUnresolved)?;
                names
                    .resolve(resolver, name)
                    .ok_or(ObjError::NameUnresolved)?
            }
        };
        let target = self.map(id, e.flags.prot())?;
        from.set_cached(index, target);
        // SAFETY: mappings are boxed, owned by `self` and never freed before
        // it, so the target outlives `&'a self`.
        Ok(unsafe { target.as_ref() })
    }
}
