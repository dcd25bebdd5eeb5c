//! `ppc`: protected procedure calls through the kernel, against a server
//! program this group spawns (`utest ppcserver GATE`, an `Echo` server
//! whose `fail(FAULT_CODE)` faults on purpose). Also that server.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::cap::GateMask;
use protocols::echo::{self, EchoImpl, EchoOp, MAX_ECHO};
use protocols::ipc::{
    self, CallError, HEADER_LEN, Interface, MAX_MESSAGE, MsgHeader, Rejection, Transport,
    TransportError,
};
use protocols::kso::CtxFlags;
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::syscall::SysError;
use runtime::ppc::Gate;
use runtime::{println, sys};
use utest::objsetup::{RW, SMALL, add_cap, grant, new_ctx, new_keys};

use crate::ensure;
use crate::report::{Outcome, Report};

/// `fail(FAULT_CODE)` makes the test server fault inside the handler.
pub const FAULT_CODE: u32 = 0xdead;
/// `fail(PEEK_CODE)` makes the handler read the caller's object in view
/// slot [`PEEK_SLOT`] — memory the call does not pass.
const PEEK_CODE: u32 = 0x9eec;
/// The slot the isolation test maps its private object into (the server
/// maps nothing there).
const PEEK_SLOT: u64 = 251;
/// Threads in the concurrency test, and calls each makes.
const THREADS: u64 = 4;
const CALLS_PER_THREAD: u64 = 200;

fn err(e: impl core::fmt::Debug) -> String {
    format!("{e:?}")
}

/// The gate object and the two contexts the tests use: `narrow` grants
/// gates 1–4 of `Echo`, `wide` all five.
struct Setup {
    gate: ObjId,
    narrow: ObjId,
    wide: ObjId,
}

/// Runs the group.
pub fn run() -> u64 {
    let mut r = Report::default();
    let setup = match setup() {
        Ok(s) => s,
        Err(why) => {
            r.test("ppc: set-up", || Err(why));
            return r.finish();
        }
    };
    let s = &setup;
    r.test("ppc: null call", || null_call(s));
    r.test("ppc: call with a 256-byte payload", || payload(s));
    r.test(
        "ppc: a gate outside the capability's gate mask is refused",
        || gate_mask(s),
    );
    r.test("ppc: a call without a capability is refused", || no_cap(s));
    r.test(
        "ppc: a malformed message is rejected before the handler",
        || malformed(s),
    );
    r.test("ppc: concurrent callers from several threads", || {
        concurrent(s)
    });
    r.test(
        "ppc: a server fault mid-call returns ServerFaulted and the caller continues",
        || fault(s),
    );
    r.test(
        "ppc: a restarted server gives ServerRestarted, then a rebind succeeds",
        || restart(s),
    );
    r.test(
        "ppc: a call after its gate object was deleted is NotFound, even while mapped",
        deleted_gate,
    );
    r.test(
        "ppc: a handler cannot read the caller's memory beyond the message",
        isolated,
    );
    // End the server (a fault is the only way in from outside).
    let _ = with_ctx(s.wide, || {
        let _ = client(s.gate).map(|mut c| c.fail(FAULT_CODE));
    });
    r.finish()
}

fn setup() -> Result<Setup, String> {
    let keys = new_keys().map_err(err)?;
    // Not public: default permissions without EXEC.
    let gate = sys::obj_create(SMALL, ObjFlags::EMPTY, RW, keys.public).map_err(err)?;
    let narrow_mask = GateMask {
        offset: 1,
        length: 4,
        align: 1,
    };
    let mut ids = [ObjId::NIL; 2];
    for (i, mask) in [narrow_mask, GateMask::ALL].into_iter().enumerate() {
        let (ctx, base) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
        let mut g = grant(gate, ctx, Perms::READ | Perms::EXEC);
        g.gates = mask;
        // SAFETY: `base` is the fresh context's RW mapping.
        unsafe { add_cap(base, 0, &keys, &g) }.map_err(err)?;
        sys::ctx_attach(ctx).map_err(err)?;
        ids[i] = ctx;
    }
    start_server(gate)?;
    Ok(Setup {
        gate,
        narrow: ids[0],
        wide: ids[1],
    })
}

