//! `ppc_call`, `ppc_return`, and exits inside a call: each decodes every
//! argument before it changes anything, then rewrites the user frame.

use protocols::layout::PAGE_SIZE;
use protocols::object::{ObjId, Perms};
use protocols::syscall::{MAX_PPC_MESSAGE, SysError, Syscall, encode};

use alloc::sync::Arc;

use super::copy::Frames;
use super::gate;
use super::{CallFrame, CallKind};
use crate::arch::TrapFrame;
use crate::object::table;
use crate::program::Program;
use crate::sched;
use crate::syscall::user_ptr::{UserIn, UserOut};

/// Handles a call [`super::handles`] claimed: `ppc_call`, `ppc_return`, or
/// an exit inside a call (which aborts it). Writes the outcome into `frame`.
/// `true`: the thread may return to user mode without
/// `sched::before_return` (see `sched::ppc::enter`); interrupts are off.
pub fn syscall(frame: &mut TrapFrame) -> bool {
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
                return false;
            }
            Err(SysError::InvalidArgument)
        }
        _ => Err(SysError::InvalidArgument),
    };
    match outcome {
        Ok(settled) => settled,
        Err(e) => {
            frame.rax = encode(Err(e));
            false
        }
    }
}

fn call(frame: &mut TrapFrame, a: [u64; 6]) -> Result<bool, SysError> {
    let (program, tid) = sched::ppc::caller().ok_or(SysError::PermissionDenied)?;
    let obj_id = ObjId::from_u128((u128::from(a[1]) << 64) | u128::from(a[0]));
    let (generation, gate, buf, len) = (a[2], a[3], a[4], a[5]);
    if len > MAX_PPC_MESSAGE as u64 {
        return Err(SysError::TooLarge);
    }
    // The reply comes back into the same buffer: checked writable whole
    // now (which covers reading the request), and kept for the return.
    let reply = UserOut::new_remembered(&program, buf, MAX_PPC_MESSAGE as u64)?;
    let (obj, server) = gate::resolve(obj_id).ok_or(SysError::NotFound)?;
    if server.generation != generation {
        return Err(SysError::ServerRestarted);
    }
    if !server.serves(gate) {
        return Err(SysError::InvalidArgument);
    }
    if !program.objects.gate_allowed(tid, &obj, gate) {
        return Err(SysError::PermissionDenied);
    }
    let caller = program.id;
    drop((obj, program));
    // Whether it still runs is checked on entry, under the scheduler lock.
    let target = server.program().ok_or(SysError::NotFound)?;
    enter_request(
        frame,
        server,
        target,
        gate,
        Request::Caller(len as usize),
        CallKind::Program { reply },
        caller,
    )
}

/// What a call carries in.
enum Request<'a> {
    /// Bytes the kernel made (the pager's request).
    Kernel(&'a [u8]),
    /// The first bytes of the caller's buffer (its
    /// [`CallKind::Program`] reply buffer), in the live space.
    Caller(usize),
}

impl Request<'_> {
    fn len(&self) -> usize {
        match self {
            Request::Kernel(m) => m.len(),
            Request::Caller(n) => *n,
        }
    }

    /// Copies bytes `off ..` of the request into `dst` (`kind` is the
    /// call's: where a caller's buffer is).
    fn read(&self, kind: &CallKind, off: usize, dst: &mut [u8]) {
        match (self, kind) {
            (Request::Kernel(m), _) => dst.copy_from_slice(&m[off..off + dst.len()]),
            (Request::Caller(_), CallKind::Program { reply }) => {
                reply.read(off, dst);
            }
            // A kernel call's request is always `Kernel`.
            (Request::Caller(_), CallKind::Pager { .. }) => dst.fill(0),
        }
    }
}

