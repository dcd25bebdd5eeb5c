//! The tests every new resolver should have: its operations and errors, a
//! restart, and power cuts.

use protocols::object::ObjId;
use protocols::resolver::{Name, Server as _};
use store::{CrashSim, CutPolicy, VecPmem};

use nomenclature::{ResolverService, SeqIds};

use super::*;

fn n(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

#[test]
fn operations_and_errors() {
    let mut r = ResolverService::<Flat, _, _>::open(VecPmem::new(8192), SeqIds(0)).unwrap();
    let id = ObjId::from_u128(1);
    r.bind(n("a"), id, EntryKind::Object).unwrap();
    assert_eq!(r.resolve(n("a")).unwrap().id, id);
    assert_eq!(
        r.bind(n("a"), id, EntryKind::Object),
        Err(NameError::Exists)
    );
    assert_eq!(r.resolve(n("b")), Err(NameError::NotFound));
    assert_eq!(r.resolve(n("a/b")), Err(NameError::InvalidName));
    assert_eq!(r.mkdir(n("d")), Err(NameError::Unsupported));
    assert_eq!(r.list(n(""), 0).unwrap().entries.len(), 1);
    // A restart: the names are still there.
    let mut r = ResolverService::<Flat, _, _>::open(r.into_pmem(), SeqIds(0)).unwrap();
    assert_eq!(r.unbind(n("a")).unwrap().id, id);
    assert_eq!(r.unbind(n("a")), Err(NameError::NotFound));
}

#[test]
fn power_cuts_leave_the_state_before_or_after_each_change() {
    let mut r = ResolverService::<Flat, _, _>::open(CrashSim::new(8192, 1), SeqIds(0)).unwrap();
    r.persisted().pmem_mut().set_policy(Some(CutPolicy {
        at_fences: true,
        at_flushes: true,
        random_per_mille: 200,
        variants: 2,
    }));
    let mut before = r.state().clone();
    for i in 0..10u128 {
        r.bind(
            n(&std::format!("n{i}")),
            ObjId::from_u128(i + 1),
            EntryKind::Object,
        )
        .unwrap();
        let after = r.state().clone();
        for image in r.persisted().pmem_mut().take_captures() {
            let s = ResolverService::<Flat, _, _>::open(VecPmem(image), SeqIds(0)).unwrap();
            assert!(*s.state() == before || *s.state() == after);
        }
        before = after;
    }
}