/// Spawns the server and waits until it has registered.
fn start_server(gate: ObjId) -> Result<u64, String> {
    let before = sys::ppc_bind(gate).ok();
    sys::program_spawn("utest", &format!("ppcserver {gate}")).map_err(err)?;
    for _ in 0..500 {
        match sys::ppc_bind(gate) {
            Ok(g) if Some(g) != before => return Ok(g),
            _ => sys::thread_sleep(2_000_000).map_err(err)?,
        }
    }
    Err("the server never registered".into())
}

fn client(gate: ObjId) -> Result<echo::Client<Gate>, String> {
    Ok(echo::Client::new(Gate::bind(gate).map_err(err)?))
}

fn with_ctx<R>(ctx: ObjId, f: impl FnOnce() -> R) -> Result<R, String> {
    sys::ctx_activate(ctx).map_err(err)?;
    let r = f();
    sys::ctx_activate(ObjId::NIL).map_err(err)?;
    Ok(r)
}

fn null_call(s: &Setup) -> Outcome {
    let got = with_ctx(s.narrow, || client(s.gate).map(|mut c| c.null()))??;
    ensure!(got == Ok(()), "null: {got:?}");
    let got = with_ctx(s.narrow, || client(s.gate).map(|mut c| c.ping(41)))??;
    ensure!(got == Ok(42), "ping: {got:?}");
    Ok(())
}

fn payload(s: &Setup) -> Outcome {
    let data: ipc::Bytes<MAX_ECHO> = (0..MAX_ECHO).map(|i| i as u8).collect();
    let (echoed, reversed) = with_ctx(s.narrow, || {
        client(s.gate).map(|mut c| {
            (
                c.echo(data.clone()),
                c.transform(EchoOp::Reverse, data.clone()),
            )
        })
    })??;
    ensure!(echoed.as_ref() == Ok(&data), "echo: {echoed:?}");
    let mut want = data.clone();
    want.reverse();
    ensure!(reversed == Ok(want), "reverse: {reversed:?}");
    Ok(())
}

fn gate_mask(s: &Setup) -> Outcome {
    let got = with_ctx(s.narrow, || client(s.gate).map(|mut c| c.fail(1)))??;
    ensure!(
        got == Err(CallError::Transport(TransportError::Sys(
            SysError::PermissionDenied
        ))),
        "gate 5 outside the mask: {got:?}"
    );
    // The wide context admits it: the handler runs and answers.
    let got = with_ctx(s.wide, || client(s.gate).map(|mut c| c.fail(1)))??;
    ensure!(
        got == Err(CallError::Server(echo::EchoError::Refused)),
        "gate 5 inside the mask: {got:?}"
    );
    // A gate number the server did not register.
    let got = with_ctx(s.wide, || raw_call(s.gate, 9, &[]))?;
    ensure!(got == Err(SysError::InvalidArgument), "gate 9: {got:?}");
    Ok(())
}

fn no_cap(s: &Setup) -> Outcome {
    let got = client(s.gate)?.null();
    ensure!(
        got == Err(CallError::Transport(TransportError::Sys(
            SysError::PermissionDenied
        ))),
        "default context: {got:?}"
    );
    Ok(())
}

/// Sends `body` as gate `gate`'s request in a well-formed envelope.
fn raw_call(gate_obj: ObjId, gate: u16, body: &[u8]) -> Result<Vec<u8>, SysError> {
    let mut g = Gate::bind(gate_obj)?;
    let mut req = Vec::new();
    let mut h = MsgHeader::request(echo::Echo::ID, gate, g.generation());
    h.body_len = body.len() as u32;
    req.extend_from_slice(&h.encode());
    req.extend_from_slice(body);
    let mut reply = [0u8; MAX_MESSAGE];
    match g.call(gate, &req, &mut reply) {
        Ok(n) => Ok(reply[..n].to_vec()),
        Err(TransportError::Sys(e)) => Err(e),
        Err(TransportError::Unbound) => Err(SysError::NotFound),
    }
}

fn malformed(s: &Setup) -> Outcome {
    // `ping` takes a u64: 11 bytes of 0xff are no varint.
    let reply = with_ctx(s.narrow, || raw_call(s.gate, 2, &[0xff; 11]))?.map_err(err)?;
    let h = MsgHeader::decode(&reply).map_err(err)?;
    let status = Rejection::from_code(h.status);
    ensure!(
        matches!(status, Some(Rejection::Malformed(_))),
        "status {status:?}"
    );
    ensure!(reply.len() == HEADER_LEN, "a rejection carries no body");
    Ok(())
}

