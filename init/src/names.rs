//! The naming service as `init` runs it: at boot it starts the registry
//! and every resolver `nomenclature/resolvers.toml` (embedded here) marks
//! for boot, each supervised — restarted when it crashes — and it gives
//! the shell's naming commands their [`Names`]: resolvers reached by their
//! published names, the registry's records, and `resolver start`.
//!
//! With no NVDIMM (`mem` says 0 bytes of pmem) the servers are started
//! with `--dram` and keep their state in DRAM, saying so on the console.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use nomenclature::Remote;
use nomenclature::config::{self, ResolverLine};
use protocols::resolver::{self, REGISTRY_NAME, ResolverRecord, Server, registry};
use protocols::syscall::SysError;
use runtime::ppc::{self, Gate};
use runtime::{println, sys};
use shell::names::{Configured, Names, NamesError};

/// The resolvers the image carries (the build read the same file).
const CONFIG: &str = include_str!("../../nomenclature/resolvers.toml");
/// How long a call waits for a server started at boot to publish itself.
const CONNECT_MS: u64 = 10_000;
/// How long `resolver start` waits for the new server to register.
const START_MS: u64 = 15_000;
/// Polling step while waiting for a server to register.
const STEP_MS: u64 = 20;

/// Whether the servers run on DRAM (no NVDIMM).
static DRAM: AtomicBool = AtomicBool::new(false);

/// Whether `name` is a resolver of `resolvers.toml`.
pub fn configured(name: &str) -> bool {
    lines().iter().any(|l| l.name == name)
}

fn lines() -> Vec<ResolverLine> {
    config::parse(CONFIG).unwrap_or_default()
}

/// A server's argument string.
fn args(name: &str) -> String {
    match (name.is_empty(), DRAM.load(Ordering::Relaxed)) {
        (_, false) => name.to_string(),
        (true, true) => String::from("--dram"),
        (false, true) => format!("{name} --dram"),
    }
}

/// Starts the registry and the boot resolvers (call after the object
/// store was started; they wait for it).
pub fn start() {
    let dram = runtime::debug::memory().map_or(true, |m| m.pmem_bytes == 0);
    DRAM.store(dram, Ordering::Relaxed);
    let lines = match config::parse(CONFIG) {
        Ok(l) => l,
        Err(e) => {
            println!("init: nomenclature/resolvers.toml: {e:?}; no resolvers");
            return;
        }
    };
    spawn_supervised("registry", "");
    for l in lines.iter().filter(|l| l.boot) {
        spawn_supervised(&l.program, &l.name);
    }
}

/// Starts `program` serving `name` (the registry: no name) under init's
/// supervisor.
fn spawn_supervised(program: &str, name: &str) {
    let label = if name.is_empty() { program } else { name };
    if let Err(e) = crate::supervisor::start(label, program, &args(name)) {
        println!("init: cannot start {program}: {e}");
    }
}

/// The registry, bound afresh (it may have restarted behind a new gate).
fn registry_client() -> Result<registry::Client<Gate>, NamesError> {
    Gate::connect(REGISTRY_NAME, CONNECT_MS)
        .map(registry::Client::new)
        .map_err(NamesError::NoRegistry)
}

fn lookup(reg: &mut registry::Client<Gate>, name: &str) -> Option<ResolverRecord> {
    let n = protocols::ipc::Text::try_from(name).ok()?;
    ppc::retrying(reg, |c| c.transport_mut(), |c| c.lookup(n.clone())).ok()
}

/// The shell's view of the naming service.
#[derive(Default)]
pub struct NamesLink {
    /// The resolver the last command reached.
    current: Option<Remote<Gate>>,
}

impl Names for NamesLink {
    fn resolver(&mut self, name: &str) -> Result<&mut dyn Server, NamesError> {
        // A resolver started at boot may still be opening its state.
        // So may one restarted from its thread KSO after a power cut.
        let wait = match lines().iter().any(|l| l.name == name && l.boot)
            || crate::supervisor::is_running(name)
        {
            true => CONNECT_MS,
            false => 0,
        };
        // Bound afresh each command: a restarted resolver serves behind a
        // new gate object.
        let gate =
            Gate::connect(name, wait).map_err(|_| NamesError::NotRunning(name.to_string()))?;
        Ok(self.current.insert(Remote(resolver::Client::new(gate))))
    }

    fn registered(&mut self) -> Result<Vec<ResolverRecord>, NamesError> {
        let mut reg = registry_client()?;
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            let page = ppc::retrying(&mut reg, |c| c.transport_mut(), |c| c.list(cursor)).map_err(
                |e| match e {
                    protocols::ipc::CallError::Server(e) => NamesError::Registry(e),
                    _ => NamesError::NoRegistry(SysError::NotFound),
                },
            )?;
            out.extend(page.records);
            match page.next {
                Some(n) => cursor = n,
                None => return Ok(out),
            }
        }
    }

    fn configured(&mut self) -> Vec<Configured> {
        lines()
            .into_iter()
            .map(|l| Configured {
                name: l.name,
                program: l.program,
                boot: l.boot,
            })
            .collect()
    }

    fn start(&mut self, name: &str) -> Result<ResolverRecord, NamesError> {
        let line = lines()
            .into_iter()
            .find(|l| l.name == name)
            .ok_or_else(|| NamesError::NotConfigured(name.to_string()))?;
        if sys::service_lookup(name).and_then(Gate::bind).is_ok() {
            return Err(NamesError::AlreadyRunning(name.to_string()));
        }
        let mut reg = registry_client()?;
        let before = lookup(&mut reg, name).map_or(0, |r| r.generation);
        let (id, kso) = crate::supervisor::launch(name, &line.program, &args(name))
            .map_err(NamesError::Spawn)?;
        let mut waited = 0;
        while waited < START_MS {
            if let Ok(code) = sys::program_wait(id, STEP_MS * 1_000_000) {
                return Err(NamesError::Exited(code));
            }
            waited += STEP_MS;
            if let Some(rec) = lookup(&mut reg, name).filter(|r| r.generation > before) {
                crate::supervisor::adopt(name, &line.program, &args(name), id, kso);
                // A resolver registers before it publishes its service (see
                // `nomenclature_server::resolver`): wait for the service too,
                // so the next command reaches it.
                return match Gate::connect(name, START_MS - waited) {
                    Ok(_) => Ok(rec),
                    Err(_) => Err(NamesError::Timeout),
                };
            }
        }
        crate::supervisor::adopt(name, &line.program, &args(name), id, kso);
        Err(NamesError::Timeout)
    }
}
