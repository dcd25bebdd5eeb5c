//! User programs under the kernel: every system call's success path,
//! threads, faults that end only the faulting program, and garbage in every
//! system call.

use crate::console;
use crate::scenario::{Boot, GuestExit, Outcome, Scenario, expect_exit};
use crate::suites::shell::with_input;

/// Tests the `syscalls` group must report at least (a guard against a
/// group that silently runs fewer tests).
pub const MIN_SYSCALL_TESTS: u64 = 12;
/// Tests the `threads` group must report at least.
pub const MIN_THREAD_TESTS: u64 = 3;

/// The faults `utest fault KIND` provokes, with the vector that must end it.
pub const FAULTS: [(&str, u8); 5] = [
    ("null-read", 14),
    ("write-readonly", 14),
    ("kernel-address", 14),
    ("invalid-opcode", 6),
    ("divide-by-zero", 0),
];

/// The user-program scenarios.
pub fn scenarios() -> Vec<Scenario> {
    let faults: String = FAULTS
        .iter()
        .map(|(kind, _)| format!("run utest fault {kind}\n"))
        .collect();
    vec![
        Scenario {
            name: "user/syscalls",
            boot: with_input("run utest syscalls\npoweroff\n"),
            check: syscalls,
        },
        Scenario {
            name: "user/threads",
            boot: with_input("run utest threads\npoweroff\n"),
            check: threads,
        },
        Scenario {
            name: "user/faults-end-only-the-program",
            boot: with_input(&(faults + "echo still alive\npoweroff\n")),
            check: faults_end_only_the_program,
        },
        Scenario {
            name: "user/bad-input-to-every-syscall",
            boot: with_input("run utest badinput\npoweroff\n"),
            check: bad_input,
        },
    ]
}

/// Checks a `utest` group's summary: all passed, at least `min` ran, exit 0.
pub(crate) fn group_passed(out: &Outcome, group: &str, min: u64) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    if let Some(failed) = console::line(c, "utest: ").filter(|_| c.contains("... FAILED")) {
        let first = console::lines(c, "utest: ")
            .into_iter()
            .find(|l| l.contains("FAILED"))
            .unwrap_or(failed);
        return Err(format!("utest {group}: {first}"));
    }
    let summary = console::lines(c, "utest: ")
        .into_iter()
        .find(|l| l.contains(" passed, "))
        .ok_or_else(|| {
            format!(
                "utest {group} printed no summary; console ends with:\n{}",
                console::tail(c, 15)
            )
        })?;
    let passed = console::number_after(summary, "utest: ").unwrap_or(0);
    let failed = console::number_after(summary, "passed, ").unwrap_or(u64::MAX);
    if failed != 0 || passed < min {
        return Err(format!(
            "utest {group}: {summary:?} (at least {min} tests must pass)"
        ));
    }
    console::require(c, "run: utest exited with 0").map(|_| ())
}

fn syscalls(out: &Outcome, _: &Boot) -> Result<(), String> {
    group_passed(out, "syscalls", MIN_SYSCALL_TESTS)
}

fn threads(out: &Outcome, _: &Boot) -> Result<(), String> {
    group_passed(out, "threads", MIN_THREAD_TESTS)
}

fn bad_input(out: &Outcome, _: &Boot) -> Result<(), String> {
    group_passed(out, "badinput", 1)?;
    if console::line(&out.console, "KERNEL PANIC").is_some() {
        return Err("the kernel panicked on garbage system-call arguments".into());
    }
    Ok(())
}

fn faults_end_only_the_program(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    let killed = console::lines(c, "run: utest killed by ");
    if killed.len() != FAULTS.len() {
        return Err(format!(
            "{} of {} faulting programs were reported killed: {killed:?}",
            killed.len(),
            FAULTS.len()
        ));
    }
    for ((kind, vector), line) in FAULTS.iter().zip(&killed) {
        if !line.ends_with(&format!("(vector {vector})")) {
            return Err(format!(
                "`utest fault {kind}` ended with {line:?}, expected vector {vector}"
            ));
        }
    }
    let logged = console::lines(c, "fault: program utest");
    if logged.len() != FAULTS.len()
        || !logged
            .iter()
            .all(|l| l.contains(" at 0x") && l.ends_with("program ended"))
    {
        return Err(format!("kernel fault log lines: {logged:?}"));
    }
    if !c.lines().any(|l| l.trim_end() == "still alive") {
        return Err("the shell did not keep running after the faults".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scenario::clean_outcome as out;

    #[test]
    fn a_group_summary_must_show_enough_passes_and_no_failure() {
        let good = "utest: a ... ok\nutest: 12 passed, 0 failed\nrun: utest exited with 0\n";
        assert_eq!(syscalls(&out(good), &Boot::builtin()), Ok(()));
        assert!(
            syscalls(
                &out(&good.replace("12 passed", "3 passed")),
                &Boot::builtin()
            )
            .is_err()
        );
        assert!(
            syscalls(
                &out(&good.replace("0 failed", "1 failed")),
                &Boot::builtin()
            )
            .is_err()
        );
        assert!(syscalls(&out("utest: x ... FAILED: no\nutest: 12 passed, 0 failed\nrun: utest exited with 0\n"), &Boot::builtin()).is_err());
        assert!(
            syscalls(
                &out(&good.replace("exited with 0", "exited with 1")),
                &Boot::builtin()
            )
            .is_err()
        );
    }

    #[test]
    fn faults_need_one_kill_and_one_log_line_each() {
        let mut text = String::new();
        for (kind, vector) in FAULTS {
            text += &format!(
                "fault: program utest (id 3) thread 4: {kind} at 0x0 (rip 0x401000); program ended\n"
            );
            text += &format!("run: utest killed by something (vector {vector})\n");
        }
        text += "still alive\n";
        assert_eq!(
            faults_end_only_the_program(&out(&text), &Boot::builtin()),
            Ok(())
        );
        let wrong = text.replacen("(vector 6)", "(vector 13)", 1);
        assert!(faults_end_only_the_program(&out(&wrong), &Boot::builtin()).is_err());
        let died = text.replace("still alive\n", "");
        assert!(faults_end_only_the_program(&out(&died), &Boot::builtin()).is_err());
    }
}
