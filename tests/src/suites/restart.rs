//! Servers restarted under a running system, and the shell's power cut.
//!
//! - `restart/server-kill-objstore`: `server kill objstore` while the
//!   shell holds persistent objects; `init`'s supervisor starts a new
//!   incarnation on the same NVDIMM, the shell's next calls rebind to it,
//!   and the bytes written before the kill read back.
//! - `restart/powercut-then-recover` (a reboot sequence): the shell's
//!   `powercut` stops the machine mid-session; the next boot on the same
//!   pmem file says it is a recovery, finds the object written before the
//!   cut, and the store's checker is clean; after that boot's clean
//!   `poweroff`, the third says it is a clean start.

use std::time::Duration;

use crate::console;
use crate::reboots::Reboots;
use crate::scenario::{Boot, Exit, GuestExit, Outcome, Scenario, expect_exit};
use crate::suites::shell::with_input;

const KILL_SESSION: &str = "obj new --persistent 64\nobj write %1 0 committed before the kill\n\
    server list\nserver kill objstore\nobj read %1 0 25\nobj write %1 0 after the restart\n\
    obj read %1 0 17\nserver list\nserver kill nosuch\nfsck\npoweroff\n";

/// The restart scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "restart/server-kill-objstore",
        boot: with_input(KILL_SESSION),
        check: kill_session,
    }]
}

/// The reboot sequences.
pub fn reboots() -> Vec<Reboots> {
    vec![Reboots {
        name: "restart/powercut-then-recover",
        pmem_size: 256 << 20,
        scripts: vec![
            "obj new --persistent 64\nobj write %1 0 survives the cut\npowercut\n".into(),
            // Other servers keep objects of their own: read each listed one.
            format!(
                "obj list\n{}fsck\npoweroff\n",
                (1..=8)
                    .map(|n| format!("obj read %{n} 0 16\n"))
                    .collect::<String>()
            ),
            // `obj list` waits for the store, so its start line comes first.
            "obj list\npoweroff\n".into(),
        ],
        boot_timeout: Duration::from_secs(60),
        check: powercut_then_recover,
    }]
}

/// The ID in `obj: created persistent ID (…)`.
fn created_id(console: &str) -> Result<&str, String> {
    let created = console::require(console, "obj: created persistent ")?;
    created
        .split_whitespace()
        .nth(3)
        .ok_or_else(|| format!("no ID in {created:?}"))
}

fn kill_session(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    let id = created_id(c)?;
    console::require(c, "server: killed objstore (program ")?;
    console::require(c, "init: objstore was killed (killed); restarting it")?;
    console::require(c, &format!("obj: {id} +0: \"committed before the kill\""))?;
    console::require(c, &format!("obj: {id} +0: \"after the restart\""))?;
    let rows = console::lines(c, "objstore ");
    let restarted = rows
        .iter()
        .any(|r| r.contains("running (") && r.ends_with("killed") && r.contains(" 1 "));
    if !restarted {
        return Err(format!(
            "`server list` never showed objstore restarted once after a kill: {rows:?}"
        ));
    }
    console::require(c, "server: cannot kill nosuch: no such server")?;
    console::require(c, "fsck: clean").map(drop)
}

fn powercut_then_recover(boots: &[Outcome]) -> Result<(), String> {
    let [cut, after, clean] = boots else {
        return Err(format!("expected 3 boots, got {}", boots.len()));
    };
    // Each boot's log says how the last run ended.
    console::require(&cut.console, "objstore: fresh start")?;
    console::require(
        &after.console,
        "objstore: recovery (the last run ended without a shutdown",
    )?;
    console::require(
        &clean.console,
        "objstore: clean start (the last run shut down)",
    )?;
    expect_exit(clean, GuestExit::Success)?;
    if cut.exit != Exit::Guest(GuestExit::PowerCut) {
        return Err(format!(
            "the first boot ended with {:?}, not the power cut; console ends with:\n{}",
            cut.exit,
            console::tail(&cut.console, 12)
        ));
    }
    console::require(&cut.console, "powercut: cutting the power now")?;
    if console::line(&cut.console, "powering off").is_some() {
        return Err("the power cut went through the shutdown path".into());
    }
    let id = created_id(&cut.console)?;
    expect_exit(after, GuestExit::Success)?;
    console::require(
        &after.console,
        &format!("obj: {id} +0: \"survives the cut\""),
    )?;
    console::require(&after.console, "fsck: clean").map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::clean_outcome as out;

    const ID: &str = "7df88270baf576e29bb63cc74200a4c4";

    fn kill_transcript() -> String {
        format!(
            "obj: created persistent {ID} (64 bytes)\n\
             server: killed objstore (program 2); the supervisor restarts it\n\
             init: objstore was killed (killed); restarting it\n\
             obj: {ID} +0: \"committed before the kill\"\n\
             obj: {ID} +0: \"after the restart\"\n\
             objstore     running (7)             1  killed\n\
             server: cannot kill nosuch: no such server (see `server list`)\n\
             fsck: clean\n"
        )
    }

    #[test]
    fn the_kill_session_needs_the_restart_and_the_bytes() {
        assert_eq!(
            kill_session(&out(&kill_transcript()), &Boot::builtin()),
            Ok(())
        );
        let lost = kill_transcript().replace("committed before the kill", "");
        assert!(kill_session(&out(&lost), &Boot::builtin()).is_err());
        let never =
            kill_transcript().replace("running (7)             1", "running (2)             0");
        assert!(kill_session(&out(&never), &Boot::builtin()).is_err());
    }

    #[test]
    fn the_cut_must_be_a_cut_and_the_bytes_must_survive_it() {
        let mut cut = out(&format!(
            "objstore: fresh start: an empty store; serving after 9 ms\n\
             obj: created persistent {ID} (64 bytes)\npowercut: cutting the power now\n"
        ));
        cut.exit = Exit::Guest(GuestExit::PowerCut);
        let after = out(&format!(
            "objstore: recovery (the last run ended without a shutdown: a power cut or a crash): \
             1 objects; recovered and serving after 12 ms\n\
             obj: {ID} +0: \"survives the cut\"\nfsck: clean\n"
        ));
        let clean =
            out("objstore: clean start (the last run shut down): 1 objects; serving after 8 ms\n");
        let boots = |a: &Outcome, b: &Outcome, c: &Outcome| [a.clone(), b.clone(), c.clone()];
        assert_eq!(powercut_then_recover(&boots(&cut, &after, &clean)), Ok(()));
        let mut shut = cut.clone();
        shut.exit = Exit::Guest(GuestExit::Success);
        assert!(powercut_then_recover(&boots(&shut, &after, &clean)).is_err());
        let lost = out("objstore: recovery (the last run ended without a shutdown\nfsck: clean\n");
        assert!(powercut_then_recover(&boots(&cut, &lost, &clean)).is_err());
        // The second boot must call itself a recovery, the third a clean start.
        assert!(powercut_then_recover(&boots(&cut, &clean, &clean)).is_err());
        assert!(powercut_then_recover(&boots(&cut, &after, &after)).is_err());
        assert!(powercut_then_recover(&[cut, after]).is_err());
    }
}
