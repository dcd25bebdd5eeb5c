//! Round trips, abort, nesting, the log bound and the layout checks.

use store::{CrashSim, VecPmem};

use super::{LAYOUT, PM, Rng, data, fresh};
use crate::{Begin, Layout, OpenError, Pmem, Tx, TxError, atomically};

#[test]
fn committed_writes_survive_reopening() {
    let mut tx = fresh();
    let mut t = tx.begin();
    t.write(0, b"hello").unwrap();
    t.write_u64(100, 0xfeed_f00d).unwrap();
    t.write_u32(1020, 7).unwrap();
    t.commit().unwrap();
    let tx = Tx::open(tx.into_pmem(), LAYOUT).unwrap();
    assert_eq!(tx.recovery(), None, "a committed region needs no recovery");
    let d = data(&tx);
    assert_eq!(&d[..5], b"hello");
    assert_eq!(tx.read_u64(100).unwrap(), 0xfeed_f00d);
    assert_eq!(&d[1020..], &7u32.to_le_bytes());
    assert_eq!(tx.seq(), 1);
}

#[test]
fn dropping_or_aborting_rolls_back_durably() {
    let mut tx = fresh();
    let mut rng = Rng::new(5);
    let base = rng.bytes(1024);
    for half in base.chunks(512).enumerate() {
        let mut t = tx.begin();
        t.write(half.0 as u64 * 512, half.1).unwrap();
        t.commit().unwrap();
    }
    {
        let mut t = tx.begin();
        t.write(10, &[1; 700]).unwrap(); // several copy chunks
        t.write(300, &[2; 40]).unwrap(); // overlaps the first write
        t.write(10, &[3; 3]).unwrap(); // the same bytes again
        let mut seen = [0u8; 3];
        t.read(10, &mut seen).unwrap();
        assert_eq!(seen, [3; 3], "a transaction reads its own writes");
    }
    assert_eq!(data(&tx), base, "drop restored every byte");
    let mut t = tx.begin();
    t.write(1000, &[9; 24]).unwrap();
    t.abort();
    assert_eq!(data(&tx), base, "abort restored every byte");
    let tx = Tx::open(tx.into_pmem(), LAYOUT).unwrap();
    assert_eq!(tx.recovery(), None, "the rollback was finished durably");
    assert_eq!(data(&tx), base);
}

#[test]
fn nested_scopes_join_the_outer_transaction() {
    let mut tx = fresh();
    // Inner commit, outer drop: the inner writes go too.
    {
        let mut outer = tx.begin();
        outer.write_u64(0, 1).unwrap();
        let mut inner = outer.begin();
        assert!(inner.is_nested());
        inner.write_u64(8, 2).unwrap();
        inner.commit().unwrap();
        assert_eq!(outer.read_u64(8).unwrap(), 2);
    }
    assert_eq!((tx.read_u64(0).unwrap(), tx.read_u64(8).unwrap()), (0, 0));
    // Inner and outer commit: both durable.
    let mut outer = tx.begin();
    outer.write_u64(0, 1).unwrap();
    let mut inner = outer.begin();
    inner.write_u64(8, 2).unwrap();
    inner.commit().unwrap();
    outer.commit().unwrap();
    let mut tx = Tx::open(tx.into_pmem(), LAYOUT).unwrap();
    assert_eq!((tx.read_u64(0).unwrap(), tx.read_u64(8).unwrap()), (1, 2));
    // Inner abort: everything rolled back at once, the outer is doomed.
    let mut outer = tx.begin();
    outer.write_u64(0, 10).unwrap();
    {
        let mut inner = outer.begin();
        inner.write_u64(8, 20).unwrap();
    }
    assert_eq!(
        outer.read_u64(0).unwrap(),
        1,
        "rolled back at the inner abort"
    );
    assert_eq!(outer.write_u64(16, 3), Err(TxError::Aborted));
    assert_eq!(outer.commit(), Err(TxError::Aborted));
    assert_eq!((tx.read_u64(0).unwrap(), tx.read_u64(8).unwrap()), (1, 2));
    // The next transaction is a fresh one.
    let mut t = tx.begin();
    t.write_u64(16, 3).unwrap();
    t.commit().unwrap();
    assert_eq!(tx.read_u64(16).unwrap(), 3);
}

/// Adds one to the counter at `off`, standalone or inside the caller's
/// transaction.
fn bump<P: Pmem>(on: &mut impl Begin<P>, off: u64) -> Result<u64, TxError> {
    atomically(on, |t| {
        let v = t.read_u64(off)? + 1;
        t.write_u64(off, v)?;
        Ok(v)
    })
}

#[test]
fn code_generic_over_begin_runs_standalone_or_joined() {
    let mut tx = fresh();
    assert_eq!(bump(&mut tx, 0), Ok(1));
    {
        let mut t = tx.begin();
        assert_eq!(bump(&mut t, 0), Ok(2));
        assert_eq!(bump(&mut t, 0), Ok(3));
        // Dropped: both joined bumps roll back with it.
    }
    assert_eq!(tx.read_u64(0).unwrap(), 1);
}

