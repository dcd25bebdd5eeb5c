//! The check against the recorded consoles of both boots, and against
//! doctored ones: each broken step must fail it.

use super::*;
use crate::scenario::clean_outcome;

/// A recorded boot 0 and boot 1 (from the first command on).
const BOOT0: &str = include_str!("boot0.txt");
const BOOT1: &str = include_str!("boot1.txt");

fn run(first: &str, second: &str) -> Result<(), String> {
    check(&[clean_outcome(first), clean_outcome(second)])
}

#[test]
fn the_recorded_boots_pass() {
    assert_eq!(run(BOOT0, BOOT1), Ok(()));
}

#[test]
fn each_broken_step_of_boot_0_fails() {
    let broken = [
        // Started at boot, or not configured.
        (
            "rev        (stopped: resolver start rev; program reverse-lookup)\n",
            "",
        ),
        (
            "resolve: rev:one: resolver rev is not running",
            "resolve: rev:one -> 00",
        ),
        // The reverse query answering wrongly: a name missing, one extra,
        // a wrong count, nothing after the unbind changed.
        ("  2\n  one\n  uno\n", "  1\n  one\n"),
        ("  2\n  one\n  uno\n", "  3\n  one\n  two\n  uno\n"),
        ("  1\n  two\n", "  2\n  two\n"),
        (
            "perennial> resolver call rev 1 %1\nresolver: rev op 1:\n  1\n  one\n",
            "perennial> resolver call rev 1 %1\nresolver: rev op 1:\n  2\n  one\n  uno\n",
        ),
        // Unknown op and malformed argument not refused.
        (
            "rev op 7: the resolver does not support this operation",
            "rev op 7:\n  0",
        ),
        ("rev op 1: invalid name", "rev op 1:\n  0"),
        ("bind: rev:one: already bound", "bind: rev:one -> 00"),
        // A FOT name through rev reaching the wrong object, or an unbound
        // one resolving.
        (
            "-> 8578d6da20cbf2371af265cde2f25976 \"beta-object\"",
            "-> 5785f1fa53627e65aea1e730282e6804 \"alpha-object\"",
        ),
        (
            "late rev:uno failed: NameUnresolved (Some(Name(NotFound)))",
            "late rev:uno -> 5785f1fa53627e65aea1e730282e6804 \"alpha-object\"",
        ),
        (
            "rev        reverse-lookup        5        2",
            "rev        reverse-lookup        5        3",
        ),
    ];
    for (good, bad) in broken {
        assert!(BOOT0.contains(good), "fixture lacks {good:?}");
        let log = BOOT0.replacen(good, bad, 1);
        assert!(run(&log, BOOT1).is_err(), "{good:?} -> {bad:?} passed");
    }
}

#[test]
fn each_broken_step_of_boot_1_fails() {
    let broken = [
        // The names lost, or the state not found through the registry
        // record (a new object).
        (
            "resolve: rev:one -> 5785f1fa53627e65aea1e730282e6804",
            "resolve: rev:one: no such name",
        ),
        ("resolve: rev:uno: no such name", "resolve: rev:uno -> 00"),
        (
            "  one                      5785f1fa53627e65aea1e730282e6804\n",
            "",
        ),
        (
            "started rev (generation 9, object 5eb9ea8681a448903de95461a72d587a)",
            "started rev (generation 9, object 1eb9ea8681a448903de95461a72d587a)",
        ),
        (
            "rev: reverse-lookup resolver serving 2 names",
            "rev: reverse-lookup resolver serving 0 names",
        ),
        // The reverse query after the reboot.
        ("  1\n  two\n", "  0\n"),
        (
            "perennial> resolver call rev 1 %3\nresolver: rev op 1:\n  0\n",
            "perennial> resolver call rev 1 %3\nresolver: rev op 1:\n  1\n  one\n",
        ),
        (
            "-> 5785f1fa53627e65aea1e730282e6804 \"alpha-object\"",
            "-> 5785f1fa53627e65aea1e730282e6804 \"\"",
        ),
        ("rev        (unreachable)", "rev        reverse-lookup"),
    ];
    for (good, bad) in broken {
        assert!(BOOT1.contains(good), "fixture lacks {good:?}");
        let log = BOOT1.replacen(good, bad, 1);
        assert!(run(BOOT0, &log).is_err(), "{good:?} -> {bad:?} passed");
    }
}

#[test]
fn a_failed_or_missing_boot_fails() {
    assert!(check(&[clean_outcome(BOOT0)]).is_err());
    let mut cut = clean_outcome(BOOT1);
    cut.exit = crate::scenario::Exit::Cut;
    assert!(check(&[clean_outcome(BOOT0), cut]).is_err());
}

#[test]
fn reverse_answers_parse() {
    let out = "resolver: rev op 1:\n  2\n  a\n  b\nrev: a log line\n";
    assert_eq!(
        reverse_answer(out),
        Ok((2, vec!["a".to_string(), "b".to_string()]))
    );
    assert!(reverse_answer("resolver: rev op 1: invalid name\n").is_err());
    assert!(reverse_answer("resolver: rev op 1:\n  x\n").is_err());
}
