//! The template's tests for a new resolver — its operations and errors, a
//! restart, power cuts — plus the reverse query: answers, paging, an
//! unknown op and malformed arguments.

use protocols::object::ObjId;
use protocols::resolver::{Name, Server as _};
use store::{CrashSim, CutPolicy, VecPmem};

use nomenclature::{ResolverService, SeqIds};

use super::*;

type Service<P> = ResolverService<Reverse, P, SeqIds>;

fn n(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

fn open() -> Service<VecPmem> {
    ResolverService::open(VecPmem::new(64 * 1024), SeqIds(0)).unwrap()
}

fn id(v: u128) -> ObjId {
    ObjId::from_u128(v)
}

/// Asks the reverse query of `r` for `who` and reads the answer.
fn names_of<P: store::Pmem>(r: &mut Service<P>, who: ObjId, after: Option<&str>) -> NamesOf {
    let answer = r
        .custom(NAMES_OF, names_of_arg(who, after).unwrap())
        .unwrap();
    NamesOf::parse(&answer).unwrap()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| String::from(*s)).collect()
}

#[test]
fn operations_and_errors() {
    let mut r = open();
    let (a, b) = (id(0xa), id(0xb));
    r.bind(n("x"), a, EntryKind::Object).unwrap();
    assert_eq!(r.resolve(n("x")).unwrap().id, a);
    assert_eq!(r.bind(n("x"), b, EntryKind::Object), Err(NameError::Exists));
    assert_eq!(
        r.bind(n("d"), b, EntryKind::Directory),
        Err(NameError::Unsupported)
    );
    assert_eq!(
        r.bind(n("nil"), ObjId::NIL, EntryKind::Object),
        Err(NameError::InvalidName)
    );
    for bad in ["", "a/b", "a b", "k=v", ".."] {
        assert_eq!(r.resolve(n(bad)), Err(NameError::InvalidName), "{bad:?}");
        assert_eq!(
            r.bind(n(bad), a, EntryKind::Object),
            Err(NameError::InvalidName),
            "{bad:?}"
        );
    }
    assert_eq!(r.resolve(n("y")), Err(NameError::NotFound));
    assert_eq!(r.mkdir(n("d")), Err(NameError::Unsupported));
    assert_eq!(r.publish(n("x"), b), Err(NameError::Unsupported));
    assert_eq!(r.unbind(n("y")), Err(NameError::NotFound));
    assert_eq!(r.info().unwrap().kind.as_str(), "reverse-lookup");
    assert_eq!(r.info().unwrap().bindings, 1);
}

#[test]
fn list_pages_the_whole_table_and_refuses_a_name() {
    let mut r = open();
    for i in 0..(MAX_LIST as u128 + 3) {
        r.bind(n(&format!("n{i:02}")), id(i + 1), EntryKind::Object)
            .unwrap();
    }
    let first = r.list(n(""), 0).unwrap();
    assert_eq!(first.entries.len(), MAX_LIST);
    assert_eq!(first.entries[0].name.as_str(), "n00");
    let rest = r.list(n("/"), first.next.unwrap()).unwrap();
    assert_eq!(rest.entries.len(), 3);
    assert_eq!(rest.next, None);
    assert_eq!(r.list(n("n00"), 0), Err(NameError::NotADirectory));
    assert_eq!(r.list(n("zz"), 0), Err(NameError::NotFound));
}

#[test]
fn rename_moves_and_replaces() {
    let mut r = open();
    let (a, b) = (id(0xa), id(0xb));
    r.bind(n("x"), a, EntryKind::Object).unwrap();
    r.bind(n("y"), b, EntryKind::Object).unwrap();
    // To a free name: nothing replaced.
    assert_eq!(r.rename(n("x"), n("z")), Ok(ObjId::NIL));
    assert_eq!(r.resolve(n("x")), Err(NameError::NotFound));
    assert_eq!(r.resolve(n("z")).unwrap().id, a);
    // Over a bound name: it is replaced and its ID returned.
    assert_eq!(r.rename(n("z"), n("y")), Ok(b));
    assert_eq!(r.resolve(n("y")).unwrap().id, a);
    assert_eq!(r.info().unwrap().bindings, 1);
    // To itself: nothing changes.
    assert_eq!(r.rename(n("y"), n("y")), Ok(ObjId::NIL));
    assert_eq!(r.resolve(n("y")).unwrap().id, a);
    assert_eq!(r.rename(n("nope"), n("w")), Err(NameError::NotFound));
    assert_eq!(r.rename(n("y"), n("a/b")), Err(NameError::InvalidName));
    assert_eq!(r.resolve(n("y")).unwrap().id, a);
}

