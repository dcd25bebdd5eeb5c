//! The scheduler's state and its pure operations (no switching here): the
//! ready queues, sleepers, wait queues, thread records and program records.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::cell::Cell;
use core::ptr::NonNull;

use protocols::debug::{ThreadInfo, ThreadState};
use protocols::syscall::{MAX_PRIORITY, SysError};

use super::thread::{Thread, Tid, WaitKey, Wake};

/// Most threads alive at once (the idle thread included).
pub const MAX_THREADS: usize = 1024;
/// Most threads one program may have.
pub const MAX_THREADS_PER_PROGRAM: u32 = 256;
/// Most program records kept at once (bounds the kernel heap they use).
pub const MAX_PROGRAM_RECORDS: usize = 4096;
/// Timer ticks a thread runs before others of its priority get a turn.
const SLICE_TICKS: u32 = 10;
const LEVELS: usize = MAX_PRIORITY as usize + 1;

/// What the scheduler knows about a program.
#[derive(Clone, Debug)]
pub struct ProgramRecord {
    /// The program that spawned it (0: the kernel).
    pub parent: u64,
    /// Threads not yet exited.
    pub live_threads: u32,
    /// Its exit code, once it ended.
    pub exit: Option<u64>,
    /// Set when the kernel ends it: the exit code it will report.
    pub killed: Option<u64>,
    /// The code of its most recent `thread_exit`.
    pub last_code: u64,
    /// Whether this is `init`.
    pub is_init: bool,
}

impl ProgramRecord {
    /// A record for a program about to start.
    pub fn new(parent: u64, is_init: bool) -> Self {
        ProgramRecord {
            parent,
            live_threads: 0,
            exit: None,
            killed: None,
            last_code: 0,
            is_init,
        }
    }
}

/// Every program the kernel remembers: running ones, and ended ones whose
/// spawner may still wait for them.
#[derive(Default)]
pub struct Programs {
    records: BTreeMap<u64, ProgramRecord>,
    running: u64,
    init_code: Option<u64>,
    /// Programs found running (not ended, not killed) since the last time
    /// any record stopped running or went away (0: no entry). The
    /// scheduler asks about the same few programs on every system call's
    /// return and protected procedure call (a caller and its servers), so
    /// they are answered without a search of `records`.
    hot: Cell<[u64; HOT_PROGRAMS]>,
}

/// How many running programs [`Programs`] remembers.
const HOT_PROGRAMS: usize = 4;

impl Programs {
    /// Adds a record for program `id`; fails when [`MAX_PROGRAM_RECORDS`]
    /// are kept (running, or ended and not yet waited for).
    pub fn insert(&mut self, id: u64, record: ProgramRecord) -> Result<(), SysError> {
        if self.records.len() >= MAX_PROGRAM_RECORDS {
            return Err(SysError::NoMemory);
        }
        self.records.insert(id, record);
        self.running += 1;
        Ok(())
    }

    /// Forgets program `id`, which never got a thread.
    pub fn abandon(&mut self, id: u64) {
        self.forget_hot();
        if self.records.remove(&id).is_some() {
            self.running -= 1;
        }
    }

    /// Whether program `id` has not ended and is not being killed.
    pub fn is_running(&self, id: u64) -> bool {
        let mut hot = self.hot.get();
        if id != 0 && hot.contains(&id) {
            return true;
        }
        let running = self
            .records
            .get(&id)
            .is_some_and(|r| r.exit.is_none() && r.killed.is_none());
        if running {
            hot.rotate_right(1);
            hot[0] = id;
            self.hot.set(hot);
        }
        running
    }

    /// Forgets which programs were running: call before any record ends,
    /// is killed or is removed.
    fn forget_hot(&mut self) {
        self.hot.set([0; HOT_PROGRAMS]);
    }

    /// Whether program `id` is `init`, the supervisor.
    pub fn is_init(&self, id: u64) -> bool {
        self.records.get(&id).is_some_and(|r| r.is_init)
    }

    /// Programs not yet ended.
    pub fn running(&self) -> u64 {
        self.running
    }

