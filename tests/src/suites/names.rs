//! Nomenclature: the registry and the resolver servers `init` starts at
//! boot, driven from the shell — every naming command and its errors
//! (missing component, exists, not a directory, not empty, ambiguous and
//! empty queries, an operation the resolver does not support, a resolver
//! that is not running), a resolver started and registered at run time
//! (`resolver start flat`), the DRAM fallback without an NVDIMM, and names
//! surviving a power cut and a reboot on the same persistent memory.
//! `outside`: a resolver from outside the built-in set (`rev`, the
//! `reverse-lookup` crate in `tests/resolvers/reverse`) started at run
//! time, its own query, FOT names through it, and a reboot.

use std::time::Duration;

use crate::campaign::Campaign;
use crate::scenario::{Boot, Exit, GuestExit, Outcome, Pmem, Scenario, expect_exit};
use crate::suites::shell::{output_of, with_input};

/// The shell session exercising every naming command.
const SESSION: &str = "obj list\nobj new --persistent 64\nobj new --persistent 64\nresolver list\n\
    mkdir /home\nmkdir /home/a\nbind /home/a/notes %1\nls /home/a\nls\nresolve /home/a/notes\n\
    bind /home/a/notes %2\nmkdir /x/y\nbind /home/a/notes/z %1\nunbind /home/a\nresolve /nothing\n\
    tag %1 type=account owner=alice\ntag %2 type=account owner=bob\n\
    query type=account owner=alice\nquery type=account\nquery type=nothing\n\
    resolve attr:type=account\npublish acct %1\npublish acct %2\nresolve current:acct\n\
    mkdir attr:/d\nresolve flat:x\nresolver start flat\nbind flat:x %1\nresolve flat:x\n\
    resolver start flat\nresolver list\nunbind /home/a/notes\nunbind /home/a\nls /home\npoweroff\n";

/// Without an NVDIMM: the servers say where their state is, names work.
const DRAM_SESSION: &str =
    "mkdir /tmp\nbind /tmp/x 00000000000000000000000000001234\nresolve /tmp/x\npoweroff\n";

/// Two programs binding at once into one directory, the figures, and FOT
/// name entries late-bound through the resolvers.
const CLIENTS: &str = "run nameclient stress 100\nrun nameclient bench 200\nresolver start flat\nrun nameclient fot\npoweroff\n";

/// The scenarios.
pub fn scenarios() -> Vec<Scenario> {
    let mut dram = with_input(DRAM_SESSION);
    dram.pmem = Pmem::None;
    dram.timeout = Duration::from_secs(120);
    let mut session = with_input(SESSION);
    session.timeout = Duration::from_secs(180);
    let mut clients = with_input(CLIENTS);
    clients.timeout = Duration::from_secs(180);
    vec![
        Scenario {
            name: "names/shell-session",
            boot: session,
            check: session_check,
        },
        Scenario {
            name: "names/clients-concurrency-bench-fot",
            boot: clients,
            check: clients_check,
        },
        Scenario {
            name: "names/dram-fallback",
            boot: dram,
            check: dram_check,
        },
    ]
}

fn clients_check(o: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(o, GuestExit::Success)?;
    let c = &o.console;
    says(
        c,
        "run nameclient stress 100",
        "nameclient: stress ok: 200 names bound by 2 programs at once",
    )?;
    for p in ["a", "b"] {
        if !c.contains(&format!("nameclient: {p} bound 100 names")) {
            return Err(format!("binder {p} did not finish"));
        }
    }
    says(
        c,
        "run nameclient bench 200",
        "nameclient: bench 200: bind ",
    )?;
    says(
        c,
        "run nameclient bench 200",
        "run: nameclient exited with 0",
    )?;
    says(
        c,
        "run nameclient fot",
        "nameclient: fot ok: path 111 -> 222 after rebind, version 111 -> 222 after publish, \
         a name in the run-time resolver flat -> 111, unregistered resolver -> Some(ResolverGone(",
    )
}

/// Binds typed after the marker, during which the power is cut.
const CUT_BINDS: usize = 2000;

