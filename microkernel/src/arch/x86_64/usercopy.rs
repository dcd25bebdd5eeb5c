//! The one place the kernel touches user memory by its user address.
//!
//! With SMAP on, a kernel access to a user page faults unless RFLAGS.AC is
//! set; every access here is bracketed by `stac`/`clac`. Callers (the typed
//! wrappers in `syscall::user_ptr`) have checked that the range is user
//! space and mapped with the access needed, so the copies cannot fault.

use super::cpu::smap_enabled;

struct UserAccess;

impl UserAccess {
    fn open() -> UserAccess {
        if smap_enabled() {
            // SAFETY: sets RFLAGS.AC; the guard clears it again.
            unsafe { core::arch::asm!("stac", options(nostack)) };
        }
        UserAccess
    }
}

impl Drop for UserAccess {
    fn drop(&mut self) {
        if smap_enabled() {
            // SAFETY: clears RFLAGS.AC.
            unsafe { core::arch::asm!("clac", options(nostack)) };
        }
    }
}

/// Copies `dst.len()` bytes from user address `src`.
///
/// # Safety
///
/// `[src, src + dst.len())` must be user memory mapped readable in the
/// current address space, and stay so during the call.
pub unsafe fn copy_from_user(dst: &mut [u8], src: u64) {
    let _open = UserAccess::open();
    // SAFETY: the caller guarantees the source is mapped; user memory is
    // never a Rust object, so it cannot overlap `dst`.
    unsafe { core::ptr::copy_nonoverlapping(src as *const u8, dst.as_mut_ptr(), dst.len()) };
}

/// Copies `src` to user address `dst`.
///
/// # Safety
///
/// `[dst, dst + src.len())` must be user memory mapped writable in the
/// current address space, and stay so during the call.
pub unsafe fn copy_to_user(dst: u64, src: &[u8]) {
    let _open = UserAccess::open();
    // SAFETY: as above, with the destination mapped writable.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst as *mut u8, src.len()) };
}

/// Reads the aligned 64-bit word at user address `addr` atomically.
///
/// # Safety
///
/// `addr` must be 8-byte aligned and mapped readable in the current
/// address space.
pub unsafe fn read_user_u64(addr: u64) -> u64 {
    let _open = UserAccess::open();
    // SAFETY: aligned and mapped (caller); a volatile 8-byte load is one
    // atomic access on x86-64.
    unsafe { (addr as *const u64).read_volatile() }
}
