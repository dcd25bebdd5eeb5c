//! Power cuts. A [`CrashSim`] captures the images a cut could leave at
//! every store, after every flush and just before and after every fence,
//! each with random per-line (and per-word) survival of what was not yet
//! durable. Every image must open (recovering) to the data of before the
//! transaction or of after it — byte for byte, never a mix — and a cut of
//! that recovery must too.

use std::time::Instant;

use store::{CrashSim, CutPolicy, VecPmem};

use super::{LAYOUT, PM, Rng, data};
use crate::{Begin, Layout, OpenError, Pmem, Tx, TxError};

/// Every store, flush and fence, several survival draws each.
const EVERY: CutPolicy = CutPolicy {
    at_fences: true,
    at_flushes: true,
    random_per_mille: 1000,
    variants: 6,
};

#[derive(Default, Debug)]
struct Tally {
    cuts: u64,
    old: u64,
    new: u64,
    recovered: u64,
    nested: u64,
}

/// Opens `image` and returns 0 if it holds `states[0]`, 1 for `states[1]`.
fn verify(image: Vec<u8>, layout: Layout, states: [&[u8]; 2], tally: &mut Tally) -> usize {
    let tx = Tx::open(VecPmem(image), layout).expect("every cut image opens");
    let got = data(&tx);
    let which = (0..2).find(|&k| got == states[k]).unwrap_or_else(|| {
        let first = |k: usize| got.iter().zip(states[k]).position(|(a, b)| a != b);
        panic!(
            "recovered neither state: first difference from old at {:?}, from new at {:?}",
            first(0),
            first(1)
        )
    });
    tally.cuts += 1;
    tally.recovered += u64::from(tx.recovery().is_some_and(|r| r.entries > 0));
    if which == 0 {
        tally.old += 1;
    } else {
        tally.new += 1;
    }
    which
}

/// Cuts power at every point of the recovery of `image`; each of those
/// images must recover to what `image` recovers to.
fn verify_nested(image: Vec<u8>, layout: Layout, states: [&[u8]; 2], seed: u64, tally: &mut Tally) {
    let want = verify(image.clone(), layout, states, tally);
    let mut sim = CrashSim::from_image(image, seed);
    sim.set_policy(Some(EVERY));
    let mut tx = Tx::open(sim, layout).expect("recovers");
    for img in tx.pmem_mut().take_captures() {
        assert_eq!(
            verify(img, layout, states, tally),
            want,
            "a cut recovery changed its outcome"
        );
        tally.nested += 1;
    }
}

/// A region on a simulator, holding random committed data.
fn seeded_region(seed: u64) -> (Tx<CrashSim>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let mut tx = Tx::format(CrashSim::new(PM, seed), LAYOUT).unwrap();
    let old = rng.bytes(LAYOUT.data_len as usize);
    for (i, part) in old.chunks(256).enumerate() {
        let mut t = tx.begin();
        t.write(i as u64 * 256, part).unwrap();
        t.commit().unwrap();
    }
    (tx, old)
}

/// The multi-write transaction cut everywhere: writes across lines, a
/// write spanning several copy chunks, overlapping writes, a rewrite of
/// the same bytes and a nested scope.
fn the_transaction(t: &mut impl Begin<CrashSim>, rng: &mut Rng) -> Result<(), TxError> {
    let mut t = t.begin();
    t.write(60, &rng.bytes(10))?;
    t.write(100, &rng.bytes(300))?;
    t.write(390, &rng.bytes(20))?;
    let mut inner = t.begin();
    inner.write_u64(512, rng.next())?;
    inner.write(130, &rng.bytes(5))?;
    inner.commit()?;
    t.write(60, &rng.bytes(4))?;
    t.write(1016, &rng.bytes(8))?;
    t.commit()
}

#[test]
fn a_cut_at_every_point_of_a_transaction_leaves_all_old_or_all_new() {
    let t0 = Instant::now();
    let mut tally = Tally::default();
    for seed in 1..=16u64 {
        let (mut tx, old) = seeded_region(seed);
        tx.pmem_mut().set_policy(Some(EVERY));
        let mut rng = Rng::new(seed ^ 0x55);
        the_transaction(&mut tx, &mut rng).unwrap();
        let new = data(&tx);
        assert_ne!(new, old);
        let captures = tx.pmem_mut().take_captures();
        assert!(captures.len() > 100, "{} captures", captures.len());
        for (k, img) in captures.into_iter().enumerate() {
            if k % 5 == 0 {
                verify_nested(
                    img,
                    LAYOUT,
                    [&old, &new],
                    seed * 1000 + k as u64,
                    &mut tally,
                );
            } else {
                verify(img, LAYOUT, [&old, &new], &mut tally);
            }
        }
        // Acknowledged means durable: every unflushed line lost, or some.
        let sim = tx.pmem_mut();
        sim.set_policy(None);
        let (lost, some) = (sim.durable_image(), sim.crash_image());
        assert_eq!(verify(lost, LAYOUT, [&old, &new], &mut tally), 1);
        assert_eq!(verify(some, LAYOUT, [&old, &new], &mut tally), 1);
    }
    std::eprintln!("txn crash points: {tally:?} in {:.2?}", t0.elapsed());
    assert!(tally.cuts > 1000);
    assert!(
        tally.old > 0 && tally.new > 0,
        "cuts land before and after the commit"
    );
    assert!(tally.recovered > 0, "some cuts need a rollback");
    assert!(tally.nested > 0);
}

