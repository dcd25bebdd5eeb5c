//! `restart/kill-each-server-under-load`: `loadgen` runs in the background
//! (`run -b`) — POSIX appends with `fsync`, name binds in `hier`, object
//! creates and writes, each retried across restarts and each acknowledged
//! record checked again and again — while the shell kills every server in
//! turn, a few seconds apart. Then the shell tells `loadgen` to stop
//! (`touch /loadgen/stop`), waits for it, and runs `fsck`.
//!
//! The check wants `loadgen`'s `ok` line (every acknowledged record read
//! back intact after the last restart; a lost one makes it print `LOST`
//! and exit 3), a retry in every worker (else no kill met its load), every
//! server that `server list` showed at boot killed while `loadgen` ran
//! and serving again before `loadgen` finished, and a clean `fsck`.

use std::time::Duration;

use crate::console;
use crate::scenario::{Boot, GuestExit, Outcome, Scenario, expect_exit};
use crate::suites::shell::{output_of, with_input};

/// Every server the scenario kills, in order. `server list` at boot must
/// name no other (the check says so, so a new server gets added here).
/// `ksod` is killed only when it runs; otherwise the shell says "no such
/// server" and the check does not ask for its restart.
pub const KILL_ORDER: [&str; 7] = [
    "objstore", "registry", "hier", "attr", "current", "posix", "ksod",
];

/// Milliseconds `loadgen` runs before the first kill.
const WARM_UP_MS: u64 = 3000;
/// Milliseconds between two kills (and after the last).
const BETWEEN_MS: u64 = 2500;

/// The shell script.
fn script() -> String {
    let mut s = format!("server list\nrun -b loadgen 300\nsleep {WARM_UP_MS}\n");
    for name in KILL_ORDER {
        s += &format!("server kill {name}\nsleep {BETWEEN_MS}\n");
    }
    s + "touch /loadgen/stop\nwait\nserver list\nfsck\npoweroff\n"
}

/// The scenario.
pub fn scenario() -> Scenario {
    let mut boot = with_input(&script());
    boot.timeout = Duration::from_secs(180);
    Scenario {
        name: "restart/kill-each-server-under-load",
        boot,
        check: kill_each_under_load,
    }
}

