//! The server over an in-memory object store: what `record`, `quarantine`,
//! `list` and `status` answer, what survives a restart (a "reboot": the
//! store's objects kept, `ksod` started again), the boot lines, orphans.

use protocols::ksod::{
    BootKind, KSO_ROOT_MARK, KSO_THREAD_MARK, KsodError, MAX_ENTRIES, Recorded, Server, text,
};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::thread_kso::{THREAD_RECORD_SIZE, ThreadFlags, ThreadRecord, ThreadState};
use txn::Pmem;

use super::Store;
use crate::root::CAPACITY;
use crate::{Ksod, StartError, start};

fn boot(store: &Store) -> Ksod<Store> {
    start(store.clone(), 0, || 42).expect("ksod starts")
}

fn record(k: &mut Ksod<Store>, name: &str) -> Result<Recorded, KsodError> {
    k.record(
        text(name).unwrap(),
        text("hierarchical").unwrap(),
        text("--state /hier").unwrap(),
    )
}

/// The record in thread KSO `kso`, decoded.
fn read(store: &Store, kso: ObjId) -> ThreadRecord {
    let mut b = [0u8; THREAD_RECORD_SIZE];
    store.obj(kso).unwrap().data.read(0, &mut b);
    ThreadRecord::decode(&b).unwrap()
}

/// Stores `r` in `kso` as the kernel would.
fn write(store: &Store, kso: ObjId, r: &ThreadRecord) {
    store.obj(kso).unwrap().data.write(0, &r.encode());
}

#[test]
fn a_first_start_creates_the_root_and_record_writes_a_checked_kso() {
    let store = Store::default();
    let mut k = boot(&store);
    let root = k.root_id();
    let o = store.obj(root).unwrap();
    assert_eq!((o.key, o.flags), (KSO_ROOT_MARK, ObjFlags::PERSISTENT));
    assert_eq!(
        k.boot_line().to_string(),
        format!("ksod: fresh start: KSO root {root} created")
    );
    assert_eq!(k.status().unwrap().boot, BootKind::Fresh);

    let r = record(&mut k, "hier").unwrap();
    assert!(r.created);
    let o = store.obj(r.kso).unwrap();
    assert_eq!(o.key, KSO_THREAD_MARK);
    assert_eq!(o.flags, ObjFlags::PERSISTENT | ObjFlags::KSO);
    // Readable by all, writable by none (the record is written as it is
    // created; then only the kernel writes), deletable for the sweep.
    assert_eq!(o.perms, Perms::READ | Perms::DELETE);
    assert_eq!(
        read(&store, r.kso),
        ThreadRecord::new(
            text("hier").unwrap(),
            text("hierarchical").unwrap(),
            text("--state /hier").unwrap()
        )
    );
    // Again: the same KSO, nothing written (the kernel's fields stay).
    let mut running = read(&store, r.kso);
    running.state = ThreadState::Running;
    write(&store, r.kso, &running);
    let objects = store.count();
    let again = record(&mut k, "hier").unwrap();
    assert_eq!((again.kso, again.created), (r.kso, false));
    assert_eq!(store.count(), objects);
    assert_eq!(read(&store, r.kso).state, ThreadState::Running);
}

#[test]
fn records_the_kernel_would_refuse_are_refused() {
    let store = Store::default();
    let mut k = boot(&store);
    let objects = store.count();
    for (name, module) in [("", "m"), ("n", ""), ("n", "a/b")] {
        assert_eq!(
            k.record(
                text(name).unwrap(),
                text(module).unwrap(),
                text("").unwrap()
            ),
            Err(KsodError::BadRecord)
        );
    }
    assert_eq!(store.count(), objects);
}

#[test]
fn a_failed_write_leaves_no_entry_and_no_object() {
    let store = Store::default();
    let mut k = boot(&store);
    let objects = store.count();
    store.0.borrow_mut().fail_writes = true;
    assert_eq!(record(&mut k, "posix"), Err(KsodError::Store));
    assert_eq!(store.count(), objects);
    assert_eq!(k.list(0).unwrap().entries.len(), 0);
    store.0.borrow_mut().fail_writes = false;
    assert!(record(&mut k, "posix").unwrap().created);
}

#[test]
fn quarantine_keeps_the_object_and_the_next_record_makes_a_fresh_one() {
    let store = Store::default();
    let mut k = boot(&store);
    let old = record(&mut k, "posix").unwrap().kso;
    assert_eq!(k.quarantine(old), Ok(()));
    assert_eq!(
        store.log().last().unwrap(),
        &format!(
            "ksod: thread KSO {old} of posix quarantined; posix gets a fresh one on its next start"
        )
    );
    // Twice is fine, and says nothing more.
    let lines = store.log().len();
    assert_eq!(k.quarantine(old), Ok(()));
    assert_eq!(store.log().len(), lines);
    assert_eq!(
        k.quarantine(ObjId::from_u128(5)),
        Err(KsodError::UnknownKso)
    );
    assert!(store.obj(old).is_some(), "kept for inspection");
    let fresh = record(&mut k, "posix").unwrap();
    assert!(fresh.created && fresh.kso != old);
    let s = k.status().unwrap();
    assert_eq!((s.threads, s.quarantined), (1, 1));

    // After a reboot both are listed, the quarantined one still so.
    drop(k);
    let mut k = boot(&store);
    let p = k.list(0).unwrap();
    let got: Vec<_> = p
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.kso, e.quarantined))
        .collect();
    assert_eq!(got, vec![("posix", old, true), ("posix", fresh.kso, false)]);
    assert_eq!(record(&mut k, "posix").unwrap().kso, fresh.kso);
}

