//! The POSIX layer: the `utest posix` group (pjdfstest-style checks of
//! each `errno`, holes, `O_APPEND`, `readdir`, per-program descriptor
//! tables), the shell's file commands and `wc` as its own program; and a
//! campaign that cuts the power once files are written and checks every
//! byte and name of them after the next boot on the same NVDIMM.

use std::time::Duration;

use crate::campaign::Campaign;
use crate::scenario::{Boot, Exit, GuestExit, Outcome, Scenario, expect_exit};
use crate::suites::shell::{output_of, with_input};
use crate::suites::user::group_passed;

/// Tests the `posix` group must report.
pub const MIN_POSIX_TESTS: u64 = 11;

/// The shell session.
/// (`stat /` first: it waits for the servers, whose start-up lines then
/// land in its output.)
const SESSION: &str = "stat /\n\
    help\n\
    echo hello world > /greeting\n\
    echo second line >> /greeting\n\
    cat /greeting\n\
    ls /\n\
    cp /greeting /copy\n\
    mv /copy /moved\n\
    cat /copy\n\
    stat /moved\n\
    touch /empty\n\
    stat /empty\n\
    rm /moved\n\
    cat /moved\n\
    rm /\n\
    run wc /greeting /empty\n\
    run wc /nothing\n\
    echo still plain\n\
    poweroff\n";

/// Files stay reachable while the object store and the POSIX server
/// restart (the POSIX server rebinds to the store; the shell to the
/// POSIX server).
const RESTARTS: &str = "echo before > /r\n\
    server kill objstore\n\
    cat /r\n\
    server kill posix\n\
    cat /r\n\
    echo after >> /r\n\
    cat /r\n\
    poweroff\n";

/// The POSIX scenarios.
pub fn scenarios() -> Vec<Scenario> {
    let mut group = with_input("run utest posix\npoweroff\n");
    group.timeout = std::time::Duration::from_secs(120);
    vec![
        Scenario {
            name: "posix/utest-group",
            boot: group,
            check: |out, _| group_passed(out, "posix", MIN_POSIX_TESTS),
        },
        Scenario {
            name: "posix/shell-session",
            boot: with_input(SESSION),
            check: session,
        },
        Scenario {
            name: "posix/survives-server-restarts",
            boot: with_input(RESTARTS),
            check: restarts,
        },
    ]
}

/// What the reboot campaign's first boot prints once its files are
/// written (acknowledged, so durable); the power is cut soon after.
const WRITTEN: &str = "utest: posix: write files to keep across a reboot ... ok";
/// What its second boot prints when every file came back intact.
const INTACT: &str = "utest: posix: files are intact after a reboot ... ok";

/// The POSIX campaigns: files written, the power cut, the files read back.
pub fn campaigns() -> Vec<Campaign> {
    vec![Campaign {
        name: "posix/files-survive-a-power-cut",
        pmem_size: 64 << 20,
        cuts: 1,
        // `utest sleep` holds the machine up until the cut.
        work_script: "run utest posix-persist write\nrun utest sleep\n",
        ready_marker: WRITTEN,
        cut_window: (Duration::from_millis(10), Duration::from_millis(500)),
        final_script: "run utest posix-persist check\npoweroff\n",
        boot_timeout: Duration::from_secs(120),
        check: survived,
    }]
}

/// The first boot wrote its files; the second found all of them intact.
fn survived(boots: &[Outcome]) -> Result<(), String> {
    let [first, second] = boots else {
        return Err(format!("{} boots, not 2", boots.len()));
    };
    if !first.console.contains(WRITTEN) {
        return Err(format!(
            "the first boot did not write its files:\n{}",
            crate::console::tail(&first.console, 15)
        ));
    }
    if first.exit != Exit::Cut {
        return Err(format!(
            "the first boot ended with {:?}, not a cut",
            first.exit
        ));
    }
    expect_exit(second, GuestExit::Success)?;
    if !second.console.contains(INTACT) || !second.console.contains("run: utest exited with 0") {
        return Err(format!(
            "files not intact after the cut:\n{}",
            crate::console::tail(&second.console, 15)
        ));
    }
    Ok(())
}

/// Servers whose log lines may land in the middle of a command's output.
const SERVERS: &[&str] = &[
    "objstore: ",
    "posix: ",
    "registry: ",
    "hierarchical: ",
    "attribute: ",
    "current-version: ",
    "resolver-template: ",
    "init: ",
    "hier: ",
    "attr: ",
    "current: ",
    "flat: ",
];

