//! The user address space every program gets.
//!
//! ```text
//! 0x0000_0000_0000_0000  null guard (never mapped)
//! 0x0000_0000_0040_0000  PROGRAM_BASE: the program's ELF segments
//! 0x0000_0001_0000_0000  HEAP_BASE: demand-zero heap, HEAP_SIZE bytes
//! 0x0000_7fff_fff0_0000  the first thread's stack (STACK_SIZE, demand-zero)
//! 0x0000_8000_0000_0000  end of user space (USER_END)
//! ```
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
/// Page size.
pub const PAGE_SIZE: u64 = 4096;

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
}