/// Moves the current thread into `target` (the program of incarnation
/// `server`) at its entry for `gate`, with `msg` on a free server stack;
/// `frame` becomes the handler's. `Busy`: no free stack, or calls nest too
/// deep; `NotFound`: the server no longer runs.
pub(super) fn enter(
    frame: &mut TrapFrame,
    server: Arc<gate::Server>,
    target: Arc<Program>,
    gate: u64,
    msg: &[u8],
    kind: CallKind,
) -> Result<(), SysError> {
    // The kernel calls on its own behalf: caller 0.
    enter_request(frame, server, target, gate, Request::Kernel(msg), kind, 0)?;
    Ok(())
}

/// [`enter`] for `caller`'s `request`. `true`: see `sched::ppc::enter`'s
/// `settle`, which only a program's call (a system call) asks for.
fn enter_request(
    frame: &mut TrapFrame,
    server: Arc<gate::Server>,
    target: Arc<Program>,
    gate: u64,
    request: Request<'_>,
    kind: CallKind,
    caller: u64,
) -> Result<bool, SysError> {
    let settle = matches!(request, Request::Caller(_));
    let len = request.len().min(MAX_PPC_MESSAGE);
    let stack = server.take_stack().ok_or(SysError::Busy)?;
    let at = server.message_at(stack);
    let entry = server.entry;
    let direct = message_frames(&server, &target, stack, at, len);
    let f = CallFrame {
        caller: *frame,
        caller_program: None,
        caller_root: 0,
        kind,
        server,
        stack,
    };
    let settled = match direct {
        Some(dst) => {
            // The one copy: from the caller straight onto the server's
            // stack, through the frames behind it, once the server is
            // known to run (its frames are its own until it ends).
            sched::ppc::enter(f, target, settle, |f| {
                dst.write_each(|off, piece| request.read(&f.kind, off, piece));
            })?
        }
        None => {
            // The message page was never touched (a stack's first call):
            // through a kernel buffer, written once the server's space is
            // live, which faults the page in.
            let mut kbuf = [0u8; MAX_PPC_MESSAGE];
            request.read(&f.kind, 0, &mut kbuf[..len]);
            sched::ppc::enter(f, target.clone(), false, |_| {})?;
            match UserOut::new(&target, at, MAX_PPC_MESSAGE as u64) {
                Ok(out) => {
                    out.write(0, &kbuf[..len]);
                }
                Err(_) => {
                    // The server gave stacks it cannot write: its fault.
                    drop(target);
                    super::abort(frame, protocols::syscall::EXIT_FAULT | 14);
                    return Ok(false);
                }
            }
            false
        }
    };
    let mut entered = TrapFrame::user_entry(entry, at - 8, at, len as u64);
    entered.rdx = gate;
    // Who calls, attested by the kernel (a server keys per-client state on
    // it): the calling program's id, 0 for the kernel.
    entered.r8 = caller;
    *frame = entered;
    Ok(settled)
}

/// The frames behind the first `len` bytes of stack `stack`'s message
/// area at `at` in `target`: remembered per stack when the area is one
/// page. `None`: the page is not present yet.
fn message_frames(
    server: &gate::Server,
    target: &Program,
    stack: u64,
    at: u64,
    len: usize,
) -> Option<Frames> {
    let cache = server.frame_cache(stack)?;
    if !at.is_multiple_of(PAGE_SIZE) {
        return Frames::of(target, at, len, true);
    }
    let frame = match cache.message() {
        Some(frame) => frame,
        None => {
            let frame = Frames::of(target, at, MAX_PPC_MESSAGE, true)?.first()?;
            cache.set_message(frame);
            frame
        }
    };
    Some(Frames::page(frame, len))
}

