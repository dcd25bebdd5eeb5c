//! Gates: the registry of servers, keyed by gate object.
//!
//! A server registers a gate object (an object it may write), the set of
//! gate numbers it serves, one entry point and a pool of stacks. Each
//! registration is one server *incarnation* with a generation no earlier
//! one had (a global counter); registering again on the same gate object
//! — a restarted server — replaces the entry, so calls carrying the old
//! generation fail with `ServerRestarted` and never reach the new one.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicU64, Ordering};

use protocols::layout::is_user_range;
use protocols::object::ObjId;
use protocols::syscall::{MAX_PPC_MESSAGE, MAX_PPC_STACKS, PPC_STACK_SIZE, SysError};

use crate::object::table::{self, KObject};
use crate::program::Program;
use crate::sched;
use crate::sync::IrqMutex;

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);
static GATES: IrqMutex<BTreeMap<ObjId, Entry>> = IrqMutex::new(BTreeMap::new());
/// Most gate objects registered at once.
const MAX_SERVERS: usize = 1024;

/// A gate object's registration: the incarnation, and the object the
/// table named by the gate object's ID when a call last looked (so a call
/// does not search the object table too): valid while the table's epoch is
/// still `epoch` and the object lives.
struct Entry {
    server: Arc<Server>,
    obj: Weak<KObject>,
    epoch: u64,
}

/// One server incarnation.
pub struct Server {
    /// Its generation.
    pub generation: u64,
    /// The gate numbers it serves (bit `n`: gate `n`).
    pub gates: u64,
    /// Where every call enters.
    pub entry: u64,
    stacks: u64,
    count: u64,
    /// Stacks in use (bit `i`: stack `i`).
    busy: AtomicU64,
    /// Per stack: the frames behind its message page and the page its
    /// last reply came from (see [`FrameCache`]).
    frames: Box<[FrameCache]>,
    program_id: u64,
    program: Weak<Program>,
}

/// What `ppc_register` asks for, checked.
pub struct Registration {
    /// Gate numbers.
    pub gates: u64,
    /// Entry point.
    pub entry: u64,
    /// First stack.
    pub stacks: u64,
    /// How many stacks.
    pub count: u64,
}

impl Registration {
    /// Checks the arguments (no side effects).
    pub fn decode(gates: u64, entry: u64, stacks: u64, count: u64) -> Result<Self, SysError> {
        if gates == 0 || gates & 1 != 0 || count == 0 || count > MAX_PPC_STACKS {
            return Err(SysError::InvalidArgument);
        }
        if !stacks.is_multiple_of(16) {
            return Err(SysError::InvalidArgument);
        }
        if !is_user_range(entry, 1) || !is_user_range(stacks, count * PPC_STACK_SIZE) {
            return Err(SysError::BadAddress);
        }
        Ok(Registration {
            gates,
            entry,
            stacks,
            count,
        })
    }
}

impl Server {
    /// Whether gate `gate` is one the server registered.
    pub fn serves(&self, gate: u64) -> bool {
        gate < 64 && self.gates & (1 << gate) != 0
    }

    /// The server's program, if it still runs.
    pub fn live_program(&self) -> Option<Arc<Program>> {
        let p = self.program.upgrade()?;
        sched::ppc::is_running(self.program_id).then_some(p)
    }

    /// The server's program, if it was not dropped (whether it still
    /// runs is the scheduler's to say: see `sched::ppc::enter`).
    pub fn program(&self) -> Option<Arc<Program>> {
        self.program.upgrade()
    }

    /// The server program's id.
    pub fn program_id(&self) -> u64 {
        self.program_id
    }

    /// Claims a free stack.
    pub fn take_stack(&self) -> Option<u64> {
        let all = if self.count == 64 {
            u64::MAX
        } else {
            (1u64 << self.count) - 1
        };
        let mut cur = self.busy.load(Ordering::Acquire);
        loop {
            let free = all & !cur;
            if free == 0 {
                return None;
            }
            let i = u64::from(free.trailing_zeros());
            match self.busy.compare_exchange_weak(
                cur,
                cur | (1 << i),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(i),
                Err(now) => cur = now,
            }
        }
    }

    /// Returns stack `i`.
    pub fn release_stack(&self, i: u64) {
        self.busy.fetch_and(!(1 << i), Ordering::AcqRel);
    }

    /// Where the message goes on stack `i`: the top `MAX_PPC_MESSAGE`
    /// bytes; the handler's stack starts below it.
    pub fn message_at(&self, i: u64) -> u64 {
        self.stacks + (i + 1) * PPC_STACK_SIZE - MAX_PPC_MESSAGE as u64
    }

