//! Protected procedure calls: the `utest ppc` group against the `Echo`
//! test server it spawns — null call, payload, gate-mask and capability
//! refusals, malformed messages, concurrent callers, a server fault
//! mid-call, and a restarted server; then the README's worked example,
//! the `adder` server, started under the supervisor and called from the
//! shell.

use crate::console;
use crate::scenario::{Boot, Outcome, Scenario};
use crate::suites::shell::with_input;
use crate::suites::user::group_passed;

/// Tests the `ppc` group must report.
pub const MIN_PPC_TESTS: u64 = 10;

/// The shell's part: the worked-example server is called before it runs,
/// started under the supervisor, called through each gate (one refusal
/// included), and shown by `server list`.
const ADDER: &str = "run adder add 2 3\n\
    server start adder adder serve\n\
    run adder add 2 3\n\
    run adder acc 40\n\
    run adder acc 2\n\
    run adder acc 18446744073709551615\n\
    run adder total\n\
    run adder add 2\n\
    server list\n";

/// The PPC scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "ppc/calls-refusals-faults-restarts",
        boot: with_input(&format!(
            "run utest ppc\n{ADDER}echo still alive\npoweroff\n"
        )),
        check: ppc,
    }]
}

fn ppc(out: &Outcome, _: &Boot) -> Result<(), String> {
    group_passed(out, "ppc", MIN_PPC_TESTS)?;
    let c = &out.console;
    worked_example(c)?;
    if console::line(c, "KERNEL PANIC").is_some() {
        return Err("the kernel panicked".into());
    }
    // The fault ended the server, not the caller, and was logged once per
    // deliberate fault (the test's and the clean-up's).
    let faults = console::lines(c, "fault: server utest");
    if faults.is_empty()
        || !faults
            .iter()
            .all(|l| l.ends_with("caller gets ServerFaulted"))
    {
        return Err(format!("server fault log lines: {faults:?}"));
    }
    if !c.lines().any(|l| l.trim_end() == "still alive") {
        return Err("the shell did not keep running after the calls".into());
    }
    Ok(())
}

/// The `adder` lines, in order: no service yet, then each call's answer,
/// the refused overflow leaving the total, a usage error, and the server
/// in the supervisor's list.
fn worked_example(c: &str) -> Result<(), String> {
    let wanted = [
        "adder: no `adder` service",
        "2 + 3 = 5",
        "adder: total 40",
        "adder: total 42",
        "adder: refused: the total 42 would overflow",
        "adder: total 42",
        "usage: adder serve",
    ];
    let mut rest = c;
    for w in wanted {
        let at = rest
            .find(w)
            .ok_or_else(|| format!("the adder example: missing (in order) {w:?}"))?;
        rest = &rest[at + w.len()..];
    }
    // Printed by the server itself, so in no fixed order with the calls.
    console::require(c, "adder: serving")?;
    let listed = c
        .lines()
        .any(|l| l.split_whitespace().next() == Some("adder") && l.contains("running"));
    if !listed {
        return Err("`server list` does not show adder running".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scenario::clean_outcome as out;

    const GOOD: &str = "utest: ppc: null call ... ok\n\
        fault: server utest (id 5) thread 9: page fault (write, not present) at 0x0 (rip 0x40a000) during a call; server ended, caller gets ServerFaulted\n\
        utest: 10 passed, 0 failed\nrun: utest exited with 0\n\
        adder: no `adder` service (start it: server start adder adder serve)\n\
        server: started adder as program 12\nadder: serving\n2 + 3 = 5\n\
        adder: total 40\nadder: total 42\n\
        adder: refused: the total 42 would overflow\nadder: total 42\n\
        usage: adder serve | adder add A B | adder acc N | adder total\n\
        adder        running (12)  -\nstill alive\n";

    #[test]
    fn the_group_must_pass_with_a_logged_server_fault() {
        assert_eq!(ppc(&out(GOOD), &Boot::builtin()), Ok(()));
        assert!(
            ppc(
                &out(&GOOD.replace("10 passed", "9 passed")),
                &Boot::builtin()
            )
            .is_err()
        );
        let no_fault = GOOD
            .lines()
            .filter(|l| !l.starts_with("fault:"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(ppc(&out(&no_fault), &Boot::builtin()).is_err());
        assert!(ppc(&out(&GOOD.replace("still alive\n", "")), &Boot::builtin()).is_err());
    }

    #[test]
    fn the_worked_example_must_answer_every_call_in_order() {
        assert_eq!(worked_example(GOOD), Ok(()));
        for gone in ["2 + 3 = 5", "total 40", "would overflow", "adder: serving"] {
            let broken: Vec<_> = GOOD.lines().filter(|l| !l.contains(gone)).collect();
            assert!(worked_example(&broken.join("\n")).is_err(), "{gone}");
        }
        // A refused overflow that changed the total is wrong.
        let changed = GOOD.replacen("adder: total 42\nusage", "adder: total 0\nusage", 1);
        assert!(worked_example(&changed).is_err());
        assert!(worked_example(&GOOD.replace("running (12)", "ended 0")).is_err());
    }
}