/// Boot 0 binds names, then keeps binding `/keep/n1`, `/keep/n2`, … until
/// the power is cut; the reboot must find every acknowledged name (and at
/// most the one bind in flight besides).
pub fn campaigns() -> Vec<Campaign> {
    let mut work = String::from(
        "obj new --persistent 64\nmkdir /keep\nbind /keep/me %1\ntag %1 kind=kept\n\
         publish latest %1\nresolver start flat\nbind flat:k %1\necho names-bound\n",
    );
    for i in 1..=CUT_BINDS {
        work += &format!("bind /keep/n{i} %1\n");
    }
    vec![Campaign {
        name: "names/survive-power-cut",
        pmem_size: 64 << 20,
        cuts: 1,
        // Built once per run; the harness wants a `&'static str`.
        work_script: Box::leak(work.into_boxed_str()),
        ready_marker: "names-bound",
        cut_window: (Duration::from_millis(20), Duration::from_millis(300)),
        final_script: "resolve /keep/me\nquery kind=kept\nresolve current:latest\nls /keep\n\
                       resolver start flat\nresolve flat:k\npoweroff\n",
        boot_timeout: Duration::from_secs(180),
        check: reboot_check,
    }]
}

/// `command`'s output, or an error naming it.
fn out<'a>(c: &'a str, command: &str) -> Result<&'a str, String> {
    output_of(c, command).ok_or_else(|| format!("no output for {command:?}"))
}

/// The output of the last time `command` was typed.
fn last<'a>(c: &'a str, command: &str) -> Result<&'a str, String> {
    let echoed = format!("perennial> {command}\n");
    let at = c
        .rfind(&echoed)
        .ok_or_else(|| format!("no output for {command:?}"))?;
    out(&c[at..], command)
}

/// Fails unless `text` (what `command` printed) has a line starting with
/// `want`.
fn has_line(text: &str, command: &str, want: &str) -> Result<(), String> {
    if text.lines().any(|l| l.starts_with(want)) {
        Ok(())
    } else {
        Err(format!("{command:?} should say {want:?}; it said {text:?}"))
    }
}

/// The first `command`'s output has a line starting with `want`.
fn says(c: &str, command: &str, want: &str) -> Result<(), String> {
    has_line(out(c, command)?, command, want)
}

/// The last `command`'s output has a line starting with `want`.
fn says_last(c: &str, command: &str, want: &str) -> Result<(), String> {
    has_line(last(c, command)?, command, want)
}

/// The ID `obj new` printed on its `n`th (1-based) use.
fn created(c: &str, n: usize) -> Result<String, String> {
    c.lines()
        .filter_map(|l| l.strip_prefix("obj: created persistent "))
        .nth(n - 1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .ok_or_else(|| format!("no ID from `obj new` #{n}"))
}

/// Every expected line of the session, in command order.
fn session_check(o: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(o, GuestExit::Success)?;
    let c = &o.console;
    let (a, b) = (created(c, 1)?, created(c, 2)?);
    // Resolvers make their state objects on their first change only.
    says(c, "obj list", "obj: 0 persistent objects")?;
    // Before `resolver start flat`: configured, not started.
    says(c, "resolver list", "flat       (stopped")?;
    let expected: [(&str, String); 24] = [
        ("mkdir /home", "mkdir: /home -> directory ".into()),
        (
            "bind /home/a/notes %1",
            format!("bind: /home/a/notes -> {a}"),
        ),
        ("ls /home/a", format!("  notes                    {a}")),
        ("ls", "  home/ ".into()),
        (
            "resolve /home/a/notes",
            format!("resolve: /home/a/notes -> {a} (object"),
        ),
        (
            "bind /home/a/notes %2",
            "bind: /home/a/notes: already bound".into(),
        ),
        (
            "mkdir /x/y",
            "mkdir: /x/y: a component of the path does not exist".into(),
        ),
        (
            "bind /home/a/notes/z %1",
            "bind: /home/a/notes/z: not a directory".into(),
        ),
        (
            "unbind /home/a",
            "unbind: /home/a: directory not empty".into(),
        ),
        ("resolve /nothing", "resolve: /nothing: no such name".into()),
        (
            "tag %1 type=account owner=alice",
            format!("tag: {a}: type=account"),
        ),
        (
            "query type=account owner=alice",
            format!("query: 1 match: {a}"),
        ),
        ("query type=account", "query: 2 matches".into()),
        ("query type=nothing", "query: no object matches".into()),
        (
            "resolve attr:type=account",
            "resolve: attr:type=account: ambiguous: 2 objects match".into(),
        ),
        (
            "publish acct %1",
            format!("publish: acct -> {a} (version 1)"),
        ),
        (
            "publish acct %2",
            format!("publish: acct -> {b} (version 2)"),
        ),
        (
            "resolve current:acct",
            format!("resolve: current:acct -> {b} (object"),
        ),
        (
            "mkdir attr:/d",
            "mkdir: attr:/d: the resolver does not support this operation".into(),
        ),
        (
            "resolve flat:x",
            "resolve: flat:x: resolver flat is not running".into(),
        ),
        (
            "resolver start flat",
            "resolver: started flat (generation ".into(),
        ),
        ("bind flat:x %1", format!("bind: flat:x -> {a}")),
        (
            "unbind /home/a/notes",
            format!("unbind: /home/a/notes (was object {a})"),
        ),
        ("ls /home", "ls: /home: empty".into()),
    ];
    for (command, want) in &expected {
        says(c, command, want)?;
    }
    says_last(
        c,
        "resolve flat:x",
        &format!("resolve: flat:x -> {a} (object"),
    )?;
    says_last(
        c,
        "resolver start flat",
        "resolver: flat: resolver flat is already running",
    )?;
    says_last(c, "unbind /home/a", "unbind: /home/a (was directory ")?;
    // After it: every resolver registered and answering, with its kind.
    let list = last(c, "resolver list")?;
    for (name, kind) in [
        ("hier", "hierarchical"),
        ("attr", "attribute"),
        ("current", "current-version"),
        ("flat", "flat"),
    ] {
        let live = list.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() == 5 && w[0] == name && w[1] == kind
        });
        if !live {
            return Err(format!(
                "resolver list lacks a live {name} ({kind}): {list:?}"
            ));
        }
    }
    Ok(())
}

