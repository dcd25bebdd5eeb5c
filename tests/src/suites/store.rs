//! The object store: the `utest store` group (create/write/read back, the
//! direct NVDIMM mapping, space reuse after delete, a clean checker) and a
//! shell session over persistent objects. Persistence across reboots and
//! power cuts is the `powercut` campaign's (`suites::powercut`): every boot
//! there dumps the store and compares with what was acknowledged before.

use crate::console;
use crate::scenario::{Boot, GuestExit, Outcome, Scenario, expect_exit};
use crate::suites::shell::with_input;
use crate::suites::user::group_passed;

/// Tests the `store` group must report.
pub const MIN_STORE_TESTS: u64 = 11;

/// The shell session.
const SESSION: &str = "obj new --persistent 64\nobj write %1 0 hello persistent world\n\
    obj read %1 6 10\nobj list\nfsck\nobj rm %1\nobj list\npoweroff\n";

/// The object-store scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "store/utest-group",
            boot: with_input("run utest store\npoweroff\n"),
            check: group,
        },
        Scenario {
            name: "store/shell-session",
            boot: with_input(SESSION),
            check: session,
        },
    ]
}

fn group(out: &Outcome, _: &Boot) -> Result<(), String> {
    group_passed(out, "store", MIN_STORE_TESTS)?;
    // The kernel says which KSO it refused, and why.
    console::require(&out.console, "kso: quarantined security context ").map(drop)
}

fn session(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    let created = console::require(c, "obj: created persistent ")?;
    let id = created
        .split_whitespace()
        .nth(3)
        .ok_or_else(|| format!("no ID in {created:?}"))?;
    console::require(c, &format!("obj: wrote 22 bytes to {id} at 0"))?;
    console::require(c, &format!("obj: {id} +6: \"persistent\""))?;
    // Other servers keep objects of their own in the store: judge the
    // listings by this object alone.
    let rm = c
        .find("perennial> obj rm")
        .ok_or("the session never reached `obj rm`")?;
    let listed = format!("obj: {id} 64 bytes");
    if !c[..rm].lines().any(|l| l == listed) {
        return Err(format!("the listing before `obj rm` lacks {listed:?}"));
    }
    if c[rm..].lines().any(|l| l == listed) {
        return Err(format!("the listing after `obj rm` still shows {listed:?}"));
    }
    if console::lines(c, "obj: ")
        .iter()
        .filter(|l| l.ends_with("persistent objects"))
        .count()
        != 2
    {
        return Err("expected two listings".into());
    }
    console::require(c, &format!("obj: removed {id}"))?;
    if console::line(c, "fsck: clean").is_none() {
        return Err(format!(
            "fsck did not report clean: {:?}",
            console::lines(c, "fsck:")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scenario::clean_outcome as out;

    const ID: &str = "7df88270baf576e29bb63cc74200a4c4";

    fn transcript() -> String {
        format!(
            "perennial> obj new --persistent 64\nobj: created persistent {ID} (64 bytes)\n\
             obj: wrote 22 bytes to {ID} at 0\nobj: {ID} +6: \"persistent\"\n\
             perennial> obj list\nobj: {ID} 64 bytes\nobj: 1 persistent objects\nfsck: clean\n\
             perennial> obj rm %1\nobj: removed {ID}\nperennial> obj list\n\
             obj: 0 persistent objects\n"
        )
    }

    #[test]
    fn a_session_must_show_every_step() {
        assert_eq!(session(&out(&transcript()), &Boot::builtin()), Ok(()));
        let dirty = transcript().replace("fsck: clean", "fsck: 1 problems\nB1 page 7 leaked");
        assert!(session(&out(&dirty), &Boot::builtin()).is_err());
        let kept = transcript().replace(
            "obj: 0 persistent objects",
            &format!("obj: {ID} 64 bytes\nobj: 1 persistent objects"),
        );
        assert!(session(&out(&kept), &Boot::builtin()).is_err());
        // Another server's object in both listings changes nothing.
        let other = transcript().replace(
            "persistent objects\n",
            "persistent objects\nobj: 00000000000000000000000000000009 4096 bytes\n",
        );
        assert_eq!(session(&out(&other), &Boot::builtin()), Ok(()));
        let wrong = transcript().replace("+6: \"persistent\"", "+6: \"persisXent\"");
        assert!(session(&out(&wrong), &Boot::builtin()).is_err());
    }

    #[test]
    fn the_group_needs_its_summary() {
        let good = "utest: store: a ... ok\nkso: quarantined security context 5: its record is corrupt (BadMagic); not used\nutest: 11 passed, 0 failed\nrun: utest exited with 0\n";
        assert_eq!(group(&out(good), &Boot::builtin()), Ok(()));
        assert!(
            group(
                &out(&good.replace("11 passed", "10 passed")),
                &Boot::builtin()
            )
            .is_err()
        );
    }
}
