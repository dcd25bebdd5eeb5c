//! `ksod selftest`: calls the running `ksod` through PPC the way `init`
//! does and checks what it answers. It records two names, records the
//! first again (same KSO, nothing created), quarantines the second (and an
//! unknown ID, which must fail), records the second again (a fresh KSO),
//! and lists the root: every one of those must show. It prints each entry
//! and `ksod: selftest ok`, or the first failure and exits 1.
//!
//! Then it checks that every thread-marked object in the store is listed
//! in the root (`ksod` swept the rest at its start), and leaves one
//! unlisted thread-marked object behind — what a cut between a record's
//! write and its root entry leaves — for the next boot's `ksod` to sweep.
//!
//! The names stay in the root (never started, so always `Created`), so a
//! later boot lists them again and the first name's `record` then finds
//! the KSO an earlier run made.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::ipc::CallError;
use protocols::ksod::{self, Entry, KSO_THREAD_MARK, KSOD_SERVICE, KsodError, Recorded};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::objstore::{self, CreateSpec, MAX_LIST};
use protocols::thread_kso::THREAD_RECORD_SIZE;
use runtime::ppc::Gate;
use runtime::println;

const A: &str = "selftest-a";
const B: &str = "selftest-b";

/// Runs the check; the exit code.
pub fn run() -> u64 {
    match check() {
        Ok(()) => {
            println!("ksod: selftest ok");
            0
        }
        Err(why) => {
            println!("ksod: selftest FAILED: {why}");
            1
        }
    }
}

type Client = ksod::Client<Gate>;

fn record(c: &mut Client, name: &str) -> Result<Recorded, String> {
    let name_t = ksod::text(name).ok_or_else(|| format!("{name:?} too long"))?;
    let (module, args) = (ksod::text("ksodemo"), ksod::text("--selftest"));
    let (Some(module), Some(args)) = (module, args) else {
        return Err("module or arguments too long".into());
    };
    let r = c
        .record(name_t, module, args)
        .map_err(|e| format!("record {name}: {e:?}"))?;
    println!(
        "ksod: selftest: {name} -> {} ({})",
        r.kso,
        if r.created { "created" } else { "existing" }
    );
    Ok(r)
}

fn entries(c: &mut Client) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let page = c.list(cursor).map_err(|e| format!("list: {e:?}"))?;
        out.extend(page.entries);
        match page.next {
            Some(n) => cursor = n,
            None => return Ok(out),
        }
    }
}

fn check() -> Result<(), String> {
    let gate = Gate::connect(KSOD_SERVICE, 10_000).map_err(|e| format!("no `ksod`: {e}"))?;
    let mut c = ksod::Client::new(gate);
    let a = record(&mut c, A)?;
    let b = record(&mut c, B)?;
    let again = record(&mut c, A)?;
    if again.kso != a.kso || again.created {
        return Err(format!("{A} recorded twice gave {again:?} after {a:?}"));
    }
    c.quarantine(b.kso)
        .map_err(|e| format!("quarantine {}: {e:?}", b.kso))?;
    let unknown = ObjId::from_u128(0x5e1f_7e57);
    match c.quarantine(unknown) {
        Err(CallError::Server(KsodError::UnknownKso)) => {}
        other => return Err(format!("quarantine of an unknown ID answered {other:?}")),
    }
    let fresh = record(&mut c, B)?;
    if fresh.kso == b.kso || !fresh.created {
        return Err(format!("{B} after its quarantine gave {fresh:?}"));
    }
    let all = entries(&mut c)?;
    for e in &all {
        println!(
            "ksod: selftest: entry {} {} {} state-at-boot {:?}{}",
            e.name,
            e.kso,
            if e.quarantined { "quarantined" } else { "live" },
            e.state(),
            if e.resumable_at_boot {
                " resumable"
            } else {
                ""
            }
        );
    }
    let has = |name: &str, kso: ObjId, quarantined: bool| {
        all.iter()
            .any(|e| e.name == name && e.kso == kso && e.quarantined == quarantined)
    };
    if !has(A, a.kso, false) || !has(B, b.kso, true) || !has(B, fresh.kso, false) {
        return Err("the root does not list what was recorded".into());
    }
    let s = c.status().map_err(|e| format!("status: {e:?}"))?;
    println!(
        "ksod: selftest: status {:?}: {} live, {} quarantined, {} orphans swept at boot",
        s.boot, s.threads, s.quarantined, s.orphans_swept
    );
    if s.threads < 2 || s.quarantined < 1 {
        return Err(format!("status counts too few: {s:?}"));
    }
    orphans(&all)
}

/// Checks every thread-marked object is listed in `all`, then leaves an
/// unlisted one.
fn orphans(all: &[Entry]) -> Result<(), String> {
    let gate = Gate::connect(crate::store_link::STORE_SERVICE, 10_000)
        .map_err(|e| format!("no object store: {e}"))?;
    let mut store = objstore::Client::new(gate);
    let mut marked = 0;
    let mut cursor = 0;
    loop {
        let page = store
            .list(cursor, MAX_LIST as u8)
            .map_err(|e| format!("store list: {e:?}"))?;
        for o in page.objects.iter().filter(|o| o.key == KSO_THREAD_MARK) {
            if !all.iter().any(|e| e.kso == o.id) {
                return Err(format!("thread-marked object {} is in no root entry", o.id));
            }
            marked += 1;
        }
        match page.next {
            Some(n) => cursor = n,
            None => break,
        }
    }
    println!("ksod: selftest: {marked} thread-marked objects, every one listed in the root");
    let spec = CreateSpec {
        size: THREAD_RECORD_SIZE as u64,
        flags: ObjFlags::PERSISTENT | ObjFlags::KSO,
        // DELETE, like a thread KSO: the sweep deletes it.
        default_perms: Perms::READ | Perms::DELETE,
        key: KSO_THREAD_MARK,
    };
    let orphan = store
        .create(spec)
        .map_err(|e| format!("cannot create an orphan: {e:?}"))?;
    println!("ksod: selftest: left orphan {}", orphan.id);
    Ok(())
}
