//! The persistent map: operations against a model, batches, damage and
//! power cuts.

use std::collections::BTreeMap;

use store::{CrashSim, CutPolicy, VecPmem};

use super::Rng;
use crate::map::{VALUE_MAX, map_layout};
use crate::{MapError, Pmem, Tx, TxError, TxMap};

const PM: usize = 16384;

type Model = BTreeMap<u64, Vec<u8>>;

fn contents<P: Pmem>(m: &TxMap<P>) -> Model {
    let mut out = Model::new();
    m.for_each(|k, v| {
        assert!(out.insert(k, v.to_vec()).is_none(), "key {k} twice");
    })
    .unwrap();
    m.check().unwrap();
    out
}

fn get<P: Pmem>(m: &TxMap<P>, key: u64) -> Option<Vec<u8>> {
    let mut buf = [0u8; VALUE_MAX];
    m.get(key, &mut buf).unwrap().map(|n| buf[..n].to_vec())
}

#[test]
fn insert_get_replace_remove_and_reopen() {
    let mut m = TxMap::open_pmem(VecPmem::new(PM), 0, 16).unwrap();
    assert!(m.is_empty().unwrap());
    assert!(!m.insert(7, b"seven").unwrap());
    assert!(!m.insert(8, b"").unwrap());
    assert!(m.insert(7, b"SEVEN!").unwrap(), "replaced");
    assert_eq!(get(&m, 7).as_deref(), Some(&b"SEVEN!"[..]));
    assert_eq!(get(&m, 8).as_deref(), Some(&b""[..]));
    assert_eq!(get(&m, 9), None);
    assert!(m.remove(8).unwrap());
    assert!(!m.remove(8).unwrap());
    assert_eq!(m.len().unwrap(), 1);
    assert_eq!(
        m.insert(1, &[0; VALUE_MAX + 1]),
        Err(MapError::ValueTooLong(VALUE_MAX + 1))
    );
    m.insert(2, &[5; VALUE_MAX]).unwrap();
    let pm = m.into_tx().into_pmem();
    let tx = Tx::open(pm, map_layout(0, 16)).unwrap();
    let m = TxMap::open_or_create(tx, 5).unwrap();
    assert_eq!(m.capacity(), 16, "an existing map keeps its capacity");
    let want = Model::from([(7, b"SEVEN!".to_vec()), (2, vec![5; VALUE_MAX])]);
    assert_eq!(contents(&m), want);
}

#[test]
fn a_full_map_refuses_and_removed_slots_are_reused() {
    let mut m = TxMap::open_pmem(VecPmem::new(PM), 0, 8).unwrap();
    for k in 0..8 {
        m.insert(k * 1000, &[k as u8]).unwrap();
    }
    assert_eq!(m.insert(1, b"x"), Err(MapError::Full));
    assert!(
        m.insert(3000, b"new").unwrap(),
        "a replace needs no free slot"
    );
    m.remove(5000).unwrap();
    m.remove(2000).unwrap();
    // Every remaining key is still reachable past the removed markers.
    for k in [0, 1000, 3000, 4000, 6000, 7000] {
        assert!(get(&m, k).is_some(), "key {k}");
    }
    m.insert(1, b"a").unwrap();
    m.insert(2, b"b").unwrap();
    assert_eq!(m.insert(3, b"c"), Err(MapError::Full));
    assert_eq!(m.len().unwrap(), 8);
    m.check().unwrap();
}

#[test]
fn batches_commit_together_or_not_at_all() {
    let mut m = TxMap::open_pmem(VecPmem::new(PM), 0, 16).unwrap();
    m.insert(1, b"one").unwrap();
    {
        let mut b = m.begin();
        b.insert(2, b"two").unwrap();
        b.remove(1).unwrap();
        assert_eq!(b.get(1, &mut [0; 8]).unwrap(), None, "sees its own changes");
        // Dropped: neither happens.
    }
    assert_eq!(contents(&m), Model::from([(1, b"one".to_vec())]));
    let mut b = m.begin();
    b.insert(2, b"two").unwrap();
    b.remove(1).unwrap();
    b.commit().unwrap();
    assert_eq!(contents(&m), Model::from([(2, b"two".to_vec())]));
}

