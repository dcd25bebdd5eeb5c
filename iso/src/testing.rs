//! `cargo xtask test`: the host unit tests, then every in-QEMU scenario from
//! the `perennial-tests` crate, ending with one `N passed, N failed` line.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use perennial_tests::{Boot, Broken, Firmware as ScenarioFirmware, Loader, Pmem, Scenario};

use crate::artifacts::{self, Built};
use crate::image::{self, ImageSpec, LoaderChoice, ModuleFile, Source};
use crate::qemu::{self, Firmware, Input, Machine};
use crate::{Result, XtaskError, host, pmem};

/// Tallies across the whole run.
#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    passed: u64,
    failed: u64,
    skipped: u64,
}

/// Runs the suite; `only` narrows the QEMU scenarios and skips host tests.
pub fn run(only: Option<&str>, with_host: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let mut tally = Tally::default();
    if with_host && only.is_none() {
        for (name, ok) in lint() {
            println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
            if ok {
                tally.passed += 1;
            } else {
                tally.failed += 1;
            }
        }
        let host = host_tests()?;
        println!(
            "xtask: host unit tests: {} passed, {} failed",
            host.passed, host.failed
        );
        tally.passed += host.passed;
        tally.failed += host.failed;
    }

    host::ensure_all()?;
    let built = artifacts::build_all(true)?;
    let limine = image::find_limine();
    let scenarios: Vec<Scenario> = perennial_tests::all()
        .into_iter()
        .filter(|s| only.is_none_or(|o| s.name.contains(o)))
        .collect();
    std::fs::create_dir_all("target/test-runs")
        .map_err(|e| XtaskError::Io("target/test-runs".into(), e))?;

    let queue = Mutex::new(scenarios.into_iter());
    let results = Mutex::new(Vec::new());
    let jobs = std::env::var("PERENNIAL_TEST_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(2usize);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let Some(scenario) = queue.lock().expect("queue lock").next() else {
                        break;
                    };
                    let result = run_one(&scenario, &built, limine.as_ref());
                    print_result(&scenario, &result);
                    results
                        .lock()
                        .expect("results lock")
                        .push((scenario, result));
                }
            });
        }
    });

    let results = results.into_inner().expect("results lock");
    let mut timings = Vec::new();
    for (scenario, result) in &results {
        match result {
            Ok(RunResult::Passed {
                banner_after: Some(after),
                ..
            }) => {
                timings.push((scenario.name, *after));
                tally.passed += 1;
            }
            Ok(RunResult::Passed { .. }) => tally.passed += 1,
            Ok(RunResult::Skipped(_)) => tally.skipped += 1,
            Ok(RunResult::Failed(_)) | Err(_) => tally.failed += 1,
        }
    }
    if !timings.is_empty() {
        println!("\nxtask: host time from QEMU start to the kernel banner:");
        for (name, after) in timings {
            println!("    {:<40} {:>7.3} s", name, after.as_secs_f64());
        }
    }
    println!(
        "\nxtask: suite took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "{} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.skipped
    );
    Ok(if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

enum RunResult {
    Passed {
        banner_after: Option<std::time::Duration>,
    },
    Failed(String),
    Skipped(&'static str),
}

fn print_result(scenario: &Scenario, result: &Result<RunResult>) {
    match result {
        Ok(RunResult::Passed { .. }) => println!("test {} ... ok", scenario.name),
        Ok(RunResult::Skipped(why)) => println!("test {} ... skipped ({why})", scenario.name),
        Ok(RunResult::Failed(why)) => println!(
            "test {} ... FAILED\n    {}",
            scenario.name,
            why.replace('\n', "\n    ")
        ),
        Err(err) => println!("test {} ... FAILED (harness: {err})", scenario.name),
    }
}

fn run_one(
    scenario: &Scenario,
    built: &Built,
    limine: Option<&image::LimineDir>,
) -> Result<RunResult> {
    let boot = &scenario.boot;
    let loader = match (boot.loader, limine) {
        (Loader::Builtin, _) => LoaderChoice::Builtin,
        (Loader::Limine, Some(dir)) => LoaderChoice::Limine(dir.clone()),
        (Loader::Limine, None) => {
            return Ok(RunResult::Skipped("no Limine release; set LIMINE_DIR"));
        }
    };
    let stem: String = scenario
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = PathBuf::from("target/test-runs");
    let iso = image::assemble(
        &image_spec(boot, built, loader),
        &dir.join(format!("{stem}.iso")),
    )?;
    let pmem = match boot.pmem {
        Pmem::None => None,
        Pmem::Fresh(size) => Some(pmem::prepare(
            &dir.join(format!("{stem}.pmem")),
            size,
            true,
        )?),
    };
    let machine = Machine {
        iso,
        firmware: match boot.firmware {
            ScenarioFirmware::Bios => Firmware::Bios,
            ScenarioFirmware::Uefi => Firmware::Uefi,
        },
        pmem,
        gdb: false,
        icount: false,
    };
    // Input (then end-of-input) goes in once the kernel is up; a scenario with
    // no input still gets end-of-input, so the shell powers the machine off.
    let input = Input::Script(boot.input.clone());
    let report = qemu::session(&machine, input, Some(boot.timeout), false)?;
    let log = dir.join(format!("{stem}.log"));
    std::fs::write(&log, &report.console)
        .map_err(|e| XtaskError::Io(log.display().to_string(), e))?;
    let outcome = perennial_tests::Outcome {
        console: report.console,
        exit: report.exit,
        banner_after: report.banner_after,
    };
    Ok(match scenario.verify(&outcome) {
        Ok(()) => RunResult::Passed {
            banner_after: report.banner_after,
        },
        Err(why) => RunResult::Failed(format!("{why}\n(full console: {})", log.display())),
    })
}

fn image_spec(boot: &Boot, built: &Built, loader: LoaderChoice) -> ImageSpec {
    let mut spec = ImageSpec::system(built, loader, &boot.cmdline);
    spec.modules.extend(boot.modules.iter().map(|m| ModuleFile {
        name: m.name.to_string(),
        cmdline: m.cmdline.to_string(),
        source: Source::Bytes(m.bytes.clone()),
    }));
    match &boot.broken {
        Some(Broken::Config(text)) => spec.config_override = Some(text.to_string()),
        Some(Broken::Kernel(bytes)) => spec.kernel = Source::Bytes(bytes.clone()),
        None => {}
    }
    spec
}

/// Formatting and lints, each target with its own flags: a warning is a
/// failure here, so what lands is `cargo fmt` and `cargo clippy` clean.
fn lint() -> Vec<(&'static str, bool)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let deny = ["--", "-D", "warnings"];
    let runs: [(&str, Vec<&str>); 4] = [
        ("lint/rustfmt", vec!["fmt", "--all", "--check"]),
        (
            "lint/clippy-host",
            [
                &[
                    "clippy",
                    "--quiet",
                    "--workspace",
                    "--exclude",
                    "microkernel",
                    "--exclude",
                    "loader",
                    "--all-targets",
                ][..],
                &deny,
            ]
            .concat(),
        ),
        (
            "lint/clippy-kernel-and-programs",
            [
                &[
                    "clippy",
                    "--quiet",
                    "--release",
                    "--target",
                    artifacts::KERNEL_TARGET,
                    "-p",
                    "microkernel",
                    "-p",
                    "init",
                    "-p",
                    "utest",
                ][..],
                &deny,
            ]
            .concat(),
        ),
        (
            "lint/clippy-loader",
            [
                &[
                    "clippy",
                    "--quiet",
                    "--release",
                    "--target",
                    artifacts::LOADER_TARGET,
                    "-p",
                    "loader",
                ][..],
                &deny,
            ]
            .concat(),
        ),
    ];
    runs.into_iter()
        .map(|(name, args)| {
            let ok = Command::new(&cargo)
                .args(&args)
                .status()
                .is_ok_and(|s| s.success());
            (name, ok)
        })
        .collect()
}

/// Runs `cargo test` over the host crates, echoing it, and sums the
/// `test result:` lines.
fn host_tests() -> Result<Tally> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .args([
            "test",
            "--workspace",
            "--exclude",
            "microkernel",
            "--exclude",
            "loader",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| XtaskError::CommandFailed(format!("cannot run cargo test: {e}")))?;
    let mut tally = Tally::default();
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line.map_err(|e| XtaskError::Io("cargo test output".into(), e))?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            tally.passed += count(rest, " passed");
            tally.failed += count(rest, " failed");
        }
    }
    let status = child
        .wait()
        .map_err(|e| XtaskError::CommandFailed(format!("cargo test: {e}")))?;
    if !status.success() && tally.failed == 0 {
        // A build failure runs no test: count it, so the suite cannot pass.
        tally.failed += 1;
        println!("xtask: cargo test failed before running its tests ({status})");
    }
    Ok(tally)
}

/// The number before `label` in a `test result:` line.
fn count(line: &str, label: &str) -> u64 {
    line.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(label.trim_start())
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn reads_cargo_test_result_lines() {
        let ok =
            "ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(count(ok, " passed"), 12);
        assert_eq!(count(ok, " failed"), 0);
        let bad = "FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(count(bad, " passed"), 3);
        assert_eq!(count(bad, " failed"), 2);
    }
}
