//! `names/runtime-resolver-from-outside-crate`: a resolver that is not one
//! of the built-in ones — `reverse-lookup`, in `tests/resolvers/reverse`,
//! written from the template's walkthrough and named by one line of
//! `nomenclature/resolvers.toml` (`rev`, not started at boot) — started
//! and registered at run time, used, and found again after a reboot.
//!
//! Boot 0: `resolver list` shows `rev` stopped; `resolver start rev`
//! starts it and the list shows it live; two names are bound to one
//! object and one to another (a taken name and a bad one are refused);
//! each resolves; the resolver's own query (`resolver call rev 1 ID`,
//! its `custom` operation) answers exactly the names of each object,
//! refuses an unknown op and a malformed argument, and answers one name
//! fewer after an `unbind`; FOT name entries naming `rev` dereference to
//! the right objects (and an unbound one fails). Boot 1, on the same
//! persistent memory: `rev` is registered but not running; after
//! `resolver start rev` it serves under the same identity (its state
//! object, found through its registry record) and every name, the
//! reverse answers and the late-bound pointer are as boot 0 left them.

use std::time::Duration;

use super::{created, last, out, says, says_last};
use crate::reboots::Reboots;
use crate::scenario::{GuestExit, Outcome, expect_exit};

/// Boot 0's script.
const FIRST: &str = "obj new --persistent 64\nobj new --persistent 64\n\
    obj write %1 0 alpha-object\nobj write %2 0 beta-object\n\
    resolver list\nresolve rev:one\nresolver start rev\nresolver list\n\
    bind rev:one %1\nbind rev:uno %1\nbind rev:two %2\nbind rev:one %2\nbind rev:a=b %1\n\
    resolve rev:one\nresolve rev:uno\nresolve rev:two\n\
    resolver call rev 1 %1\nresolver call rev 1 %2\nresolver call rev 7 %1\n\
    resolver call rev 1 not-an-id\n\
    unbind rev:uno\nresolver call rev 1 %1\nresolve rev:uno\n\
    run nameclient late rev one\nrun nameclient late rev two\nrun nameclient late rev uno\n\
    resolver list\npoweroff\n";

/// How many `%N` boot 1 asks the reverse query about: at least the
/// persistent objects its `obj list` shows.
const ASKED: usize = 6;

/// Boot 1's script: `obj list` first, so `%N` is its `N`th line.
fn second() -> String {
    let mut s = String::from(
        "obj list\nresolver list\nresolver start rev\nresolve rev:one\nresolve rev:two\n\
         resolve rev:uno\nls rev:\n",
    );
    for n in 1..=ASKED {
        s += &format!("resolver call rev 1 %{n}\n");
    }
    s += "run nameclient late rev one\nresolver list\npoweroff\n";
    s
}

/// The reboot sequence.
pub fn reboots() -> Vec<Reboots> {
    vec![Reboots {
        name: "names/runtime-resolver-from-outside-crate",
        pmem_size: 64 << 20,
        scripts: vec![FIRST.into(), second()],
        boot_timeout: Duration::from_secs(180),
        check,
        between: None,
    }]
}

/// The names a `resolver call rev 1 …` printed: the count line, then the
/// names (the indented lines under `resolver: rev op 1:`).
pub(super) fn reverse_answer(output: &str) -> Result<(u64, Vec<String>), String> {
    let body = output
        .split_once("resolver: rev op 1:\n")
        .map(|(_, b)| b)
        .ok_or_else(|| format!("no reverse-lookup answer in {output:?}"))?;
    let mut lines = body
        .lines()
        .map_while(|l| l.strip_prefix("  "))
        .map(str::to_string);
    let total = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| format!("the answer has no count: {output:?}"))?;
    Ok((total, lines.collect()))
}

/// Fails unless the reverse query's output `output` (for `what`) is
/// exactly `want`.
fn answers(output: &str, what: &str, want: &[&str]) -> Result<(), String> {
    let (total, names) = reverse_answer(output)?;
    if total != want.len() as u64 || names != want {
        return Err(format!(
            "the names of {what} should be {want:?}; rev answered {total} names: {names:?}"
        ));
    }
    Ok(())
}

/// The `rev` row of the last `resolver list`: (kind, names, object).
fn rev_row(listing: &str) -> Option<(String, String, String)> {
    listing.lines().find_map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w.as_slice() {
            ["rev", kind, _generation, names, object] => {
                Some((kind.to_string(), names.to_string(), object.to_string()))
            }
            _ => None,
        }
    })
}

/// Fails unless the last `resolver list` of `c` shows `rev` live with
/// `names` names; returns its object.
fn live_rev(c: &str, names: &str) -> Result<String, String> {
    let listing = last(c, "resolver list")?;
    match rev_row(listing) {
        Some((kind, n, object)) if kind == "reverse-lookup" && n == names => Ok(object),
        other => Err(format!(
            "`resolver list` should show rev (reverse-lookup) with {names} names; \
             its row: {other:?} in {listing:?}"
        )),
    }
}

fn check(boots: &[Outcome]) -> Result<(), String> {
    let [first, second] = boots else {
        return Err(format!("expected 2 boots, got {}", boots.len()));
    };
    expect_exit(first, GuestExit::Success)?;
    expect_exit(second, GuestExit::Success)?;
    let (a, b) = check_first(&first.console)?;
    check_second(&second.console, &a, &b, &live_rev(&first.console, "2")?)
}

