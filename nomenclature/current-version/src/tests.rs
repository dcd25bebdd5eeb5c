//! Host tests: publish moves the name and the epoch, history is kept and
//! survives a restart.

use protocols::object::ObjId;
use protocols::resolver::{Name, Server as _};
use store::VecPmem;

use nomenclature::{ResolverService, SeqIds};

use super::*;

fn n(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

fn v(i: u128) -> ObjId {
    ObjId::from_u128(0x0ac_0000 + i)
}

type Svc = ResolverService<Versions, VecPmem, SeqIds>;

#[test]
fn publish_moves_the_binding_and_keeps_history() {
    let mut s = Svc::open(VecPmem::new(64 * 1024), SeqIds(0)).unwrap();
    assert_eq!(s.resolve(n("account")), Err(NameError::NotFound));
    s.bind(n("account"), v(1), EntryKind::Object).unwrap();
    let first = s.resolve(n("account")).unwrap();
    assert_eq!(first.id, v(1));
    assert_eq!(
        s.bind(n("account"), v(9), EntryKind::Object),
        Err(NameError::Exists)
    );
    assert_eq!(s.publish(n("account"), v(2)), Ok(2));
    assert_eq!(s.publish(n("account"), v(3)), Ok(3));
    let now = s.resolve(n("account")).unwrap();
    assert_eq!(now.id, v(3));
    assert!(now.epoch > first.epoch, "publish moves the epoch");
    let h = s.history(n("account"), 0).unwrap();
    assert_eq!((h.ids.as_slice(), h.total), (&[v(1), v(2), v(3)][..], 3));
    assert_eq!(s.publish(n("other"), v(7)), Ok(1), "publish creates a name");
    assert_eq!(s.publish(n("bad name"), v(7)), Err(NameError::InvalidName));
    assert_eq!(s.publish(n("x"), ObjId::NIL), Err(NameError::InvalidName));
    let l = s.list(n(""), 0).unwrap();
    assert_eq!(l.entries.len(), 2);
    assert_eq!(
        (l.entries[0].name.as_str(), l.entries[0].id),
        ("account", v(3))
    );
    let mut s = Svc::open(s.into_pmem(), SeqIds(0)).unwrap();
    assert_eq!(s.resolve(n("account")).unwrap().id, v(3));
    assert_eq!(s.history(n("account"), 2).unwrap().ids.as_slice(), &[v(3)]);
    assert_eq!(s.unbind(n("account")).unwrap().id, v(3));
    assert_eq!(s.history(n("account"), 0), Err(NameError::NotFound));
}