#[test]
fn names_of_answers_every_name_of_an_object() {
    let mut r = open();
    let (a, b) = (id(0xa), id(0xb));
    r.bind(n("beta"), a, EntryKind::Object).unwrap();
    r.bind(n("alpha"), a, EntryKind::Object).unwrap();
    r.bind(n("other"), b, EntryKind::Object).unwrap();
    let epoch = r.epoch();
    let got = names_of(&mut r, a, None);
    assert_eq!(r.epoch(), epoch, "a query commits nothing");
    assert_eq!(got.total, 2);
    assert_eq!(got.names, strings(&["alpha", "beta"]));
    // The wire form is text: the count, then one name per line.
    let raw = r.custom(NAMES_OF, names_of_arg(a, None).unwrap()).unwrap();
    assert_eq!(raw.as_slice(), b"2\nalpha\nbeta\n");
    assert_eq!(names_of(&mut r, b, None).names, strings(&["other"]));
    let none = names_of(&mut r, id(0xc), None);
    assert_eq!((none.total, none.names.len()), (0, 0));
    // Unbinding and renaming change the answer.
    r.unbind(n("alpha")).unwrap();
    assert_eq!(names_of(&mut r, a, None).names, strings(&["beta"]));
    r.rename(n("other"), n("gamma")).unwrap();
    assert_eq!(names_of(&mut r, b, None).names, strings(&["gamma"]));
    // `AFTER` continues after a name.
    r.bind(n("delta"), a, EntryKind::Object).unwrap();
    let later = names_of(&mut r, a, Some("beta"));
    assert_eq!((later.total, later.names), (2, strings(&["delta"])));
}

#[test]
fn names_of_pages_when_the_names_do_not_fit() {
    let mut r = open();
    let a = id(0xa);
    let long = |i: usize| format!("{i:02}{}", "x".repeat(60));
    for i in 0..40 {
        r.bind(n(&long(i)), a, EntryKind::Object).unwrap();
    }
    let mut got: Vec<String> = Vec::new();
    loop {
        let page = names_of(&mut r, a, got.last().map(String::as_str));
        assert_eq!(page.total, 40);
        assert!(!page.names.is_empty(), "a page made no progress");
        got.extend(page.names);
        if got.len() == 40 {
            break;
        }
    }
    assert_eq!(got, (0..40).map(long).collect::<Vec<_>>());
}

#[test]
fn names_of_refuses_an_unknown_op_and_malformed_arguments() {
    let mut r = open();
    r.bind(n("x"), id(0xa), EntryKind::Object).unwrap();
    let arg = names_of_arg(id(0xa), None).unwrap();
    assert_eq!(r.custom(2, arg.clone()), Err(NameError::Unsupported));
    assert_eq!(r.custom(0, arg), Err(NameError::Unsupported));
    let id_text = format!("{}", id(0xa));
    for bad in [
        &b""[..],
        b"a",
        b"000000000000000000000000000000zz",
        b"00000000000000000000000000000000a",
        b"\xff\xfe",
        format!(" {id_text}").as_bytes(),
        format!("{id_text} a/b").as_bytes(),
        format!("{id_text} x y").as_bytes(),
        format!("{id_text}  x").as_bytes(),
    ] {
        let arg = Bytes::from_slice(bad).unwrap();
        assert_eq!(
            r.custom(NAMES_OF, arg),
            Err(NameError::InvalidName),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // A refused query changed nothing.
    assert_eq!(r.resolve(n("x")).unwrap().id, id(0xa));
}

#[test]
fn names_survive_a_restart() {
    let mut r = open();
    r.bind(n("x"), id(0xa), EntryKind::Object).unwrap();
    r.bind(n("y"), id(0xa), EntryKind::Object).unwrap();
    r.bind(n("z"), id(0xb), EntryKind::Object).unwrap();
    r.unbind(n("z")).unwrap();
    let epoch = r.epoch();
    let mut r = Service::open(r.into_pmem(), SeqIds(0)).unwrap();
    assert_eq!(r.epoch(), epoch);
    assert_eq!(r.resolve(n("y")).unwrap().id, id(0xa));
    assert_eq!(r.resolve(n("z")), Err(NameError::NotFound));
    assert_eq!(names_of(&mut r, id(0xa), None).names, strings(&["x", "y"]));
}

#[test]
fn power_cuts_leave_the_state_before_or_after_each_change() {
    let mut r = Service::open(CrashSim::new(16 * 1024, 1), SeqIds(0)).unwrap();
    r.persisted().pmem_mut().set_policy(Some(CutPolicy {
        at_fences: true,
        at_flushes: true,
        random_per_mille: 200,
        variants: 2,
    }));
    let mut before = r.state().clone();
    // Binds, renames and unbinds in turn, so every kind of change is cut;
    // each is one commit.
    for i in 0..12u128 {
        match i % 3 {
            0 => r
                .bind(n(&format!("n{i}")), id(i % 4 + 1), EntryKind::Object)
                .unwrap(),
            1 => {
                let replaced = r.rename(n(&format!("n{}", i - 1)), n(&format!("m{i}")));
                assert_eq!(replaced, Ok(ObjId::NIL));
            }
            _ => drop(r.unbind(n(&format!("m{}", i - 1))).unwrap()),
        }
        let after = r.state().clone();
        assert_ne!(before, after, "change {i} changed nothing");
        let captures = r.persisted().pmem_mut().take_captures();
        assert!(!captures.is_empty(), "change {i}: no power cut was tried");
        let mut seen_after = false;
        for image in captures {
            let s = Service::open(VecPmem(image), SeqIds(0)).unwrap();
            assert!(
                *s.state() == before || *s.state() == after,
                "change {i}: a cut left {:?}",
                s.state()
            );
            seen_after |= *s.state() == after;
        }
        assert!(seen_after, "change {i}: no cut after its commit point");
        before = after;
    }
}
