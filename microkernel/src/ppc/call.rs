//! `ppc_call`, `ppc_return`, and exits inside a call: each decodes every
//! argument before it changes anything, then rewrites the user frame.

use protocols::object::{ObjId, Perms};
use protocols::syscall::{MAX_PPC_MESSAGE, SysError, Syscall, encode};

use alloc::sync::Arc;

use super::gate;
use super::{CallFrame, CallKind};
use crate::arch::TrapFrame;
use crate::object::table;
use crate::program::Program;
use crate::sched;
use crate::syscall::user_ptr::{UserIn, UserOut};

/// Handles a call [`super::handles`] claimed: `ppc_call`, `ppc_return`, or
/// an exit inside a call (which aborts it). Writes the outcome into `frame`.
pub fn syscall(frame: &mut TrapFrame) {
    let a = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    let outcome = match Syscall::try_from(frame.rax) {
        Ok(Syscall::PpcCall) => call(frame, a),
        Ok(Syscall::PpcReturn) if a[2..].iter().all(|&x| x == 0) => ret(frame, a[0], a[1]),
        Ok(Syscall::ThreadExit | Syscall::ProgramExit) => {
            // A handler may not end the caller's thread: the call aborts.
            let code = a[0] & 0xffff;
            if super::abort(frame, code) {
                return;
            }
            Err(SysError::InvalidArgument)
        }
        _ => Err(SysError::InvalidArgument),
    };
    if let Err(e) = outcome {
        frame.rax = encode(Err(e));
    }
}

fn call(frame: &mut TrapFrame, a: [u64; 6]) -> Result<(), SysError> {
    let program = sched::current_program().ok_or(SysError::PermissionDenied)?;
    let obj_id = ObjId::from_u128((u128::from(a[1]) << 64) | u128::from(a[0]));
    let (generation, gate, buf, len) = (a[2], a[3], a[4], a[5]);
    if len > MAX_PPC_MESSAGE as u64 {
        return Err(SysError::TooLarge);
    }
    let input = UserIn::new(&program, buf, len)?;
    UserOut::new(&program, buf, MAX_PPC_MESSAGE as u64)?;
    let obj = table::get(obj_id).ok_or(SysError::NotFound)?;
    let server = gate::lookup(obj_id).ok_or(SysError::NotFound)?;
    if server.generation != generation {
        return Err(SysError::ServerRestarted);
    }
    if !server.serves(gate) {
        return Err(SysError::InvalidArgument);
    }
    if !program
        .objects
        .gate_allowed(sched::current_tid(), &obj, gate)
    {
        return Err(SysError::PermissionDenied);
    }
    let target = server.live_program().ok_or(SysError::NotFound)?;
    // The per-thread kernel copy: the server never sees the caller's buffer.
    let mut kbuf = [0u8; MAX_PPC_MESSAGE];
    let len = input.read(0, &mut kbuf[..len as usize]);
    drop(input);
    enter(
        frame,
        server,
        target,
        gate,
        &kbuf[..len],
        CallKind::Program { buf },
    )
}

/// Moves the current thread into `target` (the program of incarnation
/// `server`) at its entry for `gate`, with `msg` on a free server stack;
/// `frame` becomes the handler's. `Busy`: no free stack, or calls nest too
/// deep.
pub(super) fn enter(
    frame: &mut TrapFrame,
    server: Arc<gate::Server>,
    target: Arc<Program>,
    gate: u64,
    msg: &[u8],
    kind: CallKind,
) -> Result<(), SysError> {
    let stack = server.take_stack().ok_or(SysError::Busy)?;
    let at = server.message_at(stack);
    let entry = server.entry;
    let f = CallFrame {
        caller: *frame,
        caller_program: None,
        caller_root: 0,
        kind,
        server,
        stack,
    };
    sched::ppc::enter(f, target.clone())?;
    // Now in the server's space: put the message on its stack.
    match UserOut::new(&target, at, MAX_PPC_MESSAGE as u64) {
        Ok(out) => {
            out.write(0, msg);
        }
        Err(_) => {
            // The server gave stacks it cannot write: its fault.
            super::abort(frame, protocols::syscall::EXIT_FAULT | 14);
            return Ok(());
        }
    }
    let mut entered = TrapFrame::user_entry(entry, at - 8, at, msg.len() as u64);
    entered.rdx = gate;
    *frame = entered;
    Ok(())
}

fn ret(frame: &mut TrapFrame, buf: u64, len: u64) -> Result<(), SysError> {
    if !super::in_call() {
        return Err(SysError::InvalidArgument);
    }
    if len > MAX_PPC_MESSAGE as u64 {
        return Err(SysError::TooLarge);
    }
    let server = sched::current_program().ok_or(SysError::PermissionDenied)?;
    let input = UserIn::new(&server, buf, len)?;
    let mut kbuf = [0u8; MAX_PPC_MESSAGE];
    let len = input.read(0, &mut kbuf[..len as usize]);
    drop((input, server));
    let f = sched::ppc::leave().ok_or(SysError::InvalidArgument)?;
    // Back in the caller's space, with the caller's registers.
    *frame = f.caller;
    match &f.kind {
        CallKind::Program { buf } => {
            let caller = sched::current_program().ok_or(SysError::PermissionDenied);
            frame.rax = encode(
                caller
                    .and_then(|c| UserOut::new(&c, *buf, MAX_PPC_MESSAGE as u64))
                    .map(|out| out.write(0, &kbuf[..len]) as u64),
            );
        }
        CallKind::Pager { obj, page } => {
            let generation = f.server.generation;
            let (obj, page) = (obj.clone(), *page);
            drop(f);
            super::pager::answer(obj, page, generation, &kbuf[..len]);
        }
    }
    Ok(())
}

/// `ppc_register`.
pub fn register(
    program: &alloc::sync::Arc<crate::program::Program>,
    a: [u64; 6],
) -> Result<u64, SysError> {
    let obj_id = ObjId::from_u128((u128::from(a[1]) << 64) | u128::from(a[0]));
    let r = gate::Registration::decode(a[2], a[3], a[4], a[5])?;
    let obj = table::get(obj_id).ok_or(SysError::NotFound)?;
    if !Perms::WRITE.is_subset_of(program.objects.active_perms(sched::current_tid(), &obj)) {
        return Err(SysError::PermissionDenied);
    }
    gate::register(obj_id, program, r)
}

/// `ppc_bind`.
pub fn bind(lo: u64, hi: u64) -> Result<u64, SysError> {
    let obj_id = ObjId::from_u128((u128::from(hi) << 64) | u128::from(lo));
    let server = gate::lookup(obj_id).ok_or(SysError::NotFound)?;
    server.live_program().ok_or(SysError::NotFound)?;
    Ok(server.generation)
}