fn concurrent(s: &Setup) -> Outcome {
    let (gate, ctx) = (s.gate.as_u128(), s.narrow.as_u128());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            runtime::thread::spawn(move || -> Result<u64, String> {
                let ctx = ObjId::from_u128(ctx);
                sys::ctx_attach(ctx).map_err(err)?;
                sys::ctx_activate(ctx).map_err(err)?;
                let mut c = client(ObjId::from_u128(gate))?;
                let mut sum = 0;
                for i in 0..CALLS_PER_THREAD {
                    let v = t * 1_000_000 + i;
                    let got = c.ping(v).map_err(err)?;
                    ensure!(got == v + 1, "thread {t}: ping({v}) = {got}");
                    sum += got;
                }
                Ok(sum)
            })
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.join().map_err(err)??;
    }
    let want: u64 = (0..THREADS)
        .map(|t| {
            (0..CALLS_PER_THREAD)
                .map(|i| t * 1_000_000 + i + 1)
                .sum::<u64>()
        })
        .sum();
    ensure!(total == want, "sum {total}, want {want}");
    Ok(())
}

fn fault(s: &Setup) -> Outcome {
    let got = with_ctx(s.wide, || client(s.gate).map(|mut c| c.fail(FAULT_CODE)))??;
    ensure!(
        got == Err(CallError::Rejected(Rejection::ServerFaulted)),
        "faulting handler: {got:?}"
    );
    // The caller lives on: the kernel still answers, the server is gone.
    sys::null().map_err(err)?;
    ensure!(
        sys::ppc_bind(s.gate) == Err(SysError::NotFound),
        "the faulted server is still bound"
    );
    Ok(())
}

fn restart(s: &Setup) -> Outcome {
    // A binding from before the fault, then a new incarnation.
    let stale = Gate::with_generation(s.gate, 1);
    let mut c = echo::Client::new(stale);
    start_server(s.gate)?;
    let first = with_ctx(s.narrow, || c.ping(1))?;
    ensure!(
        first == Err(CallError::ServerRestarted),
        "stale binding: {first:?}"
    );
    c.transport_mut().rebind().map_err(err)?;
    let second = with_ctx(s.narrow, || c.ping(1))?;
    ensure!(second == Ok(2), "after rebind: {second:?}");
    // The runtime's retrying helper does both steps.
    let mut c = echo::Client::new(Gate::with_generation(s.gate, 1));
    let third = with_ctx(s.narrow, || {
        runtime::ppc::retrying(&mut c, |c| c.transport_mut(), |c| c.ping(7))
    })?;
    ensure!(third == Ok(8), "retrying: {third:?}");
    Ok(())
}

/// A fresh gate object every context may call (EXEC by default) and
/// delete.
fn public_gate() -> Result<ObjId, String> {
    let dflt = RW | Perms::EXEC | Perms::DELETE;
    sys::obj_create(SMALL, ObjFlags::EMPTY, dflt, ObjId::NIL).map_err(err)
}

/// A client of the server being started behind `gate`, once it has
/// registered (waiting up to a second).
fn bound_client(gate: ObjId) -> Result<echo::Client<Gate>, String> {
    for _ in 0..500 {
        if let Ok(c) = client(gate) {
            return Ok(c);
        }
        sys::thread_sleep(2_000_000).map_err(err)?;
    }
    Err("the server never registered".into())
}

/// The kernel remembers which object a gate object's ID names, with the
/// server behind it; deleting the object must reach the very next call,
/// even while a mapping keeps the deleted object itself alive.
fn deleted_gate() -> Outcome {
    let gate = public_gate()?;
    let slot = utest::objsetup::scratch_slot();
    sys::obj_map(slot, gate, Perms::READ).map_err(err)?;
    let pid = sys::program_spawn("utest", &format!("ppcserver {gate}")).map_err(err)?;
    let outcome = (|| -> Outcome {
        let mut c = bound_client(gate)?;
        for i in 0..3 {
            let got = c.ping(i);
            ensure!(got == Ok(i + 1), "before the delete: {got:?}");
        }
        sys::obj_delete(gate).map_err(err)?;
        let got = c.ping(7);
        ensure!(
            got == Err(CallError::Transport(TransportError::Sys(
                SysError::NotFound
            ))),
            "after the delete: {got:?}"
        );
        Ok(())
    })();
    let _ = sys::program_kill(pid);
    // SAFETY: nothing refers into the slot (it was never read).
    let _ = unsafe { sys::obj_unmap(slot) };
    outcome
}

