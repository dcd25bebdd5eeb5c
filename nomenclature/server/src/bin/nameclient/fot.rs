//! `nameclient fot`: late binding in the guest. An object holds four FOT
//! name entries — a path in the hierarchical resolver, a current-version
//! name, a name in `flat` (a resolver the shell started at run time with
//! `resolver start flat`), and a name whose resolver is not registered —
//! and pointers
//! through them are dereferenced before and after a rebind and a
//! `publish`, with the first (resolving) and the cached dereference timed.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;

use late_binding::{
    Connect, LateBinder, LateError, Link, RegistryResolvers, ServerLink, SharedBinder, follow_moves,
};
use nomenclature::Remote;
use nomenclature_server::runtime::ppc::Gate;
use nomenclature_server::runtime::{println, sys};
use objects::kernel::KernelMapper;
use objects::{InvPtr, ObjError, Object, Space, fot};
use protocols::fot::{FotFlags, FotTarget};
use protocols::ipc::{CallError, Text};
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::resolver::{Client, EntryKind, MAX_COMPONENT, NameError, ResolverRecord, registry};

use crate::{CONNECT_MS, name, now};

const RW: Perms = Perms::READ.union(Perms::WRITE);
/// Data bytes of each DRAM object the demo makes.
const SIZE: u64 = 64 * 1024;
/// The first view slot the object runtime maps into.
const FIRST_SLOT: u64 = 40;
/// A resolver ID nobody registered.
const GONE: ObjId = ObjId::from_u128(0x6f6e_6567);
/// Cached dereferences timed.
const CACHED_RUNS: u64 = 1000;

/// Resolvers reached by their published name.
pub(crate) struct ByName;

impl Connect for ByName {
    fn connect(&mut self, record: &ResolverRecord) -> Option<Box<dyn Link>> {
        let gate = Gate::connect(record.name.as_str(), 0).ok()?;
        Some(Box::new(ServerLink(Remote(Client::new(gate)))))
    }
}

/// The late binder, resolvers found through the registry.
pub(crate) type Binder = SharedBinder<RegistryResolvers<registry::Client<Gate>, ByName>>;

/// `s` as a registry name (empty if too long).
pub(crate) fn rname(s: &str) -> Text<{ protocols::resolver::MAX_RESOLVER_NAME }> {
    Text::try_from(s).unwrap_or_default()
}

/// Stores `text` in `holder` and adds a FOT entry naming it through
/// `resolver`; returns a pointer to the target's first data bytes through
/// the entry.
pub(crate) fn name_ptr<T>(
    holder: &Object<u64>,
    text: &str,
    resolver: ObjId,
) -> Result<InvPtr<T>, String> {
    let mut bytes = [0u8; MAX_COMPONENT];
    bytes
        .get_mut(..text.len())
        .ok_or_else(|| format!("{text:?} is longer than {MAX_COMPONENT} bytes"))?
        .copy_from_slice(text.as_bytes());
    let stored = holder.alloc(bytes).map_err(|e| format!("alloc: {e:?}"))?;
    let target = FotTarget::Name {
        offset: stored.offset(),
        len: text.len() as u32,
        resolver,
    };
    let index = fot::add(&holder.mapping_info().mem(), target, FotFlags::READ)
        .map_err(|e| format!("fot add: {e:?}"))?;
    InvPtr::new(index, BASE_OFFSET).map_err(|e| format!("ptr: {e:?}"))
}

fn deref(holder: &Object<u64>, p: InvPtr<u64>) -> Result<u64, ObjError> {
    p.resolve(holder).map(|r| r.read())
}

fn expect(what: &str, got: Result<u64, ObjError>, want: u64) -> Result<(), String> {
    match got {
        Ok(v) if v == want => Ok(()),
        other => Err(format!("{what}: got {other:?}, want {want}")),
    }
}

fn call<R>(what: &str, r: Result<R, CallError<NameError>>) -> Result<R, String> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