#[test]
fn refusals_leave_a_batch_open_but_a_full_log_aborts_it() {
    let mut m = TxMap::open_pmem(VecPmem::new(PM), 0, 2).unwrap();
    m.insert(1, b"a").unwrap();
    let mut b = m.begin();
    b.insert(2, b"b").unwrap();
    assert_eq!(b.insert(3, b"c"), Err(MapError::Full));
    assert_eq!(b.insert(4, &[0; 200]), Err(MapError::ValueTooLong(200)));
    b.remove(1).unwrap();
    b.insert(3, b"c").unwrap();
    b.commit().unwrap();
    assert_eq!(
        contents(&m),
        Model::from([(2, b"b".to_vec()), (3, b"c".to_vec())])
    );

    // 64 slots, a 4 KiB log: a batch of 64 full-length inserts cannot fit.
    let mut m = TxMap::open_pmem(VecPmem::new(PM), 0, 64).unwrap();
    let mut b = m.begin();
    let mut done = 0;
    let err = loop {
        match b.insert(done, &[1; VALUE_MAX]) {
            Ok(_) => done += 1,
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, MapError::Tx(TxError::LogFull { .. })),
        "{err:?}"
    );
    assert!(done > 10, "{done} inserts fit");
    assert_eq!(b.commit(), Err(MapError::Tx(TxError::Aborted)));
    m.check().unwrap();
    assert!(m.is_empty().unwrap(), "the whole batch rolled back");
}

#[test]
fn damaged_maps_are_typed_errors() {
    let mut pm = VecPmem::new(PM);
    let l = map_layout(0, 16);
    let tx = Tx::format(pm.clone(), l).unwrap();
    pm = tx.into_pmem();
    pm.write(l.data_off() + 300, &[1]);
    let tx = Tx::open(pm, l).unwrap();
    assert_eq!(TxMap::open_or_create(tx, 16).err(), Some(MapError::NotAMap));
    let m = TxMap::open_pmem(VecPmem::new(PM), 0, 16).unwrap();
    let mut pm = m.into_tx().into_pmem();
    // A slot with an unknown state.
    pm.write(l.data_off() + 64 + 3 * 128, &[9]);
    let m = TxMap::open_pmem(pm.clone(), 0, 16).unwrap();
    assert_eq!(m.check(), Err(MapError::BadSlot(3)));
    // A capacity the data area cannot hold.
    pm.write(l.data_off() + 8, &1_000_000u64.to_le_bytes());
    assert_eq!(
        TxMap::open_pmem(pm, 0, 16).err(),
        Some(MapError::BadCapacity(1_000_000))
    );
    assert_eq!(
        TxMap::open_pmem(VecPmem::new(PM), 0, 0).err(),
        Some(MapError::BadCapacity(0))
    );
}

#[test]
fn random_operations_match_a_model_and_every_cut_recovers_one_side() {
    let policy = CutPolicy {
        at_fences: true,
        at_flushes: true,
        random_per_mille: 1000,
        variants: 1,
    };
    let (mut cuts, mut sides) = (0u64, [0u64; 2]);
    for seed in 1..=8u64 {
        let mut rng = Rng::new(seed);
        let mut m = TxMap::open_pmem(CrashSim::new(PM, seed), 0, 24).unwrap();
        let mut model = Model::new();
        for _ in 0..150 {
            let before = model.clone();
            m.tx_mut().pmem_mut().set_policy(Some(policy));
            let key = rng.below(40);
            if rng.below(3) == 0 {
                assert_eq!(m.remove(key).unwrap(), model.remove(&key).is_some());
            } else {
                let n = rng.below(VALUE_MAX as u64 + 1) as usize;
                let value = rng.bytes(n);
                match m.insert(key, &value) {
                    Ok(replaced) => assert_eq!(replaced, model.insert(key, value).is_some()),
                    Err(MapError::Full) => assert_eq!(model.len(), 24),
                    Err(e) => panic!("{e:?}"),
                }
            }
            assert_eq!(contents(&m), model);
            for img in m.tx_mut().pmem_mut().take_captures() {
                let got = contents(&TxMap::open_pmem(VecPmem(img), 0, 24).unwrap());
                let side = [&before, &model].iter().position(|s| **s == got);
                let side = side.expect("a cut map is the one before or after the operation");
                sides[side] += 1;
                cuts += 1;
            }
        }
    }
    std::eprintln!("map cuts: {cuts}, before {}, after {}", sides[0], sides[1]);
    assert!(cuts > 5000 && sides[0] > 0 && sides[1] > 0);
}
