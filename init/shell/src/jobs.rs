//! Programs in the background: `run -b NAME [ARGS...]` starts a boot
//! module and gives the prompt back at once, `wait [PROGRAM...]` waits for
//! such programs to end, and `sleep MS` pauses the shell — together they let
//! a user (or a scripted test) type `server kill NAME` while a workload
//! runs, and give the workload time between kills.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use protocols::syscall::SysError;

use crate::commands::format_exit;
use crate::session::Flow;
use crate::system::System;

/// Longest `sleep`, in milliseconds (ten minutes): a longer one is a typo.
pub const MAX_SLEEP_MS: u64 = 600_000;

/// The programs `run -b` started that nobody has waited for yet, oldest
/// first: their program ids and module names.
#[derive(Debug, Default)]
pub struct Jobs {
    running: Vec<(u64, String)>,
}

impl Jobs {
    /// No programs.
    pub const fn new() -> Jobs {
        Jobs {
            running: Vec::new(),
        }
    }

    /// Remembers that program `id` runs module `name`.
    pub fn add(&mut self, id: u64, name: &str) {
        self.running.push((id, name.to_string()));
    }

    /// Forgets program `id`; its module name, if it was remembered.
    pub fn take(&mut self, id: u64) -> Option<String> {
        let i = self.running.iter().position(|(p, _)| *p == id)?;
        Some(self.running.remove(i).1)
    }

    /// The module name of program `id`, if remembered.
    pub fn name(&self, id: u64) -> Option<&str> {
        self.running
            .iter()
            .find(|(p, _)| *p == id)
            .map(|(_, n)| n.as_str())
    }

    /// Every remembered program id, oldest first.
    pub fn ids(&self) -> Vec<u64> {
        self.running.iter().map(|(p, _)| *p).collect()
    }
}

/// `run -b NAME [ARGS...]` (the words after `-b`): starts the program and
/// returns to the prompt.
pub fn run_background(sys: &mut dyn System, args: &[String]) -> Flow {
    let Some((name, rest)) = args.split_first() else {
        sys.write("run: usage: run -b NAME [ARGS...]\n");
        return Flow::Continue;
    };
    let line = match sys.spawn(name, &rest.join(" ")) {
        Ok(id) => {
            if let Some(jobs) = sys.jobs() {
                jobs.add(id, name);
            }
            format!("run: {name} started as program {id}\n")
        }
        Err(e) => format!("run: {name}: {e}\n"),
    };
    sys.write(&line);
    Flow::Continue
}

/// `wait [PROGRAM...]`: waits for each program (every `run -b` program
/// not yet waited for, without arguments) and prints how it ended, as
/// `run` does.
pub fn wait(sys: &mut dyn System, args: &[String]) -> Flow {
    let ids: Option<Vec<u64>> = args.iter().map(|a| a.parse().ok()).collect();
    let Some(mut ids) = ids else {
        sys.write("wait: usage: wait [PROGRAM...] (program ids, as `run -b` prints them)\n");
        return Flow::Continue;
    };
    if ids.is_empty() {
        ids = sys.jobs().map(|j| j.ids()).unwrap_or_default();
        if ids.is_empty() {
            sys.write("wait: no background programs\n");
            return Flow::Continue;
        }
    }
    for id in ids {
        let name = sys
            .jobs()
            .and_then(|j| j.name(id).map(String::from))
            .unwrap_or_else(|| format!("program {id}"));
        let result = sys.wait(id);
        // Ended (or unknown to the kernel): either way nothing to wait for.
        if matches!(result, Ok(_) | Err(SysError::NotFound))
            && let Some(jobs) = sys.jobs()
        {
            jobs.take(id);
        }
        let line = match result {
            Ok(code) => format_exit(&name, code),
            Err(e) => format!("wait: {name} (program {id}): {e}\n"),
        };
        sys.write(&line);
    }
    Flow::Continue
}

/// `sleep MS`: pauses the shell for `MS` milliseconds.
pub fn sleep(sys: &mut dyn System, args: &[String]) -> Flow {
    let ms = match args {
        [ms] => ms.parse::<u64>().ok().filter(|ms| *ms <= MAX_SLEEP_MS),
        _ => None,
    };
    let Some(ms) = ms else {
        sys.write(&format!(
            "sleep: usage: sleep MS (milliseconds, at most {MAX_SLEEP_MS})\n"
        ));
        return Flow::Continue;
    };
    if let Err(e) = sys.sleep_ms(ms) {
        sys.write(&format!("sleep: {e}\n"));
    }
    Flow::Continue
}

#[cfg(test)]
mod tests;
