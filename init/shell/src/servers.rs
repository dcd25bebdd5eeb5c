//! The supervisor's commands: `server list`, `server kill NAME`,
//! `server start NAME MODULE [ARGS]`, and `powercut`.
//!
//! `init` supervises the system's servers: it starts them at boot and
//! starts a server again — a new incarnation under a new PPC generation,
//! on the same persistent objects — when it faults or is killed. Clients
//! that were mid-call get `ServerRestarted` (or `ServerFaulted`) and retry.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::exit::GuestExit;
use protocols::object::ObjId;
use protocols::syscall::SysError;

use crate::session::Flow;
use crate::system::System;

/// What a supervised server is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// Running as program `program`.
    Running {
        /// Its program id.
        program: u64,
    },
    /// Ended cleanly (exit code 0): not restarted.
    Exited,
    /// Failed too often in a row: not restarted any more.
    GaveUp,
}

/// One row of `server list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerStatus {
    /// The server's module name.
    pub name: String,
    /// What it is doing.
    pub state: ServerState,
    /// How many times it was started again.
    pub restarts: u32,
    /// The last exit code of an earlier incarnation, if any.
    pub last_exit: Option<u64>,
    /// The thread KSO it is started from, if any.
    pub kso: Option<ObjId>,
}

/// Why `server kill` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillError {
    /// No supervised server has that name.
    Unknown,
    /// The server is not running (ended, or given up on).
    NotRunning,
    /// The kernel refused (`program_kill`).
    Sys(SysError),
}

/// What the supervisor offers the shell.
pub trait Supervisor {
    /// Every supervised server.
    fn servers(&mut self) -> Vec<ServerStatus>;
    /// Kills server `name` (the supervisor restarts it); the killed
    /// incarnation's program id.
    fn kill(&mut self, name: &str) -> Result<u64, KillError>;
    /// Starts boot module `module` with `args` as a new supervised server
    /// `name` (from a thread KSO, so a power cut restarts it too); its
    /// program id.
    fn start(&mut self, name: &str, module: &str, args: &str) -> Result<u64, SysError>;
}

/// `server list` / `server kill NAME`.
pub fn server(sys: &mut dyn System, args: &[String]) -> Flow {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some(sup) = sys.supervisor() else {
        sys.write("server: this system has no supervisor\n");
        return Flow::Continue;
    };
    let out = match words.as_slice() {
        [] | ["list"] => format_servers(&sup.servers()),
        ["kill", name] => match sup.kill(name) {
            Ok(program) => {
                format!("server: killed {name} (program {program}); the supervisor restarts it\n")
            }
            Err(e) => format!("server: cannot kill {name}: {}\n", kill_error(e)),
        },
        ["start", name, module, rest @ ..] => {
            if sup
                .servers()
                .iter()
                .any(|s| s.name == *name && matches!(s.state, ServerState::Running { .. }))
            {
                format!("server: {name} is already running\n")
            } else {
                match sup.start(name, module, &rest.join(" ")) {
                    Ok(program) => format!("server: started {name} as program {program}\n"),
                    Err(e) => format!("server: cannot start {name}: {e}\n"),
                }
            }
        }
        _ => String::from(
            "usage: server [list] | server kill NAME | server start NAME MODULE [ARGS...]\n",
        ),
    };
    sys.write(&out);
    Flow::Continue
}

fn kill_error(e: KillError) -> String {
    match e {
        KillError::Unknown => String::from("no such server (see `server list`)"),
        KillError::NotRunning => String::from("it is not running"),
        KillError::Sys(e) => format!("{e}"),
    }
}

/// The `server list` table.
pub fn format_servers(list: &[ServerStatus]) -> String {
    let mut out = format!(
        "{:<12} {:<16} {:>8}  {:<16} {}\n",
        "NAME", "STATE", "RESTARTS", "LAST EXIT", "THREAD KSO"
    );
    for s in list {
        let state = match s.state {
            ServerState::Running { program } => format!("running ({program})"),
            ServerState::Exited => String::from("exited"),
            ServerState::GaveUp => String::from("gave up"),
        };
        let last = s.last_exit.map_or(String::from("-"), exit_text);
        let kso = s.kso.map_or(String::from("-"), |k| format!("{k}"));
        out += &format!(
            "{:<12} {:<16} {:>8}  {:<16} {}\n",
            s.name, state, s.restarts, last, kso
        );
    }
    out
}

/// An exit code as people read it.
pub fn exit_text(code: u64) -> String {
    use protocols::syscall::{EXIT_KILLED, fault_vector};
    if code == EXIT_KILLED {
        return String::from("killed");
    }
    match fault_vector(code) {
        Some(v) => format!("fault {} ({v})", protocols::exception::name(v)),
        None => format!("{code}"),
    }
}

/// `powercut`: stops the machine at once — no flush, no shutdown path.
pub fn powercut(sys: &mut dyn System, args: &[String]) -> Flow {
    if !args.is_empty() {
        sys.write("usage: powercut\n");
        return Flow::Continue;
    }
    sys.write("powercut: cutting the power now\n");
    match sys.poweroff(GuestExit::PowerCut) {
        Ok(()) => Flow::Ended,
        Err(e) => {
            sys.write(&format!("powercut: {e}\n"));
            Flow::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocols::syscall::{EXIT_FAULT, EXIT_KILLED};

    #[test]
    fn the_table_shows_each_state_and_exit() {
        let rows = [
            ServerStatus {
                name: "objstore".into(),
                state: ServerState::Running { program: 9 },
                restarts: 2,
                last_exit: Some(EXIT_KILLED),
                kso: Some(ObjId::from_u128(0xabc)),
            },
            ServerStatus {
                name: "posix".into(),
                state: ServerState::GaveUp,
                restarts: 5,
                last_exit: Some(EXIT_FAULT | 14),
                kso: None,
            },
            ServerStatus {
                name: "hier".into(),
                state: ServerState::Exited,
                restarts: 0,
                last_exit: None,
                kso: None,
            },
        ];
        let t = format_servers(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("objstore") && lines[1].contains("running (9)"));
        assert!(lines[1].contains("killed"), "{}", lines[1]);
        assert!(lines[1].ends_with(&format!("{}", ObjId::from_u128(0xabc))));
        assert!(lines[2].contains("gave up") && lines[2].contains("fault"));
        assert!(lines[2].contains("(14)"), "{}", lines[2]);
        assert!(lines[3].contains("exited") && lines[3].ends_with('-'));
        assert!(lines[0].ends_with("THREAD KSO"));
        assert_eq!(exit_text(3), "3");
    }
}
