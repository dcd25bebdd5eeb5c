//! The user address space every program gets.
//!
//! ```text
//! 0x0000_0000_0000_0000  null guard (never mapped)
//! 0x0000_0000_0040_0000  PROGRAM_BASE: the program's ELF segments
//! 0x0000_0001_0000_0000  HEAP_BASE: demand-zero heap, HEAP_SIZE bytes
//! 0x0000_0100_0000_0000  SLOT_BASE: SLOT_COUNT object slots of 1 GiB
//!                        (`protocols::object::SLOT_SIZE`), one PML4 entry
//! 0x0000_0180_0000_0000  SLOT_END
//! 0x0000_7fff_fff0_0000  the first thread's stack (STACK_SIZE, demand-zero)
//! 0x0000_8000_0000_0000  end of user space (USER_END)
//! ```
//! Slot `i` of a program's view is `[SLOT_BASE + i * SLOT_SIZE, + SLOT_SIZE)`:
//! the object mapped there (`obj_map`, or the view object's slot table) is
//! addressed at its offsets, with the view's protections AND the active
//! security context's permissions. The program, heap and stack regions
//! are not objects: every security context of a program sees them alike.
//!
//! Demand-zero regions are backed on first touch: a page fault there maps a
//! zeroed frame and the program continues.
//!
//! # Program entry
//!
//! A program is a static ELF64 x86-64 executable (`ET_EXEC`) whose `PT_LOAD`
//! segments lie in `[PROGRAM_BASE, PROGRAM_END)`. The kernel maps each
//! segment with its own permissions (writable only if `PF_W`, executable only
//! if `PF_X`, never both), copies the argument string to the top of the first
//! thread's stack, and starts the first thread at the ELF entry point with
//! `rdi` = address of the argument bytes, `rsi` = their length (UTF-8, no
//! NUL), `rsp` 16-byte aligned below them, and every other register zero.
//! Interrupts are on; the thread runs at priority [`DEFAULT_PRIORITY`].

/// Lowest address a program's ELF segments may use.
pub const PROGRAM_BASE: u64 = 0x40_0000;
/// Highest address (exclusive) a program's ELF segments may use.
pub const PROGRAM_END: u64 = 0x4000_0000;
/// Start of the heap.
pub const HEAP_BASE: u64 = 0x1_0000_0000;
/// Size of the heap region.
pub const HEAP_SIZE: u64 = 1 << 30;
/// Size of the first thread's stack.
pub const STACK_SIZE: u64 = 1 << 20;
/// Top (exclusive) of the first thread's stack.
pub const STACK_TOP: u64 = 0x7fff_fff0_0000;
/// First address past user space.
pub const USER_END: u64 = 0x8000_0000_0000;
/// Priority of a program's first thread.
pub const DEFAULT_PRIORITY: u64 = 4;
/// Longest argument string a program can be given.
pub const MAX_ARGS_LEN: u64 = 4096;
/// First address of the object slots (the whole of PML4 entry 2).
pub const SLOT_BASE: u64 = 0x100_0000_0000;
/// How many object slots a view has.
pub const SLOT_COUNT: u64 = 512;
/// First address past the object slots.
pub const SLOT_END: u64 = SLOT_BASE + SLOT_COUNT * crate::object::SLOT_SIZE;

/// The base address of view slot `slot`, if there is such a slot.
pub const fn slot_address(slot: u64) -> Option<u64> {
    if slot < SLOT_COUNT {
        Some(SLOT_BASE + slot * crate::object::SLOT_SIZE)
    } else {
        None
    }
}

/// The slot holding user address `addr` and the offset in it, if `addr`
/// lies in the slot region.
pub const fn slot_of(addr: u64) -> Option<(u64, u64)> {
    if addr >= SLOT_BASE && addr < SLOT_END {
        let rel = addr - SLOT_BASE;
        Some((
            rel / crate::object::SLOT_SIZE,
            rel % crate::object::SLOT_SIZE,
        ))
    } else {
        None
    }
}

/// Page size.
pub const PAGE_SIZE: u64 = 4096;

/// Where `pmem_map` maps the persistent memory into the object store.
pub const PMEM_BASE: u64 = 0x200_0000_0000;
/// Most persistent memory `pmem_map` maps (1 TiB).
pub const PMEM_MAX: u64 = 1 << 40;

/// Whether `[addr, addr + len)` lies wholly in user space (without
/// overflow). A zero-length range at any user address is accepted.
pub const fn is_user_range(addr: u64, len: u64) -> bool {
    match addr.checked_add(len) {
        Some(end) => addr < USER_END && end <= USER_END,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ranges_stop_at_the_canonical_hole() {
        assert!(is_user_range(PROGRAM_BASE, 4096));
        assert!(is_user_range(USER_END - 8, 8));
        assert!(!is_user_range(USER_END - 8, 9));
        assert!(!is_user_range(USER_END, 0));
        assert!(!is_user_range(u64::MAX - 2, 8));
        assert!(!is_user_range(0xffff_8000_0000_0000, 8));
        const { assert!(HEAP_BASE + HEAP_SIZE < STACK_TOP - STACK_SIZE) };
        const { assert!(PROGRAM_END <= HEAP_BASE) };
    }

    #[test]
    fn slots_fill_one_pml4_entry_clear_of_everything_else() {
        const { assert!(HEAP_BASE + HEAP_SIZE <= SLOT_BASE) };
        const { assert!(SLOT_END <= STACK_TOP - STACK_SIZE) };
        assert_eq!(SLOT_BASE % (1 << 39), 0);
        assert_eq!(SLOT_END - SLOT_BASE, 1 << 39);
        assert_eq!(slot_address(0), Some(SLOT_BASE));
        assert_eq!(slot_address(511), Some(SLOT_END - (1 << 30)));
        assert_eq!(slot_address(512), None);
        assert_eq!(slot_of(SLOT_BASE + (3 << 30) + 5), Some((3, 5)));
        assert_eq!(slot_of(SLOT_END), None);
        assert_eq!(slot_of(SLOT_BASE - 1), None);
    }
}
