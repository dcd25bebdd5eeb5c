//! Host tests: the shadow-copy state under simulated power cuts and
//! damage, the registry's rules, and a small resolver served end to end.

use std::collections::BTreeMap;
use std::string::String;

use protocols::ipc::{Loopback, Text};
use protocols::object::ObjId;
use protocols::resolver::registry::Server as _;
use protocols::resolver::{self, Client, Name, RegistryError, Server as _};
use serde::{Deserialize, Serialize};
use store::{CrashSim, CutPolicy, VecPmem};

use super::*;

type Map = BTreeMap<u32, String>;

fn state_after(i: u32) -> Map {
    (0..=i).map(|k| (k, "v".repeat(k as usize * 7))).collect()
}

#[test]
fn a_cut_at_any_instant_leaves_the_state_before_or_after_each_commit() {
    let mut p: Persisted<Map, CrashSim> = Persisted::open(CrashSim::new(64 * 1024, 7)).unwrap();
    assert_eq!((p.epoch(), p.state().len()), (0, 0), "zeroed: empty");
    p.pmem_mut().set_policy(Some(CutPolicy {
        at_fences: true,
        at_flushes: true,
        random_per_mille: 300,
        variants: 3,
    }));
    let mut images = 0;
    let mut before = Map::new();
    for i in 0..40 {
        let after = state_after(i);
        p.commit(after.clone()).unwrap();
        for image in p.pmem_mut().take_captures() {
            let r: Persisted<Map, VecPmem> = Persisted::open(VecPmem(image)).expect("recovers");
            let s = r.state();
            assert!(*s == before || *s == after, "cut during commit {i}: {s:?}");
            assert_eq!(r.epoch(), if *s == after { i as u64 + 1 } else { i as u64 });
            images += 1;
        }
        before = after;
    }
    assert!(images > 200, "only {images} cuts simulated");
    let durable = p.pmem_mut().durable_image();
    let r: Persisted<Map, VecPmem> = Persisted::open(VecPmem(durable)).unwrap();
    assert_eq!(
        (r.state(), r.epoch()),
        (&before, 40),
        "acknowledged = durable"
    );
}

