//! [`KObject::store_durable`]: the kernel's own durable stores into a
//! persistent object (a thread KSO's live fields).

use kcore::paging::{ADDR_MASK, PAGE_SIZE, TableAccess, flags};
use protocols::syscall::SysError;

use super::{KObject, page_table, tables};
use crate::mm::phys_to_virt;

/// A value [`KObject::store_durable`] stores.
#[derive(Clone, Copy, Debug)]
pub enum Word {
    /// A 4-byte word.
    U32(u32),
    /// An 8-byte word.
    U64(u64),
    /// An object ID (two 8-byte words, low first).
    Id(u128),
}

impl Word {
    fn len(self) -> u64 {
        match self {
            Word::U32(_) => 4,
            Word::U64(_) => 8,
            Word::Id(_) => 16,
        }
    }
}

impl KObject {
    /// Stores `value` at `offset` of a page that is backed, and makes it
    /// durable: the kernel's updates of a thread KSO's live fields. Each
    /// aligned word is failure-atomic on its own (an ID is two words).
    /// Never backs a page, and never writes a revoked object (whose frames
    /// may belong to another object now).
    pub fn store_durable(&self, offset: u64, value: Word) -> Result<(), SysError> {
        let len = value.len();
        if !offset.is_multiple_of(len.min(8))
            || offset % 64 + len > 64
            || !self.offset_valid(offset)
        {
            return Err(SysError::InvalidArgument);
        }
        let page = offset & !(PAGE_SIZE - 1);
        let _pages = self.pages.lock();
        if self.is_revoked() {
            return Err(SysError::NotFound);
        }
        let mut t = tables();
        let pt_index = ((page >> 12) & 0x1ff) as usize;
        let pt = page_table(&mut t, self.pd, page, false)?.ok_or(SysError::NotFound)?;
        let pte = t.read_entry(pt, pt_index);
        if pte & flags::PRESENT == 0 {
            return Err(SysError::NotFound);
        }
        let dst = phys_to_virt((pte & ADDR_MASK) + offset % PAGE_SIZE);
        // SAFETY: the frame is this object's (not revoked: checked under
        // the lock `revoke` takes) and mapped in the HHDM; the aligned
        // value (at most 16 bytes, aligned to its word size) stays inside
        // one page and one cache line of it.
        unsafe {
            match value {
                Word::U32(v) => (dst as *mut u32).write_volatile(v),
                Word::U64(v) => (dst as *mut u64).write_volatile(v),
                Word::Id(v) => {
                    (dst as *mut u64).write_volatile(v as u64);
                    ((dst + 8) as *mut u64).write_volatile((v >> 64) as u64);
                }
            }
        }
        crate::arch::x86_64::cpu::persist_line(dst);
        Ok(())
    }
}
