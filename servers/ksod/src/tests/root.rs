//! The root table: entries round-trip and are checked, and a power cut at
//! every store, flush and fence of a change leaves the table of before it
//! or of after it.

use store::{CrashSim, CutPolicy, VecPmem};

use crate::root::*;
use protocols::object::ObjId;

const LEN: usize = ROOT_SIZE as usize;

fn id(n: u128) -> ObjId {
    ObjId::from_u128(0xabc0_0000 + n)
}

/// `(name, kso, quarantined)` of every entry.
fn view<P: txn::Pmem>(r: &RootTable<P>) -> Vec<(String, ObjId, bool)> {
    r.entries()
        .map(|e| (e.name.to_string(), e.kso, e.quarantined))
        .collect()
}

#[test]
fn entries_round_trip_and_survive_reopening() {
    let mut r = RootTable::open(VecPmem::new(LEN)).unwrap();
    assert_eq!(view(&r), vec![]);
    let a = r.add("registry", id(1)).unwrap();
    let b = r.add("hier", id(2)).unwrap();
    assert_eq!((a.slot, a.seq, b.slot, b.seq), (0, 0, 1, 1));
    assert_eq!(r.live("hier").map(|e| e.kso), Some(id(2)));
    assert!(r.quarantine(id(2)).unwrap().1);
    assert!(!r.quarantine(id(2)).unwrap().1, "already quarantined");
    assert_eq!(r.live("hier"), None);
    let c = r.add("hier", id(3)).unwrap();
    assert_eq!(c.slot, 2);
    assert_eq!(r.remove(id(1)).unwrap().name, "registry");
    assert_eq!(r.quarantine(id(9)), Err(RootError::UnknownKso));
    assert_eq!(r.add("", id(4)), Err(RootError::EmptyName));
    let want = vec![
        ("hier".to_string(), id(2), true),
        ("hier".to_string(), id(3), false),
    ];
    assert_eq!(view(&r), want);
    // A freed slot is reused, and the order of additions kept.
    let d = r.add("attr", id(5)).unwrap();
    assert_eq!((d.slot, d.seq), (0, 3));
    let r = RootTable::open(r.into_pmem()).unwrap();
    assert_eq!(view(&r).len(), 3);
    assert_eq!(r.live("hier").map(|e| e.kso), Some(id(3)));
}

#[test]
fn a_full_root_refuses_more() {
    let mut r = RootTable::open(VecPmem::new(LEN)).unwrap();
    for i in 0..CAPACITY {
        r.add(&format!("s{i}"), id(u128::from(i) + 1)).unwrap();
    }
    assert_eq!(r.add("one-more", id(999)), Err(RootError::Full));
    assert_eq!(r.entries().count(), CAPACITY as usize);
}

#[test]
fn damaged_entries_and_headers_are_refused_by_name() {
    let e = encode_entry("posix", id(7), false, 3);
    assert_eq!(decode_entry(0, &e).unwrap().unwrap().name, "posix");
    assert_eq!(decode_entry(0, &[0; ENTRY_LEN]), Ok(None));
    let cases: [(usize, u8); 6] = [
        (0, 3),     // unknown state
        (4, 0),     // empty name
        (4, 33),    // name longer than the field
        (40, b'x'), // a byte after the name
        (32, 0xff), // not UTF-8
        (1, 1),     // state word with high bits
    ];
    for (at, v) in cases {
        let mut b = e;
        b[at] = v;
        assert_eq!(
            decode_entry(5, &b),
            Err(RootError::BadEntry(5)),
            "byte {at} = {v}"
        );
    }
    let mut nil = e;
    nil[16..32].fill(0);
    assert_eq!(decode_entry(5, &nil), Err(RootError::BadEntry(5)));
    let mut free_but_dirty = [0u8; ENTRY_LEN];
    free_but_dirty[20] = 1;
    assert_eq!(
        decode_entry(1, &free_but_dirty),
        Err(RootError::BadEntry(1))
    );

    // The same, in place: opening checks every entry and the header.
    let data = LAYOUT.data_off() as usize;
    let mut r = RootTable::open(VecPmem::new(LEN)).unwrap();
    r.add("posix", id(7)).unwrap();
    let good = r.into_pmem().0;
    let mut bad = good.clone();
    bad[data + 64 + 64 * 3 + 8] = 1;
    assert_eq!(
        RootTable::open(VecPmem(bad)).err(),
        Some(RootError::BadEntry(3))
    );
    let mut bad = good.clone();
    bad[data + 12] = 65;
    assert_eq!(
        RootTable::open(VecPmem(bad)).err(),
        Some(RootError::BadCapacity(65))
    );
    let mut bad = good.clone();
    bad[data + 8] = 2;
    assert_eq!(
        RootTable::open(VecPmem(bad)).err(),
        Some(RootError::UnsupportedVersion(2))
    );
    let mut bad = good.clone();
    bad[data + 40] = 2;
    assert_eq!(
        RootTable::open(VecPmem(bad)).err(),
        Some(RootError::ReservedNotZero)
    );
    let mut bad = good;
    bad[data] ^= 1;
    assert_eq!(
        RootTable::open(VecPmem(bad)).err(),
        Some(RootError::NotARoot)
    );
    // A data area that is not zero where a new root would go.
    let mut other = vec![0u8; LEN];
    let tx = txn::Tx::format(VecPmem(std::mem::take(&mut other)), LAYOUT).unwrap();
    let mut p = tx.into_pmem();
    txn::Pmem::write(&mut p, LAYOUT.data_off() + 30, &[1]);
    assert_eq!(RootTable::open(p).err(), Some(RootError::NotARoot));
}

