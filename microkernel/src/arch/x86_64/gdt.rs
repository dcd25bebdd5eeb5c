//! The GDT and TSS: kernel and user segments in the order `syscall`/`sysret`
//! need, and the TSS with the ring-0 stack and the IST stacks for double
//! fault, NMI and machine check.
//!
//! ```text
//! 0x00 null
//! 0x08 kernel code    STAR[47:32] = 0x08: syscall CS = 0x08, SS = 0x10
//! 0x10 kernel data
//! 0x18 user data      STAR[63:48] = 0x10: sysret SS = 0x18|3, CS = 0x20|3
//! 0x20 user code
//! 0x28 TSS (two slots)
//! ```

use core::cell::UnsafeCell;
use core::mem::size_of;

/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x10;
/// User data selector (RPL 3).
pub const USER_DS: u16 = 0x18 | 3;
/// User code selector (RPL 3).
pub const USER_CS: u16 = 0x20 | 3;
/// TSS selector.
const TSS_SEL: u16 = 0x28;
/// The `STAR` base for `sysret` (user data is base + 8, user code base + 16).
pub const SYSRET_BASE: u16 = 0x10;

/// IST slot (1-based, as the IDT names it) for double faults.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST slot for NMIs.
pub const IST_NMI: u8 = 2;
/// IST slot for machine checks.
pub const IST_MACHINE_CHECK: u8 = 3;

const IST_STACK_SIZE: usize = 16 * 1024;

/// The 64-bit task-state segment.
#[repr(C, packed(4))]
struct Tss {
    _reserved0: u32,
    rsp: [u64; 3],
    _reserved1: u64,
    ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

/// The descriptor tables and IST stacks of the one CPU that runs the kernel
/// (the BSP; application processors stay parked for now).
struct Tables {
    gdt: [u64; 7],
    tss: Tss,
    ist: [Stack; 3],
}

struct Shared(UnsafeCell<Tables>);

// SAFETY: only the BSP touches the tables: `init` once at boot, then
// `set_kernel_stack` from the scheduler with interrupts off.
unsafe impl Sync for Shared {}

static TABLES: Shared = Shared(UnsafeCell::new(Tables {
    gdt: [0; 7],
    tss: Tss {
        _reserved0: 0,
        rsp: [0; 3],
        _reserved1: 0,
        ist: [0; 7],
        _reserved2: 0,
        _reserved3: 0,
        iomap_base: size_of::<Tss>() as u16,
    },
    ist: [const { Stack([0; IST_STACK_SIZE]) }; 3],
}));

/// A code or data descriptor: present, `dpl`, code (long mode) or data.
const fn segment(code: bool, dpl: u64) -> u64 {
    let access = (1 << 7) | (dpl << 5) | (1 << 4) | if code { 0b1010 } else { 0b0010 };
    let flags = if code { 0b0010 } else { 0 }; // L bit for code
    (access << 40) | (flags << 52)
}

/// Loads the GDT and TSS and reloads every segment register.
pub fn init() {
    let tables = TABLES.0.get();
    // SAFETY: boot, BSP only, interrupts off: nothing else uses the tables;
    // the GDT/TSS are statics, so their addresses stay valid for ever.
    unsafe {
        let t = &mut *tables;
        for (i, stack) in t.ist.iter().enumerate() {
            t.tss.ist[i] = stack.0.as_ptr() as u64 + IST_STACK_SIZE as u64;
        }
        let tss_base = &raw const t.tss as u64;
        let tss_limit = (size_of::<Tss>() - 1) as u64;
        t.gdt = [
            0,
            segment(true, 0),
            segment(false, 0),
            segment(false, 3),
            segment(true, 3),
            // Available 64-bit TSS (type 9), present.
            (tss_limit & 0xffff)
                | ((tss_base & 0xff_ffff) << 16)
                | (0x89 << 40)
                | (((tss_limit >> 16) & 0xf) << 48)
                | (((tss_base >> 24) & 0xff) << 56),
            tss_base >> 32,
        ];
        let pointer = ::x86_64::structures::DescriptorTablePointer {
            limit: (size_of::<[u64; 7]>() - 1) as u16,
            base: ::x86_64::VirtAddr::new(t.gdt.as_ptr() as u64),
        };
        ::x86_64::instructions::tables::lgdt(&pointer);
        core::arch::asm!(
            "mov ds, {ds:x}", "mov es, {ds:x}", "mov ss, {ds:x}",
            "xor {z:e}, {z:e}", "mov fs, {z:x}", "mov gs, {z:x}",
            // Reload CS with a far return.
            "push {cs}", "lea {tmp}, [rip + 2f]", "push {tmp}", "retfq", "2:",
            "ltr {tss:x}",
            ds = in(reg) KERNEL_DS, cs = in(reg) u64::from(KERNEL_CS),
            tss = in(reg) TSS_SEL, z = out(reg) _, tmp = out(reg) _,
        );
    }
}

/// Sets the stack the CPU switches to on an interrupt from user mode.
pub fn set_kernel_stack(top: u64) {
    let tables = TABLES.0.get();
    // SAFETY: BSP only, called with interrupts off by the scheduler; the
    // write is to a plain field the CPU reads only on the next ring change.
    unsafe { (&raw mut (*tables).tss.rsp[0]).write_unaligned(top) };
}