#[test]
fn the_log_is_bounded_with_a_typed_error() {
    let mut tx = fresh();
    let mut t = tx.begin();
    // 1024 bytes of log: 32-byte heads, old bytes padded to 8.
    for i in 0..24u64 {
        t.write(i * 8, &[i as u8 + 1; 8]).unwrap(); // 40 log bytes each
    }
    assert_eq!(t.log_free(), 1024 - 24 * 40);
    assert_eq!(
        t.write(500, &[0xaa; 33]),
        Err(TxError::LogFull {
            needed: 32 + 40,
            free: 64
        })
    );
    t.write(500, &[0xbb; 32]).unwrap();
    assert_eq!(t.log_free(), 0);
    assert_eq!(
        t.write(600, &[1]),
        Err(TxError::LogFull {
            needed: 40,
            free: 0
        })
    );
    t.commit().unwrap();
    let d = data(&tx);
    assert_eq!(&d[500..532], &[0xbb; 32], "the refused write wrote nothing");
    assert_eq!(d[23 * 8], 24);
    // A write bigger than the whole log is refused outright.
    let mut t = tx.begin();
    let e = t.write(0, &[1; 1000]).unwrap_err();
    assert!(matches!(e, TxError::LogFull { .. }), "{e:?}");
    t.commit().unwrap();
    assert_eq!(tx.read_u64(0).unwrap(), u64::from_le_bytes([1; 8]));
}

#[test]
fn out_of_range_accesses_are_typed_errors() {
    let mut tx = fresh();
    let mut t = tx.begin();
    assert_eq!(
        t.write(1020, &[0; 5]),
        Err(TxError::OutOfRange { off: 1020, len: 5 })
    );
    assert_eq!(
        t.write(u64::MAX, &[0; 2]),
        Err(TxError::OutOfRange {
            off: u64::MAX,
            len: 2
        })
    );
    let mut b = [0u8; 2];
    assert!(t.read(1023, &mut b).is_err());
    t.write(1024, &[]).unwrap();
    t.commit().unwrap();
}

#[test]
fn acknowledged_means_durable_and_reads_cost_nothing() {
    let mut sim = CrashSim::new(PM, 9);
    sim.set_policy(None);
    let mut tx = Tx::format(sim, LAYOUT).unwrap();
    let before = tx.pmem().events();
    let t = tx.begin();
    assert_eq!(t.read_u64(0).unwrap(), 0);
    t.commit().unwrap();
    assert_eq!(
        tx.pmem().events(),
        before,
        "a read-only transaction touches no PM"
    );
    let mut t = tx.begin();
    t.write(64, &[7; 64]).unwrap();
    t.write(200, &[8; 3]).unwrap();
    t.commit().unwrap();
    // Every line not yet flushed and fenced is lost: the commit holds.
    let image = tx.pmem().durable_image();
    let tx = Tx::open(VecPmem(image), LAYOUT).unwrap();
    assert_eq!(tx.recovery(), None);
    let d = data(&tx);
    assert_eq!((&d[64..128], &d[200..203]), (&[7u8; 64][..], &[8u8; 3][..]));
}

#[test]
fn a_leaked_guard_is_rolled_back_by_the_next_begin() {
    let mut tx = fresh();
    let mut t = tx.begin();
    t.write_u64(0, 5).unwrap();
    core::mem::forget(t);
    let mut t = tx.begin();
    assert_eq!(
        t.read_u64(0).unwrap(),
        0,
        "the leaked transaction was undone"
    );
    assert!(!t.is_nested());
    t.write_u64(8, 6).unwrap();
    t.commit().unwrap();
    let tx = Tx::open(tx.into_pmem(), LAYOUT).unwrap();
    assert_eq!((tx.read_u64(0).unwrap(), tx.read_u64(8).unwrap()), (0, 6));
}

#[test]
fn a_leaked_inner_guard_does_not_stop_the_outer_commit() {
    let mut tx = fresh();
    let mut outer = tx.begin();
    outer.write_u64(0, 1).unwrap();
    let mut inner = outer.begin();
    inner.write_u64(8, 2).unwrap();
    core::mem::forget(inner);
    outer.write_u64(16, 3).unwrap();
    outer.commit().unwrap();
    let tx = Tx::open(tx.into_pmem(), LAYOUT).unwrap();
    assert_eq!(tx.recovery(), None, "the outermost commit was durable");
    let words: Vec<u64> = (0..3).map(|i| tx.read_u64(i * 8).unwrap()).collect();
    assert_eq!(words, [1, 2, 3]);
}

#[test]
fn layouts_are_checked_and_formatting_is_explicit() {
    let pm = || VecPmem::new(PM);
    let bad = Layout::new(100, 1024, 64);
    assert_eq!(Tx::format(pm(), bad).err(), Some(OpenError::BadLayout(bad)));
    let bad = Layout::new(0, 32, 64);
    assert_eq!(Tx::format(pm(), bad).err(), Some(OpenError::BadLayout(bad)));
    let bad = Layout::new(0, 1024, 0);
    assert_eq!(Tx::format(pm(), bad).err(), Some(OpenError::BadLayout(bad)));
    let bad = Layout::new(u64::MAX - 63, 1024, 64);
    assert_eq!(Tx::open(pm(), bad).err(), Some(OpenError::BadLayout(bad)));
    assert_eq!(
        Tx::open(pm(), Layout::new(0, 1024, 4096)).err(),
        Some(OpenError::TooSmall {
            need: 128 + 1024 + 4096,
            have: PM as u64
        })
    );
    assert_eq!(Tx::open(pm(), LAYOUT).err(), Some(OpenError::NotFormatted));
    let mut tx = Tx::open_or_format(pm(), LAYOUT).unwrap();
    bump(&mut tx, 8).unwrap();
    let tx = Tx::open_or_format(tx.into_pmem(), LAYOUT).unwrap();
    assert_eq!(
        tx.read_u64(8).unwrap(),
        1,
        "an existing region is opened, not wiped"
    );
    let other = Layout::new(128, 1024, 512);
    assert_eq!(
        Tx::open(tx.into_pmem(), other).err(),
        Some(OpenError::LayoutMismatch { found: LAYOUT })
    );
    let l = Layout::for_data(0, 100, 200);
    assert!(l.log_len >= 232 && l.log_len.is_multiple_of(64));
}
