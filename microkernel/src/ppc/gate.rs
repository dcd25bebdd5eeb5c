//! Gates: the registry of servers, keyed by gate object.
//!
//! A server registers a gate object (an object it may write), the set of
//! gate numbers it serves, one entry point and a pool of stacks. Each
//! registration is one server *incarnation* with a generation no earlier
//! one had (a global counter); registering again on the same gate object
//! — a restarted server — replaces the entry, so calls carrying the old
//! generation fail with `ServerRestarted` and never reach the new one.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicU64, Ordering};

use protocols::layout::is_user_range;
use protocols::object::ObjId;
use protocols::syscall::{MAX_PPC_MESSAGE, MAX_PPC_STACKS, PPC_STACK_SIZE, SysError};

use crate::program::Program;
use crate::sched;
use crate::sync::IrqMutex;

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);
static GATES: IrqMutex<BTreeMap<ObjId, Arc<Server>>> = IrqMutex::new(BTreeMap::new());
/// Most gate objects registered at once.
const MAX_SERVERS: usize = 1024;

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
        program_id: program.id,
        program: Arc::downgrade(program),
    });
    gates.insert(obj, server);
    Ok(generation)
}

/// The incarnation behind `obj`, if any registered.
pub fn lookup(obj: ObjId) -> Option<Arc<Server>> {
    GATES.lock().get(&obj).cloned()
}
