//! Objects, invariant pointers, views, security contexts and capabilities
//! (issue 4) in the guest: the `utest objects` group, whose tests spawn a
//! second program to walk a list built by the first in other slots, and
//! the report's Figure 3 program, which must end with a security fault.

use crate::console;
use crate::scenario::{Boot, Outcome, Scenario};
use crate::suites::shell::with_input;
use crate::suites::user::group_passed;

/// Tests the `objects` group must report at least.
pub const MIN_OBJECT_TESTS: u64 = 9;

/// The README walk-through (`%N` is the N-th ID the shell printed:
/// 1 public key, 2 private key, 3 the object, 4 the context, 5 a second
/// object nobody may read).
pub const WALKTHROUGH: &str = "\
key new
obj new 4096 - %1
obj show %3
ctx new
cap %2 %3 %4 rw
obj write %3 0 42
ctx
ctx use default
obj read %3 0
obj show %3
obj new 4096 - %1
obj read %5 0
poweroff
";

/// The object scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "objects/pointers-contexts-capabilities",
            boot: with_input("run utest objects\npoweroff\n"),
            check: objects,
        },
        Scenario {
            name: "objects/shell-walkthrough",
            boot: with_input(WALKTHROUGH),
            check: walkthrough,
        },
    ]
}

fn walkthrough(out: &Outcome, _: &Boot) -> Result<(), String> {
    crate::scenario::expect_exit(out, crate::scenario::GuestExit::Success)?;
    let c = &out.console;
    let show = console::require(c, "  default perms -, key ")?;
    if show.ends_with("key none") {
        return Err(format!("the object names no key: {show:?}"));
    }
    let caps = console::lines(c, "cap: ");
    let granted = caps
        .get(1)
        .copied()
        .ok_or_else(|| format!("cap printed {caps:?}"))?;
    if !granted.contains(" now grants rw on ") {
        return Err(format!("the capability did not grant: {granted:?}"));
    }
    let written = console::lines(c, "obj: ");
    if !written.iter().any(|l| l.ends_with(" +0x0 := 0x2a")) {
        return Err(format!("no write of 0x2a: {written:?}"));
    }
    if !written.iter().any(|l| l.ends_with(" +0x0 = 0x2a")) {
        return Err(format!("the value did not read back: {written:?}"));
    }
    let switches = written
        .iter()
        .filter(|l| l.starts_with("obj: the kernel switched the security context from default to "))
        .count();
    if switches != 2 {
        return Err(format!(
            "{switches} automatic context switches, expected 2: {written:?}"
        ));
    }
    if !written.contains(&"obj: permission denied") {
        return Err(format!(
            "the unreadable object was not refused: {written:?}"
        ));
    }
    if console::line(c, "security fault:").is_some() {
        return Err("the shell took a security fault".into());
    }
    Ok(())
}

