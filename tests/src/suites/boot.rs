//! Booting: both loaders hand the kernel the same facts, the kernel reports
//! memory and persistent memory, and every error path ends the machine with a
//! clear message instead of a hang.

use std::time::Duration;

use crate::console::{self, fnv1a64};
use crate::scenario::{
    Boot, Broken, Firmware, GuestExit, Loader, Module, Outcome, Pmem, Scenario, expect_exit,
};

const MIB: u64 = 1 << 20;

/// The boot scenarios.
pub fn scenarios() -> Vec<Scenario> {
    let mut two_modules = Boot::builtin();
    two_modules.cmdline = "quiet=no test-word".into();
    two_modules.modules = vec![
        fixture("fixture-a", "alpha one", 100_001, 1),
        fixture("fixture-b", "", 4096, 2),
    ];

    let mut pmem_128 = Boot::builtin();
    pmem_128.pmem = Pmem::Fresh(128 * MIB);

    let mut no_pmem = Boot::builtin();
    no_pmem.pmem = Pmem::None;

    let mut bad_config = Boot::builtin();
    bad_config.broken = Some(Broken::Config(
        "timeout: 0\n\n/Perennial\n    protocol: limine\n    colour_of_sky: blue\n",
    ));
    bad_config.timeout = Duration::from_secs(30);

    let mut no_kernel = Boot::builtin();
    no_kernel.broken = Some(Broken::Config(
        "timeout: 0\n/Perennial\n    protocol: limine\n",
    ));
    no_kernel.timeout = Duration::from_secs(30);

    let mut low_kernel = Boot::builtin();
    low_kernel.broken = Some(Broken::Kernel(crate::elf_fixture::executable_at(0x40_0000)));
    low_kernel.timeout = Duration::from_secs(30);

    let mut panic = Boot::builtin();
    panic.cmdline = "selftest=panic".into();

    let mut all = vec![
        Scenario {
            name: "boot/builtin-uefi-pmem-256M",
            boot: two_modules,
            check: boots_and_reports,
        },
        Scenario {
            name: "boot/builtin-uefi-pmem-128M",
            boot: pmem_128,
            check: boots_and_reports,
        },
        Scenario {
            name: "boot/no-nvdimm-runs-volatile",
            boot: no_pmem,
            check: boots_and_reports,
        },
        Scenario {
            name: "loader/corrupt-config-is-an-error",
            boot: bad_config,
            check: rejects_unknown_key,
        },
        Scenario {
            name: "loader/missing-kernel-path-is-an-error",
            boot: no_kernel,
            check: rejects_missing_kernel,
        },
        Scenario {
            name: "loader/low-half-kernel-is-an-error",
            boot: low_kernel,
            check: rejects_low_half_kernel,
        },
        Scenario {
            name: "kernel/panic-is-reported-and-exits",
            boot: panic,
            check: panic_is_reported,
        },
    ];

    // Real Limine runs only where a Limine release is installed (LIMINE_DIR);
    // the harness reports these as skipped elsewhere.
    for (name, firmware) in [
        ("boot/limine-bios", Firmware::Bios),
        ("boot/limine-uefi", Firmware::Uefi),
    ] {
        let mut boot = Boot::builtin();
        boot.loader = Loader::Limine;
        boot.firmware = firmware;
        boot.cmdline = "quiet=no test-word".into();
        boot.modules = vec![fixture("fixture-a", "alpha one", 100_001, 1)];
        all.push(Scenario {
            name,
            boot,
            check: boots_and_reports,
        });
    }
    all
}

/// A module of `len` deterministic pseudo-random bytes.
fn fixture(name: &'static str, cmdline: &'static str, len: usize, seed: u64) -> Module {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let bytes = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    Module {
        name,
        cmdline,
        bytes,
    }
}

