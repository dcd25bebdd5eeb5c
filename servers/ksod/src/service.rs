//! The server: [`start`] (find or create the root, take the boot
//! snapshot, sweep orphans) and [`Ksod`], the `protocols::ksod` handler,
//! over any [`Objects`] — the object store in the guest, a map in tests.

use alloc::vec::Vec;
use core::fmt;

use protocols::ksod::{
    Args, Entry, KSO_ROOT_MARK, KSO_THREAD_MARK, KsodError, MAX_ENTRIES, Module, Name, Page,
    Recorded, Server, Status,
};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::thread_kso::{THREAD_RECORD_SIZE, ThreadRecord};
use txn::Pmem;

use crate::boot::{BootLine, Seen, Snapshot};
use crate::root::{CAPACITY, ROOT_SIZE, RootError, RootTable};

/// What `ksod` needs of the object store.
pub trait Objects {
    /// A mapped object's data area.
    type Mapped: Pmem;
    /// The IDs of every object whose key field is `mark`, in the store's
    /// order.
    fn marked(&mut self, mark: ObjId) -> Result<Vec<ObjId>, KsodError>;
    /// Creates a persistent object of `size` bytes with `flags`, `perms`
    /// and key field `mark`, holding `bytes` at data offset 0 (the rest
    /// zero); replies once it is durable. On an error nothing is left.
    /// (One call, so an object its creator may not write can hold a
    /// record.)
    fn create(
        &mut self,
        size: u64,
        flags: ObjFlags,
        perms: Perms,
        mark: ObjId,
        bytes: &[u8],
    ) -> Result<ObjId, KsodError>;
    /// Reads `buf.len()` bytes at data offset 0 of `id`.
    fn read(&mut self, id: ObjId, buf: &mut [u8]) -> Result<(), KsodError>;
    /// Deletes `id`.
    fn delete(&mut self, id: ObjId) -> Result<(), KsodError>;
    /// Maps `id`'s data area (`size` bytes) read/write.
    fn map(&mut self, id: ObjId, size: u64) -> Result<Self::Mapped, KsodError>;
    /// Prints a log line.
    fn say(&mut self, line: fmt::Arguments<'_>);
}

/// Why `ksod` cannot start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    /// A store call failed.
    Store(KsodError),
    /// The root does not open.
    Root(RootError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Store(e) => write!(f, "the object store failed ({e:?})"),
            StartError::Root(e) => write!(f, "the KSO root does not open ({e:?})"),
        }
    }
}

fn root_error(e: RootError) -> KsodError {
    match e {
        RootError::Full => KsodError::NoSpace,
        RootError::UnknownKso => KsodError::UnknownKso,
        RootError::EmptyName => KsodError::BadRecord,
        _ => KsodError::Root,
    }
}

/// The running server.
pub struct Ksod<O: Objects> {
    objects: O,
    root: RootTable<O::Mapped>,
    root_id: ObjId,
    snapshot: Snapshot,
    line: BootLine,
}

/// Starts `ksod` over `objects`: finds the root by [`KSO_ROOT_MARK`] (the
/// lowest ID if several) or creates it, opens it (recovering), reads
/// every listed thread KSO into the boot snapshot and deletes every
/// thread-marked object the root does not list. `now_ms` reads a clock;
/// the boot line's time is from `since_ms` (when the program started) to
/// the end of this.
pub fn start<O: Objects>(
    mut objects: O,
    since_ms: u64,
    now_ms: impl Fn() -> u64,
) -> Result<Ksod<O>, StartError> {
    let roots = objects.marked(KSO_ROOT_MARK).map_err(StartError::Store)?;
    let (root_id, fresh) = match roots.iter().min() {
        Some(&id) => {
            if roots.len() > 1 {
                objects.say(format_args!(
                    "ksod: {} objects carry the KSO root's mark; using {id}",
                    roots.len()
                ));
            }
            (id, false)
        }
        None => {
            let id = objects
                .create(
                    ROOT_SIZE,
                    ObjFlags::PERSISTENT,
                    Perms::READ | Perms::WRITE,
                    KSO_ROOT_MARK,
                    &[],
                )
                .map_err(StartError::Store)?;
            (id, true)
        }
    };
    let mapped = objects.map(root_id, ROOT_SIZE).map_err(StartError::Store)?;
    let root = RootTable::open(mapped).map_err(StartError::Root)?;
    if root.recovered() {
        objects.say(format_args!(
            "ksod: rolled back a root change the power cut interrupted"
        ));
    }
    let mut snapshot = Snapshot::default();
    for e in root.entries() {
        let mut buf = [0u8; THREAD_RECORD_SIZE];
        let read = objects.read(e.kso, &mut buf).ok().map(|()| &buf[..]);
        snapshot.seen.push(Seen::of(e.kso, e.quarantined, read));
    }
    let mut orphans = 0;
    for id in objects.marked(KSO_THREAD_MARK).map_err(StartError::Store)? {
        if root.by_kso(id).is_none() && objects.delete(id).is_ok() {
            orphans += 1;
        }
    }
    let counts = snapshot.counts();
    let line = BootLine {
        kind: snapshot.boot_kind(fresh),
        root: root_id,
        counts,
        orphans,
        ms: now_ms().saturating_sub(since_ms).min(u64::from(u32::MAX)) as u32,
    };
    Ok(Ksod {
        objects,
        root,
        root_id,
        snapshot,
        line,
    })
}