#[test]
fn a_clean_restart_and_a_recovery_report_what_the_ksos_held() {
    let store = Store::default();
    let mut k = boot(&store);
    let names = ["registry", "hier", "posix", "demo", "gone"];
    let ksos: Vec<ObjId> = names
        .iter()
        .map(|n| record(&mut k, n).unwrap().kso)
        .collect();
    drop(k);
    let k = boot(&store);
    let root = k.root_id();
    assert_eq!(
        k.boot_line().to_string(),
        format!("ksod: clean start: 5 thread KSOs in root {root}")
    );
    drop(k);

    // The kernel's view of the cut: three running (two registered for
    // power-resume, one with two contexts and a view), one exited, one
    // record damaged.
    for (i, kso) in ksos.iter().enumerate() {
        let mut r = read(&store, *kso);
        match i {
            0 | 1 => {
                r.state = ThreadState::Running;
                r.flags = ThreadFlags::RESUMABLE;
            }
            2 => r.state = ThreadState::Running,
            3 => r.state = ThreadState::Exited,
            _ => {}
        }
        if i == 1 {
            r.contexts.push(ObjId::from_u128(0xc1)).unwrap();
            r.contexts.push(ObjId::from_u128(0xc2)).unwrap();
            r.view = ObjId::from_u128(0xee);
        }
        write(&store, *kso, &r);
    }
    store.obj(ksos[4]).unwrap().data.write(0, b"garbage!");
    // And an orphan: a record cut before its root entry.
    let orphan = store.add(THREAD_RECORD_SIZE, KSO_THREAD_MARK);
    let unrelated = store.add(64, ObjId::NIL);

    let mut k = start(store.clone(), 100, || 117).unwrap();
    assert_eq!(
        k.boot_line().to_string(),
        format!(
            "ksod: recovery after a power cut: 5 thread KSOs in root {root}, 3 were running \
             (2 registered for power-resume, 1 to reset), 0 quarantined, 1 undecodable, \
             2 contexts and 1 views listed, 1 orphans swept; took 17 ms"
        )
    );
    assert!(store.obj(orphan).is_none() && store.obj(unrelated).is_some());
    let s = k.status().unwrap();
    assert_eq!(
        (s.boot, s.threads, s.running_at_boot, s.resumable_at_boot),
        (BootKind::Recovery, 5, 3, 2)
    );
    assert_eq!(
        (
            s.undecodable,
            s.contexts,
            s.views,
            s.orphans_swept,
            s.recovery_ms
        ),
        (1, 2, 1, 1, 17)
    );
    let e = k.list(0).unwrap().entries;
    let states: Vec<_> = e.iter().map(|e| (e.state(), e.resumable_at_boot)).collect();
    assert_eq!(
        states,
        vec![
            (Some(ThreadState::Running), true),
            (Some(ThreadState::Running), true),
            (Some(ThreadState::Running), false),
            (Some(ThreadState::Exited), false),
            (None, false),
        ]
    );
    // The snapshot is of the boot: the kernel changing a KSO later does
    // not change it.
    let mut r = read(&store, ksos[2]);
    r.state = ThreadState::Exited;
    write(&store, ksos[2], &r);
    assert_eq!(k.status().unwrap().running_at_boot, 3);
}

#[test]
fn list_pages_through_the_root() {
    let store = Store::default();
    let mut k = boot(&store);
    for i in 0..MAX_ENTRIES + 4 {
        record(&mut k, &format!("s{i}")).unwrap();
    }
    let first = k.list(0).unwrap();
    assert_eq!(first.entries.len(), MAX_ENTRIES);
    let next = first.next.expect("a second page");
    let second = k.list(next).unwrap();
    assert_eq!(second.entries.len(), 4);
    assert_eq!(second.next, None);
    assert_eq!(second.entries[3].name, "s19");
    assert!(k.list(u64::MAX).unwrap().entries.is_empty());
    // Entries recorded this boot have no boot state.
    assert!(first.entries.iter().all(|e| e.state_at_boot.is_none()));
}

#[test]
fn a_full_root_makes_room_from_its_oldest_quarantined_entry_only() {
    let store = Store::default();
    let mut k = boot(&store);
    let mut ksos = Vec::new();
    for i in 0..CAPACITY {
        ksos.push(record(&mut k, &format!("s{i}")).unwrap().kso);
    }
    assert_eq!(record(&mut k, "one-more"), Err(KsodError::NoSpace));
    k.quarantine(ksos[7]).unwrap();
    k.quarantine(ksos[3]).unwrap();
    let r = record(&mut k, "one-more").unwrap();
    assert!(r.created);
    // The oldest by the order of recording, not of quarantine.
    assert!(store.obj(ksos[3]).is_none() && store.obj(ksos[7]).is_some());
    assert!(
        store
            .log()
            .last()
            .unwrap()
            .starts_with("ksod: root full: deleted quarantined thread KSO")
    );
}

#[test]
fn several_marked_roots_use_the_lowest_and_a_damaged_root_stops_the_start() {
    let store = Store::default();
    let first = boot(&store).root_id();
    let extra = store.add(crate::root::ROOT_SIZE as usize, KSO_ROOT_MARK);
    assert!(extra > first);
    let k = boot(&store);
    assert_eq!(k.root_id(), first);
    assert_eq!(
        store.log().last().unwrap(),
        &format!("ksod: 2 objects carry the KSO root's mark; using {first}")
    );
    drop(k);
    let data = crate::root::LAYOUT.data_off();
    store.obj(first).unwrap().data.write(data, b"NOTAROOT");
    assert!(matches!(
        start(store.clone(), 0, || 0).err(),
        Some(StartError::Root(crate::RootError::NotARoot))
    ));
}
