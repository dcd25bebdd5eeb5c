//! Reboot sequences: several boots of one system on one persistent-memory
//! file, each typing its own shell script, judged together — what was
//! made durable on one boot must be there on the next. Unlike a power-cut
//! campaign (`campaign`), the host never kills the machine: a boot ends
//! the way its script ends it (`poweroff`, or the shell's `powercut`).

use std::path::Path;
use std::time::Duration;

use crate::scenario::Outcome;

/// One reboot sequence.
#[derive(Clone, Debug)]
pub struct Reboots {
    /// Unique name, printed by the harness.
    pub name: &'static str,
    /// Size of the NVDIMM (fresh and zeroed before the first boot).
    pub pmem_size: u64,
    /// What each boot types at the shell, in order.
    pub scripts: Vec<String>,
    /// How long one boot may take.
    pub boot_timeout: Duration,
    /// What must hold over every boot's outcome, in order.
    pub check: fn(&[Outcome]) -> Result<(), String>,
    /// What the host does to the pmem file between boot `n` (given with
    /// its outcome) and boot `n + 1`: a corruption, say.
    pub between: Option<Between>,
}

/// A host step between two boots: `(boot index, its outcome, pmem file)`.
pub type Between = fn(usize, &Outcome, &Path) -> Result<(), String>;
