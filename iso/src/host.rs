//! Host tools: find what is missing and install it (`apt-get`, as root) or
//! say exactly how to.

use std::path::Path;
use std::process::Command;

use crate::qemu::Firmware;
use crate::{Result, XtaskError};

/// Where Debian's `ovmf` package puts the UEFI firmware.
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE.fd";
/// The firmware's variable-store template (copied per run, QEMU writes to it).
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS.fd";

/// One host requirement: how to tell it is there, and the Debian package.
struct Tool {
    present: fn() -> bool,
    package: &'static str,
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

const XORRISO: Tool = Tool {
    present: || on_path("xorriso"),
    package: "xorriso",
};
const MTOOLS: Tool = Tool {
    present: || on_path("mformat") && on_path("mcopy"),
    package: "mtools",
};
const QEMU: Tool = Tool {
    present: || on_path("qemu-system-x86_64"),
    package: "qemu-system-x86",
};
const OVMF: Tool = Tool {
    present: || Path::new(OVMF_CODE).is_file() && Path::new(OVMF_VARS).is_file(),
    package: "ovmf",
};

/// Makes sure `xorriso` and `mtools` are present.
pub fn ensure_image_tools() -> Result<()> {
    ensure(&[XORRISO, MTOOLS])
}

/// Makes sure QEMU, and OVMF when booting UEFI, are present.
pub fn ensure_qemu(firmware: Firmware) -> Result<()> {
    match firmware {
        Firmware::Uefi => ensure(&[QEMU, OVMF]),
        Firmware::Bios => ensure(&[QEMU]),
    }
}

/// Makes sure everything the test suite needs is present.
pub fn ensure_all() -> Result<()> {
    ensure(&[XORRISO, MTOOLS, QEMU, OVMF])
}

fn ensure(tools: &[Tool]) -> Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|t| !(t.present)())
        .map(|t| t.package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!("apt-get install -y {}", missing.join(" "));
    if !running_as_root() {
        return Err(XtaskError::MissingTool(format!(
            "{} — install with:\n    sudo apt-get update && sudo {line}",
            missing.join(", ")
        )));
    }
    eprintln!(
        "xtask: installing missing host tools: {} (apt-get)",
        missing.join(" ")
    );
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    apt(&install)?;
    match tools.iter().find(|t| !(t.present)()) {
        None => Ok(()),
        Some(t) => Err(XtaskError::MissingTool(format!(
            "{} is still missing after `{line}`",
            t.package
        ))),
    }
}

fn apt(args: &[&str]) -> Result<()> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| XtaskError::CommandFailed(format!("cannot run apt-get: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::CommandFailed(format!(
            "apt-get {} failed ({status})",
            args.join(" ")
        )))
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