fn dram_check(o: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(o, GuestExit::Success)?;
    let c = &o.console;
    if !c.contains("hier: no persistent memory: its names live in DRAM") {
        return Err("the hierarchical resolver did not say its state is in DRAM".into());
    }
    says(
        c,
        "resolve /tmp/x",
        "resolve: /tmp/x -> 00000000000000000000000000001234",
    )
}

/// The `n` of every `bind: /keep/nN -> ID` line a boot printed whole
/// (a line the cut interrupted does not count).
fn acked_binds(console: &str) -> Vec<usize> {
    let whole = &console[..console.rfind('\n').map_or(0, |e| e + 1)];
    whole
        .lines()
        .filter_map(|l| l.strip_prefix("bind: /keep/n"))
        .filter_map(|rest| rest.split_once(" -> "))
        .filter_map(|(n, _)| n.parse().ok())
        .collect()
}

/// The `n` of every `nN` entry an `ls` listing shows.
fn listed_binds(listing: &str) -> Vec<usize> {
    listing
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix('n'))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Boot 0 bound names and was cut; boot 1 must find them all.
fn reboot_check(outcomes: &[Outcome]) -> Result<(), String> {
    let [first, last] = outcomes else {
        return Err(format!("expected 2 boots, got {}", outcomes.len()));
    };
    if first.exit != Exit::Cut {
        return Err(format!("boot 0 ended {:?}, not cut", first.exit));
    }
    expect_exit(last, GuestExit::Success)?;
    let id = created(&first.console, 1)?;
    // Boot 0 must have bound the name the last check resolves.
    says(
        &first.console,
        "bind flat:k %1",
        &format!("bind: flat:k -> {id}"),
    )?;
    let c = &last.console;
    says(
        c,
        "resolve /keep/me",
        &format!("resolve: /keep/me -> {id} (object"),
    )?;
    says(c, "query kind=kept", &format!("query: 1 match: {id}"))?;
    says(
        c,
        "resolve current:latest",
        &format!("resolve: current:latest -> {id}"),
    )?;
    says(c, "ls /keep", &format!("  me                       {id}"))?;
    says(c, "resolve flat:k", &format!("resolve: flat:k -> {id}"))?;
    let acked = acked_binds(&first.console);
    let mut listed = listed_binds(out(c, "ls /keep")?);
    listed.sort_unstable();
    // Binds run in order: the survivors are n1..=nK, with K the last
    // acknowledged one or the one in flight after it.
    let k = acked.len();
    let in_order = listed.iter().enumerate().all(|(i, &n)| n == i + 1);
    if !in_order || listed.len() < k || listed.len() > k + 1 {
        return Err(format!(
            "{k} binds acknowledged before the cut, but after it /keep holds n{listed:?}"
        ));
    }
    Ok(())
}

mod outside;
pub use outside::reboots;

#[cfg(test)]
mod tests;
