//! [`serve`]: the generic resolver server every resolver program runs.

use alloc::boxed::Box;
use core::sync::atomic::Ordering;

use nomenclature::{Resolve, ResolverService};
use protocols::ipc::{self, Interface, Text};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::resolver::{self, REGISTRY_NAME, Resolver, registry};
use runtime::ppc::{self, Gate};
use runtime::{println, sys};

use crate::backing::Backing;
use crate::gate::{STACKS, Serialized, gate_object, idle};
use crate::lazy::{INCARNATION, Lazy, Pending};
use crate::store::{CONNECT_MS, Objects, StoreLink};
use crate::{Args, DRAM_OBJECT, STATE_SIZE};

/// Exit code: bad arguments.
const EXIT_USAGE: u64 = 2;
/// Exit code: another server already serves the name.
const EXIT_RUNNING: u64 = 3;
/// Exit code: the state could not be found, mapped or opened.
const EXIT_STATE: u64 = 4;
/// Exit code: the gate or the registration failed.
const EXIT_SERVE: u64 = 5;

/// Serves resolver state `R` under the name in `args` (`NAME [--dram]`),
/// for ever; returns (an exit code) only when it cannot.
///
/// 1. Refuses when a live server already publishes `NAME`.
/// 2. Finds its state: the object its registry record names, or, with
///    none, provisional empty state made persistent on the first change
///    (see [`crate::lazy`]); `--dram`: a DRAM buffer.
/// 3. Opens (recovers) a [`ResolverService`] on it.
/// 4. Registers in the registry (a new generation), then publishes its
///    gate as service `NAME`: a client that finds the record waits for the
///    service, and no call can reach the server before its record is in.
pub fn serve<R: Resolve + 'static>(args: &str) -> u64 {
    let name = match Args::parse(args) {
        Ok(a) if !a.name.is_empty() && a.name.len() <= protocols::syscall::MAX_SERVICE_NAME => a,
        _ => {
            println!("{}: usage: NAME [--dram] (got {args:?})", R::KIND);
            return EXIT_USAGE;
        }
    };
    let (n, dram) = (name.name, name.dram);
    if sys::service_lookup(n).and_then(Gate::bind).is_ok() {
        println!("{n}: already running");
        return EXIT_RUNNING;
    }
    let Ok(rname) = Text::try_from(n) else {
        println!("{n}: name too long");
        return EXIT_USAGE;
    };
    let resume = runtime::kso::power_resume(n);
    let mut reg = match Gate::connect(REGISTRY_NAME, CONNECT_MS) {
        Ok(g) => registry::Client::new(g),
        Err(e) => {
            println!("{n}: cannot reach the registry: {e}");
            return EXIT_SERVE;
        }
    };
    let (backing, env, id, pending) = match state(n, dram, &mut reg) {
        Ok(s) => s,
        Err(why) => {
            println!("{n}: cannot find its state: {why}");
            return EXIT_STATE;
        }
    };
    let service = match ResolverService::<R, _, _>::open(backing, env) {
        Ok(s) => s,
        Err(e) => {
            println!("{n}: state object {id} does not open: {e:?}");
            return EXIT_STATE;
        }
    };
    let bindings = service.state().bindings();
    // SAFETY: the resolver's only non-`Send` part is its state's pointer
    // into its mapped state object, mapped for the program's life.
    let mut wrapped = unsafe { Serialized::new(Lazy { service, pending }) };
    let handler: Box<ppc::Handler> = Box::new(move |generation, request, reply| {
        ipc::serve(
            &mut resolver::Service(wrapped.get()),
            generation,
            request,
            reply,
        )
    });
    let registered = gate_object().and_then(|gate| {
        let incarnation = ppc::register_handler(gate, Resolver::GATES, handler, STACKS)?;
        INCARNATION.store(incarnation, Ordering::Release);
        Ok((gate, incarnation))
    });
    let (gate, incarnation) = match registered {
        Ok(g) => g,
        Err(e) => {
            println!("{n}: cannot serve: {e}");
            return EXIT_SERVE;
        }
    };
    // Register before publishing: nobody can reach this incarnation until
    // the service is published, so no first change (which registers the
    // new state object itself, see `crate::lazy`) can race this record and
    // be overwritten by the provisional identity.
    let rec = match ppc::retrying(
        &mut reg,
        |c| c.transport_mut(),
        |c| c.register(rname.clone(), id, incarnation),
    ) {
        Ok(rec) => rec,
        Err(e) => {
            println!("{n}: cannot register: {e:?}");
            return EXIT_SERVE;
        }
    };
    if let Some(r) = resume {
        r.recovered(n, &alloc::format!("{bindings} names"));
    }
    if let Err(e) = sys::service_publish(n, gate) {
        println!("{n}: cannot publish: {e}");
        return EXIT_SERVE;
    }
    println!(
        "{n}: {} resolver serving {bindings} names (generation {})",
        R::KIND,
        rec.generation
    );
    idle()
}

/// The resolver's state memory, the objects it creates, its identity,
/// and — while it has no state object yet — what it needs to make one
/// (see [`crate::lazy`]).
fn state(
    name: &str,
    dram: bool,
    reg: &mut registry::Client<Gate>,
) -> Result<(Backing, Objects, ObjId, Option<Pending>), &'static str> {
    let dram_identity = || {
        sys::obj_create(DRAM_OBJECT, ObjFlags::EMPTY, Perms::READ, ObjId::NIL)
            .map_err(|_| "no DRAM object for its identity")
    };
    if dram {
        println!("{name}: no persistent memory: its names live in DRAM and are lost at power-off");
        return Ok((
            Backing::dram(STATE_SIZE),
            Objects::Dram,
            dram_identity()?,
            None,
        ));
    }
    let mut store = StoreLink::connect().map_err(|_| "the object store is not serving")?;
    let rname = Text::try_from(name).map_err(|_| "name too long")?;
    let known = ppc::retrying(reg, |c| c.transport_mut(), |c| c.lookup(rname.clone())).ok();
    // A record naming no stored object is a provisional identity of an
    // earlier boot (or a state object deleted behind the resolver's back).
    let existing = known.and_then(|rec| store.call(|c| c.stat(rec.id)).ok());
    match existing {
        Some(info) => {
            let backing =
                Backing::map(info.id, info.size).map_err(|_| "cannot map its state object")?;
            Ok((backing, Objects::Store(store), info.id, None))
        }
        None => {
            let registry = Gate::connect(REGISTRY_NAME, CONNECT_MS)
                .map(registry::Client::new)
                .map_err(|_| "cannot reach the registry")?;
            let pending = Pending {
                name: rname,
                registry,
                spare: None,
            };
            let id = dram_identity()?;
            Ok((
                Backing::dram(STATE_SIZE),
                Objects::Store(store),
                id,
                Some(pending),
            ))
        }
    }
}
