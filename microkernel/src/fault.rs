//! User-mode CPU exceptions: a not-present access to a demand-zero page is
//! resolved; anything else ends the offending program (all its threads)
//! with exit code `EXIT_FAULT | vector` and one log line.

use protocols::syscall::EXIT_FAULT;

use crate::arch::trap::{Cause, Exception};
use crate::{kprintln, sched};

/// Handles an exception raised in user mode; returns only if the program
/// may continue.
pub fn user_exception(ex: Exception) {
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
        if crate::object::fault::user_fault(program.clone(), ex.addr, write, fetch) {
            return;
        }
        end_program(program, ex.cause, ex.vector, ex.addr, ex.rip);
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
    end_program(program, ex.cause, ex.vector, ex.addr, ex.rip)
}

/// A system call would return to a non-canonical address (a `syscall` in
/// the last bytes of user space): a general-protection fault.
pub fn bad_return_address(rip: u64) -> ! {
    let Some(program) = sched::current_program() else {
        panic!("system call without a program");
    };
    end_program(program, Cause::Exception(13), 13, rip, rip)
}

fn end_program(
    program: alloc::sync::Arc<crate::program::Program>,
    cause: Cause,
    vector: u8,
    addr: u64,
    rip: u64,
) -> ! {
    kprintln!(
        "fault: program {} (id {}) thread {}: {cause} at {addr:#x} (rip {rip:#x}); program ended",
        program.name_text(),
        program.id,
        sched::current_tid(),
    );
    drop(program);
    sched::kill_current_program(EXIT_FAULT | u64::from(vector))
}
