//! The checks against recorded and doctored consoles.

use super::*;

/// A recorded `names/shell-session` console (from the shell's banner).
const SESSION_LOG: &str = include_str!("session.txt");
const DRAM_LOG: &str = "perennial> mkdir /tmp\n\
    hier: no persistent memory: its names live in DRAM and are lost at power-off\n\
    mkdir: /tmp -> directory 67ec9cd2a67051f6ef457a6f5be4edd9\n\
    perennial> bind /tmp/x 00000000000000000000000000001234\n\
    bind: /tmp/x -> 00000000000000000000000000001234\n\
    perennial> resolve /tmp/x\n\
    resolve: /tmp/x -> 00000000000000000000000000001234 (object, epoch 2)\n\
    perennial> poweroff\npowering off\n";

fn ok(console: &str) -> Outcome {
    outcome(console, Exit::Guest(GuestExit::Success))
}

#[test]
fn the_recorded_session_passes_and_each_broken_step_fails() {
    let boot = Boot::builtin();
    assert_eq!(session_check(&ok(SESSION_LOG), &boot), Ok(()));
    let broken = [
        ("a component of the path does not exist", "no such name"),
        ("already bound", "bound"),
        ("not a directory", "no such name"),
        ("directory not empty", "done"),
        ("ambiguous: 2 objects match", "ok"),
        ("query: no object matches", "query: 1 match: 00"),
        ("(version 2)", "(version 1)"),
        ("the resolver does not support this operation", "done"),
        ("resolver flat is already running", "started"),
        ("ls: /home: empty", "ls: /home: 1 entry"),
        ("flat       flat", "flat       (unreachable)"),
        ("obj: 0 persistent objects", "obj: 4 persistent objects"),
    ];
    for (good, bad) in broken {
        assert!(SESSION_LOG.contains(good), "fixture lacks {good:?}");
        let log = SESSION_LOG.replace(good, bad);
        assert!(
            session_check(&ok(&log), &boot).is_err(),
            "passed without {good:?}"
        );
    }
    let timeout = outcome(SESSION_LOG, Exit::Timeout);
    assert!(session_check(&timeout, &boot).is_err());
}

#[test]
fn the_dram_check_wants_the_log_line_and_the_name() {
    let boot = Boot::builtin();
    assert_eq!(dram_check(&ok(DRAM_LOG), &boot), Ok(()));
    let silent = DRAM_LOG.replace("its names live in DRAM", "names are persistent");
    assert!(dram_check(&ok(&silent), &boot).is_err());
    let lost = DRAM_LOG.replace(
        "-> 00000000000000000000000000001234 (object",
        ": no such name",
    );
    assert!(dram_check(&ok(&lost), &boot).is_err());
}

#[test]
fn the_clients_check_wants_both_binders_and_the_figures() {
    let log = "perennial> run nameclient stress 100\nnameclient: a bound 100 names\n\
        nameclient: b bound 100 names\n\
        nameclient: stress ok: 200 names bound by 2 programs at once\n\
        run: nameclient exited with 0\nperennial> run nameclient bench 200\n\
        nameclient: bench 200: bind 783226 ns, resolve (depth 2) 113963 ns, info 63745 ns per call\n\
        run: nameclient exited with 0\nperennial> resolver start flat\n\
        perennial> run nameclient fot\n\
        nameclient: fot ok: path 111 -> 222 after rebind, version 111 -> 222 after publish, \
        a name in the run-time resolver flat -> 111, unregistered resolver -> Some(ResolverGone(ObjId(0000000000000000000000006f6e6567))); \
        first dereference 1628240 ns, cached 145 ns\nrun: nameclient exited with 0\n\
        perennial> poweroff\n";
    let boot = Boot::builtin();
    assert_eq!(clients_check(&ok(log), &boot), Ok(()));
    for (good, bad) in [
        ("stress ok", "stress failed"),
        ("b bound 100", "b bound 99"),
        ("bench 200: bind", "bench failed"),
        ("version 111 -> 222", "version 111 -> 111"),
        ("ResolverGone", "Name(NotFound)"),
    ] {
        let broken = log.replace(good, bad);
        assert!(
            clients_check(&ok(&broken), &boot).is_err(),
            "passed without {good:?}"
        );
    }
}

#[test]
fn acknowledged_binds_count_only_whole_lines() {
    let c = "bind: /keep/n1 -> ab\nbind: /keep/n2 -> ab\nbind: /keep/n3 -";
    assert_eq!(acked_binds(c), [1, 2]);
}

#[test]
fn listings_give_the_bind_numbers() {
    let l = "  me                       ab\n  n1                       ab\n  n10                      ab\n";
    assert_eq!(listed_binds(l), [1, 10]);
}

fn outcome(console: &str, exit: Exit) -> Outcome {
    Outcome {
        console: console.to_string(),
        exit,
        banner_after: None,
    }
}

fn final_boot(listing: &str) -> Outcome {
    let c = format!(
        "perennial> resolve /keep/me\nresolve: /keep/me -> ab (object, epoch 9)\n\
         perennial> query kind=kept\nquery: 1 match: ab\n\
         perennial> resolve current:latest\nresolve: current:latest -> ab (object, epoch 1)\n\
         perennial> ls /keep\n  me                       ab\n{listing}\
         perennial> resolver start flat\nresolver: started flat (generation 5, object cd)\n\
         perennial> resolve flat:k\nresolve: flat:k -> ab (object, epoch 1)\n\
         perennial> poweroff\n"
    );
    outcome(&c, Exit::Guest(GuestExit::Success))
}

#[test]
fn the_reboot_check_wants_every_acknowledged_bind() {
    let cut = outcome(
        "obj: created persistent ab (64 bytes)\nperennial> bind flat:k %1\nbind: flat:k -> ab\n\
         bind: /keep/n1 -> ab\nbind: /keep/n2 -> ab\n",
        Exit::Cut,
    );
    // Boot 0 must have bound the name boot 1 resolves in `flat`.
    let unbound = outcome(
        "obj: created persistent ab (64 bytes)\nperennial> bind flat:k %1\n\
         names: flat is not running\nbind: /keep/n1 -> ab\nbind: /keep/n2 -> ab\n",
        Exit::Cut,
    );
    let n2 = (1..=2).map(|i| format!("  n{i} ab\n")).collect::<String>();
    assert!(reboot_check(&[unbound, final_boot(&n2)]).is_err());
    let n = |k: usize| (1..=k).map(|i| format!("  n{i} ab\n")).collect::<String>();
    assert_eq!(reboot_check(&[cut.clone(), final_boot(&n(2))]), Ok(()));
    assert_eq!(reboot_check(&[cut.clone(), final_boot(&n(3))]), Ok(()));
    assert!(reboot_check(&[cut.clone(), final_boot(&n(1))]).is_err());
    assert!(reboot_check(&[cut.clone(), final_boot(&n(4))]).is_err());
    assert!(reboot_check(&[cut.clone(), final_boot("  n2 ab\n")]).is_err());
    let lost = final_boot(&n(2))
        .console
        .replace("query: 1 match: ab", "query: no object matches");
    assert!(reboot_check(&[cut.clone(), outcome(&lost, Exit::Guest(GuestExit::Success))]).is_err());
    assert!(reboot_check(&[final_boot(&n(2)), final_boot(&n(2))]).is_err());
}
