//! `init`'s supervisor: it starts the system's servers and starts a server
//! again when it crashes (a fault or a panic) or is killed (`server kill
//! NAME`).
//!
//! A restarted server is a new program on the same persistent objects: it
//! registers its gates again, the kernel gives them a new generation, and
//! clients that were bound to the old incarnation get `ServerRestarted`
//! (or `ServerFaulted`, if the call was in flight) and rebind. A server
//! that crashes [`MAX_FAILURES`] times without being asked to is given up
//! on, with a log line. One that ends by itself — with 0 (the object store
//! without persistent memory) or another code of its own (a resolver that
//! found itself already running, a store it cannot open) — is not started
//! again: it said why, and a restart would say the same.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use protocols::ipc::Transport;
use protocols::object::ObjId;
use protocols::syscall::SysError;
use runtime::ppc::Gate;
use runtime::sync::Mutex;
use runtime::{println, sys};
use shell::servers::{KillError, ServerState, ServerStatus, Supervisor};

/// Crashes (not counting `server kill`) after which a server is not
/// started again.
pub const MAX_FAILURES: u32 = 5;

struct Entry {
    /// What `server list` and `server kill` call it.
    name: String,
    /// The boot module it runs.
    module: String,
    args: String,
    state: ServerState,
    restarts: u32,
    failures: u32,
    last_exit: Option<u64>,
    /// `server kill` ended the running incarnation: its end is no failure.
    kill_requested: bool,
    /// The thread KSO it is started from (none: no KSO persistence).
    kso: Option<ObjId>,
    /// It publishes a service under its name (boot waits for it).
    publishes: bool,
}

static SERVERS: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Starts boot module `module` with `args` as a supervised server called
/// `name`, from its thread KSO when the KSO persistence server runs; its
/// program id.
pub fn start(name: &str, module: &str, args: &str) -> Result<u64, SysError> {
    let (program, kso) = launch(name, module, args)?;
    adopt(name, module, args, program, kso);
    Ok(program)
}

/// Starts `module` as a supervised server without a thread KSO: the
/// servers KSO persistence itself stands on (the object store, `ksod`).
pub fn start_bootstrap(name: &str, module: &str, args: &str) -> Result<u64, SysError> {
    let program = sys::program_spawn(module, args)?;
    adopt(name, module, args, program, None);
    Ok(program)
}

/// Starts server `name` from its thread KSO (recorded by `ksod` on its
/// first start); a KSO the kernel quarantines is replaced by a fresh one.
/// Without KSO persistence (no `ksod`, no persistent memory) the module
/// is spawned plainly. The program and the KSO it runs from.
pub fn launch(name: &str, module: &str, args: &str) -> Result<(u64, Option<ObjId>), SysError> {
    let Some(kso) = crate::kso::record(name, module, args) else {
        return sys::program_spawn(module, args).map(|p| (p, None));
    };
    match sys::program_start_kso(kso) {
        Ok(program) => Ok((program, Some(kso))),
        // The kernel found the record corrupt and said so, or it is gone
        // (deleted: thread KSOs carry DELETE so `ksod` can reclaim them):
        // set it aside and start the server afresh, as a new thread.
        Err(SysError::InvalidArgument | SysError::NotFound) => {
            crate::kso::quarantine(kso);
            match crate::kso::record(name, module, args) {
                Some(fresh) if fresh != kso => {
                    sys::program_start_kso(fresh).map(|p| (p, Some(fresh)))
                }
                _ => sys::program_spawn(module, args).map(|p| (p, None)),
            }
        }
        Err(e) => Err(e),
    }
}

/// Starts server `name` again from thread KSO `kso` (a restart), or
/// spawns `module` plainly when it has none.
fn relaunch(
    name: &str,
    module: &str,
    args: &str,
    kso: Option<ObjId>,
) -> Result<(u64, Option<ObjId>), SysError> {
    match kso {
        Some(kso) => match sys::program_start_kso(kso) {
            Ok(p) => Ok((p, Some(kso))),
            // Corrupted (quarantined) or deleted while it ran: start it
            // afresh.
            Err(SysError::InvalidArgument | SysError::NotFound) => {
                crate::kso::quarantine(kso);
                launch(name, module, args)
            }
            Err(e) => Err(e),
        },
        None => sys::program_spawn(module, args).map(|p| (p, None)),
    }
}

