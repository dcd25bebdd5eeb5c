//! Page-table frames reached through the HHDM: the live implementation of
//! `kcore::paging::TableAccess`.

use kcore::paging::{self, ENTRIES, TableAccess};

/// Page tables reached through the HHDM.
pub struct HhdmTables {
    hhdm: u64,
}

impl HhdmTables {
    /// Access through the HHDM at `hhdm`.
    ///
    /// # Safety
    ///
    /// Every page-table frame the mapper will reach (existing tables and
    /// frames from its allocator) must be mapped writable at `hhdm + phys`.
    pub unsafe fn new(hhdm: u64) -> HhdmTables {
        HhdmTables { hhdm }
    }

    fn entry_ptr(&self, table: u64, index: usize) -> *mut u64 {
        debug_assert!(index < ENTRIES);
        (self.hhdm + (table & paging::ADDR_MASK) + index as u64 * 8) as *mut u64
    }
}

// SAFETY: `HhdmTables::new`'s contract makes every table frame mapped
// writable at `hhdm + phys`; accesses are volatile, aligned 8-byte ones.
unsafe impl TableAccess for HhdmTables {
    fn read_entry(&mut self, table: u64, index: usize) -> u64 {
        // SAFETY: see the impl: the entry is mapped, aligned, and a u64.
        unsafe { self.entry_ptr(table, index).read_volatile() }
    }

    fn write_entry(&mut self, table: u64, index: usize, value: u64) {
        // SAFETY: as for `read_entry`; the mapper writes only entries of
        // tables it owns.
        unsafe { self.entry_ptr(table, index).write_volatile(value) }
    }

    fn zero_table(&mut self, table: u64) {
        for index in 0..ENTRIES {
            self.write_entry(table, index, 0);
        }
    }
}
