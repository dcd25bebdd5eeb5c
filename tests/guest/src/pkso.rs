//! Kernel state objects kept in the object store: a security context
//! created as a persistent KSO works like one in DRAM (the store maps a
//! KSO's data pages when it attaches the object, so the kernel reads the
//! record straight from the NVDIMM), and one whose record is corrupt is
//! refused with a typed error and a `kso: quarantined` log line, while
//! everything else goes on.

use alloc::format;
use alloc::string::String;

use protocols::kso::{CtxFlags, CtxHeader};
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::objstore::CreateSpec;
use protocols::syscall::SysError;
use runtime::sys;
use utest::objsetup::{RW, SMALL, add_cap, grant, map, new_keys, put};
use utest::pstore::StoreClient;

use crate::ensure;
use crate::report::Outcome;

fn err(e: impl core::fmt::Debug) -> String {
    format!("{e:?}")
}

/// A persistent KSO of [`SMALL`] bytes that every context may use, write
/// and delete; mapped read/write.
fn persistent_kso(c: &mut StoreClient) -> Result<(ObjId, *mut u8), String> {
    let spec = CreateSpec {
        size: SMALL,
        flags: ObjFlags::PERSISTENT | ObjFlags::KSO,
        default_perms: RW | Perms::USE | Perms::DELETE,
        key: ObjId::NIL,
    };
    let id = c.create(spec).map_err(err)?.id;
    let base = map(id, RW).map_err(err)?;
    Ok((id, base))
}

/// A context in the store grants what its capability says.
pub fn context(c: &mut StoreClient) -> Outcome {
    let keys = new_keys().map_err(err)?;
    let target = sys::obj_create(4096, ObjFlags::EMPTY, Perms::EMPTY, keys.public).map_err(err)?;
    let (ctx, base) = persistent_kso(c)?;
    let header = CtxHeader {
        flags: CtxFlags::EMPTY,
        mask: Perms::ALL,
        cap_count: 0,
    };
    // SAFETY: `base` is the fresh context's read/write mapping; the header
    // and the first entry lie in its 64 KiB data area.
    unsafe {
        put(base, BASE_OFFSET, &header.encode());
        add_cap(
            base,
            0,
            &keys,
            &grant(target, ctx, Perms::READ | Perms::WRITE),
        )
    }
    .map_err(err)?;
    sys::ctx_attach(ctx).map_err(err)?;
    let perms = sys::ctx_check(ctx, target).map_err(err)?;
    ensure!(
        perms == Perms::READ | Perms::WRITE,
        "the persistent context grants {perms:?}"
    );
    sys::ctx_detach(ctx).map_err(err)?;
    c.delete(ctx).map_err(err)?;
    Ok(())
}

/// A corrupt context in the store is quarantined: attaching it fails, and
/// the store and the kernel carry on.
pub fn corrupt_context(c: &mut StoreClient) -> Outcome {
    let (ctx, base) = persistent_kso(c)?;
    let junk = [0xa5u8; 64];
    // SAFETY: as in `context`.
    unsafe { put(base, BASE_OFFSET, &junk) };
    let attached = sys::ctx_attach(ctx);
    ensure!(
        attached == Err(SysError::InvalidArgument),
        "attaching a corrupt persistent context: {attached:?}"
    );
    // The rest goes on: the store still answers, and deletes it.
    c.delete(ctx).map_err(err)?;
    Ok(())
}
