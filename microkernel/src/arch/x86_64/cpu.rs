//! CPU features and control registers: what CPUID offers, and turning on
//! NX, WP, SMEP, SMAP, UMIP, global pages and PCID where present.
//!
//! The kernel and every program are built for `x86_64-unknown-none`
//! (soft-float), so no thread uses x87 or SSE state: the kernel turns both
//! off (CR0.EM, CR4.OSFXSR clear), and a stray floating-point instruction
//! faults instead of silently sharing registers between threads.

use core::arch::x86_64::{__cpuid, __cpuid_count};
use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags, Msr};

/// What the CPU offers, from CPUID.
#[derive(Clone, Copy, Debug, Default)]
pub struct Features {
    /// No-execute pages.
    pub nx: bool,
    /// Supervisor-mode execution prevention.
    pub smep: bool,
    /// Supervisor-mode access prevention.
    pub smap: bool,
    /// User-mode instruction prevention.
    pub umip: bool,
    /// Process-context identifiers.
    pub pcid: bool,
    /// Global pages.
    pub pge: bool,
    /// A TSC that ticks at a constant rate.
    pub invariant_tsc: bool,
}

pub(super) static SMAP_ON: AtomicBool = AtomicBool::new(false);
static PCID_ON: AtomicBool = AtomicBool::new(false);

/// Reads the features.
pub fn features() -> Features {
    // CPUID is safe on x86-64; the leaves read are checked against the
    // maximum leaf first.
    {
        let max = __cpuid(0).eax;
        let max_ext = __cpuid(0x8000_0000).eax;
        let l1 = __cpuid(1);
        let l7 = if max >= 7 {
            __cpuid_count(7, 0)
        } else {
            __cpuid(0)
        };
        let has7 = max >= 7;
        let e1 = if max_ext >= 0x8000_0001 {
            __cpuid(0x8000_0001).edx
        } else {
            0
        };
        let e7 = if max_ext >= 0x8000_0007 {
            __cpuid(0x8000_0007).edx
        } else {
            0
        };
        Features {
            nx: e1 & (1 << 20) != 0,
            smep: has7 && l7.ebx & (1 << 7) != 0,
            smap: has7 && l7.ebx & (1 << 20) != 0,
            umip: has7 && l7.ecx & (1 << 2) != 0,
            pcid: l1.ecx & (1 << 17) != 0,
            pge: l1.edx & (1 << 13) != 0,
            invariant_tsc: e7 & (1 << 8) != 0,
        }
    }
}

/// The page attribute table every loader promises (PAT0 WB, PAT1 WT,
/// PAT2 UC-, PAT3 UC, PAT4 WP, PAT5 WC), written so no loader can differ.
const PAT_VALUE: u64 = 0x0007_0105_0007_0406;
const IA32_PAT: u32 = 0x277;

/// Turns on NX (EFER.NXE), `syscall` (EFER.SCE), WP, SMEP, SMAP, UMIP and
/// global pages as present; turns x87/SSE off; programs the PAT. PCID waits
/// for [`enable_pcid`] (it needs a CR3 with a zero PCID field).
pub fn init(f: &Features) {
    // SAFETY: setting NXE and SCE only adds capabilities (the loader's
    // tables already use NX where Limine says it is on); the PAT value keeps
    // the layout every mapping was made with (index 0 WB, 3 UC).
    unsafe {
        Efer::update(|e| {
            e.insert(EferFlags::SYSTEM_CALL_EXTENSIONS);
            if f.nx {
                e.insert(EferFlags::NO_EXECUTE_ENABLE);
            }
        });
        Msr::new(IA32_PAT).write(PAT_VALUE);
    }
    // SAFETY: WP makes the kernel honour read-only pages (it writes only
    // writable ones); EM/!MP/!TS make x87 fault, which no kernel code uses.
    unsafe {
        Cr0::update(|c| {
            c.insert(Cr0Flags::WRITE_PROTECT | Cr0Flags::EMULATE_COPROCESSOR);
            c.remove(Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
        });
    }
    let mut cr4 = Cr4::read();
    cr4.remove(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE | Cr4Flags::OSXSAVE);
    if f.smep {
        cr4.insert(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION);
    }
    if f.smap {
        cr4.insert(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION);
    }
    if f.umip {
        cr4.insert(Cr4Flags::USER_MODE_INSTRUCTION_PREVENTION);
    }
    if f.pge {
        cr4.insert(Cr4Flags::PAGE_GLOBAL);
    }
    // SAFETY: the kernel never executes or touches user pages outside the
    // user-copy module (which brackets its accesses with stac/clac), uses no
    // SSE, and the flags added exist on this CPU (checked above).
    unsafe { Cr4::write(cr4) };
    SMAP_ON.store(f.smap, Ordering::Relaxed);
}

/// Turns on PCID if the CPU has it.
///
/// # Safety
///
/// CR3's PCID field (bits 0..12) must be zero.
pub unsafe fn enable_pcid(f: &Features) {
    if f.pcid {
        // SAFETY: the caller guarantees CR3[11:0] = 0; the CPU has PCID.
        unsafe { Cr4::update(|c| c.insert(Cr4Flags::PCID)) };
        PCID_ON.store(true, Ordering::Relaxed);
    }
}

/// Whether SMAP is on (the user-copy module brackets accesses with stac/clac).
pub fn smap_enabled() -> bool {
    SMAP_ON.load(Ordering::Relaxed)
}

/// Whether PCIDs tag the TLB.
pub fn pcid_enabled() -> bool {
    PCID_ON.load(Ordering::Relaxed)
}

/// The time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC is unprivileged here (CR4.TSD clear) and has no effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Writes the cache line holding `addr` back to memory (`clflush`, which
/// every x86-64 CPU has) and fences, so a store to persistent memory is
/// durable when this returns.
pub fn persist_line(addr: u64) {
    // SAFETY: `clflush` of a mapped kernel address and `sfence` have no
    // effect but on the cache; callers pass addresses they just wrote.
    unsafe {
        core::arch::asm!("clflush [{}]", "sfence", in(reg) addr, options(nostack, preserves_flags));
    }
}
