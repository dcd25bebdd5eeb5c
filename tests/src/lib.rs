//! Perennial's in-QEMU integration tests.
//!
//! Each [`Scenario`] says *what* to boot (loader, firmware, persistent memory,
//! kernel command line, extra modules, a deliberately broken file) and *what*
//! the serial console and exit status must show. The host tool
//! (`cargo xtask test`, in `iso/`) knows *how* to build the image and drive
//! QEMU; it runs every scenario here under a timeout and counts the results.
//!
//! Keeping the expectations in this crate, separate from the QEMU plumbing,
//! means the checks themselves are unit-tested on the host against recorded
//! console output (see the tests at the bottom of each module).

pub mod campaign;
pub mod console;
pub mod elf_fixture;
pub mod reboots;
pub mod scenario;
pub mod suites;

pub use scenario::{Boot, Broken, Check, Exit, Firmware, Loader, Module, Outcome, Pmem, Scenario};

/// Every scenario `cargo xtask test` runs, in order.
pub fn all() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend(suites::boot::scenarios());
    all.extend(suites::shell::scenarios());
    all.extend(suites::user::scenarios());
    all.extend(suites::objects::scenarios());
    all.extend(suites::ppc::scenarios());
    all.extend(suites::store::scenarios());
    all.extend(suites::restart::scenarios());
    all.extend(suites::posix::scenarios());
    all.extend(suites::names::scenarios());
    all
}

/// Every reboot sequence `cargo xtask test` runs.
pub fn reboots() -> Vec<reboots::Reboots> {
    let mut all = Vec::new();
    all.extend(suites::restart::reboots());
    all.extend(suites::kso::reboots());
    all.extend(suites::ksod::reboots());
    all.extend(suites::names::reboots());
    all
}

/// Every power-cut campaign `cargo xtask test` runs.
pub fn campaigns() -> Vec<campaign::Campaign> {
    let mut all = suites::powercut::campaigns();
    all.extend(suites::names::campaigns());
    all.extend(suites::posix::campaigns());
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn scenario_names_are_unique() {
        let all = super::all();
        let mut names: Vec<_> = all.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate scenario names");
        assert!(!all.is_empty());
    }
}
