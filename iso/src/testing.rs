//! `cargo xtask test`: the host unit tests, then every in-QEMU scenario from
//! the `perennial-tests` crate, ending with one `N passed, N failed` line.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use std::time::Duration;

use perennial_tests::campaign::Campaign;
use perennial_tests::reboots::Reboots;
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

/// `--long` multiplies every campaign's cuts by this.
const LONG_FACTOR: usize = 10;

/// Runs the suite; `only` narrows the QEMU scenarios and skips host tests;
/// `long` runs the long power-cut campaigns.
pub fn run(only: Option<&str>, with_host: bool, long: bool) -> Result<ExitCode> {
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

    std::fs::create_dir_all("target/test-runs")
        .map_err(|e| XtaskError::Io("target/test-runs".into(), e))?;
    // Two suites in one checkout would share images, pmem files and logs
    // and kernel builds: the second one says so and waits for the first.
    let lock_path = "target/test-runs/.lock";
    let lock = std::fs::File::create(lock_path).map_err(|e| XtaskError::Io(lock_path.into(), e))?;
    if lock.try_lock().is_err() {
        println!("xtask: another `cargo xtask test` is running in this checkout; waiting for it");
        lock.lock()
            .map_err(|e| XtaskError::Io(lock_path.into(), e))?;
    }

    host::ensure_all()?;
    let built = artifacts::build_all(true)?;
    let limine = image::find_limine();
    let scenarios: Vec<Scenario> = perennial_tests::all()
        .into_iter()
        .filter(|s| only.is_none_or(|o| s.name.contains(o)))
        .collect();
    let campaigns: Vec<Campaign> = perennial_tests::campaigns()
        .into_iter()
        .filter(|c| only.is_none_or(|o| c.name.contains(o)))
        .map(|mut c| {
            if long {
                c.cuts *= LONG_FACTOR;
            }
            c
        })
        .collect();
    let reboots: Vec<Reboots> = perennial_tests::reboots()
        .into_iter()
        .filter(|r| only.is_none_or(|o| r.name.contains(o)))
        .collect();
    // Campaigns are long: start them first so they overlap the scenarios.
    let jobs_list: Vec<Job> = campaigns
        .into_iter()
        .map(Job::Campaign)
        .chain(reboots.into_iter().map(Job::Reboots))
        .chain(scenarios.into_iter().map(Job::Scenario))
        .collect();
    let queue = Mutex::new(jobs_list.into_iter());
    let results = Mutex::new(Vec::new());
    let jobs = std::env::var("PERENNIAL_TEST_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(2usize);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let Some(job) = queue.lock().expect("queue lock").next() else {
                        break;
                    };
                    let result = match &job {
                        Job::Scenario(scenario) => run_one(scenario, &built, limine.as_ref()),
                        Job::Campaign(campaign) => run_campaign(campaign, &built),
                        Job::Reboots(reboots) => run_reboots(reboots, &built),
                    };
                    print_result(job.name(), &result);
                    results
                        .lock()
                        .expect("results lock")
                        .push((job.name(), result));
                }
            });
        }
    });

    let results = results.into_inner().expect("results lock");
    let mut timings = Vec::new();
    for (name, result) in &results {
        match result {
            Ok(RunResult::Passed {
                banner_after: Some(after),
                ..
            }) => {
                timings.push((*name, *after));
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

fn print_result(name: &str, result: &Result<RunResult>) {
    match result {
        Ok(RunResult::Passed { .. }) => println!("test {name} ... ok"),
        Ok(RunResult::Skipped(why)) => println!("test {name} ... skipped ({why})"),
        Ok(RunResult::Failed(why)) => {
            println!(
                "test {name} ... FAILED\n    {}",
                why.replace('\n', "\n    ")
            )
        }
        Err(err) => println!("test {name} ... FAILED (harness: {err})"),
    }
}

/// One unit of in-QEMU work.
enum Job {
    Scenario(Scenario),
    Campaign(Campaign),
    Reboots(Reboots),
}

impl Job {
    fn name(&self) -> &'static str {
        match self {
            Job::Scenario(s) => s.name,
            Job::Campaign(c) => c.name,
            Job::Reboots(r) => r.name,
        }
    }
}

/// File-name stem for a test's image, pmem file and logs.
fn stem(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Runs a power-cut campaign: boots on one pmem file, each cut at a random
/// moment in its window, then one clean boot; the campaign's check judges
/// all of them together. The seed is printed so a failure can be replayed
/// with `PERENNIAL_SEED`.
fn run_campaign(campaign: &Campaign, built: &Built) -> Result<RunResult> {
    let seed = std::env::var("PERENNIAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!(
        "xtask: {}: seed {seed} ({} cuts)",
        campaign.name, campaign.cuts
    );
    let mut rng = SplitMix(seed);
    let rounds = (0..=campaign.cuts).map(|round| {
        if round == campaign.cuts {
            return (campaign.final_script.to_string(), None);
        }
        let (lo, hi) = campaign.cut_window;
        let span = (hi - lo).as_millis().max(1) as u64;
        let delay = lo + Duration::from_millis(rng.next() % span);
        let script = campaign
            .work_script
            .replace("{seed}", &(rng.next() >> 1).to_string());
        let cut = qemu::Cut {
            marker: Some(campaign.ready_marker.to_string()),
            delay,
        };
        (script, Some(cut))
    });
    let rounds: Vec<_> = rounds.collect();
    let outcomes = boot_rounds(
        campaign.name,
        campaign.pmem_size,
        rounds,
        campaign.boot_timeout,
        built,
        None,
    )?;
    let dir = PathBuf::from("target/test-runs");
    Ok(match (campaign.check)(&outcomes) {
        Ok(()) => RunResult::Passed { banner_after: None },
        Err(why) => RunResult::Failed(format!(
            "{why}\n(seed {seed}; consoles: {}/{}-boot*.log)",
            dir.display(),
            stem(campaign.name)
        )),
    })
}

/// Runs a reboot sequence: each script in its own boot, on one pmem file.
fn run_reboots(reboots: &Reboots, built: &Built) -> Result<RunResult> {
    let rounds = reboots.scripts.iter().map(|s| (s.clone(), None)).collect();
    let outcomes = boot_rounds(
        reboots.name,
        reboots.pmem_size,
        rounds,
        reboots.boot_timeout,
        built,
        reboots.between,
    )?;
    Ok(match (reboots.check)(&outcomes) {
        Ok(()) => RunResult::Passed { banner_after: None },
        Err(why) => RunResult::Failed(format!(
            "{why}\n(consoles: target/test-runs/{}-boot*.log)",
            stem(reboots.name)
        )),
    })
}

/// Boots the system once per round on one fresh pmem file of `pmem_size`
/// bytes, typing the round's script and cutting the power where the round
/// says; every console goes to `target/test-runs/<name>-bootN.log`.
fn boot_rounds(
    name: &str,
    pmem_size: u64,
    rounds: Vec<(String, Option<qemu::Cut>)>,
    timeout: Duration,
    built: &Built,
    between: Option<perennial_tests::reboots::Between>,
) -> Result<Vec<perennial_tests::Outcome>> {
    let dir = PathBuf::from("target/test-runs");
    let stem = stem(name);
    let spec = ImageSpec::system(built, LoaderChoice::Builtin, "");
    let iso = image::assemble(&spec, &dir.join(format!("{stem}.iso")))?;
    let pmem = pmem::prepare(&dir.join(format!("{stem}.pmem")), pmem_size, true)?;
    let machine = Machine {
        iso,
        firmware: Firmware::Uefi,
        pmem: Some(pmem),
        gdb: false,
        icount: false,
    };
    let mut outcomes = Vec::new();
    for (round, (script, cut)) in rounds.into_iter().enumerate() {
        let report = qemu::session(
            &machine,
            Input::Script(script.into_bytes()),
            Some(timeout),
            false,
            cut.as_ref(),
        )?;
        let log = dir.join(format!("{stem}-boot{round}.log"));
        std::fs::write(&log, &report.console)
            .map_err(|e| XtaskError::Io(log.display().to_string(), e))?;
        let outcome = perennial_tests::Outcome {
            console: report.console,
            exit: report.exit,
            banner_after: report.banner_after,
        };
        if let Some(step) = between
            && let Some(file) = &machine.pmem
            && let Err(why) = step(round, &outcome, &file.path)
        {
            // The next boot would test nothing: say why in its place.
            outcomes.push(outcome);
            outcomes.push(perennial_tests::Outcome {
                console: format!("host step after boot {round} failed: {why}"),
                exit: perennial_tests::Exit::Cut,
                banner_after: None,
            });
            return Ok(outcomes);
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// A small seeded generator (SplitMix64) for cut moments and workload seeds.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
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
    let stem = stem(scenario.name);
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
    let report = qemu::session(&machine, input, Some(boot.timeout), false, None)?;
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
/// Clippy over everything built for the kernel's target, with the
/// resolver servers' features on (the list the build uses).
fn guest_clippy_args() -> Vec<String> {
    let mut args: Vec<String> = ["clippy", "--quiet", "--release", "--target"]
        .map(String::from)
        .into();
    args.push(artifacts::KERNEL_TARGET.into());
    match artifacts::guest_packages() {
        Ok((packages, features)) => {
            for p in packages {
                args.extend(["-p".into(), p]);
            }
            if !features.is_empty() {
                args.extend(["--features".into(), features.join(",")]);
            }
        }
        // The build reports the broken list; lint what is certain.
        Err(_) => args.extend(["-p".into(), "microkernel".into()]),
    }
    args
}

fn lint() -> Vec<(&'static str, bool)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let deny = ["--", "-D", "warnings"];
    let guest = guest_clippy_args();
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
                &guest.iter().map(String::as_str).collect::<Vec<_>>()[..],
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
