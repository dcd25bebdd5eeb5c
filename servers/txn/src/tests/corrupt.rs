//! Damaged regions: a bad header or log is a typed error, never a panic,
//! and garbage is never applied.

use store::VecPmem;

use super::{LAYOUT, PM, Rng, data, fresh};
use crate::layout::STATE_OFF;
use crate::log::{self, LogProblem};
use crate::{Layout, OpenError, Pmem, Tx};

/// A region whose process died mid-transaction (the guard leaked, the
/// memory left as it was): what a cut with everything flushed looks like.
fn died_mid_transaction() -> (VecPmem, Vec<u8>) {
    let mut tx = fresh();
    let mut rng = Rng::new(1);
    let old = rng.bytes(512);
    let mut t = tx.begin();
    t.write(0, &old).unwrap();
    t.commit().unwrap();
    let mut t = tx.begin();
    t.write(10, &[1; 100]).unwrap();
    t.write(200, &[2; 8]).unwrap();
    t.write(0, &[3; 20]).unwrap();
    core::mem::forget(t);
    let mut want = old;
    want.resize(1024, 0);
    (tx.into_pmem(), want)
}

#[test]
fn opening_rolls_back_an_unfinished_transaction() {
    let (pm, old) = died_mid_transaction();
    let tx = Tx::open(pm, LAYOUT).unwrap();
    let r = tx.recovery().expect("recovery ran");
    assert_eq!((r.seq, r.entries), (2, 3));
    assert_eq!(data(&tx), old);
    let tx = Tx::open(tx.into_pmem(), LAYOUT).unwrap();
    assert_eq!(tx.recovery(), None, "recovery finished durably");
}

#[test]
fn every_damaged_header_byte_is_a_typed_error() {
    let pm = fresh().into_pmem();
    let base = LAYOUT.base as usize;
    for i in 0..64 {
        for bit in 0..8 {
            let mut bad = pm.clone();
            bad.0[base + i] ^= 1 << bit;
            let e = Tx::open(bad, LAYOUT)
                .err()
                .expect("a damaged header is refused");
            match i {
                0..8 => assert!(matches!(e, OpenError::BadMagic(_)), "{e:?}"),
                _ => assert!(matches!(e, OpenError::BadHeaderChecksum { .. }), "{e:?}"),
            }
        }
    }
}

/// Rewrites the header with `edit` applied and a valid checksum.
fn resealed(edit: impl Fn(&mut [u8; 64])) -> VecPmem {
    let mut pm = fresh().into_pmem();
    let mut h = LAYOUT.header();
    edit(&mut h);
    let sum = crate::checksum::checksum(&h[..56]);
    h[56..].copy_from_slice(&sum.to_le_bytes());
    pm.write(LAYOUT.base, &h);
    pm
}

#[test]
fn checksummed_but_unknown_headers_are_refused() {
    let e = Tx::open(resealed(|h| h[8] = 2), LAYOUT).err();
    assert_eq!(e, Some(OpenError::UnsupportedVersion(2)));
    let e = Tx::open(resealed(|h| h[13] = 1), LAYOUT).err();
    assert_eq!(e, Some(OpenError::ReservedBitsSet));
    let e = Tx::open(resealed(|h| h[40] = 1), LAYOUT).err();
    assert_eq!(e, Some(OpenError::ReservedBitsSet));
    let e = Tx::open(resealed(|h| h[17] ^= 0x10), LAYOUT).err();
    let found = Layout::new(LAYOUT.base, LAYOUT.log_len ^ 0x1000, LAYOUT.data_len);
    assert_eq!(e, Some(OpenError::LayoutMismatch { found }));
}

/// Marks transaction `seq` active in `pm`.
fn activate(pm: &mut VecPmem, seq: u64) {
    pm.write(LAYOUT.base + STATE_OFF, &((seq << 1) | 1).to_le_bytes());
}

#[test]
fn valid_entries_out_of_range_or_mislinked_are_corruption_and_nothing_is_applied() {
    // An entry (checksum valid) undoing bytes past the data area.
    let mut pm = fresh().into_pmem();
    log::append(&mut pm, &LAYOUT, 0, 1, 1020, 8, None);
    activate(&mut pm, 1);
    let before = pm.clone();
    let e = Tx::open(pm, LAYOUT).err();
    assert_eq!(
        e,
        Some(OpenError::CorruptLog(LogProblem::BadTarget {
            at: 0,
            target: 1020,
            len: 8
        }))
    );
    // A good entry, then one linked to the wrong predecessor: the good
    // one is not applied either.
    let mut pm = before.clone();
    pm.write(LAYOUT.data_off(), &[0x77; 16]);
    log::append(&mut pm, &LAYOUT, 0, 1, 0, 16, None);
    pm.write(LAYOUT.data_off(), &[0x99; 16]);
    log::append(&mut pm, &LAYOUT, 48, 1, 100, 4, Some(8));
    activate(&mut pm, 1);
    let snapshot = pm.clone();
    let e = Tx::open(pm, LAYOUT).err();
    assert_eq!(
        e,
        Some(OpenError::CorruptLog(LogProblem::BadLink {
            at: 48,
            prev: 8
        }))
    );
    let mut tx_bytes = [0u8; 16];
    snapshot.read(LAYOUT.data_off(), &mut tx_bytes);
    assert_eq!(tx_bytes, [0x99; 16], "nothing was rolled back");
}

#[test]
fn random_log_bytes_are_never_applied() {
    for seed in 1..200u64 {
        let mut rng = Rng::new(seed);
        let mut pm = fresh().into_pmem();
        let garbage_data = rng.bytes(LAYOUT.data_len as usize);
        pm.write(LAYOUT.data_off(), &garbage_data);
        let log_bytes = rng.bytes(LAYOUT.log_len as usize);
        pm.write(LAYOUT.log_off(), &log_bytes);
        // The state word names the sequence number in the first entry's
        // place, so the scan gets as far as the checksum.
        let seq = u64::from_le_bytes(log_bytes[..8].try_into().unwrap());
        activate(&mut pm, if seed % 2 == 0 { seq } else { rng.next() >> 1 });
        let tx = Tx::open(pm, LAYOUT).expect("a torn-looking log is the end of the log");
        assert_eq!(tx.recovery().map(|r| r.entries), Some(0));
        assert_eq!(data(&tx), garbage_data, "no garbage was applied");
    }
}

#[test]
fn random_regions_never_panic() {
    let (mut ok, mut refused) = (0, 0);
    for seed in 1..400u64 {
        let mut rng = Rng::new(seed);
        let mut pm = if seed % 3 == 0 {
            VecPmem(rng.bytes(PM))
        } else {
            // A real region with random bytes sprinkled over it.
            let (mut pm, _) = died_mid_transaction();
            for _ in 0..1 + rng.below(8) {
                let at = LAYOUT.base + rng.below(LAYOUT.total_len());
                pm.write(at, &[rng.next() as u8]);
            }
            pm
        };
        if seed % 5 == 0 {
            activate(&mut pm, rng.next());
        }
        // Ok or a typed error; either way, no panic.
        let opened = Tx::open(pm.clone(), LAYOUT);
        if seed % 3 == 0 {
            assert!(matches!(opened, Err(OpenError::BadMagic(_))));
        } else if opened.is_ok() {
            ok += 1;
        } else {
            refused += 1;
        }
        let again = Tx::open_or_format(pm, LAYOUT);
        assert_eq!(
            again.is_ok(),
            opened.is_ok(),
            "a damaged region is not wiped"
        );
    }
    assert!(ok > 0 && refused > 0, "{ok} opened, {refused} refused");
}
