//! Protected procedure calls from user space: [`Gate`], the kernel
//! [`Transport`] the generated client stubs run over, and [`serve`], the
//! server loop that registers a gate object and dispatches every call
//! through the generated, checked `dispatch`.
//!
//! Calls *migrate*: the client's thread runs the server's handler (in the
//! server's address space, on a server stack) and comes back with the
//! reply. A server's own threads do nothing while it serves; its handlers
//! are serialized by one lock around the dispatcher, so a `Server`
//! implementation needs no locking of its own.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering};

use protocols::ipc::{self, Dispatch, MAX_MESSAGE, MessageBuf, Transport, TransportError};
use protocols::object::ObjId;
use protocols::syscall::{MAX_PPC_MESSAGE, MAX_PPC_STACKS, PPC_STACK_SIZE, SysError, Syscall};

use crate::sync::Mutex;
use crate::sys;

/// A binding to the server behind a gate object: the kernel transport for
/// generated clients (`Client::new(Gate::bind(id)?)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate {
    obj: ObjId,
    generation: u64,
}

impl Gate {
    /// Binds to the live server behind `obj`.
    pub fn bind(obj: ObjId) -> Result<Gate, SysError> {
        Ok(Gate {
            obj,
            generation: sys::ppc_bind(obj)?,
        })
    }

    /// A binding to a given generation (tests of stale bindings).
    pub const fn with_generation(obj: ObjId, generation: u64) -> Gate {
        Gate { obj, generation }
    }

    /// Binds again, to the current incarnation (after `ServerRestarted`).
    pub fn rebind(&mut self) -> Result<(), SysError> {
        self.generation = sys::ppc_bind(self.obj)?;
        Ok(())
    }

    /// Binds to the server published as `name`, waiting up to
    /// `timeout_ms` milliseconds for it to appear (a server started at
    /// boot may still be opening its state).
    pub fn connect(name: &str, timeout_ms: u64) -> Result<Gate, SysError> {
        let mut waited = 0;
        loop {
            match sys::service_lookup(name).and_then(Gate::bind) {
                Err(SysError::NotFound) if waited < timeout_ms => {
                    sys::thread_sleep(10_000_000)?;
                    waited += 10;
                }
                other => return other,
            }
        }
    }

    /// The gate object.
    pub fn object(&self) -> ObjId {
        self.obj
    }
}

impl Transport for Gate {
    fn generation(&self) -> u64 {
        self.generation
    }

    fn call(
        &mut self,
        gate: u16,
        request: &[u8],
        reply: &mut [u8; MAX_MESSAGE],
    ) -> Result<usize, TransportError> {
        const _: () = assert!(MAX_MESSAGE == MAX_PPC_MESSAGE);
        if request.len() > MAX_MESSAGE {
            return Err(TransportError::Sys(SysError::TooLarge));
        }
        reply[..request.len()].copy_from_slice(request);
        loop {
            match sys::ppc_call(self.obj, self.generation, gate, reply, request.len()) {
                // Every server stack is in use: let a call finish.
                Err(SysError::Busy) => {
                    let _ = sys::thread_yield();
                }
                other => return other.map_err(TransportError::Sys),
            }
        }
    }

    fn call_in_place(&mut self, gate: u16, buf: &mut MessageBuf) -> Result<usize, TransportError> {
        let id = self.obj.as_u128();
        let len = buf.message().len();
        let args = [
            id as u64,
            (id >> 64) as u64,
            self.generation,
            u64::from(gate),
            buf.as_mut_ptr() as u64,
            len as u64,
        ];
        loop {
            // SAFETY: `buf` is exclusively borrowed and `MAX_PPC_MESSAGE`
            // bytes long, as `ppc_call` requires; the kernel reads its
            // first `len` bytes (the message, written) and writes the
            // reply over it.
            let raw = unsafe { crate::raw::syscall(Syscall::PpcCall as u64, args) };
            match protocols::syscall::decode(raw) {
                // Every server stack is in use: let a call finish.
                Err(SysError::Busy) => {
                    let _ = sys::thread_yield();
                }
                Ok(n) => {
                    let n = n as usize;
                    if n <= MAX_MESSAGE {
                        // SAFETY: the kernel wrote the `n`-byte reply at
                        // the start of `buf`.
                        unsafe { buf.set_len(n) };
                    }
                    return Ok(n);
                }
                Err(e) => return Err(TransportError::Sys(e)),
            }
        }
    }
}

