//! Host tests over the object runtime's heap-backed fake view: an object
//! holding FOT name entries is traversed before and after a rebind and a
//! `publish`, and through a resolver that is gone.

use std::cell::RefCell;
use std::rc::Rc;

use current_version::Versions;
use hierarchical::Hierarchy;
use nomenclature::{EntryKind, ResolverService, SeqIds};
use objects::host::HeapMapper;
use objects::{InvPtr, ObjError, Object, fot};
use protocols::fot::{FotFlags, FotTarget};
use protocols::object::{BASE_OFFSET, ObjFlags, ObjHeader, Perms};
use protocols::resolver::{ResolverRecord, Server as _};
use std::boxed::Box;
use store::VecPmem;

use super::*;

const RW: Perms = Perms::READ.union(Perms::WRITE);
const CV: ObjId = ObjId::from_u128(0xc0_0001);
const HIER: ObjId = ObjId::from_u128(0xc0_0002);
const GONE: ObjId = ObjId::from_u128(0xc0_0003);

fn id(n: u128) -> ObjId {
    ObjId::from_u128(0x0b1e_c700 + n)
}

fn n(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

type Cv = ResolverService<Versions, VecPmem, SeqIds>;
type Hier = ResolverService<Hierarchy, VecPmem, SeqIds>;

struct World {
    space: Rc<Space>,
    holder: Object<u64>,
    cv: Rc<RefCell<Cv>>,
    hier: Rc<RefCell<Hier>>,
    binder: SharedBinder<Table>,
}

/// Objects 1 (the holder) and 10..=13 (targets, each holding `n * 100` at
/// its base); resolvers: current-version `CV` and hierarchical `HIER`.
/// The heap-backed view with the holder and the targets.
fn objects() -> (Rc<Space>, Object<u64>) {
    let mapper = HeapMapper::new(0);
    for i in [1, 10, 11, 12, 13] {
        mapper.create(
            id(i),
            &ObjHeader::new(1, ObjId::NIL, Perms::READ, ObjFlags::PERSISTENT),
        );
    }
    let space = Space::new(mapper);
    for i in 10..=13 {
        let o = space.open::<u64>(id(i), RW).unwrap();
        o.init(i as u64 * 100).unwrap();
    }
    let holder = space.open::<u64>(id(1), RW).unwrap();
    (space, holder)
}

fn world() -> World {
    let (space, holder) = objects();
    let cv = Rc::new(RefCell::new(
        Cv::open(VecPmem::new(16 * 1024), SeqIds(0)).unwrap(),
    ));
    let hier = Rc::new(RefCell::new(
        Hier::open(VecPmem::new(16 * 1024), SeqIds(0)).unwrap(),
    ));
    let mut table = Table::default();
    table.insert(CV, cv.clone());
    table.insert(HIER, hier.clone());
    table.set_default(HIER);
    let binder = SharedBinder::new(LateBinder::new(table));
    space.set_name_resolver(binder.clone());
    World {
        space,
        holder,
        cv,
        hier,
        binder,
    }
}

/// Stores `name` in the holder and adds a FOT name entry for it; returns a
/// pointer to the target's base through that entry.
fn name_ptr(w: &World, name: &str, resolver: ObjId) -> InvPtr<u64> {
    name_ptr_in(&w.holder, name, resolver)
}

fn name_ptr_in(holder: &Object<u64>, name: &str, resolver: ObjId) -> InvPtr<u64> {
    let mut bytes = [0u8; 32];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    let stored = holder.alloc(bytes).unwrap();
    let target = FotTarget::Name {
        offset: stored.offset(),
        len: name.len() as u32,
        resolver,
    };
    let index = fot::add(&holder.mapping_info().mem(), target, FotFlags::READ).unwrap();
    InvPtr::new(index, BASE_OFFSET).unwrap()
}

fn deref(w: &World, p: InvPtr<u64>) -> Result<u64, ObjError> {
    p.resolve(&w.holder).map(|r| r.read())
}

#[test]
fn a_current_version_pointer_follows_publish() {
    let w = world();
    w.cv.borrow_mut().publish(n("account"), id(10)).unwrap();
    let p = name_ptr(&w, "account", CV);
    assert_eq!(deref(&w, p), Ok(1000), "first dereference resolves");
    assert_eq!(deref(&w, p), Ok(1000), "then the FOT cache answers");
    assert_eq!(w.binder.binder().stats().resolves, 1);
    w.cv.borrow_mut().publish(n("account"), id(11)).unwrap();
    assert_eq!(deref(&w, p), Ok(1000), "cached until the program looks");
    assert!(follow_moves(&w.space, &w.binder), "the epoch moved");
    assert_eq!(deref(&w, p), Ok(1100), "the newest version after publish");
    assert!(!follow_moves(&w.space, &w.binder), "nothing moved since");
    assert_eq!(deref(&w, p), Ok(1100));
    assert_eq!(w.binder.binder().stats().resolves, 2);
}

#[test]
fn a_path_pointer_is_re_resolved_after_a_rebind() {
    let w = world();
    let h = &w.hier;
    h.borrow_mut().mkdir(n("/home")).unwrap();
    h.borrow_mut()
        .bind(n("/home/notes"), id(12), EntryKind::Object)
        .unwrap();
    let p = name_ptr(&w, "/home/notes", ObjId::NIL);
    let q = name_ptr(&w, "/home/notes", HIER);
    assert_eq!(deref(&w, p), Ok(1200), "nil: the default resolver");
    assert_eq!(deref(&w, q), Ok(1200));
    // This program rebinds the name: it tells its binder and the mapping.
    h.borrow_mut().unbind(n("/home/notes")).unwrap();
    h.borrow_mut()
        .bind(n("/home/notes"), id(13), EntryKind::Object)
        .unwrap();
    w.binder.binder().rebind(ObjId::NIL, "/home/notes");
    w.holder.mapping_info().forget(Some(p.index()));
    assert_eq!(deref(&w, p), Ok(1300), "re-resolved after rebind");
    assert_eq!(deref(&w, q), Ok(1200), "the other entry is still cached");
    assert!(follow_moves(&w.space, &w.binder));
    assert_eq!(deref(&w, q), Ok(1300));
    // Unbound: a clear error from the resolver.
    h.borrow_mut().unbind(n("/home/notes")).unwrap();
    follow_moves(&w.space, &w.binder);
    assert_eq!(deref(&w, q), Err(ObjError::NameUnresolved));
    assert_eq!(
        w.binder.last_error(),
        Some(LateError::Name(NameError::NotFound))
    );
}

#[test]
fn a_name_whose_resolver_is_gone_gives_a_clear_error() {
    let w = world();
    let p = name_ptr(&w, "anything", GONE);
    assert_eq!(deref(&w, p), Err(ObjError::NameUnresolved));
    assert_eq!(w.binder.last_error(), Some(LateError::ResolverGone(GONE)));
    // A resolver that stops: its cached answers are dropped on refresh.
    w.cv.borrow_mut().publish(n("v"), id(10)).unwrap();
    let q = name_ptr(&w, "v", CV);
    assert_eq!(deref(&w, q), Ok(1000));
    w.binder.binder().resolvers().remove(CV);
    assert!(follow_moves(&w.space, &w.binder));
    assert_eq!(deref(&w, q), Err(ObjError::NameUnresolved));
    assert_eq!(w.binder.last_error(), Some(LateError::ResolverGone(CV)));
}

#[test]
fn the_binder_caches_per_resolver_and_name() {
    let w = world();
    w.cv.borrow_mut().publish(n("a"), id(10)).unwrap();
    let mut b = w.binder.binder();
    assert_eq!(b.resolve(CV, b"a"), Ok(id(10)));
    assert_eq!(b.resolve(CV, b"a"), Ok(id(10)));
    assert_eq!(b.stats().hits, 1);
    assert_eq!(b.resolve(CV, &[0xff]), Err(LateError::NotUtf8));
    assert_eq!(
        b.resolve(CV, b"nope"),
        Err(LateError::Name(NameError::NotFound))
    );
    b.moved(CV);
    assert_eq!(b.resolve(CV, b"a"), Ok(id(10)));
    assert_eq!(b.stats().resolves, 3);
}

type FlatSvc = ResolverService<resolver_template::Flat, VecPmem, SeqIds>;

/// The "kernel": gate number → the resolver incarnation behind it.
#[derive(Clone, Default)]
struct Gates(Rc<RefCell<std::collections::BTreeMap<u64, Rc<RefCell<FlatSvc>>>>>);

impl Connect for Gates {
    fn connect(&mut self, record: &ResolverRecord) -> Option<Box<dyn Link>> {
        let svc = self.0.borrow().get(&record.gate)?.clone();
        Some(Box::new(svc))
    }
}

fn start_flat(gates: &Gates, gate: u64, target: ObjId) {
    let mut svc = FlatSvc::open(VecPmem::new(8192), SeqIds(0)).unwrap();
    svc.bind(n("acct"), target, EntryKind::Object).unwrap();
    gates
        .0
        .borrow_mut()
        .insert(gate, Rc::new(RefCell::new(svc)));
}

#[test]
fn a_resolver_registered_at_run_time_resolves_fot_names() {
    use nomenclature::RegistryService;
    use protocols::resolver::registry::Server as _;

    const FLAT: ObjId = ObjId::from_u128(0xf1a7);
    let (space, holder) = objects();
    let registry = Rc::new(RefCell::new(
        RegistryService::open(VecPmem::new(8192), 0).unwrap(),
    ));
    let gates = Gates::default();
    let resolvers = RegistryResolvers::new(registry.clone(), gates.clone(), ObjId::NIL);
    let binder = SharedBinder::new(LateBinder::new(resolvers));
    space.set_name_resolver(binder.clone());
    let p = name_ptr_in(&holder, "acct", FLAT);
    let deref = |p: InvPtr<u64>| p.resolve(&holder).map(|r| r.read());
    assert_eq!(deref(p), Err(ObjError::NameUnresolved), "not started yet");
    assert_eq!(binder.last_error(), Some(LateError::ResolverGone(FLAT)));

    // `resolver start flat`: the server starts and registers itself.
    start_flat(&gates, 1, id(10));
    let name = protocols::ipc::Text::try_from("flat").unwrap();
    registry
        .borrow_mut()
        .register(name.clone(), FLAT, 1)
        .unwrap();
    assert_eq!(deref(p), Ok(1000));

    // It restarts as a new incarnation (new gate, new generation) that
    // binds the name elsewhere; its epoch equals the old one's, but the
    // generation tells the binder its answers are stale.
    start_flat(&gates, 2, id(11));
    let rec = registry
        .borrow_mut()
        .register(name.clone(), FLAT, 2)
        .unwrap();
    assert!(follow_moves(&space, &binder));
    assert_eq!(deref(p), Ok(1100));

    // It stops and unregisters: a clear error.
    registry
        .borrow_mut()
        .unregister(name, rec.generation)
        .unwrap();
    assert!(follow_moves(&space, &binder));
    assert_eq!(deref(p), Err(ObjError::NameUnresolved));
    assert_eq!(binder.last_error(), Some(LateError::ResolverGone(FLAT)));
}
