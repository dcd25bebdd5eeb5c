//! The Perennial microkernel, first stage: entry from a Limine-protocol
//! loader, the serial console, the boot report, ACPI discovery of persistent
//! memory, and a clean exit (or a reported panic).
//!
//! Logic that does not need the machine lives in `kcore` and is tested on
//! the host; this crate holds the parts that touch hardware.

#![no_std]
#![no_main]

mod acpi;
mod boot;
mod halt;
mod mm;
mod panic;
mod requests;
mod serial;

use protocols::exit::GuestExit;

unsafe extern "C" {
    /// First byte of the kernel image (from `linker.ld`).
    static __kernel_start: u8;
}

/// The entry point the loader jumps to (ELF entry, `ENTRY(kmain)`).
#[unsafe(no_mangle)]
extern "C" fn kmain() -> ! {
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
    check_load_address();
    boot::memory(map);
    boot::modules();

    let frames = kcore::memmap::largest_usable(boot::entries(map));
    let (frames_base, frames_len) = frames.unwrap_or((0, 0));
    // SAFETY: `hhdm` is the loader's HHDM offset, under which the loader's
    // page tables (bootloader-reclaimable) and all usable memory are mapped;
    // the frames come from the largest usable region, which nothing has used
    // yet; this is the only `EarlyMm`.
    match unsafe { mm::EarlyMm::new(hhdm, frames_base, frames_len) } {
        Ok(mut early) => {
            acpi::report(&mut early, requests::rsdp_address());
        }
        Err(err) => {
            kprintln!("acpi: error: cannot map firmware tables: {err}");
            kprintln!("pmem: none found; running on volatile memory only");
        }
    }

    kprintln!("boot: ok");
    halt::exit(GuestExit::Success)
}

/// Warns if the loader put the kernel somewhere other than its link address.
fn check_load_address() {
    // Only the symbol's address is taken, never its contents.
    let linked = &raw const __kernel_start as u64;
    match requests::executable_address() {
        Some((_, virt)) if virt != linked => {
            kprintln!("boot: warning: kernel loaded at {virt:#x}, linked at {linked:#x}");
        }
        Some(_) => {}
        None => kprintln!("boot: warning: no executable address response"),
    }
}