/// Runs `call` on `client`'s transport; when it fails with
/// `ServerRestarted` (it did not run), rebinds once and runs it again.
pub fn retrying<C, R, E>(
    client: &mut C,
    gate: impl Fn(&mut C) -> &mut Gate,
    call: impl Fn(&mut C) -> Result<R, ipc::CallError<E>>,
) -> Result<R, ipc::CallError<E>> {
    match call(client) {
        Err(ipc::CallError::ServerRestarted) => {
            gate(client)
                .rebind()
                .map_err(|e| ipc::CallError::Transport(TransportError::Sys(e)))?;
            call(client)
        }
        other => other,
    }
}

/// What serves one request envelope: `(generation, request, reply) →
/// reply length` (see [`protocols::ipc::serve`]).
pub type Handler = dyn FnMut(u64, &[u8], &mut [u8; MAX_MESSAGE]) -> usize + Send;

/// The dispatcher every handler runs (one per program), and the
/// incarnation's generation.
static SERVER: Mutex<Option<(Box<Handler>, u64)>> = Mutex::new(None);

/// Registers this program as the server behind `gate_obj` for `gates`
/// (an interface's `GATES`) with `stacks` concurrent calls, and serves
/// `dispatcher` for ever. Returns only if registration fails.
pub fn serve<D: Dispatch + Send + 'static>(
    gate_obj: ObjId,
    gates: &[u16],
    dispatcher: D,
    stacks: u64,
) -> SysError {
    match register(gate_obj, gates, dispatcher, stacks) {
        Ok(_) => loop {
            // Calls arrive on their callers' threads.
            let _ = sys::thread_sleep(protocols::syscall::MAX_SLEEP_NANOS);
        },
        Err(e) => e,
    }
}

/// Registers like [`serve`] but returns the generation instead of idling.
pub fn register<D: Dispatch + Send + 'static>(
    gate_obj: ObjId,
    gates: &[u16],
    mut dispatcher: D,
    stacks: u64,
) -> Result<u64, SysError> {
    let handler: Box<Handler> = Box::new(move |generation, request, reply| {
        ipc::serve(&mut dispatcher, generation, request, reply)
    });
    register_handler(gate_obj, gates, handler, stacks)
}

/// Registers `handler` for every call to `gates` of `gate_obj` (a server
/// answering several interfaces routes on the envelope's interface ID).
pub fn register_handler(
    gate_obj: ObjId,
    gates: &[u16],
    handler: Box<Handler>,
    stacks: u64,
) -> Result<u64, SysError> {
    let stacks = stacks.clamp(1, MAX_PPC_STACKS);
    let mut mask = 0u64;
    for &g in gates {
        if g == 0 || g >= 64 {
            return Err(SysError::InvalidArgument);
        }
        mask |= 1 << g;
    }
    let bytes = (stacks * PPC_STACK_SIZE) as usize;
    let layout =
        core::alloc::Layout::from_size_align(bytes, 4096).map_err(|_| SysError::InvalidArgument)?;
    // SAFETY: the layout has a non-zero size.
    let base = unsafe { alloc::alloc::alloc(layout) };
    if base.is_null() {
        return Err(SysError::NoMemory);
    }
    for i in 0..stacks as usize {
        // The reply area under stack `i`'s message (see `entry`) starts
        // zeroed; the rest of the stack is written before it is read.
        let top = (i + 1) * PPC_STACK_SIZE as usize;
        // SAFETY: `[top - 2 * MAX_MESSAGE, top - MAX_MESSAGE)` lies inside
        // the block just allocated.
        unsafe { base.add(top - 2 * MAX_MESSAGE).write_bytes(0, MAX_MESSAGE) };
    }
    let mut slot = SERVER.lock();
    // SAFETY: `entry` ends every call with `ppc_return` (or a fault, which
    // the kernel turns into `ServerFaulted`); the stacks were just
    // allocated and are leaked to the kernel's use for good.
    let generation = unsafe {
        sys::ppc_register(
            gate_obj,
            mask,
            entry as *const () as usize,
            base as usize,
            stacks,
        )
    }?;
    *slot = Some((handler, generation));
    Ok(generation)
}

