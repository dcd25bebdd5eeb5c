//! Thread KSOs in the kernel: starting a program from one
//! (`program_start_kso`), and keeping the record's live fields while it
//! runs (format and rules: `protocols::thread_kso`).
//!
//! The kernel's copy is a cache of the persistent record: what it needs
//! per system call (the object, the thread it tracks) and the notice it
//! computed at start. Every field it writes back is one aligned word,
//! flushed and fenced ([`KObject::store_durable`]).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use protocols::object::{BASE_OFFSET, ObjFlags, ObjId};
use protocols::syscall::SysError;
use protocols::thread_kso::{
    CTX_COUNT_AT, CTXS_AT, EXIT_AT, FLAGS_AT, GENERATION_AT, INTERRUPTED_AT, KsoSelf,
    MAX_THREAD_CTXS, START_AT, STATE_AT, SYSCALL_AT, StartKind, THREAD_RECORD_SIZE, ThreadFlags,
    ThreadRecord, ThreadState, VIEW_AT,
};

use super::Program;
use crate::kprintln;
use crate::object::secctx;
use crate::object::table::{self, KObject, Word};
use crate::sched;
use crate::sync::IrqMutex;

/// "No thread tracked yet": the first thread to make a call claims it.
const UNCLAIMED: u64 = u64::MAX;

/// A running program's thread KSO.
pub struct ThreadKso {
    obj: Arc<KObject>,
    /// The thread whose calls the record shows (the program's first).
    tid: AtomicU64,
    /// What `kso_self` reports.
    notice: KsoSelf,
    resumable: AtomicBool,
    /// Contexts and view its record listed that were quarantined.
    quarantined: AtomicU32,
    /// Contexts listed in the record (high-water mark, see `note_attach`).
    ctx_count: IrqMutex<u32>,
}

/// Thread KSOs found corrupt this boot: never read again.
static QUARANTINED: IrqMutex<BTreeSet<ObjId>> = IrqMutex::new(BTreeSet::new());
/// Every thread KSO started this boot, with its program's id.
static STARTED: IrqMutex<BTreeMap<ObjId, (u64, Arc<ThreadKso>)>> = IrqMutex::new(BTreeMap::new());

impl ThreadKso {
    fn put(&self, at: usize, w: Word) {
        // A revoked KSO (the store deleted it) is simply not updated.
        let _ = self.obj.store_durable(BASE_OFFSET + at as u64, w);
    }

    fn tracks_current(&self) -> bool {
        let tid = sched::current_tid();
        match self
            .tid
            .compare_exchange(UNCLAIMED, tid, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(t) => t == tid,
        }
    }

    /// A system call `number` begins.
    pub fn enter(&self, number: u64) {
        if self.tracks_current() {
            self.put(SYSCALL_AT, Word::U32(number as u32 + 1));
        }
    }

    /// The system call begun with [`ThreadKso::enter`] returns.
    pub fn leave(&self) {
        if self.tracks_current() {
            self.put(SYSCALL_AT, Word::U32(0));
        }
    }

    /// The program ended with `code`.
    pub fn ended(&self, code: u64) {
        self.put(EXIT_AT, Word::U64(code));
        self.put(SYSCALL_AT, Word::U32(0));
        self.put(STATE_AT, Word::U32(ThreadState::Exited as u32));
    }

    /// What `kso_self` reports.
    pub fn notice(&self) -> KsoSelf {
        KsoSelf {
            resumable: self.resumable.load(Ordering::Acquire),
            quarantined: self.quarantined.load(Ordering::Acquire),
            ..self.notice
        }
    }

    /// `kso_resume_register`.
    pub fn register_resume(&self) {
        let flags = ThreadFlags::RESUMABLE;
        self.put(FLAGS_AT, Word::U32(flags.bits()));
        self.resumable.store(true, Ordering::Release);
    }

    /// The tracked thread attached persistent context `id`: list it, so the
    /// next start attaches it again. Crash-safe order: the count (a
    /// high-water mark, never lowered) grows first over a nil place, then
    /// the ID fills it; a torn ID names no context and is left out at the
    /// next start.
    pub fn note_attach(&self, id: ObjId) {
        if !self.tracks_current() {
            return;
        }
        let mut count = self.ctx_count.lock();
        let mut ids = [0u8; 16 * MAX_THREAD_CTXS];
        if self
            .obj
            .read(BASE_OFFSET + CTXS_AT as u64, &mut ids)
            .is_err()
        {
            return;
        }
        let at =
            |i: usize| u128::from_le_bytes(ids[16 * i..16 * i + 16].try_into().unwrap_or([0; 16]));
        let n = *count as usize;
        if (0..n).any(|i| at(i) == id.as_u128()) {
            return;
        }
        let slot = match (0..n).find(|&i| at(i) == 0) {
            Some(i) => i,
            None if n < MAX_THREAD_CTXS => {
                *count += 1;
                self.put(CTX_COUNT_AT, Word::U32(*count));
                n
            }
            None => return,
        };
        self.put(CTXS_AT + 16 * slot, Word::Id(id.as_u128()));
    }

    /// The tracked thread detached context `id`: its place becomes nil.
    pub fn note_detach(&self, id: ObjId) {
        if !self.tracks_current() {
            return;
        }
        let count = self.ctx_count.lock();
        for i in 0..*count as usize {
            let mut b = [0u8; 16];
            let at = BASE_OFFSET + (CTXS_AT + 16 * i) as u64;
            if self.obj.read(at, &mut b).is_ok() && u128::from_le_bytes(b) == id.as_u128() {
                self.put(CTXS_AT + 16 * i, Word::Id(0));
            }
        }
    }

