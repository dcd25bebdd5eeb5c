//! Protected procedure calls: the `utest ppc` group against the `Echo`
//! test server it spawns — null call, payload, gate-mask and capability
//! refusals, malformed messages, concurrent callers, a server fault
//! mid-call, and a restarted server.

use crate::console;
use crate::scenario::{Boot, Outcome, Scenario};
use crate::suites::shell::with_input;
use crate::suites::user::group_passed;

/// Tests the `ppc` group must report.
pub const MIN_PPC_TESTS: u64 = 8;

/// The PPC scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "ppc/calls-refusals-faults-restarts",
        boot: with_input("run utest ppc\necho still alive\npoweroff\n"),
        check: ppc,
    }]
}

fn ppc(out: &Outcome, _: &Boot) -> Result<(), String> {
    group_passed(out, "ppc", MIN_PPC_TESTS)?;
    let c = &out.console;
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scenario::clean_outcome as out;

    const GOOD: &str = "utest: ppc: null call ... ok\n\
        fault: server utest (id 5) thread 9: page fault (write, not present) at 0x0 (rip 0x40a000) during a call; server ended, caller gets ServerFaulted\n\
        utest: 8 passed, 0 failed\nrun: utest exited with 0\nstill alive\n";

    #[test]
    fn the_group_must_pass_with_a_logged_server_fault() {
        assert_eq!(ppc(&out(GOOD), &Boot::builtin()), Ok(()));
        assert!(
            ppc(
                &out(&GOOD.replace("8 passed", "7 passed")),
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
}
