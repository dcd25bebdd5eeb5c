//! The guest [`Mapper`]: maps objects into slots of the program's view with
//! the `obj_map` system call, from a chosen first slot upwards.

use alloc::collections::BTreeMap;
use core::ptr::NonNull;

use protocols::layout::SLOT_COUNT;
use protocols::object::{ObjId, Perms};
use protocols::syscall::SysError;

use crate::space::{MapError, Mapper, SlotBase};

/// Maps through the kernel: each new object takes the next free slot at or
/// after `first_slot` (a slot the kernel says is busy is skipped).
pub struct KernelMapper {
    next: u64,
    mapped: BTreeMap<ObjId, (u64, Perms)>,
}

impl KernelMapper {
    /// A mapper handing out slots from `first_slot`.
    pub fn new(first_slot: u64) -> KernelMapper {
        KernelMapper {
            next: first_slot,
            mapped: BTreeMap::new(),
        }
    }
}

// SAFETY: a slot the kernel mapped starts SLOT_SIZE bytes of the object at
// a page-aligned address that stays valid until unmapped, which this mapper
// never does; an object already mapped returns its first base. Access the
// security context forbids faults (a security fault), never aliases.
unsafe impl Mapper for KernelMapper {
    fn map(&mut self, id: ObjId, prot: Perms) -> Result<SlotBase, MapError> {
        if let Some(&(slot, have)) = self.mapped.get(&id) {
            if !prot.is_subset_of(have) {
                return Err(MapError::Denied(id));
            }
            let base = protocols::layout::slot_address(slot).ok_or(MapError::NoFreeSlot)?;
            return NonNull::new(base as *mut u8)
                .map(SlotBase)
                .ok_or(MapError::NoFreeSlot);
        }
        let prot = prot & protocols::kso::VIEW_PROTS;
        while self.next < SLOT_COUNT {
            let slot = self.next;
            self.next += 1;
            match runtime::sys::obj_map(slot, id, prot) {
                Ok(base) => {
                    self.mapped.insert(id, (slot, prot));
                    return NonNull::new(base as *mut u8)
                        .map(SlotBase)
                        .ok_or(MapError::NoFreeSlot);
                }
                Err(SysError::Busy) => continue,
                Err(SysError::NotFound) => return Err(MapError::NotFound(id)),
                Err(_) => return Err(MapError::Denied(id)),
            }
        }
        Err(MapError::NoFreeSlot)
    }
}