/// The handler runs in the server's address space: the caller's object,
/// mapped in the caller's view at [`PEEK_SLOT`], is not there, so the
/// handler's read of that address faults (the server ends, the caller gets
/// `ServerFaulted`) and the caller's bytes stay as they were.
fn isolated() -> Outcome {
    let gate = public_gate()?;
    let private = sys::obj_create(SMALL, ObjFlags::EMPTY, RW, ObjId::NIL).map_err(err)?;
    let base = sys::obj_map(PEEK_SLOT, private, RW).map_err(err)? as *mut u64;
    let at = protocols::object::BASE_OFFSET as usize / 8;
    const SECRET: u64 = 0x5ec2_e7c0_ffee_0001;
    // SAFETY: a fresh RW mapping of a 64 KiB object; the word lies in its
    // data area and nothing else refers to it.
    unsafe { base.add(at).write_volatile(SECRET) };
    let pid = sys::program_spawn("utest", &format!("ppcserver {gate}")).map_err(err)?;
    let outcome = (|| -> Outcome {
        let mut c = bound_client(gate)?;
        ensure!(c.ping(1) == Ok(2), "the server answers");
        let got = c.fail(PEEK_CODE);
        ensure!(
            got == Err(CallError::Rejected(Rejection::ServerFaulted)),
            "a handler reading the caller's slot {PEEK_SLOT}: {got:?}"
        );
        // SAFETY: as above; still mapped.
        let still = unsafe { base.add(at).read_volatile() };
        ensure!(still == SECRET, "the caller's word is now {still:#x}");
        Ok(())
    })();
    let _ = sys::program_kill(pid);
    // SAFETY: nothing refers into the slot any more.
    let _ = unsafe { sys::obj_unmap(PEEK_SLOT) };
    outcome
}

/// The test server: `Echo`, except that `fail(FAULT_CODE)` faults.
struct TestEcho(EchoImpl);

impl echo::Server for TestEcho {
    fn null(&mut self) -> Result<(), echo::EchoError> {
        self.0.null()
    }
    fn ping(&mut self, v: u64) -> Result<u64, echo::EchoError> {
        self.0.ping(v)
    }
    fn echo(&mut self, d: ipc::Bytes<MAX_ECHO>) -> Result<ipc::Bytes<MAX_ECHO>, echo::EchoError> {
        self.0.echo(d)
    }
    fn transform(
        &mut self,
        op: EchoOp,
        d: ipc::Bytes<MAX_ECHO>,
    ) -> Result<ipc::Bytes<MAX_ECHO>, echo::EchoError> {
        self.0.transform(op, d)
    }
    fn fail(&mut self, code: u32) -> Result<(), echo::EchoError> {
        if code == FAULT_CODE {
            // SAFETY: deliberately not safe: a write to address 0 faults,
            // which is what this gate is for.
            unsafe { core::ptr::write_volatile(core::ptr::null_mut::<u64>(), 1) };
        }
        if code == PEEK_CODE {
            let addr = PEEK_SLOT * protocols::object::SLOT_SIZE + protocols::object::BASE_OFFSET;
            // SAFETY: deliberately not safe: the address is the caller's
            // mapping, absent from this address space, so the read faults
            // (what the isolation test wants); nothing is read.
            let seen = unsafe { core::ptr::read_volatile(addr as *const u64) };
            println!("ppcserver: read the caller's memory: {seen:#x}");
        }
        self.0.fail(code)
    }
}

/// `utest ppcserver GATE`: serves `Echo` behind gate object `GATE`.
pub fn server(gate: &str) -> u64 {
    let Ok(id) = u128::from_str_radix(gate, 16) else {
        println!("ppcserver: bad gate {gate:?}");
        return 2;
    };
    let e = runtime::ppc::serve(
        ObjId::from_u128(id),
        echo::Echo::GATES,
        echo::Service(TestEcho(EchoImpl::default())),
        8,
    );
    println!("ppcserver: cannot serve: {e}");
    1
}
