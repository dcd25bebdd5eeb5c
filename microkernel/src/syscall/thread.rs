//! `thread_create`, `thread_exit`, `thread_yield`, `thread_sleep`.

use alloc::sync::Arc;

use protocols::layout::USER_END;
use protocols::syscall::{EXIT_FAULT, MAX_PRIORITY, MAX_SLEEP_NANOS, SysError};

use crate::arch::TrapFrame;
use crate::program::Program;
use crate::sched;
use crate::time;

/// `thread_create(entry, stack_top, arg, priority)`.
pub fn create(
    program: &Arc<Program>,
    entry: u64,
    stack_top: u64,
    arg: u64,
    priority: u64,
) -> Result<u64, SysError> {
    if priority > MAX_PRIORITY {
        return Err(SysError::InvalidArgument);
    }
    // The entry and stack must be user addresses (a non-canonical or kernel
    // `rip` would fault in the kernel's iretq); the stack 16-byte aligned.
    if entry >= USER_END || stack_top > USER_END {
        return Err(SysError::BadAddress);
    }
    if !stack_top.is_multiple_of(16) {
        return Err(SysError::InvalidArgument);
    }
    let frame = TrapFrame::user_entry(entry, stack_top, arg, 0);
    sched::spawn_user(program.clone(), frame, priority as u8)
}

/// `thread_exit(code)`: returns only with an error.
pub fn exit(code: u64) -> Result<u64, SysError> {
    if code >= EXIT_FAULT {
        return Err(SysError::InvalidArgument);
    }
    sched::exit_current(code)
}

/// `program_exit(code)`: ends every thread of the caller's program; returns
/// only with an error.
pub fn exit_program(code: u64) -> Result<u64, SysError> {
    if code >= EXIT_FAULT {
        return Err(SysError::InvalidArgument);
    }
    sched::kill_current_program(code)
}

/// `thread_yield()`.
pub fn yield_now() -> Result<u64, SysError> {
    sched::yield_now();
    Ok(0)
}

/// `thread_sleep(nanos)`.
pub fn sleep(nanos: u64) -> Result<u64, SysError> {
    if nanos > MAX_SLEEP_NANOS {
        return Err(SysError::InvalidArgument);
    }
    if nanos == 0 {
        sched::yield_now();
        return Ok(0);
    }
    let deadline = time::deadline_after(nanos);
    sched::block(None, Some(deadline), |_| true);
    Ok(0)
}
