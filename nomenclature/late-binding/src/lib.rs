//! Late binding of FOT name entries (report §7; `protocols::fot`).
//!
//! A FOT entry may hold a *name* and the resolver to ask (an object ID;
//! nil: the default resolver) instead of an object ID. The object runtime
//! (`objects::Space`) resolves such an entry on the first dereference
//! through its plugged-in [`objects::NameResolver`] and caches the target
//! mapping per FOT index. [`LateBinder`] is that resolver:
//!
//! - **First dereference**: it finds the resolver through [`Resolvers`]
//!   (in the guest: the registry's `lookup_id`, then a PPC client), asks it
//!   to resolve the name, and caches `(resolver, name) → (ID, epoch)`.
//! - **Later dereferences** never reach it: the runtime's per-mapping FOT
//!   cache answers. Other entries naming the same name hit its own cache.
//! - **Rebind** (`objects::fot::rebind`, or the program re-binding the
//!   name): [`LateBinder::rebind`] forgets the cached ID and the caller
//!   forgets the mapping's cache entry (`Mapping::forget`).
//! - **The binding moved** (a `publish` to a current-version name, another
//!   program's rebind): every committed resolver change moves the
//!   resolver's *epoch*. [`LateBinder::refresh`] asks each resolver in use
//!   for its epoch (one call each) and drops the IDs resolved under an
//!   older one; [`follow_moves`] does that and invalidates the space's FOT
//!   caches, so the next dereference resolves again and follows the newest
//!   version. A resolver (or the registry) may also *tell* the program a
//!   binding moved: [`LateBinder::moved`].
//! - **Finding resolvers**: [`RegistryResolvers`] asks the registry
//!   (`lookup_id`) for the resolver a FOT entry names and connects to it
//!   through a [`Connect`]; a resolver started and registered at run time
//!   is found the same way, and a re-registered (restarted) one is
//!   reconnected and its old answers dropped.
//! - **A resolver that is gone** gives a clear error:
//!   [`LateError::ResolverGone`] (the dereference fails with
//!   `ObjError::NameUnresolved`; [`SharedBinder::last_error`] says why).

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod registry;
#[cfg(test)]
mod tests;

pub use registry::{Connect, Lookup, RegistryResolvers};

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;

use nomenclature::{NameError, Resolved};
use objects::{NameResolver, Space};
use protocols::object::ObjId;
use protocols::resolver::{Name, Server};

/// One resolver, as late binding needs it.
pub trait Link {
    /// What `name` names now.
    fn resolve(&mut self, name: &str) -> Result<Resolved, NameError>;
    /// The resolver's current epoch.
    fn epoch(&mut self) -> Result<u64, NameError>;
}

fn name(s: &str) -> Result<Name, NameError> {
    Name::try_from(s).map_err(|_| NameError::InvalidName)
}

/// Any resolver server (a local `ResolverService`, a `nomenclature::Remote`
/// over PPC) as a [`Link`].
pub struct ServerLink<S>(pub S);

impl<S: Server> Link for ServerLink<S> {
    fn resolve(&mut self, n: &str) -> Result<Resolved, NameError> {
        self.0.resolve(name(n)?)
    }
    fn epoch(&mut self) -> Result<u64, NameError> {
        self.0.info().map(|i| i.epoch)
    }
}

/// A resolver server shared with other code in this program.
impl<S: Server> Link for Rc<RefCell<S>> {
    fn resolve(&mut self, n: &str) -> Result<Resolved, NameError> {
        self.borrow_mut().resolve(name(n)?)
    }
    fn epoch(&mut self) -> Result<u64, NameError> {
        self.borrow_mut().info().map(|i| i.epoch)
    }
}

/// Finds the resolver a FOT entry names.
pub trait Resolvers {
    /// The resolver whose object is `resolver` (nil: the default one), or
    /// `None` if there is none (not registered, or gone).
    fn link(&mut self, resolver: ObjId) -> Option<&mut dyn Link>;

    /// Which incarnation of `resolver` the last [`Resolvers::link`]
    /// reached (its registry generation): answers from an older one are
    /// dropped on refresh even if the new one's epoch happens to match.
    fn incarnation(&mut self, _resolver: ObjId) -> u64 {
        0
    }
}

/// A fixed table of resolvers (host tests; a program that links its
/// resolvers). The guest runtime's table fills itself from the registry.
#[derive(Default)]
pub struct Table {
    links: BTreeMap<ObjId, Box<dyn Link>>,
    default: ObjId,
}

impl Table {
    /// Adds (or replaces) resolver `id`.
    pub fn insert(&mut self, id: ObjId, link: impl Link + 'static) {
        self.links.insert(id, Box::new(link));
    }
    /// Removes resolver `id` (it stopped).
    pub fn remove(&mut self, id: ObjId) {
        self.links.remove(&id);
    }
    /// Makes `id` the resolver nil names.
    pub fn set_default(&mut self, id: ObjId) {
        self.default = id;
    }
}

impl Resolvers for Table {
    fn link(&mut self, resolver: ObjId) -> Option<&mut dyn Link> {
        let id = if resolver.is_nil() {
            self.default
        } else {
            resolver
        };
        self.links.get_mut(&id).map(|b| &mut **b as &mut dyn Link)
    }
}

