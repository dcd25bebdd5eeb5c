//! [`serve_registry`]: the registry server (the `registry` program).

use alloc::boxed::Box;

use alloc::vec;

use nomenclature::{HEADER_LEN, Pmem, RegistryService};
use protocols::ipc::{self, Interface, Text};
use protocols::object::{ObjId, Perms};
use protocols::resolver::registry::{self, Registry, Server};
use protocols::resolver::{
    MAX_RESOLVER_NAME, REGISTRY_ID, REGISTRY_NAME, RecordPage, RegistryError, ResolverRecord,
};
use runtime::ppc;
use runtime::sync::Mutex;
use runtime::{println, sys};

use crate::backing::Backing;
use crate::gate::{STACKS, Serialized, gate_object, idle};
use crate::store::StoreLink;
use crate::{Args, REGISTRY_SIZE};

/// The registry, once open. Calls arrive only after `service_publish`,
/// which follows opening, so they always find it; the slot exists because
/// the registry's own record names the PPC incarnation, known only once
/// the handler is registered.
static REGISTRY: Mutex<Option<Serialized<LazyRegistry>>> = Mutex::new(None);

/// Serves the registry (arguments: `[--dram]`) for ever; returns an exit
/// code only when it cannot.
pub fn serve_registry(args: &str) -> u64 {
    let dram = match Args::parse(args) {
        Ok(a) if a.name.is_empty() => a.dram,
        _ => {
            println!("registry: usage: [--dram] (got {args:?})");
            return 2;
        }
    };
    // After a power cut: the notice, before the state is opened (which
    // runs its recovery) and long before anything is served.
    let resume = runtime::kso::power_resume("registry");
    // `upgrade`: the store to create the state object in, while the
    // registry is provisional (see `LazyRegistry`).
    let (backing, upgrade) = if dram {
        println!("registry: no persistent memory: resolver records live in DRAM");
        (Backing::dram(REGISTRY_SIZE), None)
    } else {
        match find_state() {
            Ok((Some(b), _)) => (b, None),
            Ok((None, store)) => (Backing::dram(REGISTRY_SIZE), Some(store)),
            Err(why) => {
                println!("registry: cannot find its state: {why}");
                return 4;
            }
        }
    };
    let handler: Box<ppc::Handler> = Box::new(|generation, request, reply| {
        let mut slot = REGISTRY.lock();
        match slot.as_mut() {
            Some(r) => ipc::serve(&mut registry::Service(r.get()), generation, request, reply),
            // Unreachable in practice (see REGISTRY): an empty reply is a
            // transport error for the caller, not a fault here.
            None => 0,
        }
    });
    let gate = match gate_object() {
        Ok(g) => g,
        Err(e) => {
            println!("registry: cannot create its gate object: {e}");
            return 5;
        }
    };
    let incarnation = match ppc::register_handler(gate, Registry::GATES, handler, STACKS) {
        Ok(g) => g,
        Err(e) => {
            println!("registry: cannot serve: {e}");
            return 5;
        }
    };
    let service = match RegistryService::open(backing, incarnation) {
        Ok(s) => s,
        Err(e) => {
            println!("registry: its state does not open: {e:?}");
            return 4;
        }
    };
    // SAFETY: the registry's only non-`Send` part is its state's pointer
    // into its mapped state object, mapped for the program's life.
    *REGISTRY.lock() = Some(unsafe {
        Serialized::new(LazyRegistry {
            service,
            upgrade,
            incarnation,
            spare: None,
        })
    });
    if let Some(r) = resume {
        r.recovered("registry", "its resolver records");
    }
    if let Err(e) = sys::service_publish(REGISTRY_NAME, gate) {
        println!("registry: cannot publish: {e}");
        return 5;
    }
    println!("registry: serving");
    idle()
}