/// The frames behind the reply `[buf, buf + len)` of the handler running
/// on stack `stack` of `server` in `program`: remembered per stack for a
/// reply inside one page of the registered stacks (where the runtime keeps
/// its replies). `None`: not all present and readable.
fn reply_frames(
    server: &gate::Server,
    program: &Program,
    stack: u64,
    buf: u64,
    len: usize,
) -> Option<Frames> {
    let cache = server.frame_cache(stack)?;
    let Some(page) = cached_page(server, buf, len) else {
        return Frames::of(program, buf, len, false);
    };
    let offset = buf - page;
    if let Some(frame) = cache.reply(page) {
        return Some(Frames::page(frame + offset, len));
    }
    let frames = Frames::of(program, buf, len, false)?;
    cache.set_reply(page, frames.first()? - offset);
    Some(frames)
}

/// The page of `server`'s stacks holding all of a `len`-byte reply at
/// `buf` — the replies whose frames are remembered — if there is one.
fn cached_page(server: &gate::Server, buf: u64, len: usize) -> Option<u64> {
    let page = buf / PAGE_SIZE * PAGE_SIZE;
    let one_page = len > 0 && buf.checked_add(len as u64)? <= page + PAGE_SIZE;
    (one_page && server.owns_page(page)).then_some(page)
}

/// [`reply_frames`] when they are remembered (no page-table walk); `None`
/// otherwise.
fn remembered_reply_frames(
    server: &gate::Server,
    stack: u64,
    buf: u64,
    len: usize,
) -> Option<Frames> {
    let page = cached_page(server, buf, len)?;
    let frame = server.frame_cache(stack)?.reply(page)?;
    Some(Frames::page(frame + (buf - page), len))
}

fn ret(frame: &mut TrapFrame, buf: u64, len: u64) -> Result<bool, SysError> {
    // The usual return — a program's call, a reply where the stack's last
    // one was — in one trip through the scheduler lock.
    let fast = sched::ppc::leave_with(
        frame,
        |call| match call.kind {
            CallKind::Program { .. } if len <= MAX_PPC_MESSAGE as u64 => {
                remembered_reply_frames(&call.server, call.stack, buf, len as usize)
            }
            _ => None,
        },
        |call, src| {
            if let CallKind::Program { reply } = &call.kind {
                // The one copy (see below).
                src.read_each(|off, piece| {
                    reply.write(off, piece);
                });
            }
        },
    );
    let (program, server, stack) = match fast.ok_or(SysError::InvalidArgument)? {
        sched::ppc::Left::Ended(settled) => {
            frame.rax = encode(Ok(len));
            return Ok(settled);
        }
        sched::ppc::Left::Kept(program, server, stack) => (program, server, stack),
    };
    if len > MAX_PPC_MESSAGE as u64 {
        return Err(SysError::TooLarge);
    }
    let len = len as usize;
    let found = reply_frames(&server, &program, stack, buf, len);
    drop(server);
    let server = program;
    let src = match found {
        Some(src) => src,
        None => {
            // Checks the range (faulting in demand-zero pages), then finds
            // its frames.
            UserIn::new(&server, buf, len as u64)?;
            Frames::of(&server, buf, len, false).ok_or(SysError::BadAddress)?
        }
    };
    let (f, settled) = sched::ppc::leave_settled().ok_or(SysError::InvalidArgument)?;
    // Back in the caller's space, with the caller's registers.
    *frame = f.caller;
    match &f.kind {
        CallKind::Program { reply } => {
            // The one copy: from the server's frames straight into the
            // caller's buffer (checked writable at the call).
            src.read_each(|off, piece| {
                reply.write(off, piece);
            });
            drop(server);
            frame.rax = encode(Ok(len as u64));
        }
        CallKind::Pager { obj, page } => {
            let mut kbuf = [0u8; MAX_PPC_MESSAGE];
            src.read_each(|off, piece| kbuf[off..off + piece.len()].copy_from_slice(piece));
            drop(server);
            let generation = f.server.generation;
            let (obj, page) = (obj.clone(), *page);
            drop(f);
            super::pager::answer(obj, page, generation, &kbuf[..len]);
        }
    }
    Ok(settled)
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
