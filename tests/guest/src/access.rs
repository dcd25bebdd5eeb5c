//! `store` access checks: the object store acts for its caller, so it
//! grants a call only what the caller's active security context grants on
//! the object (`ppc_caller_perms`) — default permissions alone, or a
//! verified capability — and a thread KSO, readable by all and writable by
//! none, cannot be overwritten through it.

use alloc::format;
use alloc::string::String;

use protocols::ipc::{Bytes, CallError};
use protocols::kso::CtxFlags;
use protocols::ksod;
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::objstore::{CreateSpec, StoreError};
use runtime::ppc::Gate;
use runtime::sys;
use utest::objsetup::{add_cap, grant, new_ctx, new_keys};
use utest::pstore::StoreClient;

use crate::ensure;
use crate::report::Outcome;

const DENIED: Result<(), CallError<StoreError>> = Err(CallError::Server(StoreError::Denied));

fn err(e: impl core::fmt::Debug) -> String {
    format!("{e:?}")
}

fn bytes(b: &[u8]) -> Bytes<{ protocols::objstore::MAX_RW }> {
    Bytes::from_slice(b).unwrap_or_default()
}

fn create(c: &mut StoreClient, perms: Perms, key: ObjId) -> Result<ObjId, String> {
    let spec = CreateSpec {
        size: 4096,
        flags: ObjFlags::PERSISTENT,
        default_perms: perms,
        key,
    };
    c.create(spec).map(|i| i.id).map_err(err)
}

/// Default permissions alone: each call needs its right.
pub fn by_default_perms(c: &mut StoreClient) -> Outcome {
    let read_only = create(c, Perms::READ, ObjId::NIL)?;
    ensure!(c.read(read_only, 0, 4).is_ok(), "READ should allow a read");
    let w = c.write(read_only, 0, bytes(b"no"));
    ensure!(w == DENIED, "a write without WRITE: {w:?}");
    let r = c.resize(read_only, 8192).map(drop);
    ensure!(r == DENIED, "a resize without WRITE: {r:?}");
    let d = c.delete(read_only);
    ensure!(d == DENIED, "a delete without DELETE: {d:?}");
    ensure!(
        c.stat(read_only).is_ok(),
        "the refused calls changed nothing"
    );

    let rw = create(c, Perms::READ | Perms::WRITE, ObjId::NIL)?;
    ensure!(
        c.write(rw, 0, bytes(b"ok")).is_ok(),
        "WRITE should allow a write"
    );
    let d = c.delete(rw);
    ensure!(d == DENIED, "a delete with RW only: {d:?}");
    let none = create(c, Perms::EMPTY, ObjId::NIL)?;
    let r = c.read(none, 0, 4).map(drop);
    ensure!(r == DENIED, "a read without READ: {r:?}");
    let missing = c.delete(ObjId::from_u128(0x0dd));
    ensure!(
        missing == Err(CallError::Server(StoreError::NotFound)),
        "an object nobody made: {missing:?}"
    );
    // Created to be undeletable, they stay: the test's own litter is
    // three 4 KiB objects.
    Ok(())
}

/// A capability in the caller's active context grants through the store
/// what it grants to a mapping; with the default context active again,
/// the same calls are refused.
pub fn by_capability(c: &mut StoreClient) -> Outcome {
    let keys = new_keys().map_err(err)?;
    let target = create(c, Perms::READ, keys.public)?;
    let (ctx, base) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
    // SAFETY: `base` is the fresh context's read/write mapping.
    unsafe {
        add_cap(
            base,
            0,
            &keys,
            &grant(target, ctx, Perms::READ | Perms::WRITE | Perms::DELETE),
        )
    }
    .map_err(err)?;
    sys::ctx_attach(ctx).map_err(err)?;
    let outcome = (|| -> Outcome {
        let w = c.write(target, 0, bytes(b"before"));
        ensure!(w == DENIED, "with the default context active: {w:?}");
        sys::ctx_activate(ctx).map_err(err)?;
        let w = c.write(target, 0, bytes(b"granted"));
        ensure!(w == Ok(()), "with the capability's context active: {w:?}");
        sys::ctx_activate(ObjId::NIL).map_err(err)?;
        let d = c.delete(target);
        ensure!(d == DENIED, "a delete from the default context: {d:?}");
        let back = c.read(target, 0, 7).map_err(err)?;
        ensure!(back.as_slice() == b"granted", "read back {back:?}");
        sys::ctx_activate(ctx).map_err(err)?;
        let d = c.delete(target);
        ensure!(d == Ok(()), "a delete the capability grants: {d:?}");
        Ok(())
    })();
    let _ = sys::ctx_activate(ObjId::NIL);
    let _ = sys::ctx_detach(ctx);
    outcome
}

/// A thread KSO (`ksod` records one per supervised server) is readable
/// through the store and cannot be overwritten or resized through it.
pub fn thread_kso(c: &mut StoreClient) -> Outcome {
    let gate = Gate::connect(ksod::KSOD_SERVICE, 10_000).map_err(err)?;
    let page = ksod::Client::new(gate).list(0).map_err(err)?;
    let kso = page
        .entries
        .iter()
        .find(|e| !e.quarantined)
        .ok_or("ksod lists no thread KSO")?
        .kso;
    let before = c.read(kso, 0, 64).map_err(err)?;
    let w = c.write(kso, 0, bytes(&[0xa5; 64]));
    ensure!(w == DENIED, "overwriting thread KSO {kso}: {w:?}");
    let r = c.resize(kso, 0).map(drop);
    ensure!(r == DENIED, "resizing thread KSO {kso}: {r:?}");
    let after = c.read(kso, 0, 64).map_err(err)?;
    ensure!(before == after, "thread KSO {kso} changed");
    Ok(())
}
