//! Object, view and security-context calls: `obj_*`, `kso_invalidate`,
//! `ctx_*` and `view_attach`. Each decodes every argument first.

use alloc::sync::Arc;

use protocols::kso::VIEW_PROTS;
use protocols::layout::slot_address;
use protocols::object::{OBJ_INFO_LEN, ObjFlags, ObjId, Perms};
use protocols::syscall::SysError;

use super::user_ptr::UserOut;
use crate::object::secctx;
use crate::object::table::{self, KObject};
use crate::program::Program;
use crate::sched;

fn id(lo: u64, hi: u64) -> ObjId {
    ObjId::from_u128((u128::from(hi) << 64) | u128::from(lo))
}

fn object(lo: u64, hi: u64) -> Result<Arc<KObject>, SysError> {
    table::get(id(lo, hi)).ok_or(SysError::NotFound)
}

fn perms(bits: u64) -> Result<Perms, SysError> {
    u32::try_from(bits)
        .ok()
        .and_then(Perms::from_bits)
        .ok_or(SysError::InvalidArgument)
}

fn require(program: &Program, obj: &KObject, need: Perms) -> Result<(), SysError> {
    match need.is_subset_of(program.objects.active_perms(sched::current_tid(), obj)) {
        true => Ok(()),
        false => Err(SysError::PermissionDenied),
    }
}

/// `obj_create`.
pub fn create(program: &Arc<Program>, a: super::Args) -> Result<u64, SysError> {
    let flags = u32::try_from(a[1])
        .ok()
        .and_then(ObjFlags::from_bits)
        .ok_or(SysError::InvalidArgument)?;
    let default_perms = perms(a[2])?;
    let out = UserOut::new(program, a[5], 16)?;
    let obj = table::create(a[0], flags, default_perms, id(a[3], a[4]))?;
    out.write(0, &obj.id.to_le_bytes());
    Ok(0)
}

/// `obj_delete`.
pub fn delete(program: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    let obj = object(lo, hi)?;
    require(program, &obj, Perms::DELETE)?;
    table::delete(obj.id).map(|()| 0)
}

/// `obj_map`.
pub fn map(
    program: &Arc<Program>,
    slot: u64,
    lo: u64,
    hi: u64,
    prot: u64,
) -> Result<u64, SysError> {
    let prot = perms(prot)?;
    let base = slot_address(slot).ok_or(SysError::InvalidArgument)?;
    if !prot.is_subset_of(VIEW_PROTS) {
        return Err(SysError::InvalidArgument);
    }
    let obj = object(lo, hi)?;
    program.objects.map(slot, obj, prot)?;
    Ok(base)
}

/// `obj_unmap`.
pub fn unmap(program: &Arc<Program>, slot: u64) -> Result<u64, SysError> {
    program.objects.unmap(slot).map(|()| 0)
}

/// `obj_info`.
pub fn info(program: &Arc<Program>, lo: u64, hi: u64, buf: u64, len: u64) -> Result<u64, SysError> {
    if len < OBJ_INFO_LEN as u64 {
        return Err(SysError::InvalidArgument);
    }
    let out = UserOut::new(program, buf, OBJ_INFO_LEN as u64)?;
    let obj = object(lo, hi)?;
    Ok(out.write(0, &obj.info().encode()) as u64)
}

/// `kso_invalidate`.
pub fn invalidate(program: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    let id = id(lo, hi);
    if program.objects.invalidate_view(id)? {
        return Ok(0);
    }
    let ctx = secctx::cached(id).ok_or(SysError::NotFound)?;
    ctx.invalidate()?;
    Ok(0)
}

/// `ctx_attach`.
pub fn attach(program: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    let obj = object(lo, hi)?;
    require(program, &obj, Perms::USE)?;
    let ctx = secctx::get_or_load(obj.id)?;
    program
        .objects
        .attach(sched::current_tid(), &program.space, ctx)?;
    if let Some(kso) = &program.kso
        && obj.flags.contains(ObjFlags::PERSISTENT)
    {
        kso.note_attach(obj.id);
    }
    Ok(0)
}

/// `ctx_detach`.
pub fn detach(program: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    let id = id(lo, hi);
    program
        .objects
        .detach(sched::current_tid(), &program.space, id)?;
    if let Some(kso) = &program.kso {
        kso.note_detach(id);
    }
    Ok(0)
}

/// `ctx_activate`.
pub fn activate(program: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    program
        .objects
        .activate(sched::current_tid(), &program.space, id(lo, hi))
        .map(|()| 0)
}

/// `ctx_current`.
pub fn current(program: &Arc<Program>, out: u64) -> Result<u64, SysError> {
    let out = UserOut::new(program, out, 16)?;
    out.write(
        0,
        &program.objects.current(sched::current_tid()).to_le_bytes(),
    );
    Ok(0)
}

/// `ctx_check`.
pub fn check(program: &Arc<Program>, a: super::Args) -> Result<u64, SysError> {
    let target = object(a[2], a[3])?;
    program
        .objects
        .check(sched::current_tid(), id(a[0], a[1]), &target)
        .map(|p| u64::from(p.bits()))
}

/// `view_attach`.
pub fn view_attach(program: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    let obj = object(lo, hi)?;
    require(program, &obj, Perms::USE)?;
    let (view, persistent) = (obj.id, obj.flags.contains(ObjFlags::PERSISTENT));
    program.objects.attach_view(obj)?;
    if let Some(kso) = &program.kso
        && persistent
    {
        kso.note_view(view);
    }
    Ok(0)
}

/// `ppc_caller_perms`: what the active context of the program that made
/// the current call grants on object `id` — the check the kernel makes
/// for that program's own accesses, for a server acting on its behalf.
pub fn caller_perms(lo: u64, hi: u64) -> Result<u64, SysError> {
    let (caller, tid) = sched::ppc::program_caller().ok_or(SysError::InvalidArgument)?;
    let obj = object(lo, hi)?;
    Ok(u64::from(caller.objects.active_perms(tid, &obj).bits()))
}