    /// Stack `i`'s cache of frames (`None` past the registered stacks).
    pub fn frame_cache(&self, i: u64) -> Option<&FrameCache> {
        self.frames.get(usize::try_from(i).ok()?)
    }

    /// Whether the page at `page` lies in the stacks this incarnation
    /// registered (memory its program gave the kernel for good).
    pub fn owns_page(&self, page: u64) -> bool {
        page >= self.stacks && page < self.stacks + self.count * PPC_STACK_SIZE
    }
}

/// What the kernel remembers of one server stack's pages, so a call does
/// not walk the server's page tables twice per round trip: the frame
/// behind the (page-aligned) message page, and the last page a reply was
/// read from with its frame. Only pages inside the registered stacks are
/// remembered: the server gave them to the kernel's use for good, and no
/// call unmaps or write-protects user memory outside the object slots
/// (see `crate::syscall::user_ptr`), so a frame found once stays the
/// page's for the incarnation's life. 0: not known.
pub struct FrameCache {
    message: AtomicU64,
    reply_page: AtomicU64,
    reply_frame: AtomicU64,
}

impl FrameCache {
    const fn empty() -> FrameCache {
        FrameCache {
            message: AtomicU64::new(0),
            reply_page: AtomicU64::new(0),
            reply_frame: AtomicU64::new(0),
        }
    }

    /// The frame behind the message page, if known.
    pub fn message(&self) -> Option<u64> {
        match self.message.load(Ordering::Relaxed) {
            0 => None,
            f => Some(f),
        }
    }

    /// Remembers the frame behind the message page.
    pub fn set_message(&self, frame: u64) {
        self.message.store(frame, Ordering::Relaxed);
    }

    /// The frame behind user page `page`, if it is the remembered reply page.
    pub fn reply(&self, page: u64) -> Option<u64> {
        // One stack serves one call at a time, so the pair is never torn.
        if page != 0 && self.reply_page.load(Ordering::Relaxed) == page {
            Some(self.reply_frame.load(Ordering::Relaxed))
        } else {
            None
        }
    }

    /// Remembers `frame` behind reply page `page`.
    pub fn set_reply(&self, page: u64, frame: u64) {
        self.reply_page.store(0, Ordering::Relaxed);
        self.reply_frame.store(frame, Ordering::Relaxed);
        self.reply_page.store(page, Ordering::Relaxed);
    }
}

/// Registers `program` as a new incarnation behind gate object `obj`;
/// returns its generation.
pub fn register(obj: ObjId, program: &Arc<Program>, r: Registration) -> Result<u64, SysError> {
    let mut gates = GATES.lock();
    if gates.len() >= MAX_SERVERS && !gates.contains_key(&obj) {
        return Err(SysError::NoMemory);
    }
    let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
    let server = Arc::new(Server {
        generation,
        gates: r.gates,
        entry: r.entry,
        stacks: r.stacks,
        count: r.count,
        busy: AtomicU64::new(0),
        frames: (0..r.count).map(|_| FrameCache::empty()).collect(),
        program_id: program.id,
        program: Arc::downgrade(program),
    });
    let entry = Entry {
        server,
        obj: Weak::new(),
        epoch: 0,
    };
    gates.insert(obj, entry);
    Ok(generation)
}

/// The incarnation behind `obj`, if any registered.
pub fn lookup(obj: ObjId) -> Option<Arc<Server>> {
    GATES.lock().get(&obj).map(|e| e.server.clone())
}

/// The gate object `obj` as the object table has it now, and the
/// incarnation registered behind it: what `table::get` and [`lookup`]
/// answer, with one lock instead of two while neither changed. `None`:
/// no such object, or no server registered on it.
pub fn resolve(obj: ObjId) -> Option<(Arc<KObject>, Arc<Server>)> {
    let epoch = table::epoch();
    let server = {
        let gates = GATES.lock();
        let e = gates.get(&obj)?;
        if e.epoch == epoch
            && let Some(o) = e.obj.upgrade()
        {
            return Some((o, e.server.clone()));
        }
        e.server.clone()
    };
    // Read after the epoch: remembered with it, it goes stale on any
    // later change of the table.
    let o = table::get(obj)?;
    if let Some(e) = GATES.lock().get_mut(&obj)
        && Arc::ptr_eq(&e.server, &server)
    {
        e.obj = Arc::downgrade(&o);
        e.epoch = epoch;
    }
    Some((o, server))
}
