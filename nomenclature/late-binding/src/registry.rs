//! [`RegistryResolvers`]: finds the resolver a FOT name entry names by
//! asking the registry, and connects to it.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use core::cell::RefCell;

use protocols::ipc::Transport;
use protocols::object::ObjId;
use protocols::resolver::{ResolverRecord, registry};

use crate::{Link, Resolvers};

/// The registry's `lookup_id`, however it is reached.
pub trait Lookup {
    /// The record of the resolver whose object is `id`, if registered.
    fn lookup_id(&mut self, id: ObjId) -> Option<ResolverRecord>;
}

/// A registry in this program (shared).
impl<S: registry::Server> Lookup for Rc<RefCell<S>> {
    fn lookup_id(&mut self, id: ObjId) -> Option<ResolverRecord> {
        self.borrow_mut().lookup_id(id).ok()
    }
}

/// A registry across PPC.
impl<T: Transport> Lookup for registry::Client<T> {
    fn lookup_id(&mut self, id: ObjId) -> Option<ResolverRecord> {
        registry::Client::lookup_id(self, id).ok()
    }
}

/// Opens a connection to a registered resolver (in the guest: a PPC
/// transport through `record.gate`, bound to `record.generation`).
pub trait Connect {
    /// A link to the resolver `record` describes, if it can be reached.
    fn connect(&mut self, record: &ResolverRecord) -> Option<Box<dyn Link>>;
}

/// Resolvers found through the registry, connections kept per resolver
/// and replaced when the registry shows a new generation.
pub struct RegistryResolvers<G, C> {
    registry: G,
    connect: C,
    links: BTreeMap<ObjId, (u64, Box<dyn Link>)>,
    default: ObjId,
}

impl<G: Lookup, C: Connect> RegistryResolvers<G, C> {
    /// Resolvers from `registry`, reached through `connect`; nil names
    /// `default`.
    pub fn new(registry: G, connect: C, default: ObjId) -> Self {
        RegistryResolvers {
            registry,
            connect,
            links: BTreeMap::new(),
            default,
        }
    }
}

impl<G: Lookup, C: Connect> Resolvers for RegistryResolvers<G, C> {
    fn link(&mut self, resolver: ObjId) -> Option<&mut dyn Link> {
        let id = if resolver.is_nil() {
            self.default
        } else {
            resolver
        };
        let Some(record) = self.registry.lookup_id(id) else {
            // Unregistered: gone, whatever connection we had.
            self.links.remove(&id);
            return None;
        };
        let current = self
            .links
            .get(&id)
            .is_some_and(|(g, _)| *g == record.generation);
        if !current {
            let link = self.connect.connect(&record)?;
            self.links.insert(id, (record.generation, link));
        }
        self.links
            .get_mut(&id)
            .map(|(_, l)| &mut **l as &mut dyn Link)
    }

    fn incarnation(&mut self, resolver: ObjId) -> u64 {
        let id = if resolver.is_nil() {
            self.default
        } else {
            resolver
        };
        self.links.get(&id).map_or(0, |(g, _)| *g)
    }
}
