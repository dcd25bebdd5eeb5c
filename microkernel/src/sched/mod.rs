//! The scheduler: preemptive round robin with priorities, sleeping with a
//! deadline, and wait queues, for kernel and user threads alike.
//!
//! One lock ([`STATE`]) guards every thread record, the ready queues, the
//! sleepers, the wait queues and the program records; it is an `IrqMutex`,
//! so holding it keeps the timer away. Only the BSP schedules (application
//! processors stay parked). A switch saves the callee-saved registers and
//! `rsp` of the old thread on its kernel stack, points TSS.rsp0 and the
//! system-call stack at the new one's, and loads the new address space
//! (with its PCID). Exited threads are reaped by the next thread to run,
//! once nothing runs on their stacks or address spaces any more.

pub mod ppc;
mod state;
pub mod thread;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use protocols::debug::{ThreadInfo, ThreadState};
use protocols::syscall::SysError;

use self::state::State;
pub use self::state::{ProgramRecord, Programs};
pub use self::thread::{Thread, Tid, WaitKey, Wake};
use crate::arch::{self, TrapFrame, context, gdt, syscall_entry};
use crate::mm::kspace;
use crate::mm::kstack::KernelStack;
use crate::program::Program;
use crate::sync::{IrqGuard, IrqMutex};

static STATE: IrqMutex<Option<State>> = IrqMutex::new(None);

type Guard = IrqGuard<'static, Option<State>>;

fn lock() -> Guard {
    STATE.lock()
}

/// The state behind a guard.
fn st(g: &mut Guard) -> &mut State {
    g.as_mut()
        .unwrap_or_else(|| panic!("scheduler used before init"))
}

/// Starts scheduling with the running code as the idle thread (id 0),
/// whose kernel stack is `stack`.
pub fn init(stack: KernelStack) {
    let top = stack.top();
    let idle = Box::new(Thread {
        id: 0,
        program: None,
        priority: 0,
        state: ThreadState::Running,
        kstack: stack,
        saved_rsp: 0,
        cycles: 0,
        wait: None,
        deadline: None,
        wake: Wake::Woken,
        root: 0,
        calls: Vec::new(),
    });
    gdt::set_kernel_stack(top);
    syscall_entry::set_kernel_stack(top);
    *STATE.lock() = Some(State::new(idle));
}

/// Switches from the current thread to the best ready one (the current
/// one must already be queued, blocked or exited). Returns when the
/// current thread runs again.
fn reschedule(mut guard: Guard) {
    let st = guard.as_mut().unwrap_or_else(|| unreachable!());
    let prev = st.current;
    let next = st.pick_next();
    let now = arch::cpu::rdtsc();
    if next == prev {
        st.thread_mut(prev).state = ThreadState::Running;
        return;
    }
    st.charge(now);
    let prev_t = st.thread_mut(prev);
    if prev_t.state == ThreadState::Running {
        // Only the idle thread is switched away from without being queued.
        prev_t.state = ThreadState::Ready;
    }
    st.current = next;
    let next_t = st.thread_mut(next);
    next_t.state = ThreadState::Running;
    let top = next_t.kstack.top();
    let load = next_t.saved_rsp;
    match &next_t.program {
        Some(p) => p.space.activate_root(next_t.root),
        None => {
            let root = kspace::root();
            if arch::paging::current_root() != root {
                // SAFETY: the kernel's own PML4 maps the whole kernel half.
                unsafe { arch::paging::load_root(root, 0, false) };
            }
        }
    }
    gdt::set_kernel_stack(top);
    syscall_entry::set_kernel_stack(top);
    let save: *mut u64 = &raw mut st.thread_mut(prev).saved_rsp;
    let restore = guard.unlock_keep_irqs_off();
    // SAFETY: interrupts are off; `save` points into the previous thread's
    // boxed record, which stays alive at least until the next thread reaps
    // it (after this switch completes); `load` was saved by the next
    // thread's last switch or prepared by `prepare_user_stack`.
    unsafe { context::switch(save, load) };
    finish_switch();
    if restore {
        arch::enable_interrupts();
    }
}

/// Runs on every thread right after it is switched to: reaps the threads
/// that exited (never the current one).
pub extern "C" fn finish_switch() {
    let dead: Vec<Box<Thread>> = {
        let mut g = lock();
        st(&mut g).take_zombies()
    };
    // Stacks return to their pool, and the last thread of a program drops
    // its address space, outside the scheduler lock.
    drop(dead);
}

/// A new user thread's first code: reap, then make sure its program was not
/// killed before it ever ran.
extern "C" fn new_thread_hook() {
    finish_switch();
    before_return(true, false);
}

/// Gives the CPU to the next ready thread of the same or higher priority.
pub fn yield_now() {
    let mut g = lock();
    st(&mut g).requeue_current();
    reschedule(g);
}

/// The timer tick: wakes sleepers whose deadline passed and charges the
/// time slice.
pub fn on_tick(now: u64) {
    let mut g = lock();
    st(&mut g).tick(now);
}