/// The servers the first `server list` shows.
fn boot_servers(c: &str) -> Result<Vec<&str>, String> {
    let table = output_of(c, "server list").ok_or("no output for the first `server list`")?;
    let names: Vec<&str> = table
        .lines()
        .filter(|l| !l.starts_with("NAME"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    if names.is_empty() {
        return Err(format!("the first `server list` lists nothing: {table:?}"));
    }
    Ok(names)
}

/// The numbers in `loadgen: ok: N posix records, M names, K objects
/// acknowledged and verified; R retries across restarts (posix A, names
/// B, objects C)`: `[N, M, K]` and `[A, B, C]`.
fn ok_counts(line: &str) -> Result<([u64; 3], [u64; 3]), String> {
    let n = |key: &str| {
        console::number_after(line, key).ok_or_else(|| format!("no {key:?} in {line:?}"))
    };
    Ok((
        [n("ok: ")?, n("records, ")?, n("names, ")?],
        [n("(posix ")?, n(", names ")?, n(", objects ")?],
    ))
}

fn kill_each_under_load(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    if let Some(lost) = console::line(c, "loadgen: LOST") {
        return Err(format!("a server lost acknowledged data: {lost}"));
    }
    console::require(c, "run: loadgen started as program ")?;
    let running = c
        .find("loadgen: running ")
        .ok_or("loadgen never said it was running")?;
    let ok = console::require(c, "loadgen: ok: ")?;
    let ok_at = c.find(ok).unwrap_or(c.len());
    let (acked, retried) = ok_counts(ok)?;
    if acked.contains(&0) {
        return Err(format!("a worker acknowledged nothing: {ok}"));
    }
    // Each worker calls a server that is killed (POSIX, `hier`, the
    // store); its next call after the kill must have been retried.
    if retried.contains(&0) {
        return Err(format!(
            "a worker retried no call, so no kill met its load: {ok}"
        ));
    }
    console::require(c, "run: loadgen exited with 0")?;
    // Only the kills end servers: a server that faults because another
    // one restarted under it (a page fault while the store was away) is a
    // failure even though the supervisor hides it.
    let crashed = console::lines(c, "init: ")
        .into_iter()
        .find(|l| l.contains(" crashed ("));
    if let Some(crash) = crashed {
        return Err(format!("a server crashed under load: {crash}"));
    }
    for name in boot_servers(c)? {
        if !KILL_ORDER.contains(&name) {
            return Err(format!(
                "server {name} runs at boot but the scenario does not kill it (add it to KILL_ORDER)"
            ));
        }
        let killed = c
            .find(&format!("server: killed {name} (program "))
            .ok_or_else(|| format!("`server kill {name}` did not kill it"))?;
        if killed < running {
            return Err(format!("{name} was killed before loadgen ran"));
        }
        console::require(
            c,
            &format!("init: {name} was killed (killed); restarting it"),
        )?;
        let serving = c
            .rfind(&format!("init: {name} serving again after "))
            .ok_or_else(|| format!("{name} never served again after its kill"))?;
        if serving > ok_at {
            return Err(format!(
                "{name} served again only after loadgen's final check"
            ));
        }
    }
    console::require(c, "fsck: clean").map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::clean_outcome as out;

    const BOOT: [&str; 6] = ["objstore", "registry", "hier", "attr", "current", "posix"];

    fn transcript() -> String {
        let mut t = String::from("perennial> server list\nNAME         STATE   RESTARTS\n");
        for name in BOOT {
            t += &format!("{name:<12} running (3)   0  -   -\n");
        }
        t += "perennial> run -b loadgen 300\nrun: loadgen started as program 12\n\
              loadgen: running 3 workers until /loadgen/stop appears or 300 s pass\n";
        for name in BOOT {
            t += &format!(
                "perennial> server kill {name}\nserver: killed {name} (program 4); the supervisor restarts it\n\
                 init: {name} was killed (killed); restarting it\n\
                 init: {name} serving again after 210 ms (generation 2)\n"
            );
        }
        t + "perennial> server kill ksod\nserver: cannot kill ksod: no such server\n\
             loadgen: ok: 900 posix records, 300 names, 250 objects acknowledged and verified; \
             17 retries across restarts (posix 6, names 4, objects 7)\nrun: loadgen exited with 0\nfsck: clean\n"
    }

    #[test]
    fn the_script_kills_each_server_between_start_and_stop() {
        let s = script();
        let start = s.find("run -b loadgen").unwrap();
        let stop = s.find("touch /loadgen/stop").unwrap();
        for name in KILL_ORDER {
            let at = s.find(&format!("server kill {name}\n")).unwrap();
            assert!(start < at && at < stop, "{name}");
        }
        assert!(s.ends_with("wait\nserver list\nfsck\npoweroff\n"));
    }

    #[test]
    fn a_clean_run_passes() {
        assert_eq!(
            kill_each_under_load(&out(&transcript()), &Boot::builtin()),
            Ok(())
        );
    }

    #[test]
    fn lost_data_no_retries_or_a_missing_restart_fail() {
        let t = transcript();
        let lost = t.replace(
            "loadgen: ok: 900",
            "loadgen: LOST: posix record 17 missing (the posix records worker)\nloadgen: ok: 900",
        );
        let exit3 = t
            .replace("loadgen: ok:", "loadgen: not ok:")
            .replace("exited with 0", "exited with 3");
        let no_retry = t.replace("names 4,", "names 0,");
        let no_restart = t.replace("init: hier serving again after", "init: hier stuck");
        let late = t.replace("init: attr serving again after 210 ms (generation 2)\n", "")
            + "init: attr serving again after 9000 ms (generation 2)\n";
        let unkilled = t.replace(
            "server: killed posix (program 4)",
            "server: cannot kill posix",
        );
        let early =
            t.replacen("loadgen: running 3 workers", "", 1) + "loadgen: running 3 workers\n";
        let extra = t.replace(
            "posix        running",
            "posix        running (3)\nnewsrv       running",
        );
        let dirty = t.replace("fsck: clean", "fsck: 2 problems");
        let crash = t.replace(
            "perennial> server kill registry",
            "init: hier crashed (fault page fault (14)); restarting it\n\
             perennial> server kill registry",
        );
        for (what, bad, why) in [
            ("lost", lost, "lost acknowledged data"),
            ("exit 3", exit3, "loadgen: ok: "),
            ("no retry", no_retry, "a worker retried no call"),
            ("no restart", no_restart, "hier never served again"),
            ("late restart", late, "attr served again only after"),
            ("not killed", unkilled, "did not kill it"),
            ("killed before load", early, "before loadgen ran"),
            ("unknown server", extra, "newsrv runs at boot"),
            ("fsck", dirty, "fsck: clean"),
            (
                "crash",
                crash,
                "a server crashed under load: init: hier crashed",
            ),
        ] {
            let err = kill_each_under_load(&out(&bad), &Boot::builtin()).expect_err(what);
            assert!(err.contains(why), "{what}: {err}");
        }
    }
}