/// Supervises program `program`, which this program spawned from boot
/// module `module` with `args` (and thread KSO `kso`), as server `name`.
pub fn adopt(name: &str, module: &str, args: &str, program: u64, kso: Option<ObjId>) {
    let index = {
        let mut all = SERVERS.lock();
        let fresh = Entry {
            name: name.to_string(),
            module: module.to_string(),
            args: args.to_string(),
            state: ServerState::Running { program },
            restarts: 0,
            failures: 0,
            last_exit: None,
            kill_requested: false,
            kso,
            publishes: true,
        };
        // A name started again after it ended takes its old row (rows never
        // move: each watcher holds its row's index).
        let ended = |e: &Entry| e.name == name && !matches!(e.state, ServerState::Running { .. });
        match all.iter().position(ended) {
            Some(i) => {
                let restarts = all[i].restarts;
                all[i] = Entry { restarts, ..fresh };
                i
            }
            None => {
                all.push(fresh);
                all.len() - 1
            }
        }
    };
    // The watcher is never joined: it lives as long as `init`.
    drop(runtime::thread::spawn(move || watch(index, program)));
}

/// Marks server `name` as one that publishes no service under its name
/// (a program started with `server start`): boot does not wait for it.
pub fn publishes_nothing(name: &str) {
    for e in SERVERS.lock().iter_mut().filter(|e| e.name == name) {
        e.publishes = false;
    }
}

/// Whether a server called `name` is supervised and running.
pub fn is_running(name: &str) -> bool {
    SERVERS
        .lock()
        .iter()
        .any(|e| e.name == name && matches!(e.state, ServerState::Running { .. }))
}

/// Whether a server called `name` was ever supervised this boot.
pub fn is_known(name: &str) -> bool {
    SERVERS.lock().iter().any(|e| e.name == name)
}

/// How long a restarted server has to answer again before the supervisor
/// stops timing it.
const RESTART_PATIENCE_MS: u64 = 30_000;

/// The live incarnation behind service `name`, if one answers now.
fn serving(name: &str) -> Option<Gate> {
    sys::service_lookup(name).and_then(Gate::bind).ok()
}

/// Waits up to `patience_ms` for service `name` to answer from an
/// incarnation other than `before`.
fn wait_serving(name: &str, before: Option<Gate>, patience_ms: u64) -> Option<Gate> {
    let mut waited = 0;
    while waited < patience_ms {
        if let Some(g) = serving(name).filter(|g| Some(*g) != before) {
            return Some(g);
        }
        let _ = runtime::time::sleep(core::time::Duration::from_millis(5));
        waited += 5;
    }
    None
}

/// Longest `init` waits at boot for the servers to answer.
const BOOT_PATIENCE_MS: u64 = 20_000;

/// Waits until every server started so far answers (or has ended, or the
/// patience ran out), then prints how many serve and how long after boot:
/// the boot log's "serving" line, and what `cargo xtask bench` reads for
/// recovery. `init` calls it before the shell starts, so the servers'
/// start-up lines come before the first prompt, not in the middle of it.
pub fn wait_until_serving() {
    let names: Vec<String> = SERVERS
        .lock()
        .iter()
        .filter(|e| e.publishes)
        .map(|e| e.name.clone())
        .collect();
    let running = |name: &str| {
        SERVERS
            .lock()
            .iter()
            .any(|e| e.name == name && matches!(e.state, ServerState::Running { .. }))
    };
    let started = runtime::time::Instant::now();
    let mut up = 0;
    for name in &names {
        loop {
            if serving(name).is_some() {
                up += 1;
                break;
            }
            // Ended (no persistent memory: the store and POSIX server say
            // so and stop), or out of patience.
            if !running(name) || started.elapsed().as_millis() as u64 > BOOT_PATIENCE_MS {
                break;
            }
            let _ = runtime::time::sleep(core::time::Duration::from_millis(5));
        }
    }
    let ms = runtime::time::uptime_nanos().unwrap_or(0) / 1_000_000;
    println!(
        "init: {up} of {} servers serving, {ms} ms after boot",
        names.len()
    );
}