#[test]
fn damage_is_reported_never_decoded() {
    let mut p: Persisted<Map, VecPmem> = Persisted::open(VecPmem::new(4096)).unwrap();
    p.commit(state_after(3)).unwrap();
    let good = p.into_pmem().0;
    let open = |b: &[u8]| Persisted::<Map, VecPmem>::open(VecPmem(b.to_vec())).map(|_| ());
    assert_eq!(open(&good), Ok(()));
    // Copy 1 holds sequence 1: header at 64 + 2016.
    let copy = 64 + (((4096 - 64) / 2) & !63);
    let mut b = good.clone();
    b[copy + 64] ^= 1;
    assert_eq!(open(&b), Err(StateError::BadChecksum));
    let mut b = good.clone();
    b[copy] ^= 1;
    assert_eq!(open(&b), Err(StateError::BadMagic));
    let mut b = good.clone();
    b[0] = 3;
    assert_eq!(
        open(&b),
        Err(StateError::BadSequence { commit: 3, copy: 1 })
    );
    let mut b = good.clone();
    b[copy + 16..copy + 24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(open(&b), Err(StateError::BadLength(u64::MAX)));
    assert_eq!(open(&[0; 128]), Err(StateError::TooSmall(128)));
}

#[test]
fn a_state_too_large_is_refused_and_the_old_one_stays() {
    let mut p: Persisted<Map, VecPmem> = Persisted::open(VecPmem::new(1024)).unwrap();
    p.commit(state_after(2)).unwrap();
    let err = p.commit(state_after(30));
    assert!(matches!(err, Err(StateError::NoSpace { .. })), "{err:?}");
    assert_eq!((p.state(), p.epoch()), (&state_after(2), 1));
    let r: Persisted<Map, VecPmem> = Persisted::open(p.into_pmem()).unwrap();
    assert_eq!(r.state(), &state_after(2));
}

#[test]
fn a_change_that_changes_nothing_writes_nothing() {
    let mut p: Persisted<Map, VecPmem> = Persisted::open(VecPmem::new(4096)).unwrap();
    p.commit(state_after(1)).unwrap();
    let before = p.pmem().clone();
    let got: Result<usize, StateError> = p.update_if_changed(|s| Ok(s.len()));
    assert_eq!(got, Ok(2));
    assert_eq!(p.epoch(), 1, "a query must not move the epoch");
    assert!(p.pmem() == &before, "a query must not write");
    p.update_if_changed(|s| {
        s.insert(9, "x".into());
        Ok::<_, StateError>(())
    })
    .unwrap();
    assert_eq!(p.epoch(), 2, "a real change commits");
    let r: Persisted<Map, VecPmem> = Persisted::open(p.into_pmem()).unwrap();
    assert_eq!(r.state().get(&9).map(String::as_str), Some("x"));
}

fn rname(s: &str) -> Text<32> {
    Text::try_from(s).unwrap()
}

#[test]
fn the_registry_tracks_resolvers_by_name_id_and_generation() {
    let mut r = RegistryService::open(VecPmem::new(16 * 1024), 99).unwrap();
    let hier = ObjId::from_u128(0x41);
    let a = r.register(rname("hier"), hier, 5).unwrap();
    assert_eq!((a.id, a.gate, a.generation), (hier, 5, 1));
    assert_eq!(r.lookup(rname("hier")), Ok(a.clone()));
    assert_eq!(r.lookup_id(hier), Ok(a.clone()));
    assert_eq!(r.lookup(rname("attr")), Err(RegistryError::NotFound));
    let me = r.lookup(rname(resolver::REGISTRY_NAME)).unwrap();
    assert_eq!((me.id, me.gate), (resolver::REGISTRY_ID, 99));
    assert_eq!(r.lookup_id(resolver::REGISTRY_ID), Ok(me));
    // A restart re-registers: a new generation; the old one is stale.
    let b = r.register(rname("hier"), hier, 6).unwrap();
    assert_eq!((b.gate, b.generation), (6, 2));
    assert_eq!(
        r.unregister(rname("hier"), 1),
        Err(RegistryError::StaleGeneration(2))
    );
    assert_eq!(
        r.register(rname("other"), hier, 1),
        Err(RegistryError::IdInUse)
    );
    for bad in ["", "Hier", "a b", "a/b"] {
        assert_eq!(
            r.register(rname(bad), ObjId::from_u128(7), 1),
            Err(RegistryError::InvalidName)
        );
    }
    assert_eq!(
        r.register(rname("registry"), ObjId::from_u128(7), 1),
        Err(RegistryError::Reserved)
    );
    assert_eq!(
        r.register(rname("x"), ObjId::NIL, 1),
        Err(RegistryError::Reserved)
    );
    for i in 0..20u128 {
        r.register(
            rname(&std::format!("r{i:02}")),
            ObjId::from_u128(100 + i),
            1,
        )
        .unwrap();
    }
    let p1 = r.list(0).unwrap();
    assert_eq!((p1.records.len(), p1.next), (16, Some(16)));
    let p2 = r.list(16).unwrap();
    assert_eq!((p2.records.len(), p2.next), (5, None));
    assert_eq!(p2.records[4].name.as_str(), "r19");
    // Survives a restart of the registry; generations keep growing.
    let mut r = RegistryService::open(r.into_pmem(), 99).unwrap();
    assert_eq!(r.lookup(rname("hier")), Ok(b));
    assert_eq!(r.unregister(rname("hier"), 2), Ok(()));
    let c = r.register(rname("hier"), hier, 7).unwrap();
    assert_eq!(c.generation, 23, "never reuses a generation");
}

/// The smallest resolver: flat names.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Flat(BTreeMap<String, ObjId>);

impl Resolve for Flat {
    const KIND: &'static str = "flat";
    fn resolve(&self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        let id = self.0.get(name).ok_or(NameError::NotFound)?;
        Ok((*id, EntryKind::Object))
    }
    fn bindings(&self) -> u64 {
        self.0.len() as u64
    }
    fn bind(
        &mut self,
        name: &str,
        id: ObjId,
        _: EntryKind,
        _: &mut dyn Env,
    ) -> Result<(), NameError> {
        name::component(name)?;
        if self.0.insert(name.into(), id).is_some() {
            return Err(NameError::Exists);
        }
        Ok(())
    }
}

fn n(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

#[test]
fn a_resolver_is_served_durably_and_reached_remotely() {
    let svc = ResolverService::<Flat, _, _>::open(VecPmem::new(8192), SeqIds(0)).unwrap();
    let mut c = Remote(Client::new(Loopback::new(resolver::Service(svc))));
    let id = ObjId::from_u128(5);
    assert_eq!(c.resolve(n("a")), Err(NameError::NotFound));
    c.bind(n("a"), id, EntryKind::Object).unwrap();
    let r = c.resolve(n("a")).unwrap();
    assert_eq!((r.id, r.epoch), (id, 1));
    assert_eq!(
        c.bind(n("a"), id, EntryKind::Object),
        Err(NameError::Exists),
        "a failed change is not committed"
    );
    assert_eq!(
        c.bind(n("a b"), id, EntryKind::Object),
        Err(NameError::InvalidName)
    );
    let info = c.info().unwrap();
    assert_eq!(
        (info.kind.as_str(), info.epoch, info.bindings),
        ("flat", 1, 1)
    );
    assert_eq!(c.mkdir(n("d")), Err(NameError::Unsupported));
    // The server restarts from its persistent memory: the name survives,
    // and the stale binding is refused until the client rebinds.
    let lb = c.0.transport_mut();
    let pmem = lb.server_mut().0.persisted().pmem().clone();
    lb.restart(resolver::Service(
        ResolverService::open(pmem, SeqIds(0)).unwrap(),
    ));
    assert_eq!(c.resolve(n("a")), Err(NameError::Unavailable));
    c.0.transport_mut().rebind();
    assert_eq!(c.resolve(n("a")).map(|r| r.id), Ok(id));
}

#[test]
fn pages_split_long_results() {
    let ids = (0..70u128).map(ObjId::from_u128);
    let p = page(ids.clone(), 0);
    assert_eq!((p.ids.len(), p.total, p.next), (32, 70, Some(32)));
    let p = page(ids.clone(), 64);
    assert_eq!((p.ids.len(), p.total, p.next), (6, 70, None));
    assert_eq!(p.ids[0], ObjId::from_u128(64));
}
