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
use crate::ppc::gate::Server;
use crate::ppc::{CallFrame, CallKind};
use crate::program::Program;

/// The current thread's program and id (one trip through the lock).
pub fn caller() -> Option<(Arc<Program>, Tid)> {
    let mut g = lock();
    let s = st(&mut g);
    let tid = s.current;
    s.current_thread().program.clone().map(|p| (p, tid))
}

/// Makes the current thread run as `server` (on its default root), saving
/// the caller's program and root in `frame`, which goes on the thread's
/// call stack. `Busy` when the calls nest deeper than [`MAX_PPC_DEPTH`];
/// `NotFound` when the server program of `frame` no longer runs (ended,
/// or being killed). `deliver` runs once both checks passed, under the
/// scheduler lock and still in the caller's space (so the server cannot
/// end between the check and a copy into its memory).
///
/// With `settle`, `true` says the thread may go straight back to user
/// mode: no switch is due, and the program it now runs (the server, just
/// found running) is not being killed — what [`super::before_return`]
/// checks. Interrupts then stay off, so nothing changes that before the
/// return (only this CPU schedules).
pub fn enter(
    mut frame: CallFrame,
    server: Arc<Program>,
    settle: bool,
    deliver: impl FnOnce(&CallFrame),
) -> Result<bool, SysError> {
    let mut g = lock();
    let s = st(&mut g);
    if !s.programs.is_running(frame.server.program_id()) {
        return Err(SysError::NotFound);
    }
    let settled = settle && !s.need_resched;
    let t = s.current_thread();
    if t.calls.len() >= MAX_PPC_DEPTH {
        return Err(SysError::Busy);
    }
    deliver(&frame);
    server.space.activate_root(0);
    frame.caller_program = t.program.replace(server);
    frame.caller_root = core::mem::replace(&mut t.root, 0);
    t.calls.push(frame);
    if settled {
        g.unlock_keep_irqs_off();
    }
    Ok(settled)
}

/// Ends the current thread's innermost call: the caller's program and root
/// are back (and loaded). `None`: the thread is in no call.
pub fn leave() -> Option<CallFrame> {
    leave_settling(false).map(|(f, _)| f)
}

/// [`leave`] for a `ppc_return`: also says, like [`enter`], whether the
/// thread may go straight back to user mode (a program's call, no switch
/// due, the caller's program not being killed); interrupts then stay off.
pub fn leave_settled() -> Option<(CallFrame, bool)> {
    leave_settling(true)
}

/// What [`leave_with`] did.
pub enum Left {
    /// The call ended: `true` as for [`leave_settled`].
    Ended(bool),
    /// Nothing changed: the handler's program, the incarnation it serves
    /// and the server stack it is on.
    Kept(Arc<Program>, Arc<Server>, u64),
}

/// A `ppc_return` in one trip through the lock, without moving the call's
/// record. `None`: the thread is in no call. `prepare` looks at the
/// innermost call first; if it answers `None`, nothing changes
/// ([`Left::Kept`]). Otherwise the call ends as in [`leave_settled`] —
/// the caller's program and root are back (and loaded), `frame` is the
/// caller's saved frame — `finish` runs with the call's record and what
/// `prepare` found, in the caller's space, and the record is dropped.
pub fn leave_with<T>(
    frame: &mut TrapFrame,
    prepare: impl FnOnce(&CallFrame) -> Option<T>,
    finish: impl FnOnce(&CallFrame, T),
) -> Option<Left> {
    let mut g = lock();
    let s = st(&mut g);
    let resched = s.need_resched;
    let t = s.current_thread();
    let depth = t.calls.len().checked_sub(1)?;
    let call = &mut t.calls[depth];
    let Some(found) = prepare(call) else {
        let program = t.program.clone()?;
        return Some(Left::Kept(program, call.server.clone(), call.stack));
    };
    let server = core::mem::replace(&mut t.program, call.caller_program.take());
    t.root = call.caller_root;
    let caller = activate_caller(&t.program, t.root);
    *frame = call.caller;
    finish(call, found);
    let program_call = matches!(call.kind, CallKind::Program { .. });
    // Dropped where it lies (which returns its server stack).
    t.calls.truncate(depth);
    let settled = !resched && program_call && caller.is_some_and(|pid| s.programs.is_running(pid));
    if settled {
        g.unlock_keep_irqs_off();
    } else {
        drop(g);
    }
    // The server's program, outside the lock.
    drop(server);
    Some(Left::Ended(settled))
}

fn leave_settling(settle: bool) -> Option<(CallFrame, bool)> {
    let mut g = lock();
    let s = st(&mut g);
    let resched = s.need_resched;
    let t = s.current_thread();
    let mut f = t.calls.pop()?;
    t.program = f.caller_program.take();
    t.root = f.caller_root;
    let caller = activate_caller(&t.program, t.root);
    let settled = settle
        && !resched
        && matches!(f.kind, CallKind::Program { .. })
        && caller.is_some_and(|pid| s.programs.is_running(pid));
    if settled {
        g.unlock_keep_irqs_off();
    }
    Some((f, settled))
}

/// Loads page-table root `root` of `program`, the one a thread runs again
/// (its caller's, just put back); that program's id, if there is one.
fn activate_caller(program: &Option<Arc<Program>>, root: u64) -> Option<u64> {
    let p = program.as_ref()?;
    p.space.activate_root(root);
    Some(p.id)
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