    /// Whether `parent` spawned program `id` and it has not ended.
    pub fn is_child_alive(&self, id: u64, parent: u64) -> bool {
        self.records
            .get(&id)
            .is_some_and(|r| r.parent == parent && r.exit.is_none())
    }

    /// For `program_wait`: `Ok(Some(code))` (and the record is forgotten)
    /// if program `id` has ended, `Ok(None)` if it still runs.
    pub fn collect(&mut self, id: u64, parent: u64) -> Result<Option<u64>, SysError> {
        let record = self.records.get(&id).ok_or(SysError::NotFound)?;
        if record.parent != parent {
            return Err(SysError::NotFound);
        }
        let exit = record.exit;
        if exit.is_some() {
            self.forget_hot();
            self.records.remove(&id);
        }
        Ok(exit)
    }

    /// Ends program `id` with `code` (its kill code wins); returns the exit
    /// code, and forgets records nobody can wait for any more.
    fn end(&mut self, id: u64, code: u64) -> u64 {
        self.forget_hot();
        let Some(record) = self.records.get_mut(&id) else {
            return code;
        };
        let code = record.killed.unwrap_or(code);
        record.exit = Some(code);
        let (parent, is_init) = (record.parent, record.is_init);
        if is_init {
            self.init_code = Some(code);
        }
        self.running -= 1;
        // Its ended children can no longer be waited for.
        self.records
            .retain(|_, r| !(r.parent == id && r.exit.is_some()));
        // Nor can it, if its spawner is gone.
        let parent_alive = self.records.get(&parent).is_some_and(|r| r.exit.is_none());
        if !parent_alive {
            self.records.remove(&id);
        }
        code
    }
}

/// Everything the scheduler lock guards.
pub struct State {
    threads: BTreeMap<Tid, Box<Thread>>,
    ready: [VecDeque<Tid>; LEVELS],
    sleepers: BTreeSet<(u64, Tid)>,
    waits: BTreeMap<WaitKey, VecDeque<Tid>>,
    zombies: Vec<Tid>,
    next_tid: Tid,
    slice: u32,
    last_tsc: u64,
    /// The running thread.
    pub current: Tid,
    /// The record of the running thread, found once per switch instead of
    /// by a map search per use: a pointer into the boxed record `threads`
    /// holds, valid while that record stays in the map (every removal
    /// clears it), and used only while its id is `current`.
    current_record: Option<NonNull<Thread>>,
    /// A better thread is ready: switch at the next chance.
    pub need_resched: bool,
    /// The program records.
    pub programs: Programs,
}

// SAFETY: `current_record` only points into a record this `State` owns
// (through `threads`), so moving the state between CPUs moves the record's
// owner with it; the scheduler lock serializes every use.
unsafe impl Send for State {}

impl State {
    /// A scheduler whose only thread is `idle` (running).
    pub fn new(idle: Box<Thread>) -> State {
        let mut threads = BTreeMap::new();
        threads.insert(0, idle);
        State {
            threads,
            ready: Default::default(),
            sleepers: BTreeSet::new(),
            waits: BTreeMap::new(),
            zombies: Vec::new(),
            next_tid: 1,
            slice: SLICE_TICKS,
            last_tsc: crate::arch::cpu::rdtsc(),
            current: 0,
            current_record: None,
            need_resched: false,
            programs: Programs::default(),
        }
    }

    /// The record of thread `tid`, which must exist.
    pub fn thread_mut(&mut self, tid: Tid) -> &mut Thread {
        self.threads
            .get_mut(&tid)
            .unwrap_or_else(|| panic!("no thread {tid}"))
    }

    /// The running thread.
    pub fn current_thread(&mut self) -> &mut Thread {
        if let Some(record) = self.current_record {
            // SAFETY: `current_record` points at a boxed record `threads`
            // still holds (its removal clears the pointer), whose address
            // the map never moves; `&mut self` excludes any other
            // reference into the records.
            let t = unsafe { &mut *record.as_ptr() };
            if t.id == self.current {
                return t;
            }
        }
        let current = self.current;
        let t = self
            .threads
            .get_mut(&current)
            .unwrap_or_else(|| panic!("no thread {current}"));
        let record = NonNull::from(&mut **t);
        self.current_record = Some(record);
        // SAFETY: as above: the boxed record just found.
        unsafe { &mut *record.as_ptr() }
    }

