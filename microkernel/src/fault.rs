//! User-mode CPU exceptions: a not-present access to a demand-zero page is
//! resolved; anything else ends the offending program (all its threads)
//! with exit code `EXIT_FAULT | vector` and one log line. A thread that
//! faults inside a protected procedure call ends the server instead and
//! returns to its caller with `ServerFaulted` (see [`crate::ppc`]).

use protocols::syscall::EXIT_FAULT;

use crate::arch::TrapFrame;
use crate::arch::trap::{Cause, Exception};
use crate::object::fault::SlotFault;
use crate::{kprintln, sched};

/// Handles an exception raised in user mode; returns only if the program
/// may continue.
pub fn user_exception(ex: Exception, frame: &mut TrapFrame) {
    let Some(program) = sched::current_program() else {
        panic!("user-mode {} without a program", ex.cause);
    };
    if let Cause::PageFault {
        reserved: false,
        write,
        fetch,
        ..
    } = ex.cause
        && protocols::layout::slot_of(ex.addr).is_some()
    {
        match crate::object::fault::user_fault(program.clone(), ex.addr, write, fetch) {
            SlotFault::Retry => return,
            SlotFault::Page(obj, page) => {
                if crate::ppc::pager::ask(frame, obj, page) {
                    return;
                }
                // No live pager: the store is restarting. Wait for it and
                // retry rather than end the program.
                if !crate::ppc::pager::available() && crate::ppc::pager::wait_for_store() {
                    return;
                }
            }
            SlotFault::StoreAway => {
                if crate::ppc::pager::wait_for_store() {
                    return;
                }
            }
            SlotFault::NotObject => {}
        }
        return end_program(program, frame, ex);
    }
    if let Cause::PageFault {
        protection: false,
        reserved: false,
        fetch: false,
        ..
    } = ex.cause
    {
        match program.space.fault_in(ex.addr) {
            Ok(true) => {
                program.objects.sync_lower(&program.space);
                return;
            }
            Ok(false) => {}
            Err(_) => {
                kprintln!(
                    "fault: program {} (id {}) thread {}: out of memory for a demand-zero page at {:#x}; program ended",
                    program.name_text(),
                    program.id,
                    sched::current_tid(),
                    ex.addr
                );
                drop(program);
                sched::kill_current_program(EXIT_FAULT | u64::from(ex.vector));
            }
        }
    }
    end_program(program, frame, ex)
}

/// A system call would return to a non-canonical address (a `syscall` in
/// the last bytes of user space): a general-protection fault.
pub fn bad_return_address(rip: u64) -> ! {
    let Some(program) = sched::current_program() else {
        panic!("system call without a program");
    };
    let ex = Exception {
        vector: 13,
        cause: Cause::Exception(13),
        addr: rip,
        rip,
    };
    end_end(program, ex)
}

/// Ends the faulting program — or, inside a protected procedure call, the
/// server, returning `ServerFaulted` to the caller through `frame`.
fn end_program(
    program: alloc::sync::Arc<crate::program::Program>,
    frame: &mut TrapFrame,
    ex: Exception,
) {
    if crate::ppc::in_call() {
        kprintln!(
            "fault: server {} (id {}) thread {}: {} at {:#x} (rip {:#x}) during a call; server ended, caller gets ServerFaulted",
            program.name_text(),
            program.id,
            sched::current_tid(),
            ex.cause,
            ex.addr,
            ex.rip,
        );
        let code = EXIT_FAULT | u64::from(ex.vector);
        drop(program);
        if crate::ppc::abort(frame, code) {
            return;
        }
        sched::kill_current_program(code);
    }
    end_end(program, ex)
}

fn end_end(program: alloc::sync::Arc<crate::program::Program>, ex: Exception) -> ! {
    let (cause, addr, rip, vector) = (ex.cause, ex.addr, ex.rip, ex.vector);
    kprintln!(
        "fault: program {} (id {}) thread {}: {cause} at {addr:#x} (rip {rip:#x}); program ended",
        program.name_text(),
        program.id,
        sched::current_tid(),
    );
    drop(program);
    sched::kill_current_program(EXIT_FAULT | u64::from(vector))
}
