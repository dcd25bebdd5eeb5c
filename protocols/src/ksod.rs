//! `Ksod`: the interface of the KSO persistence server (`ksod`), which
//! records thread KSOs ([`crate::thread_kso`]) in the **KSO root** and
//! reports what it found in them when the machine started.
//!
//! The root is a persistent object in the object store carrying
//! [`KSO_ROOT_MARK`] in its key field; every thread KSO `ksod` creates
//! carries [`KSO_THREAD_MARK`]. Both marks are values no key object has,
//! so no capability can be made for either, and `ksod` finds its objects
//! after a reboot with no volatile state. The root lists `(name, KSO)`
//! pairs, each live or quarantined; it changes only in durable
//! transactions.
//!
//! # Calling it
//!
//! `ksod` publishes its gate as [`KSOD_SERVICE`]. In the guest (a
//! function returning `Option`; `init/src/kso.rs` is the full caller):
//!
//! ```text
//! let gate = runtime::ppc::Gate::connect(ksod::KSOD_SERVICE, 10_000).ok()?;
//! let mut c = ksod::Client::new(gate);
//! let (name, module, args) = (ksod::text("posix")?, ksod::text("posix")?, ksod::text("")?);
//! let kso = c.record(name, module, args).ok()?.kso;
//! let program = runtime::sys::program_start_kso(kso).ok()?;
//! ```
//!
//! ([`text`] makes the bounded strings.) `record` is idempotent per name:
//! while the name's entry is live it answers the same KSO and writes
//! nothing, so a restart finds what the kernel kept in it. After
//! `quarantine(kso)` (the kernel refused the record) the next `record` of
//! that name makes a fresh KSO.
//!
//! Without persistent memory `ksod` prints that it records nothing and
//! ends with status 0: connecting then fails, and callers start their
//! programs without a KSO.

use serde::{Deserialize, Serialize};

use crate::ipc::Text;
use crate::object::ObjId;
use crate::thread_kso::{THREAD_ARGS_LEN, THREAD_MODULE_LEN, THREAD_NAME_LEN, ThreadState};

/// The name `ksod` publishes its gate under.
pub const KSOD_SERVICE: &str = "ksod";
/// The key-field mark of the KSO root object (`"PERENNIAL-KSORT1"`).
pub const KSO_ROOT_MARK: ObjId = ObjId::from_u128(u128::from_le_bytes(*b"PERENNIAL-KSORT1"));
/// The key-field mark of every thread KSO `ksod` creates
/// (`"PERENNIAL-KSOTH1"`).
pub const KSO_THREAD_MARK: ObjId = ObjId::from_u128(u128::from_le_bytes(*b"PERENNIAL-KSOTH1"));
/// Whether an object with key field `key` is KSO bookkeeping (the root or
/// a thread KSO): `obj list` counts these instead of listing them.
pub fn is_bookkeeping(key: ObjId) -> bool {
    key == KSO_ROOT_MARK || key == KSO_THREAD_MARK
}

/// Most entries one `list` page holds.
pub const MAX_ENTRIES: usize = 16;

/// A server name in a call.
pub type Name = Text<THREAD_NAME_LEN>;
/// A boot-module name in a call.
pub type Module = Text<THREAD_MODULE_LEN>;
/// An argument string in a call.
pub type Args = Text<THREAD_ARGS_LEN>;

/// `s` as a bounded string of capacity `N`; `None` if it is longer.
pub fn text<const N: usize>(s: &str) -> Option<Text<N>> {
    Text::try_from(s).ok()
}

/// What `record` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The name's thread KSO.
    pub kso: ObjId,
    /// Whether it was created by this call (`false`: the live entry the
    /// root already had).
    pub created: bool,
}

/// One root entry, with what `ksod` found in its KSO at boot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The server's name.
    pub name: Name,
    /// Its thread KSO.
    pub kso: ObjId,
    /// Whether the entry is quarantined (the kernel refused its record).
    pub quarantined: bool,
    /// `ThreadState as u32` of the KSO when `ksod` started this boot,
    /// before anything was restarted; `None` if it did not decode (or the
    /// entry was added since).
    pub state_at_boot: Option<u32>,
    /// Whether it was registered for power-resume at boot.
    pub resumable_at_boot: bool,
}

impl Entry {
    /// The state at boot as a [`ThreadState`] (`None`: did not decode, or
    /// recorded since).
    pub fn state(&self) -> Option<ThreadState> {
        ThreadState::from_raw(self.state_at_boot?)
    }
}

/// One page of `list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Entries in root order.
    pub entries: heapless::Vec<Entry, MAX_ENTRIES>,
    /// The cursor for the next page; `None` at the end.
    pub next: Option<u64>,
}

/// How this boot found the KSO root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BootKind {
    /// There was no root: `ksod` created it.
    Fresh,
    /// No thread KSO was running: the last run ended cleanly (or nothing
    /// ran).
    Clean,
    /// Some thread KSO was `Running`: the power went while it ran.
    Recovery,
}

/// What `status` answers: the boot snapshot and the root now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// How this boot found the root.
    pub boot: BootKind,
    /// Live root entries now.
    pub threads: u32,
    /// Thread KSOs found `Running` at boot.
    pub running_at_boot: u32,
    /// Of those, registered for power-resume.
    pub resumable_at_boot: u32,
    /// Quarantined root entries now.
    pub quarantined: u32,
    /// Live entries whose KSO did not decode at boot.
    pub undecodable: u32,
    /// Context IDs the thread KSOs listed at boot.
    pub contexts: u32,
    /// View IDs (non-nil) the thread KSOs listed at boot.
    pub views: u32,
    /// Unlisted thread KSOs deleted at boot.
    pub orphans_swept: u32,
    /// Milliseconds from `ksod`'s start to serving.
    pub recovery_ms: u32,
}

/// Why a `ksod` call failed. Nothing changed on a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KsodError {
    /// The root lists no thread KSO with that ID.
    UnknownKso,
    /// The name or module is empty, or the module holds a `/`: the kernel
    /// would refuse such a record.
    BadRecord,
    /// The root is full, or the store has no room for a KSO.
    NoSpace,
    /// The object store failed or is unreachable.
    Store,
    /// The root failed its checks, or a transaction on it failed.
    Root,
}

crate::interface! {
    /// The KSO persistence server.
    interface Ksod {
        id: u64::from_le_bytes(*b"KSODSRV1"),
        error: KsodError,
        gates {
            /// The live thread KSO of `name`, created (record written,
            /// flushed and fenced, then listed in one durable transaction)
            /// if it has none.
            1 => Record fn record(name: Name, module: Module, args: Args) -> Recorded;
            /// Marks the entry of `kso` quarantined (durably); the object
            /// is kept for inspection.
            2 => Quarantine fn quarantine(kso: ObjId) -> ();
            /// Up to [`MAX_ENTRIES`] root entries from `cursor` (0: the
            /// start).
            3 => List fn list(cursor: u64) -> Page;
            /// The boot snapshot and the root's counts now.
            4 => Status fn status() -> Status;
        }
    }
}

#[cfg(test)]
mod tests;