    /// The running thread's program id.
    pub fn current_program_id(&mut self) -> Option<u64> {
        self.current_thread().program.as_ref().map(|p| p.id)
    }

    /// Whether the running thread's program is being killed.
    pub fn current_killed(&mut self) -> bool {
        match self.current_program_id() {
            // A running program is not being killed (the usual answer,
            // found without a search).
            Some(pid) => {
                !self.programs.is_running(pid)
                    && self
                        .programs
                        .records
                        .get(&pid)
                        .is_some_and(|r| r.killed.is_some())
            }
            None => false,
        }
    }

    /// Queues `tid` to run, asking for a switch if it beats the current one.
    fn make_ready(&mut self, tid: Tid) {
        let current_priority = if self.current == 0 {
            None
        } else {
            Some(self.current_thread().priority)
        };
        let t = self.thread_mut(tid);
        t.state = ThreadState::Ready;
        t.wait = None;
        t.deadline = None;
        let priority = t.priority;
        self.ready[usize::from(priority)].push_back(tid);
        if current_priority.is_none_or(|p| priority > p) {
            self.need_resched = true;
        }
    }

    /// Takes the best ready thread (the idle thread if none).
    pub fn pick_next(&mut self) -> Tid {
        self.need_resched = false;
        self.slice = SLICE_TICKS;
        self.ready
            .iter_mut()
            .rev()
            .find_map(VecDeque::pop_front)
            .unwrap_or(0)
    }

    /// Puts the running thread back at the tail of its ready queue.
    pub fn requeue_current(&mut self) {
        if self.current != 0 {
            let t = self.current_thread();
            t.state = ThreadState::Ready;
            let priority = usize::from(t.priority);
            let tid = t.id;
            self.ready[priority].push_back(tid);
        }
    }

    /// Adds the running thread's CPU time up to `now` (TSC).
    pub fn charge(&mut self, now: u64) {
        let spent = now.saturating_sub(self.last_tsc);
        self.last_tsc = now;
        self.current_thread().cycles += spent;
    }

    /// Adds a new ready thread; its program's record must exist.
    pub fn add_thread(&mut self, mut thread: Box<Thread>) -> Result<Tid, SysError> {
        if self.threads.len() >= MAX_THREADS {
            return Err(SysError::NoMemory);
        }
        if let Some(p) = &thread.program {
            let record = self
                .programs
                .records
                .get_mut(&p.id)
                .ok_or(SysError::NotFound)?;
            if record.live_threads >= MAX_THREADS_PER_PROGRAM || record.exit.is_some() {
                return Err(SysError::NoMemory);
            }
            record.live_threads += 1;
        }
        let tid = self.next_tid;
        self.next_tid += 1;
        thread.id = tid;
        self.threads.insert(tid, thread);
        self.make_ready(tid);
        Ok(tid)
    }

    /// Marks the running thread blocked on `key` (or sleeping) until
    /// `deadline`.
    pub fn block_current(&mut self, key: Option<WaitKey>, deadline: Option<u64>) {
        let tid = self.current;
        let t = self.thread_mut(tid);
        t.state = if key.is_some() {
            ThreadState::Blocked
        } else {
            ThreadState::Sleeping
        };
        t.wait = key;
        t.deadline = deadline;
        t.wake = Wake::Woken;
        if let Some(key) = key {
            self.waits.entry(key).or_default().push_back(tid);
        }
        if let Some(deadline) = deadline {
            self.sleepers.insert((deadline, tid));
        }
    }

    /// Takes a blocked or sleeping thread off its queues and readies it.
    fn unblock(&mut self, tid: Tid, why: Wake) {
        let t = self.thread_mut(tid);
        let (key, deadline) = (t.wait.take(), t.deadline.take());
        t.wake = why;
        if let Some(deadline) = deadline {
            self.sleepers.remove(&(deadline, tid));
        }
        if let Some(key) = key
            && let Some(queue) = self.waits.get_mut(&key)
        {
            queue.retain(|&t| t != tid);
            if queue.is_empty() {
                self.waits.remove(&key);
            }
        }
        self.make_ready(tid);
    }