/// Whether exit code `code` is a crash: a fault, a panic, or a kill.
fn crashed(code: u64) -> bool {
    protocols::syscall::fault_vector(code).is_some()
        || code == runtime::PANIC_EXIT_CODE
        || code == protocols::syscall::EXIT_KILLED
}

/// Waits for server `index` (now program `program`) to end, and starts it
/// again while the policy allows.
fn watch(index: usize, mut program: u64) {
    loop {
        let code = match sys::program_wait(program, 0) {
            Ok(code) => code,
            Err(e) => {
                println!("init: lost track of server program {program}: {e}");
                return;
            }
        };
        let (name, module, args, kso) = {
            let mut all = SERVERS.lock();
            let Some(e) = all.get_mut(index) else { return };
            e.last_exit = Some(code);
            let asked = core::mem::take(&mut e.kill_requested);
            if !asked && !crashed(code) {
                e.state = ServerState::Exited;
                if code != 0 {
                    println!(
                        "init: {} ended ({}); not restarting it",
                        e.name,
                        shell::servers::exit_text(code)
                    );
                }
                return;
            }
            if !asked {
                e.failures += 1;
                if e.failures >= MAX_FAILURES {
                    e.state = ServerState::GaveUp;
                    println!(
                        "init: {} failed {} times ({}); not restarting it",
                        e.name,
                        e.failures,
                        shell::servers::exit_text(code)
                    );
                    return;
                }
            }
            let why = if asked { "was killed" } else { "crashed" };
            println!(
                "init: {} {why} ({}); restarting it",
                e.name,
                shell::servers::exit_text(code)
            );
            (e.name.clone(), e.module.clone(), e.args.clone(), e.kso)
        };
        let before = serving(&name);
        let started = runtime::time::Instant::now();
        match relaunch(&name, &module, &args, kso) {
            Ok((next, kso)) => {
                program = next;
                if let Some(e) = SERVERS.lock().get_mut(index) {
                    e.state = ServerState::Running { program };
                    e.restarts += 1;
                    e.kso = kso;
                }
                // Hot-restart time: until its service answers again, from
                // a new incarnation.
                if let Some(gate) = wait_serving(&name, before, RESTART_PATIENCE_MS) {
                    println!(
                        "init: {name} serving again after {} ms (generation {})",
                        started.elapsed().as_millis(),
                        gate.generation()
                    );
                }
            }
            Err(e) => {
                println!("init: cannot restart {name}: {e}");
                if let Some(e) = SERVERS.lock().get_mut(index) {
                    e.state = ServerState::GaveUp;
                }
                return;
            }
        }
    }
}

/// The shell's view of the supervisor.
#[derive(Default)]
pub struct Servers;

impl Supervisor for Servers {
    fn servers(&mut self) -> Vec<ServerStatus> {
        SERVERS
            .lock()
            .iter()
            .map(|e| ServerStatus {
                name: e.name.clone(),
                state: e.state,
                restarts: e.restarts,
                last_exit: e.last_exit,
                kso: e.kso,
            })
            .collect()
    }

    fn kill(&mut self, name: &str) -> Result<u64, KillError> {
        let mut all = SERVERS.lock();
        let e = all
            .iter_mut()
            .find(|e| e.name == name)
            .ok_or(KillError::Unknown)?;
        let ServerState::Running { program } = e.state else {
            return Err(KillError::NotRunning);
        };
        e.kill_requested = true;
        if let Err(err) = sys::program_kill(program) {
            e.kill_requested = false;
            return Err(KillError::Sys(err));
        }
        Ok(program)
    }

    fn start(&mut self, name: &str, module: &str, args: &str) -> Result<u64, SysError> {
        let program = start(name, module, args)?;
        publishes_nothing(name);
        Ok(program)
    }
}
