//! System calls: decode, then invoke.
//!
//! [`dispatch`] decodes the number with `Syscall::try_from` (an unknown
//! number is `UnknownSyscall`), rejects non-zero reserved arguments, and
//! calls one handler per call; each handler checks every argument (turning
//! pointers into `user_ptr` wrappers) before it changes anything. Every
//! outcome is encoded with `protocols::syscall::encode`. Nothing user space
//! passes can make the kernel panic.

mod console;
mod debug;
mod misc;
mod object;
mod pmem;

pub use pmem::owner as pmem_owner;
mod program;
mod sync;
mod thread;
pub mod user_ptr;

use alloc::sync::Arc;

use protocols::syscall::{SysError, Syscall, encode};

use crate::arch::{self, TrapFrame};
use crate::program::Program;
use crate::sched;

/// The argument registers, in ABI order.
pub type Args = [u64; 6];

/// Called by the entry stub with interrupts off; returns with them off.
pub fn dispatch(frame: &mut TrapFrame) {
    arch::enable_interrupts();
    if crate::ppc::handles(frame.rax) {
        // Calls that migrate the thread rewrite the whole frame. One that
        // made `before_return`'s checks under its last scheduler lock (and
        // kept interrupts off since) goes straight back.
        if crate::ppc::syscall(frame) {
            return;
        }
    } else {
        let args = [
            frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
        ];
        frame.rax = encode(decode_and_run(frame.rax, args));
    }
    arch::disable_interrupts();
    sched::before_return(true, false);
}

fn decode_and_run(number: u64, args: Args) -> Result<u64, SysError> {
    let call = Syscall::try_from(number)?;
    if args[call.arg_count()..].iter().any(|&a| a != 0) {
        return Err(SysError::InvalidArgument);
    }
    // The exits hold no reference across the end (they never return).
    match call {
        Syscall::ThreadExit => return thread::exit(args[0]),
        Syscall::ProgramExit => return thread::exit_program(args[0]),
        _ => {}
    }
    // Every system call comes from a thread of some program.
    let program = sched::current_program().ok_or(SysError::PermissionDenied)?;
    // A program started from a thread KSO shows the call in progress there.
    match &program.kso {
        None => run(call, &program, args),
        Some(kso) => {
            kso.enter(number);
            let result = run(call, &program, args);
            kso.leave();
            result
        }
    }
}

fn run(call: Syscall, program: &Arc<Program>, a: Args) -> Result<u64, SysError> {
    match call {
        Syscall::Null => Ok(0),
        Syscall::ConsoleWrite => console::write(program, a[0], a[1]),
        Syscall::ConsoleRead => console::read(program, a[0], a[1], a[2]),
        Syscall::ThreadCreate => thread::create(program, a[0], a[1], a[2], a[3]),
        Syscall::ThreadExit | Syscall::ProgramExit => Err(SysError::InvalidArgument), // handled above
        Syscall::ThreadYield => thread::yield_now(),
        Syscall::ThreadSleep => thread::sleep(a[0]),
        Syscall::ThreadSyncWait => sync::wait(program, a[0], a[1], a[2]),
        Syscall::ThreadSyncWake => sync::wake(program, a[0], a[1]),
        Syscall::ClockRead => misc::clock_read(a[0]),
        Syscall::Poweroff => misc::poweroff(a[0]),
        Syscall::DebugInfo => debug::info(program, a[0], a[1], a[2]),
        Syscall::ProgramSpawn => program::spawn(program, a[0], a[1], a[2], a[3]),
        Syscall::ProgramWait => program::wait(program, a[0], a[1]),
        Syscall::ProgramKill => program::kill(program, a[0]),
        Syscall::ProgramStartKso => program::start_kso(program, a[0], a[1]),
        Syscall::KsoSelf => program::kso_self(program, a[0], a[1]),
        Syscall::KsoResumeRegister => program::kso_resume_register(program),
        Syscall::PpcCallerPerms => object::caller_perms(a[0], a[1]),
        Syscall::ObjCreate => object::create(program, a),
        Syscall::ObjDelete => object::delete(program, a[0], a[1]),
        Syscall::ObjMap => object::map(program, a[0], a[1], a[2], a[3]),
        Syscall::ObjUnmap => object::unmap(program, a[0]),
        Syscall::ObjInfo => object::info(program, a[0], a[1], a[2], a[3]),
        Syscall::KsoInvalidate => object::invalidate(program, a[0], a[1]),
        Syscall::CtxAttach => object::attach(program, a[0], a[1]),
        Syscall::CtxDetach => object::detach(program, a[0], a[1]),
        Syscall::CtxActivate => object::activate(program, a[0], a[1]),
        Syscall::CtxCurrent => object::current(program, a[0]),
        Syscall::CtxCheck => object::check(program, a),
        Syscall::ViewAttach => object::view_attach(program, a[0], a[1]),
        Syscall::PpcRegister => crate::ppc::register(program, a),
        Syscall::PpcBind => crate::ppc::bind(a[0], a[1]),
        // Handled by `crate::ppc::syscall` before decoding gets here.
        Syscall::PpcCall | Syscall::PpcReturn => Err(SysError::InvalidArgument),
        Syscall::PmemMap => pmem::map(program),
        Syscall::ServicePublish => crate::ppc::service_publish(program, a),
        Syscall::ServiceLookup => crate::ppc::service_lookup(program, a),
        Syscall::ObjPmemAttach => pmem::attach(program, a[0], a[1]),
        Syscall::ObjPmemDetach => pmem::detach(program, a[0], a[1]),
    }
}
