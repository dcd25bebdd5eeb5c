//! `cargo xtask bench`: the host pointer-chase comparison, then the guest
//! benchmarks (boots the system and runs `ubench`), printed as tables. Figures are printed, never asserted:
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

/// Which benchmark sets to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sets {
    /// The host pointer-chase comparison.
    pub host: bool,
    /// The in-guest figures.
    pub guest: bool,
}

/// Guest figures reported as a multiple of the null system call.
const PPC_RATIOS: [(&str, &str); 2] = [
    (
        "PPC round trip, empty message",
        "ppc round trip (empty message)",
    ),
    (
        "PPC round trip, 256-byte message",
        "ppc round trip (256-byte message)",
    ),
];

/// `name`'s median over the null system call's, when both were measured.
fn ratio_to_null_syscall(figures: &[Figure], name: &str) -> Option<f64> {
    let median = |n: &str| figures.iter().find(|f| f.name == n).map(|f| f.median);
    Some(median(name)? / median("null syscall")?)
}

/// Runs the chosen benchmark sets and prints their tables.
pub fn run(sets: Sets, icount: bool) -> Result<ExitCode> {
    if sets.host {
        let figures = host_figures()?;
        print_table(
            "host: dependent pointer chase (ns per hop; ratio to the raw pointer)",
            &figures,
            true,
        );
        let txn = txn_figures()?;
        print_table(
            "host: durable transactions (ns per operation; flush + fence each)",
            &txn,
            false,
        );
        let median = |n: &str| txn.iter().find(|f| f.name == n).map(|f| f.median);
        if let (Some(tx), Some(raw)) = (median("txn commit 64B"), median("unlogged persist 64B")) {
            println!(
                "Transaction commit, 64-byte update: {:.1}x an unlogged persistent store",
                tx / raw
            );
        }
    }
    if sets.guest {
        let figures = guest_figures(icount)?;
        let clock = if icount {
            "instruction-scaled TSC (-icount shift=0, repeatable)"
        } else {
            "TSC cycles under TCG (noisy)"
        };
        print_table(&format!("guest: {clock}"), &figures, false);
        for (what, name) in PPC_RATIOS {
            if let Some(ratio) = ratio_to_null_syscall(&figures, name) {
                println!("{what}: {ratio:.1}x the null system call");
            }
        }
        let built = artifacts::build_all(true)?;
        let recovery = crate::recovery::figures(&built, icount)?;
        let clock = if icount {
            "instruction-scaled ms"
        } else {
            "ms of TCG wall time"
        };
        print_table(
            &format!("recovery after a power cut, and hot restart ({clock})"),
            &recovery,
            false,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The invariant-pointer chase benchmark, run natively on the host.
fn host_figures() -> Result<Vec<Figure>> {
    eprintln!("xtask: running the host pointer-chase benchmark …");
    host_bench("objects", "objects-bench")
}

/// The durable-transaction benchmark (`servers/txn`), run natively on the
/// host over DRAM with the runtime's flush (`clwb`/`clflushopt`/`clflush`)
/// and fence: commit latency of a small update against the same bytes
/// stored and flushed without a log.
fn txn_figures() -> Result<Vec<Figure>> {
    eprintln!("xtask: running the host durable-transaction benchmark …");
    host_bench("txn", "txn-bench")
}

/// Runs host benchmark binary `bin` of package `package` (built with its
/// `bench` feature) and parses the `bench:` lines it prints.
fn host_bench(package: &str, bin: &str) -> Result<Vec<Figure>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            package,
            "--features",
            "bench",
            "--bin",
            bin,
        ])
        .output()
        .map_err(|e| XtaskError::CommandFailed(format!("cannot run {bin}: {e}")))?;
    if !out.status.success() {
        return Err(XtaskError::CommandFailed(format!(
            "{bin} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| parse_line(l.trim()))
        .collect())
}

/// Boots the system and runs `ubench` and `nameclient`'s benchmarks.
fn guest_figures(icount: bool) -> Result<Vec<Figure>> {
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
    // ubench, then the naming client's figures (name resolution, and a
    // late-bound FOT pointer's first and cached dereference).
    let script =
        b"run ubench\nrun nameclient bench 200\nresolver start flat\nrun nameclient fot\npoweroff\n"
            .to_vec();
    let report = qemu::session(
        &machine,
        Input::Script(script),
        Some(Duration::from_secs(900)),
        false,
        None,
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
    Ok(figures)
}

/// The figure a chase figure is compared with: the raw-pointer chase of the
/// same size class (same name suffix after the kind).
fn raw_baseline<'a>(figures: &'a [Figure], f: &Figure) -> Option<&'a Figure> {
    f.name.strip_prefix("chase ")?;
    let size_class = |name: &str| name.ends_with(" cache-resident");
    figures.iter().find(|b| {
        b.name.starts_with("chase raw pointer") && size_class(&b.name) == size_class(&f.name)
    })
}

fn print_table(title: &str, figures: &[Figure], ratios: bool) {
    println!("\n{title}");
    println!(
        "{:<58} {:>16} {:>10} {:>10} {:>8}{}",
        "benchmark",
        "median",
        "p10",
        "p90",
        "runs",
        if ratios { "    ratio" } else { "" }
    );
    for f in figures {
        let ratio = if ratios {
            raw_baseline(figures, f).map_or(String::new(), |b| {
                format!("  {:>6.2}x", f.median / b.median)
            })
        } else {
            String::new()
        };
        println!(
            "{:<58} {:>16} {:>10} {:>10} {:>8}{ratio}",
            f.name,
            format!("{} {}", trim(f.median), f.unit),
            trim(f.p10),
            trim(f.p90),
            f.runs
        );
    }
}

/// Whole numbers print without decimals; small figures keep two.
fn trim(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chase_ratios_compare_within_one_size_class() {
        let fig = |name: &str, median: f64| Figure {
            name: name.into(),
            median,
            unit: "ns/hop".into(),
            p10: 0.0,
            p90: 0.0,
            runs: 1,
        };
        let figures = vec![
            fig("chase raw pointer", 100.0),
            fig("chase invptr intra-object", 110.0),
            fig("chase raw pointer cache-resident", 4.0),
            fig("chase pmdk-style oid lookup cache-resident", 8.0),
        ];
        assert_eq!(raw_baseline(&figures, &figures[1]).unwrap().median, 100.0);
        assert_eq!(raw_baseline(&figures, &figures[3]).unwrap().median, 4.0);
        assert!(raw_baseline(&figures, &fig("null syscall", 1.0)).is_none());
    }

    #[test]
    fn ppc_is_reported_against_the_null_syscall() {
        let fig = |name: &str, median: f64| Figure {
            name: name.into(),
            median,
            unit: "cycles".into(),
            p10: 0.0,
            p90: 0.0,
            runs: 1,
        };
        let figures = vec![
            fig("null syscall", 455.0),
            fig("ppc round trip (empty message)", 910.0),
        ];
        assert_eq!(
            ratio_to_null_syscall(&figures, "ppc round trip (empty message)"),
            Some(2.0)
        );
        assert_eq!(
            ratio_to_null_syscall(&figures, "ppc round trip (256-byte message)"),
            None
        );
        assert_eq!(
            ratio_to_null_syscall(&figures[1..], "ppc round trip (empty message)"),
            None
        );
    }

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
