//! `cargo xtask`: the one door into building, imaging, running, testing and
//! benchmarking Perennial.
//!
//! Every subcommand first makes sure the host has what it needs (QEMU, OVMF,
//! xorriso, mtools), installing it with `apt-get` when running as root.

mod artifacts;
mod bench;
mod host;
mod image;
mod pmem;
mod qemu;
mod recovery;
mod resolvers;
mod testing;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Perennial's host tool.
#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, boot and test Perennial")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the kernel, the loader and every module (release by default).
    Build(BuildArgs),
    /// Build everything and write target/perennial.iso.
    Iso(IsoArgs),
    /// Build, then boot the ISO in QEMU with the serial console on this terminal.
    Run(RunArgs),
    /// Run the host unit tests, then every in-QEMU test; ends with `N passed, N failed`.
    Test(TestArgs),
    /// Boot the system, run the benchmarks and print their figures.
    Bench(BenchArgs),
}

#[derive(clap::Args, Clone)]
struct BenchArgs {
    /// Run QEMU with `-icount shift=0` so cycle counts repeat exactly.
    #[arg(long)]
    icount: bool,
    /// Only the host pointer-chase benchmark.
    #[arg(long, conflicts_with = "guest_only")]
    host_only: bool,
    /// Only the in-guest benchmarks.
    #[arg(long)]
    guest_only: bool,
}

#[derive(clap::Args, Clone)]
struct BuildArgs {
    /// Build with the debug profile instead of release.
    #[arg(long)]
    debug: bool,
}

#[derive(clap::Args, Clone)]
struct IsoArgs {
    #[command(flatten)]
    build: BuildArgs,
    /// Which loader boots the kernel (default: Limine if installed, else the built-in one).
    #[arg(long, value_enum)]
    loader: Option<LoaderArg>,
    /// Extra words for the kernel command line.
    #[arg(long, default_value = "")]
    cmdline: String,
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    #[command(flatten)]
    iso: IsoArgs,
    /// Firmware QEMU starts (default: bios for Limine, uefi for the built-in loader).
    #[arg(long, value_enum)]
    firmware: Option<FirmwareArg>,
    /// Host file backing the NVDIMM (kept across runs).
    #[arg(long, default_value = "target/perennial.pmem")]
    pmem: PathBuf,
    /// NVDIMM size for a new file, e.g. 256M, 1G (a multiple of 2 MiB).
    #[arg(long, default_value = "256M")]
    pmem_size: String,
    /// Recreate the persistent-memory file, zeroed, before booting.
    #[arg(long)]
    fresh: bool,
    /// Boot without an NVDIMM: everything lives in volatile memory.
    #[arg(long, conflicts_with_all = ["fresh"])]
    no_pmem: bool,
    /// Wait for a debugger on tcp::1234 before the first instruction.
    #[arg(long)]
    gdb: bool,
    /// Kill the machine after this many seconds (exit status 124).
    #[arg(long)]
    timeout: Option<u64>,
    /// Cut the power (SIGKILL to QEMU, nothing flushed) this many
    /// milliseconds after the kernel banner, or at a random moment in the
    /// first 10 s with `random` (exit status 137).
    #[arg(long, value_name = "MS|random")]
    powercut_after: Option<String>,
}

#[derive(clap::Args, Clone)]
struct TestArgs {
    /// Run only the in-QEMU scenarios whose name contains this text (host tests are skipped).
    #[arg(long)]
    only: Option<String>,
    /// Skip the host unit tests.
    #[arg(long)]
    no_host: bool,
    /// The long power-cut campaigns: ten times the cuts of each (for a
    /// soak run; the default suite keeps CI under its time limit).
    #[arg(long)]
    long: bool,
}

/// The loader choice on the command line.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum LoaderArg {
    /// A real Limine binary release (LIMINE_DIR or a standard prefix).
    Limine,
    /// The project's own UEFI loader.
    Builtin,
}

/// The firmware choice on the command line.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum FirmwareArg {
    /// SeaBIOS (Limine only).
    Bios,
    /// OVMF.
    Uefi,
}