/// The full boot report: banner naming the loader, memory summary, every
/// module byte-exact, the NVDIMM range equal to the size given, and a clean
/// exit.
fn boots_and_reports(out: &Outcome, boot: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let banner = console::require(&out.console, "Perennial 0.1.0 (booted by ")?;
    let want_loader = match boot.loader {
        Loader::Builtin => "Perennial-loader",
        Loader::Limine => "Limine",
    };
    if !banner.contains(want_loader) {
        return Err(format!("banner {banner:?} does not name {want_loader}"));
    }

    let cmdline = console::require(&out.console, "boot: cmdline ")?;
    if cmdline != format!("boot: cmdline \"{}\"", boot.cmdline) {
        return Err(format!(
            "kernel saw {cmdline:?}, limine.conf said {:?}",
            boot.cmdline
        ));
    }

    let memory = console::require(&out.console, "memory: ")?;
    let usable_kib =
        console::number_after(memory, "usable ").ok_or("memory line has no usable figure")?;
    // The machine has 512 MiB; firmware and loader keep some of it.
    if !(300 * 1024..=512 * 1024).contains(&usable_kib) {
        return Err(format!(
            "usable memory {usable_kib} KiB is implausible for a 512 MiB machine"
        ));
    }
    let entries =
        console::number_after(memory, "entries ").ok_or("memory line has no entry count")?;
    if entries < 3 {
        return Err(format!("memory map with {entries} entries"));
    }
    if console::number_after(memory, "kernel+modules ").unwrap_or(0) == 0 {
        return Err("no kernel+modules memory reported".into());
    }

    // The system's own modules (init, …) come first; the scenario's fixtures
    // must each be there, byte-exact.
    let seen = console::modules(&out.console);
    for module in &boot.modules {
        let want_path = format!("/boot/{}", module.name);
        let line = seen
            .iter()
            .find(|l| l.path == want_path)
            .ok_or_else(|| format!("module {want_path} not reported; saw {seen:?}"))?;
        if line.size != module.bytes.len() as u64 || line.cmdline != module.cmdline {
            return Err(format!("module {want_path} reported as {line:?}"));
        }
        if line.fnv != fnv1a64(&module.bytes) {
            return Err(format!(
                "module {want_path}: kernel read different bytes (fnv {:016x})",
                line.fnv
            ));
        }
    }

    console::require(&out.console, "acpi: rsdp 0x")?;
    let ranges = console::pmem_ranges(&out.console);
    match boot.pmem {
        Pmem::Fresh(size) => match ranges.as_slice() {
            [one] if one.size == size => {}
            _ => return Err(format!("NVDIMM of {size} bytes reported as {ranges:?}")),
        },
        Pmem::None => {
            if !ranges.is_empty() {
                return Err(format!("no NVDIMM attached, yet {ranges:?} reported"));
            }
            console::require(
                &out.console,
                "pmem: none found; running on volatile memory only",
            )?;
        }
    }
    console::require(&out.console, "boot: ok").map(|_| ())
}

fn loader_error(out: &Outcome, must_mention: &[&str]) -> Result<(), String> {
    expect_exit(out, GuestExit::LoaderError)?;
    let line = console::require(&out.console, "loader: error: ")?;
    for word in must_mention {
        if !line.contains(word) {
            return Err(format!("loader error {line:?} does not mention {word:?}"));
        }
    }
    if console::line(&out.console, "Perennial 0.1.0").is_some() {
        return Err("the kernel ran despite the loader error".into());
    }
    Ok(())
}

fn rejects_unknown_key(out: &Outcome, _: &Boot) -> Result<(), String> {
    loader_error(out, &["colour_of_sky", "line 5"])
}

fn rejects_missing_kernel(out: &Outcome, _: &Boot) -> Result<(), String> {
    loader_error(out, &["kernel_path"])
}

fn rejects_low_half_kernel(out: &Outcome, _: &Boot) -> Result<(), String> {
    loader_error(out, &["higher-half", "0x400000"])
}

