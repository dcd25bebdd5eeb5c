//! The `init` shell on the serial console: each command's output, the error
//! for an unknown one, line editing, and power-off at end of input.

use crate::console;
use crate::scenario::{Boot, GuestExit, Outcome, Scenario, expect_exit};

/// The shell scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "shell/scripted-session",
            boot: with_input(
                "echo hello   world\nuptime\nthreads\nmem\nfrobnicate --now\n\nhelp\necho after error\npoweroff\n",
            ),
            check: scripted_session,
        },
        Scenario {
            name: "shell/end-of-input-powers-off",
            boot: with_input("echo last words\n"),
            check: end_of_input,
        },
        Scenario {
            name: "shell/line-editing",
            // "abX", backspace, "c"; then a line killed with Ctrl-U; then DEL-style erase.
            boot: with_input("echo abX\x7fc\necho gone\x15echo kept\necho xy\x08z\npoweroff\n"),
            check: line_editing,
        },
    ]
}

/// A default machine with `input` typed at the shell.
pub fn with_input(input: &str) -> Boot {
    let mut boot = Boot::builtin();
    boot.input = input.as_bytes().to_vec();
    boot
}

/// The text between a command's echoed line and the next prompt.
pub fn output_of<'a>(console: &'a str, command: &str) -> Option<&'a str> {
    let echoed = format!("perennial> {command}\n");
    let start = console.find(&echoed)? + echoed.len();
    let end = console[start..]
        .find("perennial> ")
        .map_or(console.len(), |e| start + e);
    Some(&console[start..end])
}

fn require_output<'a>(console: &'a str, command: &str) -> Result<&'a str, String> {
    output_of(console, command).ok_or_else(|| {
        format!(
            "no output for `{command}`; console ends with:\n{}",
            console::tail(console, 15)
        )
    })
}

fn scripted_session(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let c = &out.console;
    console::require(c, "init: Perennial shell ready")?;

    if require_output(c, "echo hello   world")?.trim_end() != "hello world" {
        return Err("echo did not print its words joined by one space".into());
    }

    let uptime = require_output(c, "uptime")?.trim();
    let secs: f64 = uptime
        .strip_prefix("up ")
        .and_then(|r| r.strip_suffix(" s"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("uptime printed {uptime:?}"))?;
    if !(0.01..600.0).contains(&secs) {
        return Err(format!("uptime {secs} s is implausible"));
    }

    let threads = require_output(c, "threads")?;
    let mut rows = threads.lines();
    let header = rows.next().unwrap_or_default();
    if !(header.contains("ID") && header.contains("STATE") && header.contains("NAME")) {
        return Err(format!("threads header {header:?}"));
    }
    if !rows.any(|r| r.contains("init") && r.contains("running")) {
        return Err(format!(
            "threads does not list the running init thread:\n{threads}"
        ));
    }

    let mem = require_output(c, "mem")?.trim();
    let free =
        console::number_after(mem, "memory: ").ok_or_else(|| format!("mem printed {mem:?}"))?;
    let total =
        console::number_after(mem, "KiB free of ").ok_or_else(|| format!("mem printed {mem:?}"))?;
    if free == 0 || free > total || total > 512 * 1024 {
        return Err(format!("mem reports {free} KiB free of {total} KiB"));
    }

    let unknown = require_output(c, "frobnicate --now")?.trim();
    if unknown != "shell: unknown command 'frobnicate' (try 'help')" {
        return Err(format!("unknown command answered {unknown:?}"));
    }
    if require_output(c, "echo after error")?.trim() != "after error" {
        return Err("the shell did not carry on after the unknown command".into());
    }

    let help = require_output(c, "help")?;
    for command in [
        "help", "echo", "uptime", "threads", "mem", "run", "poweroff",
    ] {
        if !help.lines().any(|l| l.trim_start().starts_with(command)) {
            return Err(format!("help does not describe `{command}`:\n{help}"));
        }
    }
    console::require(c, "powering off").map(|_| ())
}

fn end_of_input(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    if require_output(&out.console, "echo last words")?.trim() != "last words" {
        return Err("the piped line was not executed".into());
    }
    console::require(&out.console, "end of input; powering off").map(|_| ())
}

fn line_editing(out: &Outcome, _: &Boot) -> Result<(), String> {
    expect_exit(out, GuestExit::Success)?;
    let lines: Vec<&str> = out.console.lines().map(str::trim_end).collect();
    for want in ["abc", "kept", "xz"] {
        if !lines.contains(&want) {
            return Err(format!(
                "edited line {want:?} not printed; console ends with:\n{}",
                console::tail(&out.console, 12)
            ));
        }
    }
    if lines.contains(&"gone") || lines.contains(&"gone echo kept") {
        return Err("Ctrl-U did not kill the line".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Exit;

    #[test]
    fn output_is_cut_between_prompts() {
        let c = "perennial> echo a\na\nperennial> uptime\nup 1.5 s\nperennial> ";
        assert_eq!(output_of(c, "echo a"), Some("a\n"));
        assert_eq!(output_of(c, "uptime"), Some("up 1.5 s\n"));
        assert_eq!(output_of(c, "mem"), None);
    }

    #[test]
    fn the_session_check_rejects_a_wrong_unknown_command_message() {
        let boot = with_input("");
        let good = "init: Perennial shell ready\nperennial> echo hello   world\nhello world\nperennial> uptime\nup 2.000 s\n\
perennial> threads\n  ID  PROG  PRI  STATE       CPU(ms)  NAME\n   1     1    4  running          3  init\n\
perennial> mem\nmemory: 400000 KiB free of 480000 KiB (1 frames free of 2); kernel heap 10 KiB of 8192 KiB; pmem 256 MiB\n\
perennial> frobnicate --now\nshell: unknown command 'frobnicate' (try 'help')\nperennial> \nperennial> help\n\
help  list commands\necho  print\nuptime  time\nthreads  list\nmem  memory\nrun  start\npoweroff  stop\n\
perennial> echo after error\nafter error\nperennial> poweroff\npowering off\n";
        let ok = Outcome {
            console: good.into(),
            exit: Exit::Guest(GuestExit::Success),
            banner_after: None,
        };
        assert_eq!(scripted_session(&ok, &boot), Ok(()));
        let bad = Outcome {
            console: good.replace("(try 'help')", ""),
            ..ok.clone()
        };
        assert!(scripted_session(&bad, &boot).is_err());
        let no_init = Outcome {
            console: good.replace("running", "ready"),
            ..ok
        };
        assert!(scripted_session(&no_init, &boot).is_err());
    }
}
