//! The KSO persistence server through its interface (reboot sequences on
//! one pmem file).
//!
//! - `kso/ksod-selftest`: boot 0 (a fresh NVDIMM) runs `ksod selftest`,
//!   a client of the running `ksod`: two names recorded, the first again
//!   (same KSO), the second quarantined (the log line says so) and
//!   recorded afresh, the root listed. Boot 1, after a clean power-off, is
//!   a clean start; the same run finds the first name's KSO of boot 0 and
//!   lists the quarantined one still. Each run ends by leaving an unlisted
//!   thread-marked object (what a cut `record` leaves): boot 1's `ksod`
//!   sweeps it, and no unlisted one is left in the store.

use std::time::Duration;

use crate::console;
use crate::reboots::Reboots;
use crate::scenario::{GuestExit, Outcome, expect_exit};

/// The reboot sequences.
pub fn reboots() -> Vec<Reboots> {
    vec![Reboots {
        name: "kso/ksod-selftest",
        pmem_size: 128 << 20,
        scripts: vec![
            "run ksod selftest\npoweroff\n".into(),
            "run ksod selftest\npoweroff\n".into(),
        ],
        boot_timeout: Duration::from_secs(120),
        check: selftest,
        between: None,
    }]
}

/// The KSO the selftest printed for `name` (`ksod: selftest: NAME -> ID
/// (created|existing)`), and whether it was created.
fn recorded(c: &str, name: &str) -> Result<(String, bool), String> {
    let prefix = format!("ksod: selftest: {name} -> ");
    let line = console::require(c, &prefix)?;
    let mut words = line[prefix.len()..].split_whitespace();
    let id = words.next().unwrap_or_default().to_string();
    match words.next() {
        Some("(created)") => Ok((id, true)),
        Some("(existing)") => Ok((id, false)),
        _ => Err(format!("unexpected record line: {line}")),
    }
}

fn selftest(outcomes: &[Outcome]) -> Result<(), String> {
    let [first, second] = outcomes else {
        return Err(format!("expected 2 boots, got {}", outcomes.len()));
    };
    expect_exit(first, GuestExit::Success)?;
    let c = &first.console;
    console::require(c, "ksod: fresh start: KSO root ")?;
    let (a, created_a) = recorded(c, "selftest-a")?;
    let (b, created_b) = recorded(c, "selftest-b")?;
    if !created_a || !created_b {
        return Err("boot 0: both names must be created".into());
    }
    console::require(
        c,
        &format!(
            "ksod: thread KSO {b} of selftest-b quarantined; selftest-b gets a fresh one on \
             its next start"
        ),
    )?;
    console::require(c, &format!("ksod: selftest: entry selftest-a {a} live"))?;
    console::require(
        c,
        &format!("ksod: selftest: entry selftest-b {b} quarantined"),
    )?;
    console::require(c, "ksod: selftest ok")?;
    let orphan = console::require(c, "ksod: selftest: left orphan ")?;
    let orphan = orphan.rsplit(' ').next().unwrap_or_default().to_string();

    expect_exit(second, GuestExit::Success)?;
    let c = &second.console;
    console::require(c, "ksod: clean start: ")?;
    let (a2, created) = recorded(c, "selftest-a")?;
    if a2 != a || created {
        return Err(format!(
            "boot 1: selftest-a should keep KSO {a} of boot 0, got {a2} (created: {created})"
        ));
    }
    // Boot 0's quarantined entry is still listed, with boot 1's.
    console::require(
        c,
        &format!("ksod: selftest: entry selftest-b {b} quarantined"),
    )?;
    if console::lines(c, "ksod: selftest: entry selftest-b ").len() != 3 {
        return Err("boot 1 should list three selftest-b entries (two quarantined)".into());
    }
    // The orphan boot 0 left was swept before anything was served.
    let status = console::require(c, "ksod: selftest: status Clean: ")?;
    if !status.contains(" 1 orphans swept at boot") {
        return Err(format!(
            "boot 1 should have swept boot 0's orphan {orphan}: {status}"
        ));
    }
    // Every thread-marked object left is listed (the selftest fails
    // otherwise), and boot 0's orphan is not among them.
    let listed = console::lines(c, "ksod: selftest: ");
    if !listed
        .iter()
        .any(|l| l.ends_with(", every one listed in the root"))
    {
        return Err("boot 1: the selftest did not check the store's thread KSOs".into());
    }
    if listed.iter().any(|l| l.contains(&orphan)) || orphan.len() != 32 {
        return Err(format!(
            "boot 1: orphan {orphan:?} of boot 0 is still about"
        ));
    }
    console::require(c, "ksod: selftest ok").map(drop)
}