/// Why a name entry did not resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LateError {
    /// The name bytes are not UTF-8.
    NotUtf8,
    /// No resolver with this ID is registered (or it stopped).
    ResolverGone(ObjId),
    /// The resolver answered with an error.
    Name(NameError),
}

#[derive(Clone, Copy, Debug)]
struct Cached {
    id: ObjId,
    epoch: u64,
    incarnation: u64,
}

/// Counters for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Answers from the cache.
    pub hits: u64,
    /// Calls to a resolver's `resolve`.
    pub resolves: u64,
    /// Calls to a resolver's epoch.
    pub epoch_checks: u64,
}

/// Resolves FOT names through resolvers and caches the answers.
pub struct LateBinder<R> {
    resolvers: R,
    cache: BTreeMap<(ObjId, String), Cached>,
    stats: Stats,
}

impl<R: Resolvers> LateBinder<R> {
    /// A binder finding resolvers through `resolvers`.
    pub fn new(resolvers: R) -> LateBinder<R> {
        LateBinder {
            resolvers,
            cache: BTreeMap::new(),
            stats: Stats::default(),
        }
    }

    /// The resolver table.
    pub fn resolvers(&mut self) -> &mut R {
        &mut self.resolvers
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The object `name` names through `resolver`: cached, or resolved now.
    pub fn resolve(&mut self, resolver: ObjId, name: &[u8]) -> Result<ObjId, LateError> {
        let name = core::str::from_utf8(name).map_err(|_| LateError::NotUtf8)?;
        if let Some(c) = self.cache.get(&(resolver, String::from(name))) {
            self.stats.hits += 1;
            return Ok(c.id);
        }
        let link = (self.resolvers.link(resolver)).ok_or(LateError::ResolverGone(resolver))?;
        self.stats.resolves += 1;
        let r = link.resolve(name).map_err(|e| match e {
            NameError::Unavailable => LateError::ResolverGone(resolver),
            e => LateError::Name(e),
        })?;
        let c = Cached {
            id: r.id,
            epoch: r.epoch,
            incarnation: self.resolvers.incarnation(resolver),
        };
        self.cache.insert((resolver, String::from(name)), c);
        Ok(r.id)
    }

    /// Forgets the cached answer for one name (after a rebind).
    pub fn rebind(&mut self, resolver: ObjId, name: &str) {
        self.cache.remove(&(resolver, String::from(name)));
    }

    /// Forgets every answer from `resolver` (it said bindings moved, or it
    /// restarted).
    pub fn moved(&mut self, resolver: ObjId) {
        self.cache.retain(|(r, _), _| *r != resolver);
    }

    /// Asks every resolver in use for its epoch and forgets the answers
    /// given under an older one (a resolver gone: all of its answers).
    /// Returns how many answers were forgotten.
    pub fn refresh(&mut self) -> usize {
        let used: BTreeSet<ObjId> = self.cache.keys().map(|(r, _)| *r).collect();
        let before = self.cache.len();
        for r in used {
            self.stats.epoch_checks += 1;
            let epoch = self.resolvers.link(r).and_then(|l| l.epoch().ok());
            let now = epoch.map(|e| (e, self.resolvers.incarnation(r)));
            self.cache
                .retain(|(res, _), c| *res != r || now == Some((c.epoch, c.incarnation)));
        }
        before - self.cache.len()
    }
}

/// A [`LateBinder`] shared between the program and its `Space` (which owns
/// its name resolver), remembering why the last resolution failed.
pub struct SharedBinder<R> {
    binder: Rc<RefCell<LateBinder<R>>>,
    last: Rc<RefCell<Option<LateError>>>,
}

impl<R> Clone for SharedBinder<R> {
    fn clone(&self) -> Self {
        SharedBinder {
            binder: self.binder.clone(),
            last: self.last.clone(),
        }
    }
}

impl<R: Resolvers> SharedBinder<R> {
    /// Shares `binder`.
    pub fn new(binder: LateBinder<R>) -> SharedBinder<R> {
        SharedBinder {
            binder: Rc::new(RefCell::new(binder)),
            last: Rc::new(RefCell::new(None)),
        }
    }

    /// The binder (do not hold the borrow across a dereference).
    pub fn binder(&self) -> core::cell::RefMut<'_, LateBinder<R>> {
        self.binder.borrow_mut()
    }

    /// Why the last failed resolution failed.
    pub fn last_error(&self) -> Option<LateError> {
        *self.last.borrow()
    }
}

impl<R: Resolvers> NameResolver for SharedBinder<R> {
    fn resolve(&mut self, resolver: ObjId, name: &[u8]) -> Option<ObjId> {
        let r = self.binder.borrow_mut().resolve(resolver, name);
        *self.last.borrow_mut() = r.err();
        r.ok()
    }
}

/// Follows moved bindings: refreshes `binder` and, if any answer was
/// stale, drops every FOT cache of `space` so the next dereference of a
/// name entry resolves again. Returns whether anything moved.
pub fn follow_moves<R: Resolvers>(space: &Space, binder: &SharedBinder<R>) -> bool {
    let moved = binder.binder().refresh() > 0;
    if moved {
        space.invalidate();
    }
    moved
}
