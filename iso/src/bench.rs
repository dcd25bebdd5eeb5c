//! `cargo xtask bench`: boots the system, runs the guest benchmark program
//! and prints its figures as a table. Figures are printed, never asserted:
//! a noisy host must not fail a build.
//!
//! The guest program (`ubench`) prints one line per benchmark:
//! `bench: <name>: median <m> <unit>, p10 <a>, p90 <b>, runs <n>`.
//! Under `--icount` QEMU advances the guest's clock by instruction count,
//! so the cycle figures are repeatable from run to run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::artifacts;
use crate::image::{self, ImageSpec, LoaderChoice};
use crate::qemu::{self, Firmware, Input, Machine};
use crate::{Result, XtaskError, host, pmem};

/// One benchmark's figures as the guest printed them.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The benchmark's name.
    pub name: String,
    /// Median.
    pub median: f64,
    /// Unit of every figure (`cycles`, `ns`, `MiB/s`, …).
    pub unit: String,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// How many runs the figures summarise.
    pub runs: u64,
}

/// Parses one `bench:` line.
pub fn parse_line(line: &str) -> Option<Figure> {
    let rest = line.strip_prefix("bench: ")?;
    let (name, figures) = rest.split_once(": ")?;
    let mut median = None;
    let mut unit = String::new();
    let (mut p10, mut p90, mut runs) = (None, None, None);
    for part in figures.split(", ") {
        let mut words = part.split_whitespace();
        match (words.next()?, words.next()?) {
            ("median", v) => {
                median = v.parse().ok();
                unit = words.next()?.to_string();
            }
            ("p10", v) => p10 = v.parse().ok(),
            ("p90", v) => p90 = v.parse().ok(),
            ("runs", v) => runs = v.parse().ok(),
            _ => {}
        }
    }
    Some(Figure {
        name: name.to_string(),
        median: median?,
        unit,
        p10: p10?,
        p90: p90?,
        runs: runs?,
    })
}

/// Runs the guest benchmarks and prints the table.
pub fn run(icount: bool) -> Result<ExitCode> {
    host::ensure_all()?;
    let built = artifacts::build_all(true)?;
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| XtaskError::Io(dir.display().to_string(), e))?;
    let spec = ImageSpec::system(&built, LoaderChoice::Builtin, "");
    let iso = image::assemble(&spec, &dir.join("bench.iso"))?;
    let machine = Machine {
        iso,
        firmware: Firmware::Uefi,
        pmem: Some(pmem::prepare(&dir.join("bench.pmem"), 256 << 20, true)?),
        gdb: false,
        icount,
    };
    eprintln!(
        "xtask: running the guest benchmarks{} …",
        if icount { " under -icount shift=0" } else { "" }
    );
    let script = b"run ubench\npoweroff\n".to_vec();
    let report = qemu::session(
        &machine,
        Input::Script(script),
        Some(Duration::from_secs(900)),
        false,
    )?;
    std::fs::write(dir.join("bench.log"), &report.console)
        .map_err(|e| XtaskError::Io("target/bench/bench.log".into(), e))?;
    let figures: Vec<Figure> = report
        .console
        .lines()
        .filter_map(|l| parse_line(l.trim()))
        .collect();
    if figures.is_empty() {
        return Err(XtaskError::CommandFailed(format!(
            "the guest printed no benchmark figures ({}); console in target/bench/bench.log",
            qemu::describe(report.exit)
        )));
    }
    let clock = if icount {
        "instruction-scaled TSC (-icount shift=0, repeatable)"
    } else {
        "TSC cycles under TCG (noisy)"
    };
    println!("\nguest benchmarks — {clock}");
    println!(
        "{:<44} {:>14} {:>14} {:>14} {:>8}",
        "benchmark", "median", "p10", "p90", "runs"
    );
    for f in &figures {
        println!(
            "{:<44} {:>14} {:>14} {:>14} {:>8}",
            f.name,
            format!("{:.0} {}", f.median, f.unit),
            format!("{:.0}", f.p10),
            format!("{:.0}", f.p90),
            f.runs
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_guest_lines() {
        let f = parse_line("bench: null syscall: median 312 cycles, p10 300, p90 340, runs 10000")
            .unwrap();
        assert_eq!(f.name, "null syscall");
        assert_eq!(f.median, 312.0);
        assert_eq!(f.unit, "cycles");
        assert_eq!((f.p10, f.p90, f.runs), (300.0, 340.0, 10_000));
        assert!(parse_line("bench: broken: median x cycles").is_none());
        assert!(parse_line("nothing").is_none());
    }
}
