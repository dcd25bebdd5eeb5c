//! The clean-shutdown flag: how the next open learns whether the last run
//! ended on purpose or was cut short.

use crate::{CrashSim, CutPolicy, FormatOptions, LastRun, Pmem, Store, VecPmem};

use super::{SIZE, fresh, id, spec};

fn reopen<P: Pmem>(store: Store<P>) -> Store<P> {
    Store::open(store.into_pmem()).expect("reopens")
}

#[test]
fn each_open_says_how_the_last_run_ended() {
    let store = fresh();
    assert_eq!(store.opened().last_run, LastRun::Fresh);
    // No shutdown: the next open calls it interrupted.
    let mut store = reopen(store);
    assert_eq!(store.opened().last_run, LastRun::Interrupted);
    assert!(!store.opened().replayed);
    store.shutdown();
    let store = reopen(store);
    assert_eq!(store.opened().last_run, LastRun::ShutDown);
    // Opening clears the mark: a cut now would be seen as one.
    let store = reopen(store);
    assert_eq!(store.opened().last_run, LastRun::Interrupted);
    let mut store = reopen(store);
    store.shutdown();
    // A change after the shutdown clears the mark again.
    store.create(id(1), 1, &spec(100)).expect("creates");
    let mut store = reopen(store);
    assert_eq!(store.opened().last_run, LastRun::Interrupted);
    store.shutdown();
    store.write(id(1), 0, b"late").expect("writes");
    let store = reopen(store);
    assert_eq!(store.opened().last_run, LastRun::Interrupted);
    assert!(store.check().is_clean());
}

#[test]
fn a_cut_during_the_shutdown_leaves_a_store_that_opens_either_way() {
    let mut store = Store::format(CrashSim::new(SIZE, 7), FormatOptions { dir_entries: None })
        .expect("formats");
    store.create(id(1), 1, &spec(5000)).expect("creates");
    store.pmem_mut().set_policy(Some(CutPolicy {
        at_fences: true,
        at_flushes: true,
        random_per_mille: 0,
        variants: 4,
    }));
    store.shutdown();
    let images = store.pmem_mut().take_captures();
    assert!(!images.is_empty(), "the shutdown wrote nothing");
    let mut seen = [false; 2];
    for image in images {
        let reopened = Store::open(VecPmem(image)).expect("every cut opens");
        assert!(reopened.check().is_clean());
        assert!(reopened.stat(id(1)).is_ok());
        match reopened.opened().last_run {
            LastRun::ShutDown => seen[0] = true,
            LastRun::Interrupted => seen[1] = true,
            LastRun::Fresh => panic!("a reopened store is never fresh"),
        }
    }
    assert_eq!(seen, [true, true], "cuts before and after the flag's fence");
}