/// Bytes [`entry`] keeps free between the message and the handler's
/// stack: the call's reply buffer (plus 8, which keeps the handler's
/// stack aligned as the ABI wants it at a call).
const REPLY_RESERVE: usize = MAX_MESSAGE + 8;
const _: () = assert!(REPLY_RESERVE % 16 == 8);

/// Where every call enters (`rsp` = the message − 8, as after a call):
/// moves the stack pointer below a reply area right under the message, so
/// [`handle`] can use it without clearing a fresh buffer for every call.
#[unsafe(naked)]
extern "C" fn entry() -> ! {
    core::arch::naked_asm!(
        "sub rsp, {reserve}",
        "xor ebp, ebp",
        "call {handle}",
        "ud2",
        reserve = const REPLY_RESERVE,
        handle = sym handle,
    )
}

/// The program whose call the running handler serves (see [`caller`]).
static CALLER: AtomicU64 = AtomicU64::new(0);

/// The program whose call the running handler serves, as the kernel
/// attests it (0: the kernel itself, asking the pager). Meaningful only
/// inside a handler: the runtime runs one handler at a time, and sets it
/// before each.
pub fn caller() -> u64 {
    CALLER.load(Ordering::Relaxed)
}

/// Serves one call: `msg`/`len` is the kernel's copy of the request at the
/// top of this server stack, `gate` the gate number, `caller` the calling
/// program (`rcx` is whatever the kernel's return left there).
extern "C" fn handle(msg: *const u8, len: usize, _gate: u64, _rcx: u64, caller: u64) -> ! {
    let len = len.min(MAX_MESSAGE);
    // SAFETY: the kernel put `len` bytes at `msg`, in this stack's
    // reserved top; nothing else writes there during the call.
    let request = unsafe { core::slice::from_raw_parts(msg, len) };
    // SAFETY: `[msg - MAX_MESSAGE, msg)` is this stack's reply area:
    // `entry` moved the stack pointer below it, the kernel gives a stack to
    // one call at a time, and the memory was allocated for the stacks (its
    // bytes, zero at first, are whatever the last reply left).
    let reply = unsafe { &mut *(msg.wrapping_sub(MAX_MESSAGE) as *mut [u8; MAX_MESSAGE]) };
    let n = {
        let mut server = SERVER.lock();
        CALLER.store(caller, Ordering::Relaxed);
        match server.as_mut() {
            Some((handler, generation)) => handler(*generation, request, reply),
            // A call that beat the registration's bookkeeping: a
            // stale-generation refusal makes the client rebind and retry.
            None => ipc::serve(&mut Refuse, 0, request, reply),
        }
    };
    let err = sys::ppc_return(&reply[..n]);
    crate::println!("ppc: return failed: {err}");
    sys::thread_exit(crate::PANIC_EXIT_CODE)
}

/// Refuses everything (no dispatcher yet).
struct Refuse;

impl Dispatch for Refuse {
    const INTERFACE: u64 = 0;
    fn dispatch(
        &mut self,
        gate: u16,
        _body: &[u8],
        _out: &mut [u8],
    ) -> Result<usize, ipc::DispatchError> {
        Err(ipc::DispatchError::BadGate(gate))
    }
}
