//! The [`Resolve`] trait a resolver's state implements, and
//! [`ResolverService`], which serves any of them over the
//! [`Resolver`](protocols::resolver::Resolver) interface with the state
//! kept crash-consistently in a [`Persisted`].

use protocols::ipc::{Bytes, Text, heapless};
use protocols::object::ObjId;
use protocols::resolver::{
    EntryKind, ListPage, MAX_CUSTOM, MAX_MATCHES, MAX_TAGS, Matches, Name, NameError, Resolved,
    ResolverInfo, Server, Tag,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use store::Pmem;

use crate::state::{Persisted, StateError};

/// What a resolver may ask of its surroundings while it changes state.
pub trait Env {
    /// Creates a new object (a directory, …) and returns its ID. In the
    /// guest, the object store creates it; in tests, a counter.
    fn create_object(&mut self, kind: EntryKind) -> Result<ObjId, NameError>;

    /// Deletes an object the resolver created and no longer names (a
    /// removed directory). Called only after the change that dropped it
    /// committed, so a power cut in between leaks an empty object but never
    /// loses a name. The default keeps it.
    fn release_object(&mut self, _id: ObjId) {}
}

/// An [`Env`] handing out sequential IDs from a base (tests, and resolvers
/// whose "objects" are only names).
#[derive(Clone, Copy, Debug)]
pub struct SeqIds(pub u128);

impl Env for SeqIds {
    fn create_object(&mut self, _kind: EntryKind) -> Result<ObjId, NameError> {
        self.0 += 1;
        Ok(ObjId::from_u128(self.0))
    }
}

/// A resolver's state and logic: what a new resolver implements.
///
/// Read operations take `&self`. Changing operations take `&mut self` on a
/// *copy* of the state: the [`ResolverService`] commits the copy durably
/// if the operation returns `Ok` and throws it away otherwise, so an
/// operation may change the state before discovering an error. Every
/// operation but [`Resolve::resolve`] and [`Resolve::bindings`] has a
/// default answering [`NameError::Unsupported`].
pub trait Resolve: Clone + Default + Serialize + DeserializeOwned {
    /// The resolver's kind, as `info` reports it.
    const KIND: &'static str;

    /// What `name` names.
    fn resolve(&self, name: &str) -> Result<(ObjId, EntryKind), NameError>;
    /// How many bindings the state holds.
    fn bindings(&self) -> u64;

    /// Binds `name` to `id`.
    fn bind(
        &mut self,
        _name: &str,
        _id: ObjId,
        _kind: EntryKind,
        _env: &mut dyn Env,
    ) -> Result<(), NameError> {
        Err(NameError::Unsupported)
    }
    /// Removes `name`'s binding and returns what it named.
    fn unbind(&mut self, _name: &str) -> Result<(ObjId, EntryKind), NameError> {
        Err(NameError::Unsupported)
    }
    /// A page of the bindings under `name` from `cursor`.
    fn list(&self, _name: &str, _cursor: u64) -> Result<ListPage, NameError> {
        Err(NameError::Unsupported)
    }
    /// Moves `from` to `to`; returns the ID it replaced (nil: none).
    fn rename(&mut self, _from: &str, _to: &str) -> Result<ObjId, NameError> {
        Err(NameError::Unsupported)
    }
    /// Creates a directory at `name`.
    fn mkdir(&mut self, _name: &str, _env: &mut dyn Env) -> Result<ObjId, NameError> {
        Err(NameError::Unsupported)
    }
    /// The objects `query` matches, from `cursor`.
    fn query(&self, _query: &str, _cursor: u64) -> Result<Matches, NameError> {
        Err(NameError::Unsupported)
    }
    /// Sets (empty value: removes) tags of `id`.
    fn set_tags(&mut self, _id: ObjId, _tags: &[Tag]) -> Result<(), NameError> {
        Err(NameError::Unsupported)
    }
    /// Moves `name` to `id`; returns the new version number.
    fn publish(&mut self, _name: &str, _id: ObjId) -> Result<u64, NameError> {
        Err(NameError::Unsupported)
    }
    /// The objects `name` has named, oldest first, from `cursor`.
    fn history(&self, _name: &str, _cursor: u64) -> Result<Matches, NameError> {
        Err(NameError::Unsupported)
    }
    /// A resolver-specific operation: a change is committed if it returns
    /// `Ok`; one that leaves the state as it was (a query) writes nothing.
    fn custom(&mut self, _op: u32, _arg: &[u8]) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        Err(NameError::Unsupported)
    }
}

