//! Host tests: every operation and every file-system error, paging,
//! persistence across a restart and consistency under power cuts.

use protocols::ipc::Loopback;
use protocols::object::ObjId;
use protocols::resolver::{self, Client, Name, Server as _};
use store::{CrashSim, CutPolicy, VecPmem};

use nomenclature::{Remote, ResolverService, SeqIds};

use super::*;

use EntryKind::{Directory, Object};

type Svc<P> = ResolverService<Hierarchy, P, SeqIds>;

fn n(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

fn file(i: u128) -> ObjId {
    ObjId::from_u128(0xf11e_0000 + i)
}

fn fresh() -> Svc<VecPmem> {
    ResolverService::open(VecPmem::new(64 * 1024), SeqIds(0xd1_0000)).unwrap()
}

#[test]
fn paths_are_checked() {
    assert_eq!(parse("/").unwrap().components(), &[] as &[&str]);
    assert_eq!(parse("/home/a/").unwrap().components(), &["home", "a"]);
    for bad in [
        "", "home", "//", "/a//b", "/a/./b", "/a/../b", "/a b", "/a=b",
    ] {
        assert_eq!(parse(bad), Err(NameError::InvalidName), "{bad:?}");
    }
    assert_eq!(parse(&"/x".repeat(129)), Err(NameError::InvalidName));
}

#[test]
fn bind_resolve_and_the_errors_of_a_file_system() {
    let mut h = fresh();
    let home = h.mkdir(n("/home")).unwrap();
    let a = h.mkdir(n("/home/a")).unwrap();
    assert_ne!(home, a);
    h.bind(n("/home/a/notes"), file(1), Object).unwrap();
    let r = h.resolve(n("/home/a/notes")).unwrap();
    assert_eq!((r.id, r.kind), (file(1), Object));
    assert_eq!(h.resolve(n("/home/a")).unwrap().id, a);
    assert_eq!(h.resolve(n("/")).unwrap().id, ROOT);
    assert_eq!(h.resolve(n("/home/a/nope")), Err(NameError::NotFound));
    assert_eq!(
        h.resolve(n("/home/b/notes")),
        Err(NameError::MissingComponent)
    );
    assert_eq!(
        h.resolve(n("/home/a/notes/x")),
        Err(NameError::NotADirectory)
    );
    assert_eq!(h.resolve(n("home")), Err(NameError::InvalidName));
    assert_eq!(
        h.bind(n("/home/a/notes"), file(2), Object),
        Err(NameError::Exists)
    );
    assert_eq!(h.mkdir(n("/home/a/notes")), Err(NameError::Exists));
    assert_eq!(h.mkdir(n("/home")), Err(NameError::Exists));
    assert_eq!(h.mkdir(n("/")), Err(NameError::Exists));
    assert_eq!(h.mkdir(n("/x/y")), Err(NameError::MissingComponent));
    assert_eq!(
        h.bind(n("/home/a/notes/x"), file(2), Object),
        Err(NameError::NotADirectory)
    );
    assert_eq!(
        h.bind(n("/nil"), ObjId::NIL, Object),
        Err(NameError::InvalidName)
    );
    assert_eq!(
        h.bind(n("/alias"), a, Directory),
        Err(NameError::Exists),
        "no directory hard links"
    );
    assert_eq!(h.unbind(n("/home/a")), Err(NameError::NotEmpty));
    assert_eq!(h.unbind(n("/")), Err(NameError::InvalidName));
    assert_eq!(h.unbind(n("/home/a/zz")), Err(NameError::NotFound));
    let gone = h.unbind(n("/home/a/notes")).unwrap();
    assert_eq!((gone.id, gone.kind), (file(1), Object));
    assert_eq!(h.unbind(n("/home/a")).unwrap().id, a);
    assert_eq!(h.resolve(n("/home/a")), Err(NameError::NotFound));
    assert_eq!(h.state().bindings(), 1);
    assert!(
        !h.state().dirs.contains_key(&a),
        "the removed directory is gone"
    );
}

#[test]
fn rename_moves_replaces_and_refuses_what_a_file_system_refuses() {
    let mut h = fresh();
    h.mkdir(n("/d")).unwrap();
    let e = h.mkdir(n("/e")).unwrap();
    h.mkdir(n("/d/sub")).unwrap();
    h.bind(n("/d/f"), file(1), Object).unwrap();
    h.bind(n("/g"), file(2), Object).unwrap();
    // Over an existing file: replaced, its ID returned.
    assert_eq!(h.rename(n("/g"), n("/d/f")), Ok(file(1)));
    assert_eq!(h.resolve(n("/d/f")).unwrap().id, file(2));
    assert_eq!(h.resolve(n("/g")), Err(NameError::NotFound));
    assert_eq!(h.rename(n("/g"), n("/h")), Err(NameError::NotFound));
    assert_eq!(h.rename(n("/d/f"), n("/e")), Err(NameError::IsADirectory));
    assert_eq!(h.rename(n("/e"), n("/d/f")), Err(NameError::NotADirectory));
    assert_eq!(h.rename(n("/d"), n("/d/sub/x")), Err(NameError::WouldLoop));
    assert_eq!(h.rename(n("/d"), n("/d")), Ok(ObjId::NIL));
    assert_eq!(h.rename(n("/e"), n("/d")), Err(NameError::NotEmpty));
    assert_eq!(h.rename(n("/"), n("/x")), Err(NameError::InvalidName));
    assert_eq!(
        h.rename(n("/d/f"), n("/nope/f")),
        Err(NameError::MissingComponent)
    );
    // A directory over an empty directory; its contents move with it.
    assert_eq!(h.rename(n("/d"), n("/e")), Ok(e));
    assert_eq!(h.resolve(n("/e/f")).unwrap().id, file(2));
    assert_eq!(h.resolve(n("/e/sub")).unwrap().kind, Directory);
    assert_eq!(h.resolve(n("/d")), Err(NameError::NotFound));
    assert!(
        !h.state().dirs.contains_key(&e),
        "the replaced directory is gone"
    );
}

#[test]
fn listing_pages_through_a_directory_in_name_order() {
    let mut h = fresh();
    h.mkdir(n("/big")).unwrap();
    for i in 0..40u128 {
        h.bind(n(&std::format!("/big/f{i:02}")), file(i), Object)
            .unwrap();
    }
    let p1 = h.list(n("/big"), 0).unwrap();
    assert_eq!((p1.entries.len(), p1.next), (16, Some(16)));
    assert_eq!(p1.entries[0].name.as_str(), "f00");
    let p3 = h.list(n("/big"), 32).unwrap();
    assert_eq!((p3.entries.len(), p3.next), (8, None));
    assert_eq!(p3.entries[7].name.as_str(), "f39");
    assert_eq!(h.list(n("/big/f01"), 0), Err(NameError::NotADirectory));
    assert_eq!(h.list(n("/nope"), 0), Err(NameError::NotFound));
    let root = h.list(n("/"), 0).unwrap();
    assert_eq!(root.entries.len(), 1);
    assert_eq!(root.entries[0].kind, Directory);
}

#[test]
fn names_survive_a_restart_and_two_clients_see_one_namespace() {
    let mut h = fresh();
    h.mkdir(n("/home")).unwrap();
    h.bind(n("/home/x"), file(9), Object).unwrap();
    let epoch = h.epoch();
    let h = ResolverService::<Hierarchy, _, _>::open(h.into_pmem(), SeqIds(0xd2_0000)).unwrap();
    assert_eq!(h.epoch(), epoch);
    // Two programs bind through the same server, one call at a time (the
    // PPC serialises them): both bindings land, the second of two binds of
    // one name gets `Exists`.
    let mut a = Remote(Client::new(Loopback::new(resolver::Service(h))));
    a.bind(n("/home/y"), file(10), Object).unwrap();
    assert_eq!(
        a.bind(n("/home/y"), file(11), Object),
        Err(NameError::Exists)
    );
    assert_eq!(a.resolve(n("/home/x")).unwrap().id, file(9));
    assert_eq!(a.list(n("/home"), 0).unwrap().entries.len(), 2);
}

#[test]
fn a_power_cut_during_any_change_leaves_a_namespace_before_or_after_it() {
    let mut h: Svc<CrashSim> =
        ResolverService::open(CrashSim::new(64 * 1024, 3), SeqIds(0xd3_0000)).unwrap();
    h.persisted().pmem_mut().set_policy(Some(CutPolicy {
        at_fences: true,
        at_flushes: true,
        random_per_mille: 200,
        variants: 2,
    }));
    let mut before = h.state().clone();
    let mut cuts = 0;
    type Op = dyn Fn(&mut Svc<CrashSim>) -> Result<(), NameError>;
    let ops: [&Op; 6] = [
        &|h| h.mkdir(n("/a")).map(|_| ()),
        &|h| h.mkdir(n("/a/b")).map(|_| ()),
        &|h| h.bind(n("/a/b/f"), file(1), Object),
        &|h| h.rename(n("/a/b/f"), n("/g")).map(|_| ()),
        &|h| h.rename(n("/a/b"), n("/c")).map(|_| ()),
        &|h| h.unbind(n("/g")).map(|_| ()),
    ];
    for op in ops {
        op(&mut h).unwrap();
        let after = h.state().clone();
        for image in h.persisted().pmem_mut().take_captures() {
            let r = Svc::open(VecPmem(image), SeqIds(0)).expect("recovers");
            assert!(*r.state() == before || *r.state() == after);
            cuts += 1;
        }
        before = after;
    }
    assert!(cuts > 30, "{cuts}");
}

/// An environment that remembers what it created and released.
#[derive(Default)]
struct Recorder {
    next: u128,
    live: std::collections::BTreeSet<ObjId>,
}

impl nomenclature::Env for Recorder {
    fn create_object(&mut self, _: EntryKind) -> Result<ObjId, NameError> {
        self.next += 1;
        let id = ObjId::from_u128(0xd1d0 + self.next);
        self.live.insert(id);
        Ok(id)
    }
    fn release_object(&mut self, id: ObjId) {
        assert!(self.live.remove(&id), "released twice or never created");
    }
}

#[test]
fn removed_directories_release_their_objects_after_the_commit() {
    let mut h =
        ResolverService::<Hierarchy, _, _>::open(VecPmem::new(16384), Recorder::default()).unwrap();
    h.mkdir(n("/a")).unwrap();
    h.mkdir(n("/b")).unwrap();
    h.mkdir(n("/c")).unwrap();
    h.bind(n("/f"), file(1), Object).unwrap();
    assert_eq!(h.unbind(n("/a")).unwrap().kind, Directory);
    h.rename(n("/b"), n("/c")).unwrap();
    h.unbind(n("/f")).unwrap();
    // /a removed, /b replaced /c: only /b's object is still live.
    assert_eq!(h.env().live.len(), 1);
    assert_eq!(h.state().dirs.len(), 2, "the root and /c (formerly /b)");
    let c = h.state().lookup(&parse("/c").unwrap()).unwrap().id;
    assert_eq!(h.env().live.first(), Some(&c));
}
