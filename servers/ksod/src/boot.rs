//! What `ksod` finds when it starts: the boot snapshot of every listed
//! thread KSO (decoded before anything is restarted), the counts the
//! boot line and `status` report, and the boot line itself.

use alloc::vec::Vec;
use core::fmt;

use protocols::ksod::BootKind;
use protocols::object::ObjId;
use protocols::thread_kso::{ThreadFlags, ThreadRecord, ThreadState};

/// What one thread KSO held at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The KSO.
    pub kso: ObjId,
    /// Whether its root entry was quarantined.
    pub quarantined: bool,
    /// Its state (`None`: the record did not decode, or could not be
    /// read).
    pub state: Option<ThreadState>,
    /// Whether it was registered for power-resume.
    pub resumable: bool,
    /// Contexts it listed.
    pub contexts: u32,
    /// Whether it named a view.
    pub view: bool,
}

impl Seen {
    /// What `record` (the bytes read from the KSO, if they could be read)
    /// says.
    pub fn of(kso: ObjId, quarantined: bool, record: Option<&[u8]>) -> Seen {
        match record.map(ThreadRecord::decode) {
            Some(Ok(r)) => Seen {
                kso,
                quarantined,
                state: Some(r.state),
                resumable: r.flags.contains(ThreadFlags::RESUMABLE),
                contexts: r.contexts.len() as u32,
                view: !r.view.is_nil(),
            },
            _ => Seen {
                kso,
                quarantined,
                state: None,
                resumable: false,
                contexts: 0,
                view: false,
            },
        }
    }

    fn running(&self) -> bool {
        self.state == Some(ThreadState::Running)
    }
}

/// The boot snapshot: every root entry's KSO as found at boot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// One per root entry, in root order.
    pub seen: Vec<Seen>,
}

/// The boot's counts (over live entries; `quarantined` over all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Live entries.
    pub threads: u32,
    /// Live KSOs found `Running`.
    pub running: u32,
    /// Of those, registered for power-resume.
    pub resumable: u32,
    /// Quarantined entries.
    pub quarantined: u32,
    /// Live KSOs that did not decode.
    pub undecodable: u32,
    /// Contexts the live KSOs listed.
    pub contexts: u32,
    /// Views the live KSOs named.
    pub views: u32,
}

impl Snapshot {
    /// What the snapshot holds for `kso`.
    pub fn get(&self, kso: ObjId) -> Option<&Seen> {
        self.seen.iter().find(|s| s.kso == kso)
    }

    /// The counts.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.seen {
            if s.quarantined {
                c.quarantined += 1;
                continue;
            }
            c.threads += 1;
            c.running += u32::from(s.running());
            c.resumable += u32::from(s.running() && s.resumable);
            c.undecodable += u32::from(s.state.is_none());
            c.contexts += s.contexts;
            c.views += u32::from(s.view);
        }
        c
    }

    /// How this boot found the root (`fresh`: ksod created it now).
    pub fn boot_kind(&self, fresh: bool) -> BootKind {
        if fresh {
            BootKind::Fresh
        } else if self.counts().running > 0 {
            BootKind::Recovery
        } else {
            BootKind::Clean
        }
    }
}

/// The one line `ksod` prints when it starts serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootLine {
    /// How the boot found the root.
    pub kind: BootKind,
    /// The root object.
    pub root: ObjId,
    /// The snapshot's counts.
    pub counts: Counts,
    /// Orphans swept.
    pub orphans: u32,
    /// Milliseconds from start to serving.
    pub ms: u32,
}

impl fmt::Display for BootLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        match self.kind {
            BootKind::Fresh => write!(f, "ksod: fresh start: KSO root {} created", self.root),
            BootKind::Clean => write!(
                f,
                "ksod: clean start: {} thread KSOs in root {}",
                c.threads, self.root
            ),
            BootKind::Recovery => write!(
                f,
                "ksod: recovery after a power cut: {} thread KSOs in root {}, {} were running \
                 ({} registered for power-resume, {} to reset), {} quarantined, {} undecodable, \
                 {} contexts and {} views listed, {} orphans swept; took {} ms",
                c.threads,
                self.root,
                c.running,
                c.resumable,
                c.running - c.resumable,
                c.quarantined,
                c.undecodable,
                c.contexts,
                c.views,
                self.orphans,
                self.ms
            ),
        }
    }
}
