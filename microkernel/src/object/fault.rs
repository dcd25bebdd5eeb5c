//! Page faults in the object-slot region: map on first touch, switch the
//! security context automatically, or report a security fault.

use protocols::layout::slot_of;
use protocols::object::Perms;
use protocols::syscall::EXIT_SECURITY_FAULT;

use super::space::Fault;
use crate::program::Program;
use crate::{kprintln, sched};

/// What the access was.
fn access_name(access: Perms) -> &'static str {
    if access == Perms::EXEC {
        "execute"
    } else if access == Perms::WRITE {
        "write"
    } else {
        "read"
    }
}

/// Handles a user page fault at `addr`; `false` if `addr` is not in an
/// object slot or the fault is an ordinary one (empty slot, null page).
/// Ends the program on a security fault (never returns then).
pub fn user_fault(program: alloc::sync::Arc<Program>, addr: u64, write: bool, fetch: bool) -> bool {
    let Some((slot, offset)) = slot_of(addr) else {
        return false;
    };
    let access = if fetch {
        Perms::EXEC
    } else if write {
        Perms::WRITE
    } else {
        Perms::READ
    };
    let tid = sched::current_tid();
    match program
        .objects
        .fault(tid, &program.space, slot, offset, access)
    {
        Fault::Retry => true,
        Fault::NotObject => false,
        Fault::Denied { id, offset, ctx } => {
            kprintln!(
                "security fault: program {} (id {}) thread {}: {} of object {id} offset {offset:#x} denied in context {ctx}; program ended",
                program.name_text(),
                program.id,
                sched::current_tid(),
                access_name(access),
            );
            drop(program);
            sched::kill_current_program(EXIT_SECURITY_FAULT)
        }
    }
}
