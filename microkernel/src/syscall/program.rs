//! `program_spawn`, `program_wait`.

use alloc::sync::Arc;
use alloc::vec;

use protocols::layout::MAX_ARGS_LEN;
use protocols::syscall::SysError;

use super::user_ptr::UserIn;
use crate::program::{self, MAX_NAME_LEN, Program};
use crate::{sched, time};

/// `program_spawn(name, name_len, args, args_len)`.
pub fn spawn(
    caller: &Arc<Program>,
    name: u64,
    name_len: u64,
    args: u64,
    args_len: u64,
) -> Result<u64, SysError> {
    if name_len == 0 || name_len > MAX_NAME_LEN as u64 {
        return Err(if name_len == 0 {
            SysError::InvalidArgument
        } else {
            SysError::TooLarge
        });
    }
    if args_len > MAX_ARGS_LEN {
        return Err(SysError::TooLarge);
    }
    let name_in = UserIn::new(caller, name, name_len)?;
    let args_in = UserIn::new(caller, args, args_len)?;
    let mut name_buf = vec![0u8; name_in.len()];
    name_in.read(0, &mut name_buf);
    let mut args_buf = vec![0u8; args_in.len()];
    args_in.read(0, &mut args_buf);
    if name_buf.contains(&b'/') {
        return Err(SysError::NotFound);
    }
    program::spawn(&name_buf, &args_buf, caller.id)
}

/// `program_wait(id, timeout_nanos)`.
/// `program_kill`.
pub fn kill(caller: &Arc<Program>, id: u64) -> Result<u64, SysError> {
    sched::kill_child(id, caller.id, protocols::syscall::EXIT_KILLED).map(|()| 0)
}

/// `program_wait`.
pub fn wait(caller: &Arc<Program>, id: u64, timeout: u64) -> Result<u64, SysError> {
    let deadline = (timeout != 0).then(|| time::deadline_after(timeout));
    sched::wait_program(id, caller.id, deadline)
}

/// `program_start_kso(id_lo, id_hi)`.
pub fn start_kso(caller: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    let id = protocols::object::ObjId::from_u128((u128::from(hi) << 64) | u128::from(lo));
    crate::program::kso::start(caller, id)
}

/// `kso_self(buf, len)`.
pub fn kso_self(caller: &Arc<Program>, buf: u64, len: u64) -> Result<u64, SysError> {
    let kso = caller.kso.as_ref().ok_or(SysError::NotFound)?;
    let bytes = kso.notice().encode();
    if (bytes.len() as u64) > len {
        return Err(SysError::TooLarge);
    }
    let out = super::user_ptr::UserOut::new(caller, buf, bytes.len() as u64)?;
    out.write(0, &bytes);
    Ok(bytes.len() as u64)
}

/// `kso_resume_register()`.
pub fn kso_resume_register(caller: &Arc<Program>) -> Result<u64, SysError> {
    let kso = caller.kso.as_ref().ok_or(SysError::NotFound)?;
    kso.register_resume();
    Ok(0)
}