#[test]
fn a_cut_during_an_abort_leaves_the_old_data() {
    let mut tally = Tally::default();
    for seed in 1..=4u64 {
        let (mut tx, old) = seeded_region(seed);
        let mut rng = Rng::new(seed);
        // Cuts while writing and while rolling back: all must be old.
        tx.pmem_mut().set_policy(Some(EVERY));
        let mut t = tx.begin();
        t.write(0, &rng.bytes(200)).unwrap();
        t.write(700, &rng.bytes(100)).unwrap();
        t.write(50, &rng.bytes(100)).unwrap();
        drop(t);
        assert_eq!(data(&tx), old);
        for img in tx.pmem_mut().take_captures() {
            assert_eq!(verify(img, LAYOUT, [&old, &old], &mut tally), 0);
        }
    }
    assert!(tally.cuts > 100);
}

#[test]
fn a_cut_during_formatting_leaves_the_old_contents_no_region_or_an_empty_one() {
    let mut sim = CrashSim::new(PM, 3);
    sim.write(0, &[0xee; PM]); // old contents the format must replace
    sim.flush(0, PM as u64);
    sim.fence();
    sim.set_policy(Some(EVERY));
    let mut tx = Tx::format(sim, LAYOUT).unwrap();
    let captures = tx.pmem_mut().take_captures();
    assert!(captures.len() > 10);
    let (mut none, mut empty, mut old) = (0, 0, 0);
    for img in captures {
        match Tx::open(VecPmem(img.clone()), LAYOUT) {
            Err(OpenError::NotFormatted) => {
                none += 1;
                let tx = Tx::open_or_format(VecPmem(img), LAYOUT).unwrap();
                assert!(data(&tx).iter().all(|&b| b == 0));
            }
            Ok(tx) => {
                empty += 1;
                assert!(
                    data(&tx).iter().all(|&b| b == 0),
                    "a formatted region is zeroed"
                );
            }
            // The old contents, before the format's first fence.
            Err(OpenError::BadMagic(0xeeee_eeee_eeee_eeee)) => old += 1,
            Err(e) => panic!("a cut format gave {e:?}"),
        }
    }
    assert!(
        none > 0 && empty > 0,
        "{none} unformatted, {empty} formatted"
    );
    assert!(
        old <= 3 * EVERY.variants as usize,
        "{old} cuts saw the old contents"
    );
}

/// One random transaction against the model; returns the expected data
/// after it.
fn random_transaction(tx: &mut Tx<CrashSim>, model: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut want = model.to_vec();
    let mut t = tx.begin();
    let mut doomed = false;
    for _ in 0..1 + rng.below(8) {
        let longest = if rng.below(4) == 0 { 400 } else { 40 };
        let len = 1 + rng.below(longest) as usize;
        let off = rng.below(LAYOUT.data_len - len as u64 + 1);
        let bytes = rng.bytes(len);
        let nested = rng.below(4) == 0;
        let result = if nested {
            let mut inner = t.begin();
            let r = inner.write(off, &bytes);
            // A nested abort (or an error propagated out of the nested
            // scope, which drops it) dooms the whole transaction.
            if r.is_err() || rng.below(5) == 0 {
                drop(inner);
                doomed = true;
            } else {
                inner.commit().unwrap();
            }
            r
        } else {
            t.write(off, &bytes)
        };
        match result {
            Ok(()) => want[off as usize..off as usize + len].copy_from_slice(&bytes),
            Err(TxError::LogFull { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        if doomed {
            break;
        }
    }
    if doomed {
        assert_eq!(t.commit(), Err(TxError::Aborted));
        model.to_vec()
    } else if rng.below(6) == 0 {
        t.abort();
        model.to_vec()
    } else {
        t.commit().unwrap();
        want
    }
}

#[test]
fn random_transactions_cut_at_random_points_recover_and_resume() {
    let t0 = Instant::now();
    let mut tally = Tally::default();
    let mut resumed = 0;
    for seed in 1..=40u64 {
        let mut rng = Rng::new(seed.wrapping_mul(77));
        let mut tx = Tx::format(CrashSim::new(PM, seed), LAYOUT).unwrap();
        let mut model = vec![0u8; LAYOUT.data_len as usize];
        for round in 0..60u64 {
            tx.pmem_mut().set_policy(Some(CutPolicy {
                at_fences: rng.below(2) == 0,
                at_flushes: false,
                random_per_mille: 100,
                variants: 1,
            }));
            let after = random_transaction(&mut tx, &model, &mut rng);
            assert_eq!(data(&tx), after, "the live region matches the model");
            let captures = tx.pmem_mut().take_captures();
            let resume_at = (rng.below(3) == 0 && !captures.is_empty())
                .then(|| rng.below(captures.len() as u64) as usize);
            let mut resume = None;
            for (k, img) in captures.into_iter().enumerate() {
                let which = verify(img.clone(), LAYOUT, [&model, &after], &mut tally);
                if Some(k) == resume_at {
                    resume = Some((img, which));
                }
            }
            // Now and then the power really goes: the run continues from
            // the recovered image.
            if let Some((img, which)) = resume {
                let sim = CrashSim::from_image(img, seed ^ round);
                tx = Tx::open(sim, LAYOUT).unwrap();
                model = if which == 0 { model } else { after };
                resumed += 1;
            } else {
                model = after;
            }
        }
    }
    std::eprintln!(
        "txn random cuts: {tally:?}, {resumed} resumed, in {:.2?}",
        t0.elapsed()
    );
    assert!(tally.cuts > 500 && resumed > 50);
    assert!(tally.old > 0 && tally.new > 0 && tally.recovered > 0);
}