/// An error that ends an xtask command, with what to do about it.
#[derive(Debug)]
pub enum XtaskError {
    /// A host tool is missing and cannot be installed from here.
    MissingTool(String),
    /// A command we ran failed.
    CommandFailed(String),
    /// The user asked for something that cannot work.
    Usage(String),
    /// A file could not be read or written.
    Io(String, std::io::Error),
}

impl std::fmt::Display for XtaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XtaskError::MissingTool(what) => write!(f, "missing host tool: {what}"),
            XtaskError::CommandFailed(what) => write!(f, "{what}"),
            XtaskError::Usage(what) => write!(f, "{what}"),
            XtaskError::Io(path, err) => write!(f, "{path}: {err}"),
        }
    }
}

/// Result of an xtask step.
pub type Result<T> = std::result::Result<T, XtaskError>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = std::env::set_current_dir(artifacts::workspace_root()) {
        eprintln!("xtask: cannot enter the workspace: {err}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Build(args) => artifacts::build_all(!args.debug).map(|_| ExitCode::SUCCESS),
        Command::Iso(args) => iso(&args).map(|path| {
            println!("xtask: wrote {}", path.display());
            ExitCode::SUCCESS
        }),
        Command::Run(args) => run(&args),
        Command::Test(args) => testing::run(args.only.as_deref(), !args.no_host, args.long),
        Command::Bench(args) => bench::run(
            bench::Sets {
                host: !args.guest_only,
                guest: !args.host_only,
            },
            args.icount,
        ),
    };
    result.unwrap_or_else(|err| {
        eprintln!("xtask: error: {err}");
        ExitCode::FAILURE
    })
}

fn iso(args: &IsoArgs) -> Result<PathBuf> {
    host::ensure_image_tools()?;
    let built = artifacts::build_all(!args.build.debug)?;
    let loader = image::choose_loader(args.loader)?;
    let spec = image::ImageSpec::system(&built, loader, &args.cmdline);
    image::assemble(&spec, &PathBuf::from("target/perennial.iso"))
}

/// `--powercut-after MS|random`: a cut that many ms after the kernel
/// banner (random: somewhere in the first ten seconds).
fn powercut(text: &str) -> Result<qemu::Cut> {
    let millis = if text == "random" {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        u64::from(nanos) % 10_000
    } else {
        text.parse().map_err(|_| {
            XtaskError::Usage(format!(
                "--powercut-after takes milliseconds or `random`, not {text:?}"
            ))
        })?
    };
    Ok(qemu::Cut {
        marker: Some(qemu::BANNER.to_string()),
        delay: std::time::Duration::from_millis(millis),
    })
}

fn run(args: &RunArgs) -> Result<ExitCode> {
    let iso_path = iso(&args.iso)?;
    let loader = image::choose_loader(args.iso.loader)?;
    let firmware = qemu::choose_firmware(&loader, args.firmware)?;
    host::ensure_qemu(firmware)?;
    let pmem = if args.no_pmem {
        None
    } else {
        let size = pmem::parse_size(&args.pmem_size)?;
        Some(pmem::prepare(&args.pmem, size, args.fresh)?)
    };
    let machine = qemu::Machine {
        iso: iso_path,
        firmware,
        pmem,
        gdb: args.gdb,
        icount: false,
    };
    let timeout = args.timeout.map(std::time::Duration::from_secs);
    let cut = args.powercut_after.as_deref().map(powercut).transpose()?;
    if let Some(cut) = &cut {
        eprintln!(
            "xtask: the power goes {} ms after the kernel banner",
            cut.delay.as_millis()
        );
    }
    let report = qemu::run_interactive(&machine, timeout, cut.as_ref())?;
    if let Some(after) = report.banner_after {
        eprintln!(
            "xtask: kernel banner {:.3} s after QEMU start ({} loader, {} firmware)",
            after.as_secs_f64(),
            loader.name(),
            firmware.name()
        );
    }
    eprintln!("xtask: guest ended: {}", qemu::describe(report.exit));
    Ok(ExitCode::from(qemu::status_code(report.exit)))
}
