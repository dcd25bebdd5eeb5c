//! The boot report: the console lines that describe what the loader handed
//! over (see `notes/INTERFACE.md` for their exact form).

use kcore::memmap::{self, Entry, Kind, Summary};
use kcore::text::Escaped;
use kcore::{cmdline, hash};

use crate::kprintln;
use crate::requests::{self, REQUESTED_REVISION};

/// The kernel's version, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The command-line word that makes the kernel panic on purpose.
pub const SELFTEST_PANIC: &[u8] = b"selftest=panic";

/// Prints the banner, revision, firmware and command-line lines; returns the
/// command line.
pub fn banner() -> &'static [u8] {
    match requests::bootloader() {
        Some((name, version)) => {
            kprintln!(
                "Perennial {VERSION} (booted by {} {})",
                Escaped(name),
                Escaped(version)
            );
        }
        None => kprintln!("Perennial {VERSION} (booted by unknown unknown)"),
    }
    let revision = requests::revision();
    kprintln!(
        "boot: base revision {} (requested {REQUESTED_REVISION}), firmware {}",
        revision.loaded,
        requests::firmware()
    );
    if !revision.supported {
        let how = if revision.reported {
            "reported"
        } else {
            "assumed"
        };
        kprintln!(
            "boot: warning: loader does not support base revision {REQUESTED_REVISION}; {how} {}",
            revision.loaded
        );
    }
    if !requests::stack_size_acknowledged() {
        kprintln!("boot: warning: no stack size response; the boot stack may be small");
    }
    let cmdline = match requests::executable_file() {
        Some(file) => file.string().to_bytes(),
        None => {
            kprintln!("boot: warning: no executable file response; no command line");
            b""
        }
    };
    kprintln!("boot: cmdline \"{}\"", Escaped(cmdline));
    cmdline
}

/// Whether the command line asks for the panic self-test.
pub fn wants_panic_selftest(cmdline: &[u8]) -> bool {
    cmdline::has_word(cmdline, SELFTEST_PANIC)
}

/// Converts Limine's entries to `kcore`'s.
pub fn entries(map: &[&limine::memory_map::Entry]) -> impl Iterator<Item = Entry> + Clone {
    map.iter().map(|e| {
        // SAFETY: `EntryType` is `repr(transparent)` over the protocol's u64
        // type field, so the two have the same layout and every value is valid.
        let raw: u64 = unsafe { core::mem::transmute(e.entry_type) };
        Entry {
            base: e.base,
            length: e.length,
            kind: Kind::from_limine(raw),
        }
    })
}

/// Prints the `memory:` line and warns about broken invariants.
pub fn memory(map: &[&limine::memory_map::Entry]) {
    let sum = Summary::of(entries(map));
    kprintln!(
        "memory: usable {} KiB, reclaimable {} KiB, kernel+modules {} KiB, acpi {} KiB, reserved {} KiB, bad {} KiB, entries {}",
        sum.usable / 1024,
        sum.bootloader_reclaimable / 1024,
        sum.kernel_and_modules / 1024,
        sum.acpi / 1024,
        sum.reserved / 1024,
        sum.bad / 1024,
        sum.entries
    );
    if let Err(err) = memmap::check(entries(map)) {
        kprintln!("memory: warning: memory map breaks the protocol: {err}");
    }
}

/// Prints one `module` line per module.
pub fn modules() {
    let Some(modules) = requests::modules() else {
        kprintln!("boot: warning: no module response");
        return;
    };
    for (index, module) in modules.iter().enumerate() {
        let size = module.size();
        let addr = module.addr();
        let checksum = match usize::try_from(size) {
            Ok(len) if !addr.is_null() && len <= isize::MAX as usize => {
                // SAFETY: the loader placed the module's `size` bytes at
                // `addr` (HHDM, kernel-and-modules memory, never reused) and
                // nothing writes them while the kernel reads them here.
                let bytes = unsafe { core::slice::from_raw_parts(addr.cast_const(), len) };
                hash::fnv1a64(bytes)
            }
            _ => 0,
        };
        kprintln!(
            "module {index}: {} {size} bytes cmdline \"{}\" fnv1a64 {checksum:016x}",
            Escaped(module.path().to_bytes()),
            Escaped(module.string().to_bytes())
        );
    }
}
