//! Building the guest's pieces: the kernel, the built-in loader and the
//! modules, each for its own target.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, XtaskError};

/// The kernel and modules are freestanding x86-64 ELF files.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
/// The built-in loader is a UEFI application.
pub const LOADER_TARGET: &str = "x86_64-unknown-uefi";

/// The workspace's top directory (this crate lives in `iso/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("iso/ has a parent directory")
        .to_path_buf()
}

/// The user programs every image carries, as (package, binary, module
/// command line); each lands on the image as `/boot/<binary>`. `init` is
/// started by the kernel; the others are started from the shell
/// (`run NAME`).
pub const PROGRAMS: [(&str, &str, &str); 13] = [
    ("init", "init", "init"),
    ("objstore", "objstore", "objstore"),
    ("posix", "posix", "posix"),
    ("posix", "wc", "wc"),
    ("utest", "utest", "utest"),
    ("utest", "ubench", "ubench"),
    ("utest", "pcut", "pcut"),
    ("utest", "ptx", "ptx"),
    ("utest", "pmix", "pmix"),
    ("utest", "loadgen", "loadgen"),
    ("utest", "ksodemo", "ksodemo"),
    ("ksod", "ksod", "ksod"),
    ("adder", "adder", "adder"),
];

/// A module the system boots with, as named in `limine.conf`.
#[derive(Clone, Debug)]
pub struct BuiltModule {
    /// File name under `/boot/`.
    pub name: String,
    /// The module's command line.
    pub cmdline: String,
    /// Where the build put it.
    pub path: PathBuf,
}

/// Everything one build produced.
#[derive(Clone, Debug)]
pub struct Built {
    /// The kernel ELF.
    pub kernel: PathBuf,
    /// The built-in loader (`BOOTX64.EFI`).
    pub loader: PathBuf,
    /// The system's modules, in boot order.
    pub modules: Vec<BuiltModule>,
}

/// Every package built for the kernel's target — the kernel, the programs,
/// the naming programs and one server per line of
/// `nomenclature/resolvers.toml` — and the features that turn the resolver
/// crates' server programs on. The build and the lint use the same list.
pub fn guest_packages() -> Result<(Vec<String>, Vec<String>)> {
    let resolvers = crate::resolvers::programs()?;
    let mut packages: Vec<String> = vec!["microkernel".into()];
    let named = PROGRAMS
        .iter()
        .map(|(package, _, _)| *package)
        .chain(crate::resolvers::PROGRAMS.iter().map(|p| p.0))
        .chain(resolvers.iter().map(|r| r.package.as_str()));
    for package in named {
        if !packages.iter().any(|p| p == package) {
            packages.push(package.to_string());
        }
    }
    let features = resolvers.iter().map(|r| r.feature()).collect();
    Ok((packages, features))
}

/// Builds the kernel, the loader and every module.
pub fn build_all(release: bool) -> Result<Built> {
    let profile = if release { "release" } else { "debug" };
    // The kernel and the programs share a target: one cargo run builds both.
    let (packages, features) = guest_packages()?;
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    let resolvers = crate::resolvers::programs()?;
    cargo_build_with(&packages, &features, KERNEL_TARGET, release)?;
    cargo_build(&["loader"], LOADER_TARGET, release)?;
    let out = |target: &str, file: &str| {
        PathBuf::from("target")
            .join(target)
            .join(profile)
            .join(file)
    };
    Ok(Built {
        kernel: out(KERNEL_TARGET, "kernel"),
        loader: out(LOADER_TARGET, "loader.efi"),
        modules: PROGRAMS
            .iter()
            .map(|(_, binary, cmdline)| (*binary, *cmdline))
            .chain(crate::resolvers::PROGRAMS.iter().map(|(_, b)| (*b, *b)))
            .chain(resolvers.iter().map(|r| (&*r.package, &*r.package)))
            .map(|(binary, cmdline)| BuiltModule {
                name: binary.to_string(),
                cmdline: cmdline.to_string(),
                path: out(KERNEL_TARGET, binary),
            })
            .collect(),
    })
}

fn cargo_build(packages: &[&str], target: &str, release: bool) -> Result<()> {
    cargo_build_with(packages, &[], target, release)
}

/// `cargo build` of `packages` with `features` (`package/feature`) on.
fn cargo_build_with(
    packages: &[&str],
    features: &[String],
    target: &str,
    release: bool,
) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "--target", target]);
    for package in packages {
        cmd.args(["--package", package]);
    }
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .map_err(|e| XtaskError::CommandFailed(format!("cannot run cargo: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::CommandFailed(format!(
            "building {} for {target} failed",
            packages.join(", ")
        )))
    }
}