    /// Wakes up to `count` threads blocked on `key`, oldest first.
    pub fn wake(&mut self, key: WaitKey, count: u64) -> u64 {
        let mut woken = 0;
        while woken < count {
            let Some(tid) = self.waits.get(&key).and_then(|q| q.front().copied()) else {
                break;
            };
            self.unblock(tid, Wake::Woken);
            woken += 1;
        }
        woken
    }

    /// The timer tick at monotonic time `now`.
    pub fn tick(&mut self, now: u64) {
        while let Some(&(deadline, tid)) = self.sleepers.first() {
            if deadline > now {
                break;
            }
            let waited = self.thread_mut(tid).wait.is_some();
            self.unblock(tid, if waited { Wake::TimedOut } else { Wake::Woken });
        }
        if self.current == 0 {
            self.need_resched |= self.ready.iter().any(|q| !q.is_empty());
            return;
        }
        self.slice = self.slice.saturating_sub(1);
        if self.slice == 0 {
            let priority = usize::from(self.current_thread().priority);
            if self.ready[priority..].iter().any(|q| !q.is_empty()) {
                self.need_resched = true;
            } else {
                self.slice = SLICE_TICKS;
            }
        }
    }

    /// Ends the running thread (its record is reaped after the switch).
    pub fn exit_current(&mut self, code: u64) {
        let tid = self.current;
        let t = self.thread_mut(tid);
        t.state = ThreadState::Exited;
        let pid = t.program.as_ref().map(|p| p.id);
        let kso = t.program.as_ref().and_then(|p| p.kso.clone());
        self.zombies.push(tid);
        let Some(pid) = pid else { return };
        let Some(record) = self.programs.records.get_mut(&pid) else {
            return;
        };
        record.live_threads -= 1;
        record.last_code = code;
        if record.live_threads > 0 {
            return;
        }
        let code = self.programs.end(pid, code);
        if let Some(kso) = kso {
            kso.ended(code);
        }
        self.wake(WaitKey::Program(pid), u64::MAX);
        if self.programs.running() == 0 {
            crate::program::all_ended(self.programs.init_code.unwrap_or(code));
        }
    }

    /// Marks program `pid` killed with `code` and readies its blocked
    /// threads, which end when they next leave the kernel.
    pub fn kill_program(&mut self, pid: u64, code: u64) {
        self.programs.forget_hot();
        if let Some(record) = self.programs.records.get_mut(&pid) {
            record.killed.get_or_insert(code);
        }
        let victims: Vec<Tid> = self
            .threads
            .values()
            .filter(|t| {
                t.program_id() == pid
                    && matches!(t.state, ThreadState::Blocked | ThreadState::Sleeping)
            })
            .map(|t| t.id)
            .collect();
        for tid in victims {
            self.unblock(tid, Wake::Killed);
        }
    }

    /// Removes and returns the exited threads (never the running one).
    #[allow(
        clippy::vec_box,
        reason = "records stay boxed: their saved rsp must not move"
    )]
    pub fn take_zombies(&mut self) -> Vec<Box<Thread>> {
        let current = self.current;
        let mut dead = Vec::new();
        self.zombies.retain(|&tid| {
            if tid == current {
                return true;
            }
            dead.extend(self.threads.remove(&tid));
            false
        });
        if !dead.is_empty() {
            self.current_record = None;
        }
        dead
    }

    /// Appends a record per thread to `out`.
    pub fn thread_infos(&mut self, out: &mut Vec<ThreadInfo>) {
        let now = crate::arch::cpu::rdtsc();
        self.charge(now);
        for t in self.threads.values() {
            let mut name = [0u8; 16];
            let text: &[u8] = match &t.program {
                Some(p) => p.name(),
                None => b"idle",
            };
            let n = text.len().min(16);
            name[..n].copy_from_slice(&text[..n]);
            out.push(ThreadInfo {
                id: t.id,
                program: t.program_id(),
                priority: u64::from(t.priority),
                state: t.state,
                cpu_nanos: crate::time::cycles_to_ns(t.cycles),
                name,
            });
        }
    }
}