/// One page of `ids` from `cursor` (an index into the sequence).
pub fn page(ids: impl Iterator<Item = ObjId>, cursor: u64) -> Matches {
    let mut out = Matches {
        ids: heapless::Vec::new(),
        total: 0,
        next: None,
    };
    for (i, id) in ids.enumerate() {
        out.total = out.total.saturating_add(1);
        if (i as u64) < cursor {
            continue;
        }
        if out.ids.push(id).is_err() && out.next.is_none() {
            out.next = Some(cursor + MAX_MATCHES as u64);
        }
    }
    out
}

/// A resolver server: the state `R` in persistent memory `P`, plus the
/// environment `E` it creates objects through.
pub struct ResolverService<R, P, E> {
    state: Persisted<R, P>,
    env: E,
}

impl<R: Resolve, P: Pmem, E: Env> ResolverService<R, P, E> {
    /// Opens (recovers) the resolver whose state is in `pmem`.
    pub fn open(pmem: P, env: E) -> Result<Self, StateError> {
        Ok(ResolverService {
            state: Persisted::open(pmem)?,
            env,
        })
    }

    /// The state in force.
    pub fn state(&self) -> &R {
        self.state.state()
    }

    /// The epoch: changes with every committed change.
    pub fn epoch(&self) -> u64 {
        self.state.epoch()
    }

    /// The environment.
    pub fn env(&mut self) -> &mut E {
        &mut self.env
    }

    /// The persisted state (its memory, for tests and the server).
    pub fn persisted(&mut self) -> &mut Persisted<R, P> {
        &mut self.state
    }

    /// Gives the persistent memory back.
    pub fn into_pmem(self) -> P {
        self.state.into_pmem()
    }

    fn resolved(&self, (id, kind): (ObjId, EntryKind)) -> Resolved {
        Resolved {
            id,
            kind,
            epoch: self.state.epoch(),
        }
    }
}

impl<R: Resolve, P: Pmem, E: Env> Server for ResolverService<R, P, E> {
    fn resolve(&mut self, name: Name) -> Result<Resolved, NameError> {
        let r = self.state.state().resolve(&name)?;
        Ok(self.resolved(r))
    }
    fn bind(&mut self, name: Name, id: ObjId, kind: EntryKind) -> Result<(), NameError> {
        let env = &mut self.env;
        self.state.update(|s| s.bind(&name, id, kind, env))
    }
    fn unbind(&mut self, name: Name) -> Result<Resolved, NameError> {
        let r = self.state.update(|s| s.unbind(&name))?;
        if r.1 == EntryKind::Directory {
            self.env.release_object(r.0);
        }
        Ok(self.resolved(r))
    }
    fn list(&mut self, name: Name, cursor: u64) -> Result<ListPage, NameError> {
        self.state.state().list(&name, cursor)
    }
    fn rename(&mut self, from: Name, to: Name) -> Result<ObjId, NameError> {
        let old = self.state.state().resolve(&to).ok();
        let replaced = self.state.update(|s| s.rename(&from, &to))?;
        if old == Some((replaced, EntryKind::Directory)) {
            self.env.release_object(replaced);
        }
        Ok(replaced)
    }
    fn mkdir(&mut self, name: Name) -> Result<ObjId, NameError> {
        let env = &mut self.env;
        self.state.update(|s| s.mkdir(&name, env))
    }
    fn query(&mut self, query: Name, cursor: u64) -> Result<Matches, NameError> {
        self.state.state().query(&query, cursor)
    }
    fn set_tags(&mut self, id: ObjId, tags: heapless::Vec<Tag, MAX_TAGS>) -> Result<(), NameError> {
        self.state.update(|s| s.set_tags(id, &tags))
    }
    fn publish(&mut self, name: Name, id: ObjId) -> Result<u64, NameError> {
        self.state.update(|s| s.publish(&name, id))
    }
    fn history(&mut self, name: Name, cursor: u64) -> Result<Matches, NameError> {
        self.state.state().history(&name, cursor)
    }
    fn info(&mut self) -> Result<ResolverInfo, NameError> {
        Ok(ResolverInfo {
            kind: Text::try_from(R::KIND).map_err(|_| NameError::InvalidName)?,
            epoch: self.state.epoch(),
            bindings: self.state.state().bindings(),
        })
    }
    fn custom(&mut self, op: u32, arg: Bytes<MAX_CUSTOM>) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        self.state.update_if_changed(|s| s.custom(op, &arg))
    }
}