/// The registry's state object, mapped — the persistent object marked
/// with key [`REGISTRY_ID`] (the lowest ID if several) — if there is one;
/// and the store.
fn find_state() -> Result<(Option<Backing>, StoreLink), &'static str> {
    let mut store = StoreLink::connect().map_err(|_| "the object store is not serving")?;
    let marked = store
        .with_key(REGISTRY_ID)
        .map_err(|_| "cannot list the object store")?;
    let Some(&info) = marked.iter().min_by_key(|i| i.id) else {
        return Ok((None, store));
    };
    if marked.len() > 1 {
        println!(
            "registry: {} objects carry the registry's mark; using {}",
            marked.len(),
            info.id
        );
    }
    let b = Backing::map(info.id, info.size).map_err(|_| "cannot map its state object")?;
    Ok((Some(b), store))
}

/// The registry, provisional (in DRAM) until the first resolver registers
/// a persistent state object: then it creates its own state object and
/// moves its records there. A boot in which no resolver changed a name
/// writes nothing to the store.
struct LazyRegistry {
    service: RegistryService<Backing>,
    /// `Some` while provisional with a store to move to.
    upgrade: Option<StoreLink>,
    /// The PPC incarnation (the registry's own record's `gate`).
    incarnation: u64,
    /// A state object an upgrade created but could not map: the next
    /// upgrade uses it. (It carries no DELETE — no program may delete the
    /// registry — so it cannot be deleted, and must not be left to carry
    /// the registry's mark unused.)
    spare: Option<protocols::objstore::ObjInfo>,
}

impl LazyRegistry {
    /// Moves the records into a new persistent state object if `id` is a
    /// stored object (a resolver's state) and the registry is provisional.
    ///
    /// The copy is crash-consistent: the object is zeroed (the empty
    /// registry) when created; the copies are written, flushed and fenced
    /// before the commit line, so a cut leaves the empty registry or the
    /// whole copy.
    fn upgrade_for(&mut self, id: ObjId) -> Result<(), RegistryError> {
        let Some(store) = self.upgrade.as_mut() else {
            return Ok(());
        };
        if store.call(|c| c.stat(id)).is_err() {
            return Ok(());
        }
        let info = match self.spare.take() {
            Some(info) => info,
            None => store
                .create(REGISTRY_SIZE, Perms::READ | Perms::WRITE, REGISTRY_ID)
                .map_err(|_| RegistryError::NoSpace)?,
        };
        let Ok(mut new) = Backing::map(info.id, info.size) else {
            self.spare = Some(info);
            return Err(RegistryError::NoSpace);
        };
        let placeholder = RegistryService::open(Backing::dram(REGISTRY_SIZE), self.incarnation)
            .map_err(RegistryError::from)?;
        let old = core::mem::replace(&mut self.service, placeholder).into_pmem();
        let mut bytes = vec![0u8; REGISTRY_SIZE as usize];
        old.read(0, &mut bytes);
        let line = HEADER_LEN as usize;
        new.write(HEADER_LEN, &bytes[line..]);
        new.flush(HEADER_LEN, REGISTRY_SIZE - HEADER_LEN);
        new.fence();
        new.write(0, &bytes[..line]);
        new.flush(0, HEADER_LEN);
        new.fence();
        self.service = RegistryService::open(new, self.incarnation).map_err(RegistryError::from)?;
        self.upgrade = None;
        println!("registry: state object {} created", info.id);
        Ok(())
    }
}

impl Server for LazyRegistry {
    fn register(
        &mut self,
        name: Text<MAX_RESOLVER_NAME>,
        id: ObjId,
        gate: u64,
    ) -> Result<ResolverRecord, RegistryError> {
        self.upgrade_for(id)?;
        self.service.register(name, id, gate)
    }
    fn unregister(
        &mut self,
        name: Text<MAX_RESOLVER_NAME>,
        generation: u64,
    ) -> Result<(), RegistryError> {
        self.service.unregister(name, generation)
    }
    fn lookup(&mut self, name: Text<MAX_RESOLVER_NAME>) -> Result<ResolverRecord, RegistryError> {
        self.service.lookup(name)
    }
    fn lookup_id(&mut self, id: ObjId) -> Result<ResolverRecord, RegistryError> {
        self.service.lookup_id(id)
    }
    fn list(&mut self, cursor: u64) -> Result<RecordPage, RegistryError> {
        self.service.list(cursor)
    }
}
