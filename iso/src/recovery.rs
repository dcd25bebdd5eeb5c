//! `cargo xtask bench`'s recovery figures: how long the system takes to
//! come back after a power cut with 10², 10³ and 10⁴ persistent objects,
//! and how long one server takes to hot-restart.
//!
//! For each population: a fresh 1 GiB NVDIMM; the first boot fills the
//! store (`pcut fill N`) and cuts the power from the shell (`powercut`);
//! the second boot is the recovery. It reads three of the guest's own
//! lines: the object store's "recovered and serving after X ms" (from its
//! start), init's "N of M servers serving, X ms after boot" (from the
//! kernel's start: the boot-to-serving figure), and, after `server kill
//! posix`, the supervisor's "posix serving again after X ms".

use std::path::PathBuf;
use std::time::Duration;

use crate::artifacts::Built;
use crate::bench::Figure;
use crate::image::{self, ImageSpec, LoaderChoice};
use crate::qemu::{self, Firmware, Input, Machine};
use crate::{Result, XtaskError, pmem};

/// The populations measured.
const POPULATIONS: [u64; 3] = [100, 1_000, 10_000];

/// The NVDIMM: room for 10⁴ objects' directory entries and pages.
const PMEM: u64 = 1 << 30;

/// The figures, one boot pair per population.
pub fn figures(built: &Built, icount: bool) -> Result<Vec<Figure>> {
    let dir = PathBuf::from("target/bench");
    let spec = ImageSpec::system(built, LoaderChoice::Builtin, "");
    let iso = image::assemble(&spec, &dir.join("recovery.iso"))?;
    let mut out = Vec::new();
    for n in POPULATIONS {
        eprintln!("xtask: recovery with {n} persistent objects …");
        let machine = Machine {
            iso: iso.clone(),
            firmware: Firmware::Uefi,
            pmem: Some(pmem::prepare(&dir.join("recovery.pmem"), PMEM, true)?),
            gdb: false,
            icount,
        };
        let fill = format!("run pcut fill {n}\npowercut\n");
        let first = boot(&machine, fill, &dir, &format!("recovery-{n}-fill"))?;
        if !first.contains(&format!("pcut: filled {n}")) {
            return Err(XtaskError::CommandFailed(format!(
                "filling the store with {n} objects failed; console in target/bench/recovery-{n}-fill.log"
            )));
        }
        // `cat` of a missing file waits for the POSIX server, so the kill
        // finds it serving; the `fsck`s give init's report time to print.
        let script = "cat /none\nfsck\nserver kill posix\ncat /none\nfsck\npoweroff\n".to_string();
        let log = format!("recovery-{n}");
        let second = boot(&machine, script, &dir, &log)?;
        let measured = [
            (
                format!("recovery, {n} objects: boot to every server serving"),
                "servers serving, ",
                "servers serving, ",
            ),
            (
                format!("recovery, {n} objects: object store open + attach"),
                "objstore: recovery",
                "serving after ",
            ),
            (
                format!("hot restart of the POSIX server ({n} objects)"),
                "init: posix serving again after ",
                "serving again after ",
            ),
        ];
        for (what, marker, unit_at) in measured {
            match millis_after(&second, marker, unit_at) {
                Some(ms) => out.push(figure(what, ms)),
                None => eprintln!(
                    "xtask: {what}: not measured (no {marker:?} line; console in target/bench/{log}.log)"
                ),
            }
        }
    }
    Ok(out)
}

/// Boots once with `script`, keeping the console as `<name>.log`.
fn boot(machine: &Machine, script: String, dir: &std::path::Path, name: &str) -> Result<String> {
    let report = qemu::session(
        machine,
        Input::Script(script.into_bytes()),
        Some(Duration::from_secs(900)),
        false,
        None,
    )?;
    let log = dir.join(format!("{name}.log"));
    std::fs::write(&log, &report.console)
        .map_err(|e| XtaskError::Io(log.display().to_string(), e))?;
    Ok(report.console)
}

/// The milliseconds after `unit_at` on the first line containing `marker`
/// (`... {unit_at}123 ms ...`).
fn millis_after(console: &str, marker: &str, unit_at: &str) -> Option<f64> {
    let line = console.lines().find(|l| l.contains(marker))?;
    let rest = &line[line.find(unit_at)? + unit_at.len()..];
    let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let ms: f64 = number.parse().ok()?;
    rest[number.len()..]
        .trim_start()
        .starts_with("ms")
        .then_some(ms)
}

fn figure(name: String, ms: f64) -> Figure {
    Figure {
        name,
        median: ms,
        unit: "ms".into(),
        p10: ms,
        p90: ms,
        runs: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guest_lines_give_their_milliseconds() {
        let console = "objstore: recovery (the last run ended without a shutdown: a power cut or a crash): 100 objects; recovered and serving after 76 ms\n\
            init: 6 of 6 servers serving, 4210 ms after boot\n\
            init: posix serving again after 35 ms (generation 9)\n";
        assert_eq!(
            millis_after(console, "objstore: recovery", "serving after "),
            Some(76.0)
        );
        assert_eq!(
            millis_after(console, "servers serving, ", "servers serving, "),
            Some(4210.0)
        );
        assert_eq!(
            millis_after(
                console,
                "init: posix serving again after ",
                "serving again after "
            ),
            Some(35.0)
        );
        assert_eq!(millis_after(console, "nothing", "after "), None);
        assert_eq!(millis_after("x after 12 s\n", "x", "after "), None);
    }
}