/// Runs the demo; the `Ok` text is the summary line.
pub fn run() -> Result<String, String> {
    let gate = |n: &str| Gate::connect(n, CONNECT_MS).map_err(|e| format!("connect {n}: {e}"));
    let mut hier = Client::new(gate("hier")?);
    let mut cur = Client::new(gate("current")?);
    // A resolver started at run time (`resolver start flat`), not at boot.
    let mut flat = Client::new(gate("flat")?);
    let mut reg = registry::Client::new(gate("registry")?);
    let mut ids = [ObjId::NIL; 3];
    for id in &mut ids {
        *id = sys::obj_create(SIZE, ObjFlags::EMPTY, RW, ObjId::NIL)
            .map_err(|e| format!("obj: {e}"))?;
    }
    let [holder_id, t1, t2] = ids;
    let space = Space::new(KernelMapper::new(FIRST_SLOT));
    for (id, v) in [(t1, 111u64), (t2, 222)] {
        let o = space
            .open::<u64>(id, RW)
            .map_err(|e| format!("open: {e:?}"))?;
        o.init(v).map_err(|e| format!("init: {e:?}"))?;
    }
    match hier.mkdir(name("/fot")) {
        Ok(_) | Err(CallError::Server(NameError::Exists)) => {}
        Err(e) => return Err(format!("mkdir /fot: {e:?}")),
    }
    let _ = hier.unbind(name("/fot/t"));
    call("bind", hier.bind(name("/fot/t"), t1, EntryKind::Object))?;
    call("publish", cur.publish(name("fotv"), t1))?;
    let _ = flat.unbind(name("fotflat"));
    call(
        "bind flat",
        flat.bind(name("fotflat"), t1, EntryKind::Object),
    )?;
    // After the first changes: a resolver's identity is its state object,
    // made on its first change (`nomenclature_server::lazy`).
    let hier_id = reg
        .lookup(rname("hier"))
        .map_err(|e| format!("lookup hier: {e:?}"))?
        .id;
    let cur_id = reg
        .lookup(rname("current"))
        .map_err(|e| format!("lookup current: {e:?}"))?
        .id;
    let flat_id = reg
        .lookup(rname("flat"))
        .map_err(|e| format!("lookup flat: {e:?}"))?
        .id;

    let binder: Binder = SharedBinder::new(LateBinder::new(RegistryResolvers::new(
        reg, ByName, hier_id,
    )));
    space.set_name_resolver(binder.clone());
    let holder = space
        .open::<u64>(holder_id, RW)
        .map_err(|e| format!("open: {e:?}"))?;
    holder.init(0).map_err(|e| format!("init: {e:?}"))?;
    let p = name_ptr(&holder, "/fot/t", hier_id)?;
    let q = name_ptr(&holder, "fotv", cur_id)?;
    let g = name_ptr(&holder, "lost", GONE)?;
    let f = name_ptr(&holder, "fotflat", flat_id)?;

    // First dereference: registry lookup, connect, resolve; then cached.
    let t = now();
    expect("path, first", deref(&holder, p), 111)?;
    let first = now().saturating_sub(t);
    let t = now();
    for _ in 0..CACHED_RUNS {
        expect("path, cached", deref(&holder, p), 111)?;
    }
    let cached = now().saturating_sub(t) / CACHED_RUNS;
    // For `cargo xtask bench` (one first dereference; the cached figure is
    // the mean of CACHED_RUNS).
    println!(
        "bench: late-bound pointer, first dereference: median {first} ns, p10 {first}, p90 {first}, runs 1"
    );
    println!(
        "bench: late-bound pointer, cached dereference: median {cached} ns, p10 {cached}, p90 {cached}, runs {CACHED_RUNS}"
    );
    expect("version, first", deref(&holder, q), 111)?;
    expect(
        "flat name (a resolver started at run time)",
        deref(&holder, f),
        111,
    )?;

    // Rebind the path: this program tells its binder and the mapping.
    call("unbind", hier.unbind(name("/fot/t")))?;
    call("rebind", hier.bind(name("/fot/t"), t2, EntryKind::Object))?;
    binder.binder().rebind(hier_id, "/fot/t");
    holder.mapping_info().forget(Some(p.index()));
    expect("path after rebind", deref(&holder, p), 222)?;

    // Publish a new version: cached until the program looks for moves.
    call("publish", cur.publish(name("fotv"), t2))?;
    expect("version before looking", deref(&holder, q), 111)?;
    if !follow_moves(&space, &binder) {
        return Err(String::from("follow_moves saw no move after publish"));
    }
    expect("version after publish", deref(&holder, q), 222)?;

    // A name whose resolver is not registered.
    let gone = deref(&holder, g);
    let why = binder.last_error();
    if gone != Err(ObjError::NameUnresolved) || why != Some(LateError::ResolverGone(GONE)) {
        return Err(format!("gone resolver: {gone:?}, {why:?}"));
    }
    Ok(format!(
        "path 111 -> 222 after rebind, version 111 -> 222 after publish, \
         a name in the run-time resolver flat -> 111, \
         unregistered resolver -> {why:?}; first dereference {first} ns, cached {cached} ns"
    ))
}