/// What `command` printed, without servers' log lines, trimmed.
fn said(c: &str, command: &str) -> Result<String, String> {
    let out = output_of(c, command).ok_or_else(|| format!("no output for `{command}`"))?;
    let own: Vec<&str> = out
        .lines()
        .filter(|l| !SERVERS.iter().any(|s| l.starts_with(s)))
        .collect();
    Ok(own.join("\n").trim_end().to_string())
}

/// Fails unless `command` printed exactly `want`.
fn exactly(c: &str, command: &str, want: &str) -> Result<(), String> {
    let got = said(c, command)?;
    if got != want {
        return Err(format!("`{command}` printed {got:?}, not {want:?}"));
    }
    Ok(())
}

fn session(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    let help = said(c, "help")?;
    for cmd in [
        "cat FILE",
        "rm FILE",
        "mv FROM TO",
        "cp FROM TO",
        "touch",
        "stat",
    ] {
        if !help.lines().any(|l| l.trim_start().starts_with(cmd)) {
            return Err(format!("help does not list `{cmd}`"));
        }
    }
    exactly(c, "echo hello world > /greeting", "")?;
    exactly(c, "echo second line >> /greeting", "")?;
    exactly(c, "cat /greeting", "hello world\nsecond line")?;
    // One namespace: the resolver's `ls` shows the POSIX file.
    let ls = said(c, "ls /")?;
    if !ls.contains("greeting") {
        return Err(format!("`ls /` does not show the file: {ls:?}"));
    }
    exactly(c, "cp /greeting /copy", "")?;
    exactly(c, "mv /copy /moved", "")?;
    exactly(
        c,
        "cat /copy",
        "cat: /copy: ENOENT (no such file or directory)",
    )?;
    let st = said(c, "stat /moved")?;
    if !st.contains("  type: regular file\n  size: 24\n") {
        return Err(format!("stat /moved printed {st:?}"));
    }
    let st = said(c, "stat /empty")?;
    if !st.contains("  type: regular file\n  size: 0\n") {
        return Err(format!("stat /empty printed {st:?}"));
    }
    exactly(
        c,
        "cat /moved",
        "cat: /moved: ENOENT (no such file or directory)",
    )?;
    exactly(c, "rm /", "rm: /: EISDIR (is a directory)")?;
    let wc = said(c, "run wc /greeting /empty")?;
    let rows: Vec<Vec<&str>> = wc.lines().map(|l| l.split_whitespace().collect()).collect();
    let want: Vec<Vec<&str>> = vec![
        vec!["2", "4", "24", "/greeting"],
        vec!["0", "0", "0", "/empty"],
        vec!["2", "4", "24", "total"],
        vec!["run:", "wc", "exited", "with", "0"],
    ];
    if rows != want {
        return Err(format!("`run wc` printed {wc:?}"));
    }
    exactly(
        c,
        "run wc /nothing",
        "wc: /nothing: ENOENT (no such file or directory)\nrun: wc exited with 1",
    )?;
    exactly(c, "echo still plain", "still plain")
}

fn restarts(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    exactly(c, "echo before > /r", "")?;
    for server in ["objstore", "posix"] {
        let killed = said(c, &format!("server kill {server}"))?;
        if !killed.starts_with(&format!("server: killed {server}")) {
            return Err(format!("`server kill {server}` printed {killed:?}"));
        }
    }
    let reads = outputs(c, "cat /r");
    if reads != ["before", "before", "before\nafter"] {
        return Err(format!("`cat /r` printed {reads:?}"));
    }
    Ok(())
}

