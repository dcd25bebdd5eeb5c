//! [`Lazy`]: a resolver whose persistent state object is created on its
//! first change, so a boot that names nothing writes nothing to the object
//! store.
//!
//! A resolver with no registered state object starts *provisional*: its
//! (empty) state in DRAM, registered under a DRAM object as identity.
//! Every changing call first makes it persistent — creates the state
//! object (zeroed: the empty state), opens the service on it and registers
//! the object as the resolver's identity — and only then changes anything,
//! so the provisional state is always the empty one and nothing is copied.
//! A FOT name entry made while the resolver was provisional names the
//! provisional identity, which the registry forgets at the first change;
//! such an entry resolves to `ResolverGone`.

use core::sync::atomic::{AtomicU64, Ordering};

use nomenclature::{Env, Resolve, ResolverService, SeqIds};
use protocols::ipc::{Bytes, Text, heapless};
use protocols::object::{ObjId, Perms};
use protocols::objstore::ObjInfo;
use protocols::resolver::{
    EntryKind, ListPage, MAX_CUSTOM, MAX_RESOLVER_NAME, MAX_TAGS, Matches, Name, NameError,
    Resolved, ResolverInfo, Server, Tag, registry,
};
use runtime::ppc::{self, Gate};
use runtime::println;

use crate::STATE_SIZE;
use crate::backing::Backing;
use crate::store::Objects;

/// The PPC incarnation of this program's resolver (one per program), set
/// once its handler is registered; a provisional resolver registers its
/// state object with it.
pub static INCARNATION: AtomicU64 = AtomicU64::new(0);

/// What a provisional resolver needs to become persistent.
pub struct Pending {
    /// Its registry name.
    pub name: Text<MAX_RESOLVER_NAME>,
    /// The registry.
    pub registry: registry::Client<Gate>,
    /// A state object made by an attempt that failed after creating it
    /// (it could not be mapped or registered): the next attempt uses it.
    /// The store will not delete it for us — state objects carry no
    /// DELETE, so no program can delete a resolver's names — and a
    /// retry must not leak another.
    pub spare: Option<ObjInfo>,
}

/// A resolver service that becomes persistent on its first change.
pub struct Lazy<R: Resolve> {
    /// The service (over DRAM while provisional).
    pub service: ResolverService<R, Backing, Objects>,
    /// `Some` while provisional.
    pub pending: Option<Pending>,
}

impl<R: Resolve> Lazy<R> {
    /// Makes the state persistent if it is not yet (see the module docs),
    /// unless `change` fails on the (empty) provisional state anyway: an
    /// operation that fails changes nothing and needs no object.
    fn persist(
        &mut self,
        change: impl FnOnce(&mut R, &mut dyn Env) -> Result<(), NameError>,
    ) -> Result<(), NameError> {
        let Some(p) = self.pending.as_mut() else {
            return Ok(());
        };
        change(&mut self.service.state().clone(), &mut SeqIds(0))?;
        let Objects::Store(store) = self.service.env() else {
            return Ok(());
        };
        // Readable and writable (the resolver maps it to commit), never
        // deletable: see `Pending::spare`.
        let info = match p.spare.take() {
            Some(info) => info,
            None => store
                .create(STATE_SIZE, Perms::READ | Perms::WRITE, ObjId::NIL)
                .map_err(|_| NameError::NoSpace)?,
        };
        let backing = match Backing::map(info.id, info.size) {
            Ok(b) => b,
            Err(_) => {
                p.spare = Some(info);
                return Err(NameError::Unavailable);
            }
        };
        let incarnation = INCARNATION.load(Ordering::Acquire);
        let registered = ppc::retrying(
            &mut p.registry,
            |c| c.transport_mut(),
            |c| c.register(p.name.clone(), info.id, incarnation),
        );
        if registered.is_err() {
            p.spare = Some(info);
            return Err(NameError::Unavailable);
        }
        let env = core::mem::replace(self.service.env(), Objects::Dram);
        // A zeroed region opens as the empty state: nothing can fail but a
        // mapping shorter than the layout, which STATE_SIZE rules out.
        self.service = ResolverService::open(backing, env).map_err(NameError::from)?;
        println!("{}: state object {} created", p.name, info.id);
        self.pending = None;
        Ok(())
    }
}

impl<R: Resolve> Server for Lazy<R> {
    fn resolve(&mut self, name: Name) -> Result<Resolved, NameError> {
        self.service.resolve(name)
    }
    fn bind(&mut self, name: Name, id: ObjId, kind: EntryKind) -> Result<(), NameError> {
        self.persist(|s, e| s.bind(&name, id, kind, e))?;
        self.service.bind(name, id, kind)
    }
    fn unbind(&mut self, name: Name) -> Result<Resolved, NameError> {
        self.persist(|s, _| s.unbind(&name).map(drop))?;
        self.service.unbind(name)
    }
    fn list(&mut self, name: Name, cursor: u64) -> Result<ListPage, NameError> {
        self.service.list(name, cursor)
    }
    fn rename(&mut self, from: Name, to: Name) -> Result<ObjId, NameError> {
        self.persist(|s, _| s.rename(&from, &to).map(drop))?;
        self.service.rename(from, to)
    }
    fn mkdir(&mut self, name: Name) -> Result<ObjId, NameError> {
        self.persist(|s, e| s.mkdir(&name, e).map(drop))?;
        self.service.mkdir(name)
    }
    fn query(&mut self, query: Name, cursor: u64) -> Result<Matches, NameError> {
        self.service.query(query, cursor)
    }
    fn set_tags(&mut self, id: ObjId, tags: heapless::Vec<Tag, MAX_TAGS>) -> Result<(), NameError> {
        self.persist(|s, _| s.set_tags(id, &tags))?;
        self.service.set_tags(id, tags)
    }
    fn publish(&mut self, name: Name, id: ObjId) -> Result<u64, NameError> {
        self.persist(|s, _| s.publish(&name, id).map(drop))?;
        self.service.publish(name, id)
    }
    fn history(&mut self, name: Name, cursor: u64) -> Result<Matches, NameError> {
        self.service.history(name, cursor)
    }
    fn info(&mut self) -> Result<ResolverInfo, NameError> {
        self.service.info()
    }
    fn custom(&mut self, op: u32, arg: Bytes<MAX_CUSTOM>) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        self.persist(|s, _| s.custom(op, &arg).map(drop))?;
        self.service.custom(op, arg)
    }
}