/// Every store, flush and fence, several survival draws each.
const EVERY: CutPolicy = CutPolicy {
    at_fences: true,
    at_flushes: true,
    random_per_mille: 1000,
    variants: 4,
};

/// A root on a simulator holding a few entries, one quarantined.
fn seeded(seed: u64) -> RootTable<CrashSim> {
    let mut r = RootTable::open(CrashSim::new(LEN, seed)).unwrap();
    for i in 0..5 {
        r.add(&format!("server-{i}"), id(i + 1)).unwrap();
    }
    r.quarantine(id(2)).unwrap();
    r
}

/// A change to a root.
type Change = dyn Fn(&mut RootTable<CrashSim>);

/// Runs `change` on a seeded root with cuts everywhere; every cut image
/// must open to the entries of before or of after. Returns how many cuts
/// landed on each side.
fn cut_everywhere(seed: u64, change: impl Fn(&mut RootTable<CrashSim>)) -> (u64, u64) {
    let r = seeded(seed);
    let before = view(&r);
    let mut sim = r.into_pmem();
    sim.set_policy(Some(EVERY));
    let mut r = RootTable::open(sim).unwrap();
    change(&mut r);
    let after = view(&r);
    assert_ne!(before, after);
    let mut sim = r.into_pmem();
    let captures = sim.take_captures();
    assert!(captures.len() > 20, "{} cut points", captures.len());
    let (mut old, mut new) = (0, 0);
    for img in captures {
        let got = view(&RootTable::open(VecPmem(img)).expect("every cut image opens"));
        if got == before {
            old += 1;
        } else if got == after {
            new += 1;
        } else {
            panic!("a cut left neither state: {got:?}");
        }
    }
    // Acknowledged means durable.
    sim.set_policy(None);
    for img in [sim.durable_image(), sim.crash_image()] {
        assert_eq!(view(&RootTable::open(VecPmem(img)).unwrap()), after);
    }
    (old, new)
}

#[test]
fn a_cut_at_every_point_of_add_quarantine_or_remove_leaves_before_or_after() {
    let mut totals = (0, 0);
    for seed in 1..=6 {
        let changes: [&Change; 3] = [
            &|r| drop(r.add("posix", id(77)).unwrap()),
            &|r| drop(r.quarantine(id(4)).unwrap()),
            &|r| drop(r.remove(id(2)).unwrap()),
        ];
        for change in changes {
            let (o, n) = cut_everywhere(seed, change);
            totals.0 += o;
            totals.1 += n;
        }
    }
    std::eprintln!("ksod root cuts (before, after): {totals:?}");
    assert!(
        totals.0 > 0 && totals.1 > 0,
        "cuts before and after: {totals:?}"
    );
}

#[test]
fn a_cut_while_the_root_is_made_leaves_an_empty_root() {
    let mut sim = CrashSim::new(LEN, 9);
    sim.set_policy(Some(EVERY));
    let r = RootTable::open(sim).unwrap();
    let mut sim = r.into_pmem();
    let captures = sim.take_captures();
    assert!(captures.len() > 5);
    for img in captures {
        let r = RootTable::open(VecPmem(img)).expect("a cut root opens (made anew)");
        assert_eq!(view(&r), vec![]);
    }
}
