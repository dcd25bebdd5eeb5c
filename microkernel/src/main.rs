//! The Perennial microkernel: entry from a Limine-protocol loader, the boot
//! report, then the machine taken over — descriptor tables and traps, the
//! kernel's own page tables and frame allocator, the heap, the APIC timer
//! and scheduler, system calls, console input — and `init` started as the
//! first program.
//!
//! Logic that does not need the machine lives in `kcore` and is tested on
//! the host; architecture-specific code sits behind `arch`.

#![no_std]
#![no_main]

extern crate alloc;

mod acpi;
mod arch;
mod boot;
mod console;
mod fault;
mod halt;
mod irq;
mod mm;
mod object;
mod panic;
mod ppc;
mod program;
mod requests;
mod sched;
mod serial;
mod sync;
mod syscall;
mod time;

use kcore::acpi::madt::MadtInfo;
use kcore::paging::PAGE_SIZE;
use spin::Once;

use crate::arch::{apic, context, cpu, gdt, ioapic};
use crate::mm::{early::EarlyMm, frames, heap, kspace, kstack::KernelStack};

unsafe extern "C" {
    /// First byte of the kernel image (from `linker.ld`).
    static __kernel_start: u8;
}

/// What the second boot stage needs from the first.
struct Handover {
    madt: Option<MadtInfo>,
    boot_unix_secs: u64,
    features: cpu::Features,
}

static HANDOVER: Once<Handover> = Once::new();

/// The entry point the loader jumps to (ELF entry, `ENTRY(kmain)`).
#[unsafe(no_mangle)]
extern "C" fn kmain() -> ! {
    time::mark_boot();
    serial::init();
    let cmdline = boot::banner();
    if boot::wants_panic_selftest(cmdline) {
        panic!("selftest=panic on the kernel command line");
    }

    let Some(hhdm) = requests::hhdm_offset() else {
        panic!("the loader gave no HHDM response");
    };
    let Some(map) = requests::memory_map() else {
        panic!("the loader gave no memory map response");
    };
    mm::set_hhdm(hhdm);
    let kernel_address = check_load_address();
    boot::memory(map);
    boot::modules();

    // Traps first: from here on, a fault is a decoded panic, not a reset.
    let features = cpu::features();
    gdt::init();
    arch::x86_64::idt::init();
    cpu::init(&features);

    let frames = kcore::memmap::largest_usable(boot::entries(map));
    let (frames_base, frames_len) = frames.unwrap_or((0, 0));
    // SAFETY: `hhdm` is the loader's HHDM offset, under which the loader's
    // page tables (bootloader-reclaimable) and all usable memory are mapped;
    // the frames come from the largest usable region, which nothing has used
    // yet; this is the only `EarlyMm`.
    let mut early = match unsafe { EarlyMm::new(hhdm, frames_base, frames_len) } {
        Ok(early) => early,
        Err(err) => panic!("cannot start memory management: {err}"),
    };
    let madt = acpi::report(&mut early, requests::rsdp_address());

    // The heap comes from the same early run as the tables ACPI needed and
    // the frame bitmap; the frame allocator marks the whole run used.
    let mut early = early.into_frames();
    let Some(heap_base) = early.allocate_run(heap::HEAP_SIZE / PAGE_SIZE) else {
        panic!("no room for the kernel heap");
    };
    if let Err(err) = frames::init(boot::entries(map), early) {
        panic!("frame allocator: {err:?}");
    }
    let (kernel_phys, kernel_virt) = kernel_address;
    if let Err(err) = kspace::build_and_switch(boot::entries(map), kernel_phys, kernel_virt) {
        panic!("kernel page tables: {err}");
    }
    // SAFETY: CR3 now holds the kernel's PML4 with a zero PCID field.
    unsafe { cpu::enable_pcid(&features) };
    // SAFETY: the run is mapped in the HHDM, reserved in the frame
    // allocator, and given to the heap once.
    unsafe { heap::init(mm::phys_to_virt(heap_base), heap::HEAP_SIZE) };

    // Copy what later stages need out of loader memory, then leave the
    // loader's stack for a kernel stack (the idle thread's).
    program::modules::capture();
    HANDOVER.call_once(|| Handover {
        madt,
        boot_unix_secs: requests::boot_time().unwrap_or(0),
        features,
    });
    let Some(stack) = KernelStack::new() else {
        panic!("no memory for the first kernel stack");
    };
    let top = stack.top();
    IDLE_STACK.call_once(|| spin::Mutex::new(Some(stack)));
    // SAFETY: the stack is mapped, unused, and owned by the idle thread for
    // the life of the kernel.
    unsafe { context::run_on_stack(top, kmain_on_kernel_stack) }
}

