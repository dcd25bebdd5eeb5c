//! The description of one boot: its inputs and the check over its outcome.

use std::time::Duration;

pub use protocols::exit::GuestExit;

/// Which loader puts the kernel in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loader {
    /// The project's own UEFI loader (`iso/loader`).
    Builtin,
    /// A real Limine binary release, found through `LIMINE_DIR`.
    Limine,
}

/// Which firmware QEMU starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS (Limine only).
    Bios,
    /// OVMF.
    Uefi,
}

/// The persistent memory the machine gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pmem {
    /// No NVDIMM: the system must boot on volatile memory and say so.
    None,
    /// A fresh NVDIMM of this many bytes, backed by a new zeroed host file.
    Fresh(u64),
}

/// An extra Limine module placed on the image at `/boot/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// File name under `/boot/`.
    pub name: &'static str,
    /// The module's command line in `limine.conf`.
    pub cmdline: &'static str,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// A deliberately broken boot input, to test error paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// Replace `limine.conf` with this text.
    Config(&'static str),
    /// Replace the kernel ELF with these bytes.
    Kernel(Vec<u8>),
}

/// Everything that decides how one machine boots.
#[derive(Clone, Debug)]
pub struct Boot {
    /// The loader.
    pub loader: Loader,
    /// The firmware.
    pub firmware: Firmware,
    /// The NVDIMM.
    pub pmem: Pmem,
    /// The kernel command line (`cmdline:` in `limine.conf`).
    pub cmdline: String,
    /// Extra modules, after the system's own.
    pub modules: Vec<Module>,
    /// A broken input, if this scenario tests an error path.
    pub broken: Option<Broken>,
    /// Bytes fed to the serial console once the machine runs.
    pub input: Vec<u8>,
    /// How long the machine may run before it is killed.
    pub timeout: Duration,
}

impl Boot {
    /// The default machine: built-in loader under OVMF, a fresh 256 MiB NVDIMM.
    pub fn builtin() -> Boot {
        Boot {
            loader: Loader::Builtin,
            firmware: Firmware::Uefi,
            pmem: Pmem::Fresh(256 << 20),
            cmdline: String::new(),
            modules: Vec::new(),
            broken: None,
            input: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// How the machine ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The guest wrote a known code to `isa-debug-exit`.
    Guest(GuestExit),
    /// QEMU exited with a status that is none of ours (0 is a plain power-off).
    Status(i32),
    /// The harness killed QEMU when the timeout ran out.
    Timeout,
    /// The harness cut the power (SIGKILL) as the scenario planned.
    Cut,
}

/// What one boot produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Everything the serial console printed, `\r` removed.
    pub console: String,
    /// How it ended.
    pub exit: Exit,
    /// Host time from QEMU's start to the kernel's banner, if it appeared.
    pub banner_after: Option<Duration>,
}

/// A check over an outcome: `Err` says, for a person, what was wrong.
pub type Check = fn(&Outcome, &Boot) -> Result<(), String>;

/// One named test boot.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Unique name, printed by the harness.
    pub name: &'static str,
    /// What to boot.
    pub boot: Boot,
    /// What must hold afterwards.
    pub check: Check,
}

impl Scenario {
    /// Runs this scenario's check.
    pub fn verify(&self, outcome: &Outcome) -> Result<(), String> {
        (self.check)(outcome, &self.boot)
    }
}

/// Fails unless the guest exited with `want`, quoting the console's tail.
pub fn expect_exit(outcome: &Outcome, want: GuestExit) -> Result<(), String> {
    if outcome.exit == Exit::Guest(want) {
        return Ok(());
    }
    Err(format!(
        "expected exit {want:?}, got {:?}; console ends with:\n{}",
        outcome.exit,
        crate::console::tail(&outcome.console, 12)
    ))
}

/// A clean power-off with this console: the outcome the checks' unit tests
/// start from.
#[cfg(test)]
pub(crate) fn clean_outcome(console: &str) -> Outcome {
    Outcome {
        console: console.into(),
        exit: Exit::Guest(GuestExit::Success),
        banner_after: None,
    }
}
