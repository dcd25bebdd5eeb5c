//! The persistent memory and the object store: `pmem_map` gives the
//! NVDIMM region to one program (the store); `obj_pmem_attach` and
//! `obj_pmem_detach` let that program enter persistent objects into the
//! object table, their pages mapped straight to NVDIMM frames.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use protocols::layout::{PAGE_SIZE, PMEM_BASE, PMEM_MAX};
use protocols::object::ObjId;
use protocols::pmem::{self, MAX_RECORD};
use protocols::syscall::SysError;

use super::user_ptr::UserIn;
use crate::object::table;
use crate::program::Program;
use crate::{acpi, sched};

/// The program that owns the persistent memory (0: none yet).
static OWNER: AtomicU64 = AtomicU64::new(0);

/// The program that owns the persistent memory (0: none).
pub fn owner() -> u64 {
    OWNER.load(Ordering::Acquire)
}

/// The region, clipped to what `pmem_map` maps.
fn region() -> Result<(u64, u64), SysError> {
    let (base, len) = acpi::pmem_range().ok_or(SysError::NotFound)?;
    Ok((base, len.min(PMEM_MAX) / PAGE_SIZE * PAGE_SIZE))
}

fn require_owner(program: &Program) -> Result<(), SysError> {
    match OWNER.load(Ordering::Acquire) == program.id {
        true => Ok(()),
        false => Err(SysError::PermissionDenied),
    }
}

/// `pmem_map`.
pub fn map(program: &Arc<Program>) -> Result<u64, SysError> {
    let (base, len) = region()?;
    let mut owner = OWNER.load(Ordering::Acquire);
    loop {
        if owner == program.id {
            break;
        }
        if owner != 0 && sched::ppc::is_running(owner) {
            return Err(SysError::Busy);
        }
        match OWNER.compare_exchange(owner, program.id, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(now) => owner = now,
        }
    }
    for off in (0..len).step_by(PAGE_SIZE as usize) {
        program
            .space
            .map_phys(PMEM_BASE + off, base + off)
            .map_err(|_| SysError::NoMemory)?;
    }
    Ok(len)
}

/// `obj_pmem_attach`.
pub fn attach(program: &Arc<Program>, buf: u64, len: u64) -> Result<u64, SysError> {
    require_owner(program)?;
    if len > MAX_RECORD as u64 {
        return Err(SysError::TooLarge);
    }
    let input = UserIn::new(program, buf, len)?;
    let mut b = [0u8; MAX_RECORD];
    let n = input.read(0, &mut b[..len as usize]);
    let (base, size) = region()?;
    let mut runs = Vec::new();
    let mut bad = false;
    let a = pmem::decode(&b[..n], |r| {
        let end = r
            .pages
            .checked_mul(PAGE_SIZE)
            .and_then(|n| n.checked_add(r.pmem_offset));
        match end {
            Some(e) if e <= size => runs.push((r.slot_offset, base + r.pmem_offset, r.pages)),
            _ => bad = true,
        }
    })
    .map_err(|_| SysError::InvalidArgument)?;
    if bad || a.id.is_nil() {
        return Err(SysError::InvalidArgument);
    }
    table::attach_persistent(&a, &runs).map(|_| 0)
}

/// `obj_pmem_detach`.
pub fn detach(program: &Arc<Program>, lo: u64, hi: u64) -> Result<u64, SysError> {
    require_owner(program)?;
    table::detach_persistent(ObjId::from_u128((u128::from(hi) << 64) | u128::from(lo))).map(|()| 0)
}