/// Called on every return from a trap or system call: preempts if a
/// better thread is ready and the interrupted code allows it, and ends a
/// thread whose program is being killed before it returns to user mode.
pub fn before_return(to_user: bool, irqs_were_on: bool) {
    let mut g = lock();
    let s = st(&mut g);
    let killed = to_user && s.current_killed();
    if killed {
        let in_call = !s.current_thread().calls.is_empty();
        drop(g);
        if in_call {
            // The server is being ended: the caller gets `ServerFaulted`.
            let frame = ppc::user_frame();
            // SAFETY: a thread returning to user mode entered the kernel
            // from user mode, which saved its frame at the top of its
            // kernel stack; nothing else refers to it here.
            crate::ppc::abort_killed(unsafe { &mut *frame });
            return before_return(to_user, irqs_were_on);
        }
        exit_current(0);
    }
    if s.need_resched && (to_user || irqs_were_on) {
        s.requeue_current();
        reschedule(g);
    }
}

/// Blocks the current thread on `key` (or just sleeps, without one) until
/// woken or until `deadline` (monotonic ns), provided `still_wait` — run
/// under the scheduler lock, so no wake-up can slip in between the check
/// and the sleep — says so. `None`: `still_wait` said no.
pub fn block(
    key: Option<WaitKey>,
    deadline: Option<u64>,
    still_wait: impl FnOnce(&mut Programs) -> bool,
) -> Option<Wake> {
    let mut g = lock();
    let s = st(&mut g);
    if s.current_killed() {
        return Some(Wake::Killed);
    }
    if !still_wait(&mut s.programs) {
        return None;
    }
    s.block_current(key, deadline);
    reschedule(g);
    let mut g = lock();
    Some(st(&mut g).current_thread().wake)
}

/// Wakes up to `count` threads waiting on `key`; returns how many.
pub fn wake(key: WaitKey, count: u64) -> u64 {
    let mut g = lock();
    st(&mut g).wake(key, count)
}

/// Starts a new user thread of `program` entering user mode with `frame`.
pub fn spawn_user(program: Arc<Program>, frame: TrapFrame, priority: u8) -> Result<Tid, SysError> {
    let kstack = KernelStack::new().ok_or(SysError::NoMemory)?;
    // SAFETY: the stack is fresh and ours.
    let rsp = unsafe { context::prepare_user_stack(kstack.top(), frame, new_thread_hook) };
    let thread = Box::new(Thread {
        id: 0,
        program: Some(program),
        priority,
        state: ThreadState::Ready,
        kstack,
        saved_rsp: rsp,
        cycles: 0,
        wait: None,
        deadline: None,
        wake: Wake::Woken,
        root: 0,
        calls: Vec::new(),
    });
    let mut g = lock();
    st(&mut g).add_thread(thread)
}

/// Registers a new program (before its first thread starts).
pub fn add_program(id: u64, record: ProgramRecord) -> Result<(), SysError> {
    let mut g = lock();
    st(&mut g).programs.insert(id, record)
}

/// Ends the current thread; if it was its program's last, the program
/// ends with `code` (or its kill code).
pub fn exit_current(code: u64) -> ! {
    let mut g = lock();
    st(&mut g).exit_current(code);
    reschedule(g);
    unreachable!("an exited thread was scheduled again");
}

/// Ends every thread of the current program with exit code `code`; the
/// current thread ends now, the others when they next leave the kernel.
pub fn kill_current_program(code: u64) -> ! {
    {
        let mut g = lock();
        let s = st(&mut g);
        if let Some(pid) = s.current_program_id() {
            s.kill_program(pid, code);
        }
    }
    exit_current(code)
}

/// Ends program `id` with `code` for its spawner `parent`: `NotFound`
/// unless `parent` spawned it and it still runs (or is already being
/// killed, which is not an error).
pub fn kill_child(id: u64, parent: u64, code: u64) -> Result<(), SysError> {
    let mut g = lock();
    let s = st(&mut g);
    if !s.programs.is_child_alive(id, parent) {
        return Err(SysError::NotFound);
    }
    s.kill_program(id, code);
    Ok(())
}

/// The current thread's program.
pub fn current_program() -> Option<Arc<Program>> {
    let mut g = lock();
    st(&mut g).current_thread().program.clone()
}

/// Records the page-table root (`root | pcid`) the current thread runs on
/// from now on (its active security context's); the caller loads it.
pub fn set_current_root(root: u64) {
    let mut g = lock();
    st(&mut g).current_thread().root = root;
}

/// The current thread's id.
pub fn current_tid() -> Tid {
    let mut g = lock();
    st(&mut g).current
}

/// Runs `f` on the program records under the scheduler lock.
pub fn with_programs<R>(f: impl FnOnce(&mut Programs) -> R) -> R {
    let mut g = lock();
    f(&mut st(&mut g).programs)
}

/// Waits for program `id` (spawned by program `parent`) to end; returns its
/// exit code and forgets the program.
pub fn wait_program(id: u64, parent: u64, deadline: Option<u64>) -> Result<u64, SysError> {
    loop {
        let mut outcome = Err(SysError::NotFound);
        let woke = block(Some(WaitKey::Program(id)), deadline, |programs| {
            outcome = programs.collect(id, parent);
            matches!(outcome, Ok(None))
        });
        if let Some(code) = outcome? {
            return Ok(code);
        }
        match woke {
            Some(Wake::TimedOut) => return Err(SysError::TimedOut),
            Some(Wake::Killed) => return Err(SysError::Busy),
            _ => {}
        }
    }
}

/// A snapshot of every thread for `debug_info`.
pub fn thread_infos(out: &mut Vec<ThreadInfo>) {
    let mut g = lock();
    st(&mut g).thread_infos(out);
}
