//! Paging registers: loading CR3 (with a PCID), flushing one page, or
//! flushing everything.

use x86_64::registers::control::{Cr3, Cr4, Cr4Flags};

/// CR3 bit 63: keep the TLB entries tagged with the new PCID.
const NO_FLUSH: u64 = 1 << 63;

/// The physical address of the live PML4.
pub fn current_root() -> u64 {
    Cr3::read_raw().0.start_address().as_u64()
}

/// Loads the PML4 at `root`, tagged `pcid` (0 without PCID); `flush`
/// drops the TLB entries already tagged `pcid`.
///
/// # Safety
///
/// `root` must be a PML4 whose kernel half is the kernel's.
pub unsafe fn load_root(root: u64, pcid: u16, flush: bool) {
    let mut value = root | u64::from(pcid & 0xfff);
    if pcid != 0 && !flush {
        value |= NO_FLUSH;
    }
    // SAFETY: the caller guarantees the kernel stays mapped.
    unsafe { core::arch::asm!("mov cr3, {}", in(reg) value, options(nostack, preserves_flags)) };
}

/// Drops the TLB entry for `virt` (and global entries for it).
pub fn flush_page(virt: u64) {
    ::x86_64::instructions::tlb::flush(::x86_64::VirtAddr::new_truncate(virt));
}

/// Drops every TLB entry tagged `pcid` (of PML4 `root`) without leaving
/// the live root: loads `root` flushing its PCID, then reloads the live
/// root keeping its entries.
///
/// # Safety
///
/// `root` must be a PML4 whose kernel half is the kernel's.
pub unsafe fn flush_tagged(root: u64, pcid: u16) {
    let (frame, live_pcid) = Cr3::read_raw();
    let live = frame.start_address().as_u64();
    // SAFETY: per the contract; then the live root goes back.
    unsafe {
        load_root(root, pcid, true);
        load_root(live, live_pcid, false);
    }
}

/// Drops every TLB entry of this CPU: global ones and those of every PCID.
/// Toggling CR4.PGE does exactly that (Intel SDM vol. 3, 4.10.4.1), with or
/// without PCIDs; the second write restores the bit as it was.
pub fn flush_everything() {
    let cr4 = Cr4::read_raw();
    let toggled = cr4 ^ Cr4Flags::PAGE_GLOBAL.bits();
    // SAFETY: only the PGE bit changes, and it is restored at once; the
    // page tables are untouched, so every mapping stays as it was, minus
    // its cached copy.
    unsafe {
        Cr4::write_raw(toggled);
        Cr4::write_raw(cr4);
    }
}
