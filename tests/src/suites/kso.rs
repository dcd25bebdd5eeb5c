//! Thread KSOs, power-resume, and corrupt KSOs (reboot sequences on one
//! pmem file).
//!
//! - `kso/power-resume-and-reset`: boot 0 starts two `ksodemo` servers,
//!   one registered for power-resume and one not (`--no-resume`), and
//!   cuts the power. Boot 1 is a recovery: `ksod` says so, every server
//!   restarted from its thread KSO prints its power-resume notice and its
//!   recovery before serving, the registered demo is resumed (its
//!   persistent context re-attached by the kernel, so it makes no new
//!   one) and the other is reset; data written before the cut is there.
//!   Boot 1 powers off cleanly, so boot 2 is a clean start: no notices.
//! - `kso/corrupt-ksos-are-quarantined`: between two boots the host writes
//!   random bytes over the POSIX server's thread KSO and over the
//!   persistent security context and view a `ksodemo` attached. The next
//!   boot quarantines all three with log lines, starts the POSIX server
//!   afresh from a new KSO and the demo without its context and view, and
//!   everything else works:
//!   a file written before the cut reads back, the checker is clean.

use std::path::Path;
use std::time::Duration;

use store::{Store, VecPmem};

use crate::console;
use crate::reboots::Reboots;
use crate::scenario::{Exit, GuestExit, Outcome, expect_exit};
use protocols::object::{BASE_OFFSET, ObjId};

/// The servers `init` starts from thread KSOs at boot.
const KSO_SERVERS: [&str; 5] = ["registry", "hier", "attr", "current", "posix"];

/// The reboot sequences.
pub fn reboots() -> Vec<Reboots> {
    vec![
        Reboots {
            name: "kso/power-resume-and-reset",
            pmem_size: 128 << 20,
            scripts: vec![
                "echo before the cut > /kept\nserver start demo ksodemo\n\
                 server start plain ksodemo --no-resume\nsleep 3000\nserver list\npowercut\n"
                    .into(),
                "cat /kept\nserver list\nfsck\npoweroff\n".into(),
                "cat /kept\nserver list\npoweroff\n".into(),
            ],
            boot_timeout: Duration::from_secs(120),
            check: power_resume,
            between: None,
        },
        Reboots {
            name: "kso/corrupt-ksos-are-quarantined",
            pmem_size: 128 << 20,
            scripts: vec![
                "echo still here > /kept\nserver start demo ksodemo\nsleep 3000\n\
                 server list\npowercut\n"
                    .into(),
                "cat /kept\nserver list\necho new > /new\ncat /new\nfsck\npoweroff\n".into(),
            ],
            boot_timeout: Duration::from_secs(120),
            check: quarantined,
            between: Some(corrupt),
        },
    ]
}

/// The thread KSO `server list` showed for `name` (its last column).
fn kso_of(c: &str, name: &str) -> Result<ObjId, String> {
    console::lines(c, name)
        .into_iter()
        .rev()
        .filter(|l| l.split_whitespace().next() == Some(name))
        .find_map(|l| l.split_whitespace().last().and_then(parse_id))
        .ok_or_else(|| format!("`server list` shows no thread KSO for {name}"))
}

fn parse_id(s: &str) -> Option<ObjId> {
    (s.len() == 32)
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
        .map(ObjId::from_u128)
}

fn power_resume(outcomes: &[Outcome]) -> Result<(), String> {
    let [cut, recovery, clean] = outcomes else {
        return Err(format!("expected 3 boots, got {}", outcomes.len()));
    };
    expect_exit(cut, GuestExit::PowerCut)?;
    let c = &cut.console;
    console::require(c, "ksod: fresh start: KSO root ")?;
    for name in KSO_SERVERS {
        kso_of(c, name)?;
    }
    if console::lines(c, "ksodemo: started fresh (generation 1").len() != 2 {
        return Err("boot 0 did not start both demos fresh".into());
    }
    for what in ["context", "view"] {
        if attached(c, what) != 2 {
            return Err(format!(
                "boot 0: each demo should attach a persistent {what}"
            ));
        }
    }

    expect_exit(recovery, GuestExit::Success)?;
    let c = &recovery.console;
    let line = console::require(c, "ksod: recovery after a power cut: ")?;
    // Five boot servers and two demos were running at the cut.
    if console::number_after(line, "were running (").is_none()
        || !line.contains(" 7 were running (6 registered for power-resume, 1 to reset)")
    {
        return Err(format!("ksod's recovery line counts wrong: {line}"));
    }
    for name in KSO_SERVERS {
        console::require(
            c,
            &format!("{name}: power-resume notice: the power went while"),
        )?;
        console::require(c, &format!("{name}: recovered "))?;
    }
    console::require(c, "ksodemo: started resumed (generation 2")?;
    console::require(c, "ksodemo: started reset (generation 2")?;
    // The resumed demo's context and view came back through its KSO (the
    // ksod line counts them); only the reset one made new ones.
    if !line.contains(", 2 contexts and 2 views listed") {
        return Err(format!(
            "ksod should list both demos' contexts and views: {line}"
        ));
    }
    for what in ["context", "view"] {
        if attached(c, what) != 1 {
            return Err(format!(
                "boot 1: only the reset demo should attach a new {what}"
            ));
        }
    }
    console::require(
        c,
        "init: 7 servers restarted from their thread KSOs after a power cut",
    )?;
    console::require(c, "before the cut")?;
    console::require(c, "fsck: clean")?;

    expect_exit(clean, GuestExit::Success)?;
    let c = &clean.console;
    console::require(c, "ksod: clean start: ")?;
    if c.contains("power-resume notice") {
        return Err("boot 2 followed a clean power-off: no notice is due".into());
    }
    console::require(c, "before the cut").map(drop)
}

