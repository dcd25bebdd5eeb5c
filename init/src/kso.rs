//! `init`'s link to the KSO persistence server (`ksod`): the thread KSO
//! each supervised server starts from, and the restart of every server
//! that was running when the power went.
//!
//! Without `ksod` (no persistent memory: it says so and ends) every call
//! here answers "no KSO" and the supervisor spawns servers plainly.

use alloc::vec::Vec;

use protocols::ipc::Text;
use protocols::ksod::{self, BootKind, Entry};
use protocols::object::ObjId;
use protocols::thread_kso::ThreadState;
use runtime::ppc::{self, Gate};
use runtime::println;
use runtime::sync::Mutex;

use crate::supervisor;

/// Longest `init` waits for `ksod` to answer while it still runs.
const PATIENCE_MS: u64 = 20_000;

/// The connection, once made.
static LINK: Mutex<Option<ksod::Client<Gate>>> = Mutex::new(None);

/// Runs `f` on a connection to `ksod`, waiting for it to serve while its
/// program still runs; `None` when there is no `ksod` or the call fails.
fn with<T>(mut f: impl FnMut(&mut ksod::Client<Gate>) -> Option<T>) -> Option<T> {
    let mut link = LINK.lock();
    if link.is_none() {
        let mut waited = 0;
        while waited < PATIENCE_MS {
            if let Ok(g) = Gate::connect(ksod::KSOD_SERVICE, 0) {
                *link = Some(ksod::Client::new(g));
                break;
            }
            if !supervisor::is_running("ksod") {
                return None;
            }
            let _ = runtime::time::sleep(core::time::Duration::from_millis(5));
            waited += 5;
        }
    }
    f(link.as_mut()?)
}

/// The thread KSO server `name` starts from (recorded now if it has none),
/// or `None` without KSO persistence.
pub fn record(name: &str, module: &str, args: &str) -> Option<ObjId> {
    let (Ok(n), Ok(m), Ok(a)) = (
        Text::try_from(name),
        Text::try_from(module),
        Text::try_from(args),
    ) else {
        println!("init: {name}: name, module or arguments too long for a thread KSO");
        return None;
    };
    let got = with(|c| {
        ppc::retrying(
            c,
            |c| c.transport_mut(),
            |c| c.record(n.clone(), m.clone(), a.clone()),
        )
        .map_err(|e| println!("init: ksod did not record {name}: {e:?}"))
        .ok()
    });
    got.map(|r| r.kso)
}

/// Tells `ksod` the kernel quarantined thread KSO `kso`.
pub fn quarantine(kso: ObjId) {
    with(|c| {
        ppc::retrying(c, |c| c.transport_mut(), |c| c.quarantine(kso))
            .map_err(|e| println!("init: ksod did not quarantine {kso}: {e:?}"))
            .ok()
    });
}

/// `ksod`'s boot snapshot and counts.
fn status() -> Option<ksod::Status> {
    with(|c| ppc::retrying(c, |c| c.transport_mut(), |c| c.status()).ok())
}

/// Every root entry.
fn entries() -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let page = with(|c| ppc::retrying(c, |c| c.transport_mut(), |c| c.list(cursor)).ok());
        let Some(page) = page else { return out };
        out.extend(page.entries);
        match page.next {
            Some(n) => cursor = n,
            None => return out,
        }
    }
}

/// After a power cut: starts every server that was running at the cut and
/// that `init` has not started itself (one started with `server start` or
/// `resolver start`), from its thread KSO. A KSO `ksod` could not decode
/// is started too, so the kernel judges it (and quarantines it).
pub fn restart_the_rest() {
    if status().is_none_or(|s| s.boot != BootKind::Recovery) {
        return;
    }
    for e in entries() {
        let was_running = e.state().is_none_or(|s| s == ThreadState::Running);
        if e.quarantined || !was_running || supervisor::is_known(&e.name) {
            continue;
        }
        match runtime::sys::program_start_kso(e.kso) {
            Ok(program) => {
                supervisor::adopt(&e.name, "", "", program, Some(e.kso));
                // Resolvers publish their service; `server start` programs
                // need not.
                if !crate::names::configured(&e.name) {
                    supervisor::publishes_nothing(&e.name);
                }
            }
            Err(err) => {
                println!(
                    "init: {} not restarted from its thread KSO {}: {err}",
                    e.name, e.kso
                );
                if err == protocols::syscall::SysError::InvalidArgument {
                    quarantine(e.kso);
                }
            }
        }
    }
}

/// The boot log's recovery line: how many servers came back from their
/// thread KSOs, and how.
pub fn report() {
    let Some(s) = status() else {
        return;
    };
    if s.boot == BootKind::Recovery {
        println!(
            "init: {} servers restarted from their thread KSOs after a power cut \
             ({} resumed with a power-resume notice, {} reset); {} thread KSOs quarantined",
            s.running_at_boot,
            s.resumable_at_boot,
            s.running_at_boot - s.resumable_at_boot,
            s.quarantined
        );
    }
}
