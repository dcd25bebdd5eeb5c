//! Published services: names under which servers publish their gate
//! objects, so a client can find the object store (`objstore`) without
//! being told its gate object's ID.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use protocols::object::ObjId;
use protocols::syscall::{MAX_SERVICE_NAME, SysError};

use super::gate;
use crate::program::Program;
use crate::sync::IrqMutex;
use crate::syscall::user_ptr::{UserIn, UserOut};

type Name = [u8; MAX_SERVICE_NAME];

static SERVICES: IrqMutex<BTreeMap<Name, ObjId>> = IrqMutex::new(BTreeMap::new());
/// Most names published at once.
const MAX_SERVICES: usize = 256;

fn name(program: &Arc<Program>, ptr: u64, len: u64) -> Result<Name, SysError> {
    if len == 0 || len > MAX_SERVICE_NAME as u64 {
        return Err(SysError::InvalidArgument);
    }
    let mut n = [0u8; MAX_SERVICE_NAME];
    UserIn::new(program, ptr, len)?.read(0, &mut n[..len as usize]);
    Ok(n)
}

/// Whether the live server behind `obj` is program `pid`.
fn served_by(obj: ObjId, pid: u64) -> bool {
    gate::lookup(obj).is_some_and(|s| s.program_id() == pid && s.live_program().is_some())
}

/// `service_publish`.
pub fn publish(program: &Arc<Program>, a: [u64; 6]) -> Result<u64, SysError> {
    let n = name(program, a[0], a[1])?;
    let obj = ObjId::from_u128((u128::from(a[3]) << 64) | u128::from(a[2]));
    if !served_by(obj, program.id) {
        return Err(SysError::PermissionDenied);
    }
    let mut services = SERVICES.lock();
    if let Some(&old) = services.get(&n)
        && old != obj
        && gate::lookup(old).is_some_and(|s| s.live_program().is_some())
    {
        return Err(SysError::Exists);
    }
    if services.len() >= MAX_SERVICES && !services.contains_key(&n) {
        return Err(SysError::NoMemory);
    }
    services.insert(n, obj);
    Ok(0)
}

/// `service_lookup`.
pub fn lookup(program: &Arc<Program>, a: [u64; 6]) -> Result<u64, SysError> {
    let n = name(program, a[0], a[1])?;
    let out = UserOut::new(program, a[2], 16)?;
    let obj = *SERVICES.lock().get(&n).ok_or(SysError::NotFound)?;
    out.write(0, &obj.to_le_bytes());
    Ok(0)
}

/// The gate object published under `name`, if any (the kernel's own
/// lookups, e.g. the pager).
pub fn find(name: &[u8]) -> Option<ObjId> {
    if name.is_empty() || name.len() > MAX_SERVICE_NAME {
        return None;
    }
    let mut n = [0u8; MAX_SERVICE_NAME];
    n[..name.len()].copy_from_slice(name);
    SERVICES.lock().get(&n).copied()
}