/// How many `ksodemo: kso K: attached persistent WHAT W` lines there are.
fn attached(c: &str, what: &str) -> usize {
    console::lines(c, "ksodemo: kso ")
        .into_iter()
        .filter(|l| l.contains(&format!(": attached persistent {what} ")))
        .count()
}

/// The persistent `what` (context or view) the demo attached.
fn demo_kso(c: &str, what: &str) -> Result<ObjId, String> {
    console::lines(c, "ksodemo: kso ")
        .into_iter()
        .find(|l| l.contains(&format!(": attached persistent {what} ")))
        .and_then(|l| l.split_whitespace().last())
        .and_then(parse_id)
        .ok_or_else(|| format!("the demo attached no persistent {what}"))
}

/// Writes seeded random bytes over the POSIX server's thread record and
/// the demo's context and view records in the pmem file.
fn corrupt(round: usize, out: &Outcome, pmem: &Path) -> Result<(), String> {
    if round != 0 {
        return Ok(());
    }
    let posix = kso_of(&out.console, "posix")?;
    let ctx = demo_kso(&out.console, "context")?;
    let view = demo_kso(&out.console, "view")?;
    let mut bytes = std::fs::read(pmem).map_err(|e| format!("{}: {e}", pmem.display()))?;
    let store = Store::open(VecPmem(bytes.clone())).map_err(|e| format!("store: {e:?}"))?;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ posix.as_u128() as u64;
    for (id, len) in [(posix, 512usize), (ctx, 64), (view, 64)] {
        let at = store
            .page(id, BASE_OFFSET / 4096)
            .map_err(|e| format!("object {id} not in the store: {e:?}"))? as usize;
        for b in &mut bytes[at..at + len] {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        // Random bytes that happened to start with the magic would not be
        // a corruption: make sure the first does not.
        bytes[at] = !bytes[at].wrapping_add(1) ^ b'P';
    }
    std::fs::write(pmem, &bytes).map_err(|e| format!("{}: {e}", pmem.display()))
}

fn quarantined(outcomes: &[Outcome]) -> Result<(), String> {
    let [cut, after] = outcomes else {
        return Err(format!("expected 2 boots, got {}", outcomes.len()));
    };
    if cut.exit != Exit::Guest(GuestExit::PowerCut) {
        return Err(format!(
            "boot 0 ended {:?}, not with the shell's powercut",
            cut.exit
        ));
    }
    let posix = kso_of(&cut.console, "posix")?;
    let ctx = demo_kso(&cut.console, "context")?;
    let view = demo_kso(&cut.console, "view")?;
    expect_exit(after, GuestExit::Success)?;
    let c = &after.console;
    console::require(
        c,
        &format!("kso: quarantined thread KSO {posix}: its record is corrupt"),
    )?;
    console::require(c, &format!("ksod: thread KSO {posix} of posix quarantined"))?;
    console::require(c, &format!("kso: quarantined security context {ctx}"))?;
    console::require(c, &format!("kso: quarantined view {view}"))?;
    console::require(c, "ksodemo: started resumed (generation 2")?;
    let demo = console::require(c, "ksodemo: started resumed")?;
    if !demo.contains(", 2 quarantined)") {
        return Err(format!(
            "the demo was not told of its quarantined context and view: {demo}"
        ));
    }
    let fresh = kso_of(c, "posix")?;
    if fresh == posix {
        return Err("posix still runs from its quarantined KSO".into());
    }
    console::require(c, "still here")?;
    console::require(c, "new")?;
    console::require(c, "fsck: clean").map(drop)
}