impl<O: Objects> Ksod<O> {
    /// The boot line (print it once the service is published).
    pub fn boot_line(&self) -> BootLine {
        self.line
    }

    /// The root object.
    pub fn root_id(&self) -> ObjId {
        self.root_id
    }

    /// The object store side.
    pub fn objects(&mut self) -> &mut O {
        &mut self.objects
    }

    /// Frees the oldest quarantined entry and deletes its object, to make
    /// room; `false` if there is none. The entry goes first: a cut between
    /// leaves an orphan, which the next start sweeps.
    fn reclaim(&mut self) -> Result<bool, KsodError> {
        let Some(old) = self
            .root
            .entries()
            .filter(|e| e.quarantined)
            .min_by_key(|e| e.seq)
        else {
            return Ok(false);
        };
        self.root.remove(old.kso).map_err(root_error)?;
        let _ = self.objects.delete(old.kso);
        self.objects.say(format_args!(
            "ksod: root full: deleted quarantined thread KSO {} of {}",
            old.kso, old.name
        ));
        Ok(true)
    }
}

impl<O: Objects> Server for Ksod<O> {
    fn record(&mut self, name: Name, module: Module, args: Args) -> Result<Recorded, KsodError> {
        if name.is_empty() || module.is_empty() || module.contains('/') {
            return Err(KsodError::BadRecord);
        }
        if let Some(e) = self.root.live(&name) {
            return Ok(Recorded {
                kso: e.kso,
                created: false,
            });
        }
        if self.root.entries().count() >= CAPACITY as usize && !self.reclaim()? {
            return Err(KsodError::NoSpace);
        }
        let record = ThreadRecord::new(name.clone(), module, args).encode();
        // Readable by every context (like a process table), writable by
        // none: the record is written as the object is created, and from
        // then on only the kernel writes it (its live fields; the store
        // refuses every program a write without WRITE). DELETE, so that
        // `ksod` can reclaim quarantined records and sweep orphans.
        let kso = self.objects.create(
            THREAD_RECORD_SIZE as u64,
            ObjFlags::PERSISTENT | ObjFlags::KSO,
            Perms::READ | Perms::DELETE,
            KSO_THREAD_MARK,
            &record,
        )?;
        // The record is durable before the root names it: a cut between
        // leaves an orphan object, never an entry naming garbage.
        if let Err(e) = self.root.add(&name, kso).map_err(root_error) {
            let _ = self.objects.delete(kso);
            return Err(e);
        }
        Ok(Recorded { kso, created: true })
    }

    fn quarantine(&mut self, kso: ObjId) -> Result<(), KsodError> {
        let (e, changed) = self.root.quarantine(kso).map_err(root_error)?;
        if changed {
            self.objects.say(format_args!(
                "ksod: thread KSO {kso} of {0} quarantined; {0} gets a fresh one on its next start",
                e.name
            ));
        }
        Ok(())
    }

    fn list(&mut self, cursor: u64) -> Result<Page, KsodError> {
        let from = u32::try_from(cursor).unwrap_or(u32::MAX);
        let mut entries = protocols::ipc::heapless::Vec::new();
        let mut next = None;
        for slot in from..CAPACITY {
            let Some(e) = self.root.get(slot).map_err(root_error)? else {
                continue;
            };
            if entries.len() == MAX_ENTRIES {
                next = Some(u64::from(slot));
                break;
            }
            let seen = self.snapshot.get(e.kso);
            let entry = Entry {
                name: e.name,
                kso: e.kso,
                quarantined: e.quarantined,
                state_at_boot: seen.and_then(|s| s.state).map(|s| s as u32),
                resumable_at_boot: seen.is_some_and(|s| s.resumable),
            };
            // Cannot fail: checked against MAX_ENTRIES above.
            let _ = entries.push(entry);
        }
        Ok(Page { entries, next })
    }

    fn status(&mut self) -> Result<Status, KsodError> {
        let c = self.line.counts;
        let (mut threads, mut quarantined) = (0, 0);
        for e in self.root.entries() {
            if e.quarantined {
                quarantined += 1;
            } else {
                threads += 1;
            }
        }
        Ok(Status {
            boot: self.line.kind,
            threads,
            running_at_boot: c.running,
            resumable_at_boot: c.resumable,
            quarantined,
            undecodable: c.undecodable,
            contexts: c.contexts,
            views: c.views,
            orphans_swept: self.line.orphans,
            recovery_ms: self.line.ms,
        })
    }
}
