//! Host tests: tagging, queries with zero, one and many matches, paging,
//! and persistence.

use protocols::ipc::heapless;
use protocols::object::ObjId;
use protocols::resolver::{Component, Name, Server as _};
use store::VecPmem;

use nomenclature::{ResolverService, SeqIds};

use super::*;

fn n(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag {
        key: Component::try_from(k).unwrap(),
        value: Component::try_from(v).unwrap(),
    }
}

fn id(i: u128) -> ObjId {
    ObjId::from_u128(0xacc0_0000 + i)
}

type Svc = ResolverService<Attributes, VecPmem, SeqIds>;

fn world() -> Svc {
    let mut s = Svc::open(VecPmem::new(64 * 1024), SeqIds(0)).unwrap();
    s.bind(n("type=account owner=alice"), id(1), EntryKind::Object)
        .unwrap();
    s.bind(n("type=account owner=bob"), id(2), EntryKind::Object)
        .unwrap();
    let tags: heapless::Vec<Tag, 8> = [tag("type", "photo"), tag("owner", "alice")]
        .into_iter()
        .collect();
    s.set_tags(id(3), tags).unwrap();
    s
}

#[test]
fn a_query_resolves_to_zero_one_or_many_objects_clearly() {
    let mut s = world();
    assert_eq!(s.resolve(n("type=account owner=alice")).unwrap().id, id(1));
    assert_eq!(s.resolve(n("owner=bob")).unwrap().id, id(2));
    assert_eq!(
        s.resolve(n("type=account owner=carol")),
        Err(NameError::NotFound)
    );
    assert_eq!(s.resolve(n("type=account")), Err(NameError::Ambiguous(2)));
    assert_eq!(s.resolve(n("owner")), Err(NameError::Ambiguous(3)));
    let m = s.query(n("owner=alice"), 0).unwrap();
    assert_eq!(
        (m.ids.as_slice(), m.total, m.next),
        (&[id(1), id(3)][..], 2, None)
    );
    assert_eq!(s.query(n("type=none"), 0).unwrap().total, 0);
    for bad in ["", "   ", "a==b", "=x", "x="] {
        assert_eq!(s.query(n(bad), 0), Err(NameError::InvalidName), "{bad:?}");
    }
}

#[test]
fn tags_change_and_removal_is_clean() {
    let mut s = world();
    let set: heapless::Vec<Tag, 8> = [tag("owner", "carol")].into_iter().collect();
    s.set_tags(id(2), set).unwrap();
    assert_eq!(s.resolve(n("owner=carol")).unwrap().id, id(2));
    assert_eq!(s.resolve(n("owner=bob")), Err(NameError::NotFound));
    let clear: heapless::Vec<Tag, 8> = [Tag {
        key: tag("owner", "x").key,
        value: Component::new(),
    }]
    .into_iter()
    .collect();
    s.set_tags(id(2), clear).unwrap();
    assert_eq!(
        s.state().tags_of(id(2)).collect::<std::vec::Vec<_>>(),
        [("type", "account")]
    );
    assert_eq!(
        s.bind(n("owner"), id(4), EntryKind::Object),
        Err(NameError::InvalidName)
    );
    assert_eq!(
        s.bind(n("a=b"), ObjId::NIL, EntryKind::Object),
        Err(NameError::InvalidName)
    );
    assert_eq!(s.unbind(n("type=account")), Err(NameError::Ambiguous(2)));
    assert_eq!(s.unbind(n("owner=alice type=photo")).unwrap().id, id(3));
    assert_eq!(s.state().tags_of(id(3)).count(), 0);
    assert_eq!(s.list(n("/"), 0), Err(NameError::Unsupported));
}

#[test]
fn many_matches_page_and_tags_survive_a_restart() {
    let mut s = world();
    for i in 10..60 {
        s.bind(n("type=log"), id(i), EntryKind::Object).unwrap();
    }
    let p = s.query(n("type=log"), 0).unwrap();
    assert_eq!((p.ids.len(), p.total, p.next), (32, 50, Some(32)));
    let p = s.query(n("type=log"), 32).unwrap();
    assert_eq!((p.ids.len(), p.next), (18, None));
    let mut s = Svc::open(s.into_pmem(), SeqIds(0)).unwrap();
    assert_eq!(s.resolve(n("owner=bob")).unwrap().id, id(2));
    assert_eq!(s.query(n("type=log"), 0).unwrap().total, 50);
    assert_eq!(s.info().unwrap().bindings, 56);
}