fn objects(out: &Outcome, _: &Boot) -> Result<(), String> {
    group_passed(out, "objects", MIN_OBJECT_TESTS)?;
    let c = &out.console;
    if console::line(c, "KERNEL PANIC").is_some() {
        return Err("the kernel panicked".into());
    }
    let walk = console::require(c, "utest: objwalk: ")?;
    if !walk.starts_with("utest: objwalk: Ok(") {
        return Err(format!("the second program's walk: {walk:?}"));
    }
    console::require(
        c,
        "utest: fig3: call into trusted code switched contexts automatically ... ok",
    )?;
    console::require(
        c,
        "utest: revoke: read still allowed after narrowing to r ... ok",
    )?;
    let revoked = console::lines(c, "security fault: program utest");
    if !revoked.iter().any(|l| l.contains(": write of object ")) {
        return Err(format!(
            "no security fault for the revoked write: {revoked:?}"
        ));
    }
    let fault = console::require(c, "security fault: program utest")?;
    if !(fault.contains(": read of object ")
        && fault.contains(" offset 0x1000 ")
        && fault.contains(" denied in context ")
        && fault.ends_with("program ended"))
    {
        return Err(format!("security-fault report: {fault:?}"));
    }
    if console::line(c, "utest: fig3: read 0x").is_some() {
        return Err("the untrusted library read the private data".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Exit, GuestExit};

    fn out(console: &str) -> Outcome {
        Outcome {
            console: console.into(),
            exit: Exit::Guest(GuestExit::Success),
            banner_after: None,
        }
    }

    const GOOD: &str = "\
utest: objwalk: Ok((30, 3075)) (expected (30, 3075)) from slots 150..
utest: fig3: call into trusted code switched contexts automatically ... ok
utest: fig3: the library reads the private data directly (must fault)
security fault: program utest (id 5) thread 6: read of object 0123 offset 0x1000 denied in context 0456; program ended
utest: revoke: read still allowed after narrowing to r ... ok
security fault: program utest (id 6) thread 7: write of object 0789 offset 0x1000 denied in context 0abc; program ended
utest: objects: a ... ok
utest: 9 passed, 0 failed
run: utest exited with 0
";

    #[test]
    fn the_objects_run_needs_the_walk_the_switch_and_the_security_fault() {
        assert_eq!(objects(&out(GOOD), &Boot::builtin()), Ok(()));
        let bad_walk = GOOD.replace("objwalk: Ok((30, 3075))", "objwalk: Err(\"x\")");
        assert!(objects(&out(&bad_walk), &Boot::builtin()).is_err());
        let no_switch = GOOD.replace("switched contexts automatically ... ok", "");
        assert!(objects(&out(&no_switch), &Boot::builtin()).is_err());
        let no_revoke = GOOD.replace(": write of object", ": read of object");
        assert!(objects(&out(&no_revoke), &Boot::builtin()).is_err());
        let no_fault = GOOD.replace("security fault:", "fault:");
        assert!(objects(&out(&no_fault), &Boot::builtin()).is_err());
        let leaked = GOOD.replace(
            "(must fault)\n",
            "(must fault)\nutest: fig3: read 0x5ec2e7\n",
        );
        assert!(objects(&out(&leaked), &Boot::builtin()).is_err());
        let few = GOOD.replace("9 passed", "5 passed");
        assert!(objects(&out(&few), &Boot::builtin()).is_err());
        let panic = format!("{GOOD}KERNEL PANIC: x\n");
        assert!(objects(&out(&panic), &Boot::builtin()).is_err());
    }

    const WALK: &str = "\
perennial> obj show %3
  default perms -, key f3da1143b1ff9e45200d5c376d25c12b
cap: signed rw on 13f2 for b486; stored as entry 0
cap: b486 now grants rw on 13f2
obj: 13f2 +0x0 := 0x2a
obj: the kernel switched the security context from default to b486
obj: 13f2 +0x0 = 0x2a
obj: the kernel switched the security context from default to b486
obj: permission denied
powering off
";

    #[test]
    fn the_walkthrough_needs_the_grant_two_switches_and_the_refusal() {
        assert_eq!(walkthrough(&out(WALK), &Boot::builtin()), Ok(()));
        let one_switch = WALK.replacen("obj: the kernel switched", "obj: x", 1);
        assert!(walkthrough(&out(&one_switch), &Boot::builtin()).is_err());
        let no_grant = WALK.replace("now grants rw", "now grants -");
        assert!(walkthrough(&out(&no_grant), &Boot::builtin()).is_err());
        let no_refusal = WALK.replace("obj: permission denied\n", "");
        assert!(walkthrough(&out(&no_refusal), &Boot::builtin()).is_err());
        let keyless = WALK.replace("key f3da1143b1ff9e45200d5c376d25c12b", "key none");
        assert!(walkthrough(&out(&keyless), &Boot::builtin()).is_err());
        let faulted = format!("{WALK}security fault: program init\n");
        assert!(walkthrough(&out(&faulted), &Boot::builtin()).is_err());
    }
}