/// Boot 0; returns the two objects' IDs.
fn check_first(c: &str) -> Result<(String, String), String> {
    let (a, b) = (created(c, 1)?, created(c, 2)?);
    // Configured, not started at boot.
    says(
        c,
        "resolver list",
        "rev        (stopped: resolver start rev; program reverse-lookup)",
    )?;
    says(
        c,
        "resolve rev:one",
        "resolve: rev:one: resolver rev is not running",
    )?;
    says(
        c,
        "resolver start rev",
        "resolver: started rev (generation ",
    )?;
    let expected = [
        ("bind rev:one %1", format!("bind: rev:one -> {a}")),
        ("bind rev:uno %1", format!("bind: rev:uno -> {a}")),
        ("bind rev:two %2", format!("bind: rev:two -> {b}")),
        ("bind rev:one %2", "bind: rev:one: already bound".into()),
        ("bind rev:a=b %1", "bind: rev:a=b: invalid name".into()),
        (
            "resolve rev:uno",
            format!("resolve: rev:uno -> {a} (object"),
        ),
        (
            "resolve rev:two",
            format!("resolve: rev:two -> {b} (object"),
        ),
        (
            "resolver call rev 7 %1",
            "resolver: rev op 7: the resolver does not support this operation".into(),
        ),
        (
            "resolver call rev 1 not-an-id",
            "resolver: rev op 1: invalid name".into(),
        ),
        (
            "unbind rev:uno",
            format!("unbind: rev:uno (was object {a})"),
        ),
        (
            "run nameclient late rev one",
            format!("nameclient: late rev:one -> {a} \"alpha-object\""),
        ),
        (
            "run nameclient late rev two",
            format!("nameclient: late rev:two -> {b} \"beta-object\""),
        ),
        (
            "run nameclient late rev uno",
            "nameclient: late rev:uno failed: NameUnresolved (Some(Name(NotFound)))".into(),
        ),
    ];
    for (command, want) in &expected {
        says(c, command, want)?;
    }
    // The first `resolve rev:one` found rev stopped; the last `resolve
    // rev:uno` came after the unbind.
    says_last(
        c,
        "resolve rev:one",
        &format!("resolve: rev:one -> {a} (object"),
    )?;
    says_last(c, "resolve rev:uno", "resolve: rev:uno: no such name")?;
    answers(out(c, "resolver call rev 1 %1")?, "%1", &["one", "uno"])?;
    answers(out(c, "resolver call rev 1 %2")?, "%2", &["two"])?;
    answers(
        last(c, "resolver call rev 1 %1")?,
        "%1 after the unbind",
        &["one"],
    )?;
    Ok((a, b))
}

/// Boot 1: `rev` comes back under the identity boot 0 left (`rev_object`)
/// with its names.
fn check_second(c: &str, a: &str, b: &str, rev_object: &str) -> Result<(), String> {
    // Registered by boot 0, not running until started.
    says(c, "resolver list", "rev        (unreachable)")?;
    says(
        c,
        "resolver start rev",
        "rev: reverse-lookup resolver serving 2 names",
    )?;
    let started = out(c, "resolver start rev")?;
    if !started.contains(&format!("object {rev_object})")) {
        return Err(format!(
            "rev should come back as object {rev_object} (its state, named by its \
             registry record); it said {started:?}"
        ));
    }
    says(
        c,
        "resolve rev:one",
        &format!("resolve: rev:one -> {a} (object"),
    )?;
    says(
        c,
        "resolve rev:two",
        &format!("resolve: rev:two -> {b} (object"),
    )?;
    says(c, "resolve rev:uno", "resolve: rev:uno: no such name")?;
    let listing = out(c, "ls rev:")?;
    let entries: Vec<(&str, &str)> = listing
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, id)| (n, id.trim()))
        .collect();
    if entries != [("one", a), ("two", b)] {
        return Err(format!(
            "`ls rev:` should list one and two; it listed {listing:?}"
        ));
    }
    // `%N` is the Nth object `obj list` printed.
    let listed: Vec<&str> = out(c, "obj list")?
        .lines()
        .filter_map(|l| l.strip_prefix("obj: "))
        .filter(|l| l.ends_with(" bytes"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    if listed.len() > ASKED {
        return Err(format!(
            "boot 1 lists {} objects; its script asks about only {ASKED}",
            listed.len()
        ));
    }
    for id in [a, b] {
        if !listed.contains(&id) {
            return Err(format!("`obj list` after the reboot lacks {id}"));
        }
    }
    for (i, id) in listed.iter().enumerate() {
        let command = format!("resolver call rev 1 %{}", i + 1);
        let want: &[&str] = match *id {
            x if x == a => &["one"],
            x if x == b => &["two"],
            _ => &[],
        };
        answers(out(c, &command)?, id, want)?;
    }
    says(
        c,
        "run nameclient late rev one",
        &format!("nameclient: late rev:one -> {a} \"alpha-object\""),
    )?;
    live_rev(c, "2").and_then(|object| match object == rev_object {
        true => Ok(()),
        false => Err(format!(
            "rev is object {object} after the reboot, {rev_object} before"
        )),
    })
}

#[cfg(test)]
mod tests;