static IDLE_STACK: Once<spin::Mutex<Option<KernelStack>>> = Once::new();

/// The rest of boot, on the idle thread's stack; ends as the idle loop.
extern "C" fn kmain_on_kernel_stack() -> ! {
    let Some(handover) = HANDOVER.get() else {
        unreachable!()
    };
    reclaim_loader_memory();
    kprintln!(
        "cpu: nx {} smep {} smap {} umip {} pcid {} invariant-tsc {}; application processors parked",
        handover.features.nx,
        handover.features.smep,
        handover.features.smap,
        handover.features.umip,
        cpu::pcid_enabled(),
        handover.features.invariant_tsc
    );
    start_interrupts(handover);
    arch::syscall_entry::init();
    let stack = IDLE_STACK.get().and_then(|s| s.lock().take());
    let Some(stack) = stack else { unreachable!() };
    sched::init(stack);
    arch::enable_interrupts();
    console::start();

    kprintln!("boot: ok");
    program::start_init();
    loop {
        arch::halt_until_interrupt();
    }
}

/// Hands bootloader-reclaimable memory to the frame allocator. Nothing
/// points into it any more: the kernel runs on its own tables and stack,
/// and the module list, boot time and MADT facts were copied.
fn reclaim_loader_memory() {
    let Some(map) = requests::memory_map() else {
        return;
    };
    // Copy the entries first: the map itself lives in reclaimable memory.
    let mut entries = alloc::vec::Vec::with_capacity(map.len());
    entries.extend(boot::entries(map));
    let bytes = frames::reclaim(entries.into_iter());
    let (total, free) = frames::stats();
    kprintln!(
        "memory: reclaimed {} KiB of bootloader memory; {} of {} frames free",
        bytes / 1024,
        free,
        total
    );
}

/// The local APIC and its timer, the I/O APIC route for COM1, the PIC off.
fn start_interrupts(handover: &Handover) {
    ioapic::disable_pic();
    let lapic_phys = handover
        .madt
        .map_or_else(apic::physical_base, |m| m.local_apic);
    let lapic = match kspace::map_mmio(lapic_phys, PAGE_SIZE) {
        Ok(virt) => virt,
        Err(err) => panic!("cannot map the local APIC: {err}"),
    };
    apic::init(lapic);
    let (tsc_per_ms, per_tick) = time::init(handover.boot_unix_secs);
    kprintln!(
        "time: tsc {} kHz, apic timer {} counts per {} Hz tick",
        tsc_per_ms,
        per_tick,
        apic::TICK_HZ
    );
    let Some(madt) = handover.madt else {
        kprintln!("console: no MADT; input by polling only");
        return;
    };
    let route = madt.isa_route(4);
    let Some((io, pin)) = madt.io_apic_for(route.gsi) else {
        kprintln!(
            "console: no I/O APIC serves GSI {}; input by polling only",
            route.gsi
        );
        return;
    };
    match kspace::map_mmio(io.address, PAGE_SIZE) {
        Ok(virt) => {
            ioapic::init(virt);
            ioapic::route(
                pin,
                irq::COM1_VECTOR,
                apic::id(),
                route.active_low,
                route.level,
            );
        }
        Err(err) => kprintln!("console: cannot map the I/O APIC: {err}; input by polling only"),
    }
}

/// Warns if the loader put the kernel somewhere other than its link
/// address; returns the kernel's (physical, virtual) base.
fn check_load_address() -> (u64, u64) {
    // Only the symbol's address is taken, never its contents.
    let linked = &raw const __kernel_start as u64;
    match requests::executable_address() {
        Some((phys, virt)) => {
            if virt != linked {
                kprintln!("boot: warning: kernel loaded at {virt:#x}, linked at {linked:#x}");
            }
            (phys, virt)
        }
        None => panic!("the loader gave no executable address response"),
    }
}