    /// The tracked thread attached view `id`.
    pub fn note_view(&self, id: ObjId) {
        if self.tracks_current() {
            self.put(VIEW_AT, Word::Id(id.as_u128()));
        }
    }
}

/// The thread KSO `id`, read and checked; a corrupt one is quarantined.
fn read(id: ObjId) -> Result<(Arc<KObject>, ThreadRecord), SysError> {
    if id.is_nil() || QUARANTINED.lock().contains(&id) {
        return Err(SysError::InvalidArgument);
    }
    let obj = table::get(id).ok_or(SysError::NotFound)?;
    if !obj.flags.contains(ObjFlags::KSO) || !obj.flags.contains(ObjFlags::PERSISTENT) {
        return Err(SysError::InvalidArgument);
    }
    let mut b = [0u8; THREAD_RECORD_SIZE];
    obj.read(BASE_OFFSET, &mut b)?;
    match ThreadRecord::decode(&b) {
        Ok(rec) => Ok((obj, rec)),
        Err(why) => {
            kprintln!(
                "kso: quarantined thread KSO {id}: its record is corrupt ({why:?}); \
                 no program is started from it"
            );
            QUARANTINED.lock().insert(id);
            Err(SysError::InvalidArgument)
        }
    }
}

/// `program_start_kso`: starts the program thread KSO `id` describes as a
/// child of `caller`; its program id.
pub fn start(caller: &Arc<Program>, id: ObjId) -> Result<u64, SysError> {
    // Starting a server's thread is the supervisor's: another program
    // could otherwise take a stopped server's KSO (and its next start).
    if !sched::with_programs(|p| p.is_init(caller.id)) {
        return Err(SysError::PermissionDenied);
    }
    if let Some((pid, _)) = STARTED.lock().get(&id)
        && sched::with_programs(|p| p.is_running(*pid))
    {
        return Err(SysError::Busy);
    }
    let (obj, rec) = read(id)?;
    let start = StartKind::after(rec.state, rec.flags);
    let interrupted = match start {
        StartKind::Resumed | StartKind::Reset => rec.syscall,
        _ => None,
    };
    // Contexts and view first: a corrupt one is quarantined and left out,
    // and the program starts without it.
    let mut quarantined = 0u32;
    let mut contexts = alloc::vec::Vec::new();
    for &c in &rec.contexts {
        match secctx::get_or_load(c) {
            Ok(ctx) => contexts.push(ctx),
            Err(SysError::NotFound) => {
                kprintln!("kso: thread KSO {id} lists context {c}, which does not exist; left out")
            }
            // `get_or_load` said why (a corrupt record is quarantined).
            Err(_) => quarantined += 1,
        }
    }
    let view = match rec.view {
        v if v.is_nil() => None,
        v => match table::get(v) {
            // Checked now, so the notice counts a corrupt one before the
            // program can read it.
            Some(obj) => match crate::object::space::check_view(&obj) {
                Ok(_) => Some(obj),
                Err(_) => {
                    quarantined += 1;
                    None
                }
            },
            None => {
                kprintln!("kso: thread KSO {id} lists view {v}, which does not exist; left out");
                None
            }
        },
    };
    let generation = rec.generation.saturating_add(1);
    let kso = Arc::new(ThreadKso {
        obj,
        tid: AtomicU64::new(UNCLAIMED),
        notice: KsoSelf {
            kso: id,
            generation,
            start,
            resumable: rec.flags.contains(ThreadFlags::RESUMABLE),
            interrupted,
            quarantined: 0,
        },
        resumable: AtomicBool::new(rec.flags.contains(ThreadFlags::RESUMABLE)),
        quarantined: AtomicU32::new(quarantined),
        ctx_count: IrqMutex::new(rec.contexts.len() as u32),
    });
    // The record says `Running` before the program can run: a cut from
    // here on is a cut while it ran.
    kso.put(GENERATION_AT, Word::U64(generation));
    kso.put(START_AT, Word::U32(start as u32));
    kso.put(
        INTERRUPTED_AT,
        Word::U32(interrupted.map_or(0, |n| n.saturating_add(1))),
    );
    kso.put(SYSCALL_AT, Word::U32(0));
    kso.put(STATE_AT, Word::U32(ThreadState::Running as u32));
    let (pid, program, tid) = match super::spawn_program(
        rec.module.as_bytes(),
        rec.args.as_bytes(),
        caller.id,
        Some(kso.clone()),
    ) {
        Ok(started) => started,
        Err(e) => {
            kso.put(STATE_AT, Word::U32(rec.state as u32));
            return Err(e);
        }
    };
    for ctx in contexts {
        let _ = program.objects.attach(tid, &program.space, ctx);
    }
    // `attach_view` says why a view is refused (a corrupt one is
    // quarantined).
    if let Some(v) = view
        && program.objects.attach_view(v).is_err()
    {
        kso.quarantined.fetch_add(1, Ordering::AcqRel);
    }
    STARTED.lock().insert(id, (pid, kso));
    Ok(pid)
}

/// A clean power-off: every started thread KSO whose program still runs
/// says `ShutDown`, so the next boot starts it fresh, not as resumed.
pub fn shut_down_all() {
    let started: alloc::vec::Vec<_> = STARTED.lock().values().cloned().collect();
    for (pid, kso) in started {
        if sched::with_programs(|p| p.is_running(pid)) {
            kso.put(SYSCALL_AT, Word::U32(0));
            kso.put(STATE_AT, Word::U32(ThreadState::ShutDown as u32));
        }
    }
}