fn panic_is_reported(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::KernelPanic)?;
    console::require(&out.console, "Perennial 0.1.0 (booted by ")?;
    let line = console::require(&out.console, "KERNEL PANIC at ")?;
    if !line.contains(".rs:") {
        return Err(format!("panic line {line:?} names no source location"));
    }
    if console::line(&out.console, "boot: ok").is_some() {
        return Err("boot finished despite the panic".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Exit;

    fn outcome(console: String, exit: Exit) -> Outcome {
        Outcome {
            console,
            exit,
            banner_after: None,
        }
    }

    fn good_console(boot: &Boot) -> String {
        let mut text = String::from("loader: Perennial built-in loader 0.1.0\n");
        text += "Perennial 0.1.0 (booted by Perennial-loader 0.1.0)\n";
        text += &format!("boot: cmdline \"{}\"\n", boot.cmdline);
        text += "memory: usable 480000 KiB, reclaimable 2048 KiB, kernel+modules 300 KiB, acpi 128 KiB, reserved 9000 KiB, bad 0 KiB, entries 14\n";
        for (i, m) in boot.modules.iter().enumerate() {
            text += &format!(
                "module {i}: /boot/{} {} bytes cmdline \"{}\" fnv1a64 {:016x}\n",
                m.name,
                m.bytes.len(),
                m.cmdline,
                fnv1a64(&m.bytes)
            );
        }
        text +=
            "acpi: rsdp 0xe0000 revision 2, XSDT with 6 tables: FACP APIC HPET MCFG WAET NFIT\n";
        match boot.pmem {
            Pmem::Fresh(size) => {
                text += &format!("pmem: range 0 base 0x140000000 size {size} bytes\n")
            }
            Pmem::None => text += "pmem: none found; running on volatile memory only\n",
        }
        text + "boot: ok\n"
    }

    #[test]
    fn the_boot_check_accepts_a_correct_report_and_catches_each_lie() {
        let boot = scenarios().into_iter().next().unwrap().boot;
        let good = good_console(&boot);
        assert_eq!(
            boots_and_reports(
                &outcome(good.clone(), Exit::Guest(GuestExit::Success)),
                &boot
            ),
            Ok(())
        );

        let lies = [
            good.replace("size 268435456", "size 134217728"),
            good.replace("alpha one", "alpha two"),
            good.replace("boot: ok\n", ""),
            good.replace("usable 480000", "usable 1000"),
            good.replace("Perennial-loader", "Someone-else"),
            good.replace("test-word", "other-word"),
        ];
        for lie in lies {
            assert!(
                boots_and_reports(&outcome(lie, Exit::Guest(GuestExit::Success)), &boot).is_err()
            );
        }
        assert!(boots_and_reports(&outcome(good, Exit::Timeout), &boot).is_err());
    }

    #[test]
    fn a_tampered_module_checksum_is_caught() {
        let boot = scenarios().into_iter().next().unwrap().boot;
        let good = good_console(&boot);
        let sum = format!("{:016x}", fnv1a64(&boot.modules[0].bytes));
        let bad = good.replace(&sum, "0000000000000000");
        assert!(
            boots_and_reports(&outcome(bad, Exit::Guest(GuestExit::Success)), &boot)
                .unwrap_err()
                .contains("different bytes")
        );
    }

    #[test]
    fn loader_error_checks_need_the_message_and_the_exit_code() {
        let text = "loader: error: limine.conf line 5: unknown key `colour_of_sky`\n".to_string();
        let boot = Boot::builtin();
        assert_eq!(
            rejects_unknown_key(
                &outcome(text.clone(), Exit::Guest(GuestExit::LoaderError)),
                &boot
            ),
            Ok(())
        );
        assert!(rejects_unknown_key(&outcome(text.clone(), Exit::Timeout), &boot).is_err());
        assert!(
            rejects_low_half_kernel(&outcome(text, Exit::Guest(GuestExit::LoaderError)), &boot)
                .is_err()
        );
    }
}
