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

/// What became of a fault in the object-slot region.
pub enum SlotFault {
    /// Resolved: retry the access.
    Retry,
    /// Not an object access (empty slot, null page): an ordinary fault.
    NotObject,
    /// A persistent object's page: ask the store's pager, then retry.
    Page(alloc::sync::Arc<super::table::KObject>, u64),
    /// A persistent object the store took away while no store runs (it is
    /// restarting): wait for it, then retry.
    StoreAway,
}

/// Handles a user page fault at `addr`.
/// Ends the program on a security fault (never returns then).
pub fn user_fault(
    program: alloc::sync::Arc<Program>,
    addr: u64,
    write: bool,
    fetch: bool,
) -> SlotFault {
    let Some((slot, offset)) = slot_of(addr) else {
        return SlotFault::NotObject;
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
        Fault::Retry => SlotFault::Retry,
        Fault::NotObject => SlotFault::NotObject,
        Fault::Page { obj, page } => SlotFault::Page(obj, page),
        Fault::Gone { .. } if !crate::ppc::pager::available() => SlotFault::StoreAway,
        Fault::Gone { id } => {
            kprintln!(
                "page fault: program {} (id {}) thread {}: object {id} was deleted while mapped; its pages are gone",
                program.name_text(),
                program.id,
                tid,
            );
            SlotFault::NotObject
        }
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
