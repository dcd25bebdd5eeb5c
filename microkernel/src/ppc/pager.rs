//! The kernel's side of the pager protocol ([`protocols::objstore::pager`]):
//! when a thread touches a page of a persistent object that has no frame
//! yet, the kernel *asks* the store where the page lives — a protected
//! procedure call the kernel makes on the faulting thread's behalf, to the
//! gate object the store published as `pager` — and maps the NVDIMM frame
//! the store names straight into the object's page directory. The faulting
//! access then retries; no byte is copied.

use alloc::sync::Arc;

use protocols::ipc::{self, HEADER_LEN, MAX_MESSAGE, MsgHeader, wire};
use protocols::layout::PAGE_SIZE;
use protocols::object::ObjId;
use protocols::objstore::{StoreError, pager};

use super::{CallKind, gate};
use crate::arch::TrapFrame;
use crate::object::table::KObject;
use crate::{acpi, kprintln, sched};

/// The service name the store publishes its pager under.
pub const SERVICE: &[u8] = b"pager";
/// The `Lookup` gate.
const LOOKUP: u16 = 1;

/// Starts asking the pager for page `page` of `obj` on behalf of the
/// thread whose faulting user frame is `frame` (which becomes the
/// handler's). `false`: no pager to ask (the fault is the program's).
pub fn ask(frame: &mut TrapFrame, obj: Arc<KObject>, page: u64) -> bool {
    let Some(gate_obj) = super::service::find(SERVICE) else {
        return false;
    };
    let Some(server) = gate::lookup(gate_obj) else {
        return false;
    };
    // Only the program that owns the persistent memory may answer.
    if server.program_id() != crate::syscall::pmem_owner() || !server.serves(u64::from(LOOKUP)) {
        return false;
    }
    let Some(target) = server.live_program() else {
        return false;
    };
    let Some(msg) = request(obj.id, page, server.generation) else {
        return false;
    };
    let (buf, len) = msg;
    super::call::enter(
        frame,
        server,
        target,
        u64::from(LOOKUP),
        &buf[..len],
        CallKind::Pager { obj, page },
    )
    .is_ok()
}

/// Whether a live store answers the pager gate now. A fault on a
/// persistent page while it does not (the store is restarting) waits for
/// it instead of ending the program: see [`wait_for_store`].
pub fn available() -> bool {
    super::service::find(SERVICE)
        .and_then(gate::lookup)
        .is_some_and(|s| s.live_program().is_some())
}

/// Longest a fault waits for a restarting store.
const STORE_PATIENCE_NANOS: u64 = 10_000_000_000;
/// Polling step while waiting.
const STORE_POLL_NANOS: u64 = 5_000_000;

/// Blocks the faulting thread until a store serves the pager again (the
/// access then retries); `false` if none came back within
/// [`STORE_PATIENCE_NANOS`] (the fault is the program's then). A supervisor
/// restarts a killed or crashed store in tens of milliseconds; without
/// this, every program touching an unmapped persistent page in that window
/// would die with it.
pub fn wait_for_store() -> bool {
    let deadline = crate::time::deadline_after(STORE_PATIENCE_NANOS);
    loop {
        if available() {
            return true;
        }
        let now = crate::time::deadline_after(0);
        if now >= deadline {
            return false;
        }
        let step = crate::time::deadline_after(STORE_POLL_NANOS);
        if sched::block(None, Some(step), |_| true) == Some(sched::Wake::Killed) {
            // Killed while waiting: the thread ends on its way out.
            return true;
        }
    }
}

/// The `Lookup(id, slot page)` request envelope.
fn request(id: ObjId, page: u64, generation: u64) -> Option<([u8; MAX_MESSAGE], usize)> {
    let mut buf = [0u8; MAX_MESSAGE];
    let slot_page = u32::try_from(page / PAGE_SIZE).ok()?;
    let n = wire::encode(&(id, slot_page), &mut buf[HEADER_LEN..]).ok()?;
    let mut h = MsgHeader::request(pager::ID, LOOKUP, generation);
    h.body_len = n as u32;
    buf[..HEADER_LEN].copy_from_slice(&h.encode());
    Some((buf, HEADER_LEN + n))
}

/// The pager answered `reply` for page `page` of `obj`: map the frame (the
/// faulting access retries), or end the program whose access it was.
pub fn answer(obj: Arc<KObject>, page: u64, generation: u64, reply: &[u8]) {
    if obj.is_revoked() {
        // Deleted or resized while the store answered: the access retries
        // and faults again against whatever the table holds now.
        return;
    }
    let outcome = ipc::decode_reply::<u64, StoreError>(pager::ID, LOOKUP, generation, reply);
    let mapped = match (outcome, acpi::pmem_range()) {
        (Ok(off), Some((base, len))) if off < len && off.is_multiple_of(PAGE_SIZE) => {
            obj.set_frame(page, base + off).is_ok()
        }
        _ => false,
    };
    if !mapped {
        kprintln!(
            "pager: no frame for object {} offset {page:#x}; the faulting program is ended",
            obj.id
        );
        drop(obj);
        sched::kill_current_program(protocols::syscall::EXIT_FAULT | 14);
    }
}