/// Every output of `command` (it ran several times), without servers' log
/// lines, trimmed.
fn outputs(c: &str, command: &str) -> Vec<String> {
    let echoed = format!("perennial> {command}\n");
    let mut out = Vec::new();
    let mut rest = c;
    while let Some(at) = rest.find(&echoed) {
        out.extend(said(&rest[at..], command).ok());
        rest = &rest[at + echoed.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scenario::clean_outcome as out;

    fn transcript() -> String {
        let mut t = String::from(
            "perennial> help\ncommands:\n  cat FILE...   print\n  rm FILE...   x\n  mv FROM TO   x\n  \
             cp FROM TO   x\n  touch FILE...   x\n  stat PATH...   x\n",
        );
        let steps: &[(&str, &str)] = &[
            // A server's log line in the middle is not the command's.
            ("echo hello world > /greeting", "posix: serving\n"),
            ("echo second line >> /greeting", ""),
            ("cat /greeting", "hello world\nsecond line\n"),
            ("ls /", "greeting  object 1f\n"),
            ("cp /greeting /copy", ""),
            ("mv /copy /moved", ""),
            (
                "cat /copy",
                "cat: /copy: ENOENT (no such file or directory)\n",
            ),
            (
                "stat /moved",
                "  file: /moved\n  type: regular file\n  size: 24\nobject: 1f\n",
            ),
            ("touch /empty", ""),
            (
                "stat /empty",
                "  file: /empty\n  type: regular file\n  size: 0\nobject: 2f\n",
            ),
            ("rm /moved", ""),
            (
                "cat /moved",
                "cat: /moved: ENOENT (no such file or directory)\n",
            ),
            ("rm /", "rm: /: EISDIR (is a directory)\n"),
            (
                "run wc /greeting /empty",
                "      2       4      24 /greeting\n      0       0       0 /empty\n      2       4      24 total\nrun: wc exited with 0\n",
            ),
            (
                "run wc /nothing",
                "wc: /nothing: ENOENT (no such file or directory)\nrun: wc exited with 1\n",
            ),
            ("echo still plain", "still plain\n"),
            ("poweroff", "powering off\n"),
        ];
        for (cmd, output) in steps {
            t += &format!("perennial> {cmd}\n{output}");
        }
        t
    }

    #[test]
    fn restarts_need_every_read() {
        let t = "perennial> echo before > /r\nperennial> server kill objstore\n\
                 server: killed objstore (program 2); the supervisor restarts it\n\
                 perennial> cat /r\nobjstore: serving 3 objects\nbefore\n\
                 perennial> server kill posix\n\
                 server: killed posix (program 9); the supervisor restarts it\n\
                 perennial> cat /r\nposix: serving\nbefore\nperennial> echo after >> /r\n\
                 perennial> cat /r\nbefore\nafter\nperennial> poweroff\npowering off\n";
        assert_eq!(restarts(&out(t), &Boot::builtin()), Ok(()));
        let lost = t.replace(
            "posix: serving\nbefore",
            "cat: /r: EIO (input/output error)",
        );
        assert!(restarts(&out(&lost), &Boot::builtin()).is_err());
        let unkilled = t.replace("server: killed posix", "server: cannot kill posix");
        assert!(restarts(&out(&unkilled), &Boot::builtin()).is_err());
    }

    #[test]
    fn the_campaign_needs_both_halves() {
        let boot = |console: &str, exit| Outcome {
            console: console.into(),
            exit,
            banner_after: None,
        };
        let written = boot(&format!("{WRITTEN}\n"), Exit::Cut);
        let intact = boot(
            &format!("{INTACT}\nutest: 1 passed, 0 failed\nrun: utest exited with 0\n"),
            Exit::Guest(GuestExit::Success),
        );
        assert_eq!(survived(&[written.clone(), intact.clone()]), Ok(()));
        let lost = boot(
            "utest: posix: files are intact after a reboot ... FAILED: ENOENT\n",
            Exit::Guest(GuestExit::Success),
        );
        assert!(survived(&[written.clone(), lost]).is_err());
        let unwritten = boot("utest: posix: write ... FAILED\n", Exit::Cut);
        assert!(survived(&[unwritten, intact.clone()]).is_err());
        assert!(survived(&[intact]).is_err());
    }

    #[test]
    fn a_session_must_show_every_step() {
        assert_eq!(session(&out(&transcript()), &Boot::builtin()), Ok(()));
        let lost = transcript().replace("hello world\nsecond line\n", "hello world\n");
        assert!(session(&out(&lost), &Boot::builtin()).is_err());
        let kept = transcript().replace(
            "cat: /moved: ENOENT (no such file or directory)\n",
            "hello world\nsecond line\n",
        );
        assert!(session(&out(&kept), &Boot::builtin()).is_err());
        let miscount = transcript().replace(
            "      2       4      24 total",
            "      2       4      23 total",
        );
        assert!(session(&out(&miscount), &Boot::builtin()).is_err());
        let unlisted = transcript().replace("greeting  object", "other  object");
        assert!(session(&out(&unlisted), &Boot::builtin()).is_err());
        let no_help = transcript().replace("  touch FILE...   x\n", "");
        assert!(session(&out(&no_help), &Boot::builtin()).is_err());
    }
}
