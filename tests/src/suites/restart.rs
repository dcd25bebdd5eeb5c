//! Servers restarted under a running system, and the shell's power cut.
//!
//! - `restart/server-kill-objstore`: `server kill objstore` while the
//!   shell holds persistent objects; `init`'s supervisor starts a new
//!   incarnation on the same NVDIMM, the shell's next calls rebind to it,
//!   and the bytes written before the kill read back.
//! - `restart/kill-every-server`: each server — the resolvers, the
//!   registry, the POSIX server, the object store — killed in turn right
//!   after something was committed through it; the shell's next command
//!   reaches the new incarnation and finds it.
//! - `restart/powercut-then-recover` (a reboot sequence): the shell's
//!   `powercut` stops the machine mid-session; the next boot on the same
//!   pmem file says it is a recovery, finds the object written before the
//!   cut, and the store's checker is clean; after that boot's clean
//!   `poweroff`, the third says it is a clean start.
//! - `restart/kill-each-server-under-load` ([`load`]): every server killed
//!   in turn while `loadgen` writes and re-reads records through them.

use std::time::Duration;

use crate::console;
use crate::reboots::Reboots;
use crate::scenario::{Boot, Exit, GuestExit, Outcome, Scenario, expect_exit};
use crate::suites::shell::with_input;

mod load;

const KILL_SESSION: &str = "obj new --persistent 64\nobj write %1 0 committed before the kill\n\
    server list\nserver kill objstore\nobj read %1 0 25\nobj write %1 0 after the restart\n\
    obj read %1 0 17\nserver list\nserver kill nosuch\nfsck\npoweroff\n";

/// Every server killed in turn, each right after something was committed
/// through it, and read back through its next incarnation.
const KILL_EVERY: &str = "obj new --persistent 64\nobj write %1 0 data\ncat /none\n\
    mkdir /k\nbind /k/a %1\ntag %1 color=blue\npublish cur %1\necho kept > /k.txt\n\
    server kill hier\nresolve /k/a\nserver kill attr\nquery color=blue\n\
    server kill current\nresolve current:cur\nserver kill registry\nresolver list\n\
    server kill posix\ncat /k.txt\nserver kill objstore\nobj read %1 0 4\n\
    server list\nfsck\npoweroff\n";

/// The restart scenarios.
pub fn scenarios() -> Vec<Scenario> {
    let mut every = with_input(KILL_EVERY);
    every.timeout = Duration::from_secs(120);
    vec![
        Scenario {
            name: "restart/server-kill-objstore",
            boot: with_input(KILL_SESSION),
            check: kill_session,
        },
        Scenario {
            name: "restart/kill-every-server",
            boot: every,
            check: kill_every,
        },
        load::scenario(),
    ]
}

/// The servers `KILL_EVERY` kills, as `server list` names them.
const KILLED: [&str; 6] = ["hier", "attr", "current", "registry", "posix", "objstore"];

fn kill_every(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    let id = created_id(c)?;
    // What was committed before each kill, read through the next
    // incarnation.
    console::require(c, &format!("resolve: /k/a -> {id}"))?;
    console::require(c, &format!("query: 1 match: {id}"))?;
    console::require(c, &format!("resolve: current:cur -> {id}"))?;
    for (name, kind) in [
        ("hier", "hierarchical"),
        ("attr", "attribute"),
        ("current", "current-version"),
    ] {
        let row = console::lines(c, name)
            .into_iter()
            .find(|l| l.split_whitespace().nth(1) == Some(kind))
            .ok_or_else(|| format!("`resolver list` after the registry's restart lacks {name}"))?;
        if row.contains("stopped") {
            return Err(format!("the restarted registry lost {name}: {row:?}"));
        }
    }
    let kept = crate::suites::shell::output_of(c, "cat /k.txt").unwrap_or_default();
    if !kept.lines().any(|l| l == "kept") {
        return Err(format!("the restarted POSIX server lost /k.txt: {kept:?}"));
    }
    console::require(c, &format!("obj: {id} +0: \"data\""))?;
    // Each was restarted once, after the kill.
    for name in KILLED {
        console::require(
            c,
            &format!("init: {name} was killed (killed); restarting it"),
        )?;
        let restarted = console::lines(c, name).into_iter().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.first() == Some(&name) && w.get(1) == Some(&"running") && w.contains(&"killed")
        });
        if !restarted {
            return Err(format!(
                "`server list` does not show {name} restarted after its kill"
            ));
        }
    }
    console::require(c, "fsck: clean").map(drop)
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
        between: None,
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
        .any(|r| r.contains("running (") && r.contains(" killed") && r.contains(" 1 "));
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

    fn every_transcript() -> String {
        let mut t = format!(
            "obj: created persistent {ID} (64 bytes)\n\
             resolve: /k/a -> {ID} (object, epoch 3)\n\
             query: 1 match: {ID}\n\
             resolve: current:cur -> {ID} (object, epoch 1)\n\
             attr       attribute             8        1  30df5c8f868614d9aa0e53faa9e541b6\n\
             current    current-version       9        1  ac30d55cc6693e998d9f5b2ac7006ae8\n\
             hier       hierarchical          7        3  7e531a103f3831f23388fc1cfbf81bc0\n\
             perennial> cat /k.txt\nkept\nperennial> server kill objstore\n\
             obj: {ID} +0: \"data\"\n"
        );
        for name in KILLED {
            t += &format!(
                "init: {name} was killed (killed); restarting it\n\
                 {name:<12} running (9)             1  killed\n"
            );
        }
        t + "fsck: clean\n"
    }

    #[test]
    fn killing_every_server_must_lose_nothing() {
        assert_eq!(
            kill_every(&out(&every_transcript()), &Boot::builtin()),
            Ok(())
        );
        for (good, bad) in [
            ("query: 1 match", "query: 0 matches"),
            ("\nkept\n", "\ncat: /k.txt: ENOENT\n"),
            (
                "hier       hierarchical          7",
                "hier       (stopped: resolver start hier",
            ),
            ("+0: \"data\"", "+0: \"\\x00\\x00\""),
        ] {
            let broken = every_transcript().replacen(good, bad, 1);
            assert!(
                kill_every(&out(&broken), &Boot::builtin()).is_err(),
                "{bad:?} passed"
            );
        }
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
