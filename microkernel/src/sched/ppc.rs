//! Migrating threads: the scheduler's side of a protected procedure call.
//!
//! A thread in a call runs as the server's program (its address space, its
//! default security context) with the caller's state saved in a
//! [`crate::ppc::CallFrame`] on the thread's call stack. Entering swaps the
//! thread's program and root for the server's; leaving swaps them back.
//! Both load the new page-table root at once, under the scheduler lock.

use alloc::sync::Arc;

use protocols::syscall::{MAX_PPC_DEPTH, SysError};

use super::{Tid, lock, st};
use crate::arch::TrapFrame;
use crate::ppc::CallFrame;
use crate::ppc::gate::Server;
use crate::program::Program;

/// The current thread's program and id (one trip through the lock).
pub fn caller() -> Option<(Arc<Program>, Tid)> {
    let mut g = lock();
    let s = st(&mut g);
    let tid = s.current;
    s.current_thread().program.clone().map(|p| (p, tid))
}

/// The handler the current thread runs: its program, the incarnation it
/// serves and the server stack it is on. `None` unless it is inside a
/// call.
pub fn handler() -> Option<(Arc<Program>, Arc<Server>, u64)> {
    let mut g = lock();
    let t = st(&mut g).current_thread();
    let call = t.calls.last()?;
    let (server, stack) = (call.server.clone(), call.stack);
    Some((t.program.clone()?, server, stack))
}

/// Makes the current thread run as `server` (on its default root), saving
/// the caller's program and root in `frame`, which goes on the thread's
/// call stack. `Busy` when the calls nest deeper than [`MAX_PPC_DEPTH`];
/// `NotFound` when the server program of `frame` no longer runs (ended,
/// or being killed). `deliver` runs once both checks passed, under the
/// scheduler lock and still in the caller's space (so the server cannot
/// end between the check and a copy into its memory).
pub fn enter(
    mut frame: CallFrame,
    server: Arc<Program>,
    deliver: impl FnOnce(&CallFrame),
) -> Result<(), SysError> {
    let mut g = lock();
    let s = st(&mut g);
    if !s.programs.is_running(frame.server.program_id()) {
        return Err(SysError::NotFound);
    }
    let t = s.current_thread();
    if t.calls.len() >= MAX_PPC_DEPTH {
        return Err(SysError::Busy);
    }
    deliver(&frame);
    server.space.activate_root(0);
    frame.caller_program = t.program.replace(server);
    frame.caller_root = core::mem::replace(&mut t.root, 0);
    t.calls.push(frame);
    Ok(())
}

/// Ends the current thread's innermost call: the caller's program and root
/// are back (and loaded). `None`: the thread is in no call.
pub fn leave() -> Option<CallFrame> {
    let mut g = lock();
    let t = st(&mut g).current_thread();
    let mut f = t.calls.pop()?;
    t.program = f.caller_program.take();
    t.root = f.caller_root;
    if let Some(p) = &t.program {
        p.space.activate_root(t.root);
    }
    Some(f)
}

/// How deep the current thread is in calls (0: in its own program).
pub fn depth() -> usize {
    let mut g = lock();
    st(&mut g).current_thread().calls.len()
}

/// Marks program `pid` killed with `code`: its threads end when they next
/// leave the kernel (threads in a call into it return `ServerFaulted`).
pub fn kill(pid: u64, code: u64) {
    let mut g = lock();
    st(&mut g).kill_program(pid, code);
}

/// Whether program `pid` still runs (has not ended and is not being killed).
pub fn is_running(pid: u64) -> bool {
    let mut g = lock();
    st(&mut g).programs.is_running(pid)
}

/// The user-mode frame of the current thread: the one its last entry into
/// the kernel from user mode saved at the top of its kernel stack.
pub fn user_frame() -> *mut TrapFrame {
    let mut g = lock();
    let top = st(&mut g).current_thread().kstack.top();
    (top - core::mem::size_of::<TrapFrame>() as u64) as *mut TrapFrame
}

/// The program that made the current thread's innermost call, and the
/// thread (whose active context there is the caller's). `None` outside a
/// call, and for a call the kernel made (the pager's).
pub fn program_caller() -> Option<(Arc<Program>, Tid)> {
    let mut g = lock();
    let s = st(&mut g);
    let tid = s.current;
    let call = s.current_thread().calls.last()?;
    match call.kind {
        crate::ppc::CallKind::Program { .. } => call.caller_program.clone().map(|p| (p, tid)),
        crate::ppc::CallKind::Pager { .. } => None,
    }
}
