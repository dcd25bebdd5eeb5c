//! Protected procedure calls: gates, migrating threads, generations.
//!
//! A server registers gates on a gate object ([`gate`]); a client calls a
//! gate with a message ([`call`]). The calling thread itself *migrates*:
//! the kernel saves its user frame in a [`CallFrame`], switches it to the
//! server's program (address space and default security context, one CR3
//! load), copies the message once, straight from the caller's buffer onto
//! one of the server's stacks (through the frames behind it: [`copy`]),
//! and returns to user mode at the server's entry point. `ppc_return`
//! copies the reply once, straight into the caller's buffer, and restores
//! the caller's frame exactly, so neither side ever touches the other's
//! memory or sees the other's registers.
//!
//! The hot path takes no allocation and walks no page tables: each server
//! stack remembers the frames behind its message page and its last reply
//! page ([`gate::FrameCache`]), a caller's buffer found writable is
//! remembered (`UserOut::new_remembered`), and the scheduler takes its
//! lock twice for a call (to find the caller, then to enter) and once for
//! a return to a remembered reply page (`sched::ppc::leave_with`).
//! Under its last lock each half also makes the checks `sched::before_return`
//! would make on the way back to user mode (no kill pending, no switch
//! due) and keeps interrupts off until `sysret`, so it takes no lock
//! again.
//!
//! A handler that faults, exits, or whose program is killed *aborts* the
//! call: the server program is ended and the caller's call returns
//! `ServerFaulted` ([`abort`]).
//!
//! The kernel makes calls too: a fault on a persistent object's page asks
//! the store's pager on the faulting thread's behalf ([`pager`]); the
//! reply maps the page and the access retries. Servers find each other by
//! published name ([`service`]).

mod call;
mod copy;
pub mod gate;
pub mod pager;
pub mod service;

use alloc::sync::Arc;

use protocols::syscall::{SysError, Syscall, encode};

use self::gate::Server;
use crate::arch::TrapFrame;
use crate::program::Program;
use crate::{kprintln, sched};

pub use call::{bind, register, syscall};
pub use service::{lookup as service_lookup, publish as service_publish};

/// What a thread in a call saved to get back to its caller.
pub struct CallFrame {
    /// The caller's user registers at the `ppc_call`.
    pub caller: TrapFrame,
    /// The caller's program (set by `sched::ppc::enter`).
    pub caller_program: Option<Arc<Program>>,
    /// The caller's page-table root tag (set by `sched::ppc::enter`).
    pub caller_root: u64,
    /// Who asked and where the reply goes.
    pub kind: CallKind,
    /// The incarnation called.
    pub server: Arc<Server>,
    /// The server stack the handler runs on.
    pub stack: u64,
}

/// Who made a call.
pub enum CallKind {
    /// A program's `ppc_call`; the reply goes back into its buffer.
    Program {
        /// The caller's message buffer, checked writable (all
        /// [`protocols::syscall::MAX_PPC_MESSAGE`] bytes) at the call.
        reply: crate::syscall::user_ptr::UserOut,
    },
    /// The kernel asking the store's pager where a persistent object's
    /// page lives, for a thread that faulted on it (`caller` is the
    /// faulting frame: it retries the access).
    Pager {
        /// The object.
        obj: Arc<crate::object::table::KObject>,
        /// The page's offset in the slot.
        page: u64,
    },
}

impl Drop for CallFrame {
    fn drop(&mut self) {
        self.server.release_stack(self.stack);
    }
}

/// Whether the current thread is inside a call.
pub fn in_call() -> bool {
    sched::ppc::depth() > 0
}

/// Aborts the current thread's innermost call: ends the server program with
/// `code`, and makes `frame` the caller's with `ServerFaulted`. `false`:
/// the thread is in no call.
pub fn abort(frame: &mut TrapFrame, code: u64) -> bool {
    let Some(f) = sched::ppc::leave() else {
        return false;
    };
    sched::ppc::kill(f.server.program_id(), code);
    restore_with_error(frame, &f);
    true
}

/// Back to `f`'s caller: a program's call returns `ServerFaulted`; a
/// faulting access the pager could not answer simply retries (and, with no
/// pager left, ends its program).
fn restore_with_error(frame: &mut TrapFrame, f: &CallFrame) {
    *frame = f.caller;
    if let CallKind::Program { .. } = f.kind {
        frame.rax = encode(Err(SysError::ServerFaulted));
    }
}

/// The server the current thread is in was killed: back to the caller with
/// `ServerFaulted`.
pub fn abort_killed(frame: &mut TrapFrame) {
    if let Some(f) = sched::ppc::leave() {
        kprintln!(
            "ppc: server (program {}) ended during a call; caller gets ServerFaulted",
            f.server.program_id()
        );
        restore_with_error(frame, &f);
    }
}

/// Whether `number` is one [`syscall`] handles itself (it rewrites the
/// whole frame).
pub fn handles(number: u64) -> bool {
    number == Syscall::PpcCall as u64
        || number == Syscall::PpcReturn as u64
        || ((number == Syscall::ThreadExit as u64 || number == Syscall::ProgramExit as u64)
            && in_call())
}
