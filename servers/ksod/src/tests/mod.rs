//! Host tests: the root table and its power cuts ([`root`]), and the
//! server over an object store kept in memory ([`service`]).

mod root;
mod service;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use protocols::ksod::KsodError;
use protocols::object::{ObjFlags, ObjId, Perms};
use txn::Pmem;

use crate::Objects;

/// Bytes shared between the store and a mapping of them (as the NVDIMM is).
#[derive(Clone, Debug)]
pub(crate) struct Shared(pub Rc<RefCell<Vec<u8>>>);

impl Pmem for Shared {
    fn len(&self) -> u64 {
        self.0.borrow().len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) {
        let o = off as usize;
        buf.copy_from_slice(&self.0.borrow()[o..o + buf.len()]);
    }
    fn write(&mut self, off: u64, bytes: &[u8]) {
        let o = off as usize;
        self.0.borrow_mut()[o..o + bytes.len()].copy_from_slice(bytes);
    }
    fn flush(&mut self, off: u64, len: u64) {
        assert!(off + len <= self.len());
    }
    fn fence(&mut self) {}
}

/// One object of the in-memory store.
#[derive(Clone, Debug)]
pub(crate) struct Obj {
    pub data: Shared,
    pub flags: ObjFlags,
    pub perms: Perms,
    pub key: ObjId,
}

/// The in-memory store's state.
#[derive(Default, Debug)]
pub(crate) struct Inner {
    pub objects: BTreeMap<ObjId, Obj>,
    pub next: u128,
    pub log: Vec<String>,
    /// Creating an object with bytes in it fails while set (nothing is
    /// left).
    pub fail_writes: bool,
}

/// An object store in memory; clones share it (one "machine").
#[derive(Clone, Default, Debug)]
pub(crate) struct Store(pub Rc<RefCell<Inner>>);

impl Store {
    pub(crate) fn obj(&self, id: ObjId) -> Option<Obj> {
        self.0.borrow().objects.get(&id).cloned()
    }
    pub(crate) fn count(&self) -> usize {
        self.0.borrow().objects.len()
    }
    pub(crate) fn log(&self) -> Vec<String> {
        self.0.borrow().log.clone()
    }
    /// Adds an object the way `create` does, bypassing `ksod`.
    pub(crate) fn add(&self, size: usize, key: ObjId) -> ObjId {
        let mut s = self.0.borrow_mut();
        s.next += 1;
        let id = ObjId::from_u128(0x1000 + s.next * 0x101);
        let data = Shared(Rc::new(RefCell::new(vec![0; size])));
        s.objects.insert(
            id,
            Obj {
                data,
                flags: ObjFlags::PERSISTENT,
                perms: Perms::READ,
                key,
            },
        );
        id
    }
}

impl Objects for Store {
    type Mapped = Shared;

    fn marked(&mut self, mark: ObjId) -> Result<Vec<ObjId>, KsodError> {
        let s = self.0.borrow();
        Ok(s.objects
            .iter()
            .filter(|(_, o)| o.key == mark)
            .map(|(id, _)| *id)
            .collect())
    }
    fn create(
        &mut self,
        size: u64,
        flags: ObjFlags,
        perms: Perms,
        mark: ObjId,
        bytes: &[u8],
    ) -> Result<ObjId, KsodError> {
        if !bytes.is_empty() && self.0.borrow().fail_writes {
            return Err(KsodError::Store);
        }
        let id = self.add(size as usize, mark);
        let mut s = self.0.borrow_mut();
        let o = s.objects.get_mut(&id).unwrap();
        o.flags = flags;
        o.perms = perms;
        o.data.clone().write(0, bytes);
        Ok(id)
    }
    fn read(&mut self, id: ObjId, buf: &mut [u8]) -> Result<(), KsodError> {
        let s = self.0.borrow();
        let o = s.objects.get(&id).ok_or(KsodError::Store)?;
        o.data.read(0, buf);
        Ok(())
    }
    fn delete(&mut self, id: ObjId) -> Result<(), KsodError> {
        let mut s = self.0.borrow_mut();
        s.objects.remove(&id).map(drop).ok_or(KsodError::Store)
    }
    fn map(&mut self, id: ObjId, size: u64) -> Result<Shared, KsodError> {
        let o = self.obj(id).ok_or(KsodError::Store)?;
        assert_eq!(o.data.len(), size);
        Ok(o.data)
    }
    fn say(&mut self, line: std::fmt::Arguments<'_>) {
        self.0.borrow_mut().log.push(line.to_string());
    }
}
