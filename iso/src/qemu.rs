//! Driving QEMU: the machine's command line, the serial console, timeouts
//! and the guest's exit status.
//!
//! One [`Machine`] describes a boot. [`session`] runs it: it forwards or
//! records the serial console, feeds input once the kernel is up (firmware
//! also reads the serial line, so earlier input would go to it), stamps the
//! moment the kernel's banner appears, and kills QEMU when time runs out.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perennial_tests::scenario::{Exit, GuestExit};

use crate::host::{OVMF_CODE, OVMF_VARS};
use crate::image::LoaderChoice;
use crate::pmem::PmemFile;
use crate::{FirmwareArg, Result, XtaskError};

/// Guest RAM (volatile); the NVDIMM comes on top.
const RAM_MIB: u64 = 512;
/// The banner's start: the host times QEMU start → this text.
pub const BANNER: &str = "Perennial 0.";
/// End of console input: the shell powers off on it.
pub const END_OF_INPUT: u8 = 0x04;

/// The firmware QEMU starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS.
    Bios,
    /// OVMF.
    Uefi,
}

impl Firmware {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Firmware::Bios => "BIOS",
            Firmware::Uefi => "UEFI",
        }
    }
}

/// The firmware for a loader: Limine defaults to BIOS (SeaBIOS boots in well
/// under a second), the built-in loader is UEFI-only.
pub fn choose_firmware(loader: &LoaderChoice, arg: Option<FirmwareArg>) -> Result<Firmware> {
    match (loader, arg) {
        (LoaderChoice::Builtin, Some(FirmwareArg::Bios)) => Err(XtaskError::Usage(
            "the built-in loader is a UEFI application: use --firmware uefi, or --loader limine for BIOS".into(),
        )),
        (LoaderChoice::Builtin, _) | (LoaderChoice::Limine(_), Some(FirmwareArg::Uefi)) => Ok(Firmware::Uefi),
        (LoaderChoice::Limine(_), _) => Ok(Firmware::Bios),
    }
}

/// One machine to boot.
#[derive(Clone, Debug)]
pub struct Machine {
    /// The bootable image.
    pub iso: PathBuf,
    /// Its firmware.
    pub firmware: Firmware,
    /// The NVDIMM's backing file, if any.
    pub pmem: Option<PmemFile>,
    /// Stop at the first instruction and wait for gdb on tcp::1234.
    pub gdb: bool,
    /// Run with `-icount shift=0`: the guest's clock advances one tick per
    /// instruction, so cycle figures repeat exactly from run to run.
    pub icount: bool,
}

impl Machine {
    fn command(&self, vars: &std::path::Path) -> Command {
        let mut cmd = Command::new("qemu-system-x86_64");
        let pmem_bytes = self.pmem.as_ref().map_or(0, |p| p.size);
        let maxmem_mib = RAM_MIB + (pmem_bytes >> 20) + 512;
        cmd.args(["-machine", "q35,nvdimm=on", "-cpu", "max", "-smp", "2"])
            .args(["-m", &format!("{RAM_MIB}M,slots=2,maxmem={maxmem_mib}M")])
            .args(["-nodefaults", "-display", "none", "-no-reboot"])
            .args(["-serial", "stdio", "-monitor", "none"])
            .args([
                "-device",
                &format!(
                    "isa-debug-exit,iobase={:#x},iosize=0x04",
                    protocols::exit::DEBUG_EXIT_PORT
                ),
            ])
            .arg("-cdrom")
            .arg(&self.iso);
        if let Some(pmem) = &self.pmem {
            cmd.args([
                "-object",
                &format!(
                    "memory-backend-file,id=pmem0,share=on,mem-path={},size={}",
                    pmem.path.display(),
                    pmem.size
                ),
                "-device",
                "nvdimm,id=nvdimm0,memdev=pmem0",
            ]);
        }
        if self.firmware == Firmware::Uefi {
            cmd.args([
                "-drive",
                &format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
            ])
            .args([
                "-drive",
                &format!("if=pflash,format=raw,file={}", vars.display()),
            ]);
        }
        if self.gdb {
            cmd.args(["-s", "-S"]);
        }
        if self.icount {
            cmd.args(["-icount", "shift=0"]);
        }
        cmd
    }
}

/// Where console input comes from.
pub enum Input {
    /// This terminal, passed straight to QEMU.
    Terminal,
    /// These bytes, fed once the kernel's banner appears, then end-of-input.
    Script(Vec<u8>),
}

/// A planned power cut: SIGKILL to QEMU `delay` after `marker` appears on
/// the console (or after QEMU starts, without a marker). Nothing is flushed
/// or shut down: what reached the NVDIMM's backing file is all that survives.
#[derive(Clone, Debug)]
pub struct Cut {
    /// Console text that starts the clock.
    pub marker: Option<String>,
    /// How long after the marker the power goes.
    pub delay: Duration,
}

/// What a session produced.
pub struct Report {
    /// The serial console, `\r` removed.
    pub console: String,
    /// How it ended.
    pub exit: Exit,
    /// Host time from QEMU's start to the kernel banner.
    pub banner_after: Option<Duration>,
}

/// `cargo xtask run`: the console on this terminal, or a script from a pipe.
pub fn run_interactive(
    machine: &Machine,
    timeout: Option<Duration>,
    cut: Option<&Cut>,
) -> Result<Report> {
    let input = if std::io::stdin().is_terminal() {
        Input::Terminal
    } else {
        let mut script = Vec::new();
        std::io::stdin()
            .read_to_end(&mut script)
            .map_err(|e| XtaskError::Io("stdin".into(), e))?;
        Input::Script(script)
    };
    session(machine, input, timeout, true, cut)
}

/// Boots `machine`, feeds `input`, and waits until it ends or `timeout` runs out.
pub fn session(
    machine: &Machine,
    input: Input,
    timeout: Option<Duration>,
    echo: bool,
    cut: Option<&Cut>,
) -> Result<Report> {
    let vars = ovmf_vars_copy(machine)?;
    let mut cmd = machine.command(&vars);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    cmd.stdin(match input {
        Input::Terminal => Stdio::inherit(),
        Input::Script(_) => Stdio::piped(),
    });
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| XtaskError::CommandFailed(format!("cannot start qemu-system-x86_64: {e}")))?;

    let console = Arc::new(Mutex::new(Console::default()));
    let reader = {
        let console = Arc::clone(&console);
        let mut stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if echo {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&buf[..n]);
                    let _ = out.flush();
                }
                console
                    .lock()
                    .expect("console lock")
                    .push(&buf[..n], started);
            }
        })
    };
    let mut pending = match input {
        Input::Script(bytes) => Some(bytes),
        _ => None,
    };

    let exit = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| XtaskError::CommandFailed(format!("waiting for QEMU: {e}")))?
        {
            let code = status.code().unwrap_or(-1);
            break GuestExit::from_host_status(code).map_or(Exit::Status(code), Exit::Guest);
        }
        if pending.is_some() && console.lock().expect("console lock").banner_at.is_some() {
            feed(&mut child, pending.take().unwrap_or_default());
        }
        if let Some(cut) = cut {
            let armed_at = match &cut.marker {
                None => Some(Duration::ZERO),
                Some(marker) => console.lock().expect("console lock").seen_at(marker),
            };
            if armed_at.is_some_and(|at| started.elapsed() >= at + cut.delay) {
                let _ = child.kill();
                let _ = child.wait();
                break Exit::Cut;
            }
        }
        if timeout.is_some_and(|t| started.elapsed() > t) {
            let _ = child.kill();
            let _ = child.wait();
            break Exit::Timeout;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = reader.join();
    let _ = std::fs::remove_file(&vars);
    let console = Arc::try_unwrap(console)
        .map(|m| m.into_inner().expect("console lock"))
        .unwrap_or_default();
    Ok(Report {
        console: String::from_utf8_lossy(&console.bytes).replace('\r', ""),
        exit,
        banner_after: console.banner_at,
    })
}

/// Writes the script and then end-of-input on a helper thread (QEMU reads
/// the pipe only as fast as the guest's UART takes it).
fn feed(child: &mut Child, mut script: Vec<u8>) {
    if let Some(mut stdin) = child.stdin.take() {
        std::thread::spawn(move || {
            script.push(END_OF_INPUT);
            let _ = stdin.write_all(&script);
            // Keep the pipe open: closing it is not a key press the guest can see.
            std::thread::sleep(Duration::from_secs(3600));
        });
    }
}

#[derive(Default)]
struct Console {
    bytes: Vec<u8>,
    banner_at: Option<Duration>,
    /// The first marker looked for, and when it appeared.
    marker: Option<(String, Option<Duration>)>,
    /// Time of the latest chunk (a late-registered marker counts from it).
    started_for_marker: Duration,
}

impl Console {
    /// When `marker` first appeared (looked up once, then remembered).
    fn seen_at(&mut self, marker: &str) -> Option<Duration> {
        match &self.marker {
            Some((m, at)) if m == marker => *at,
            _ => {
                // Registered late: the marker may already be on the console.
                let seen = self
                    .bytes
                    .windows(marker.len())
                    .any(|w| w == marker.as_bytes());
                let at = seen.then_some(self.started_for_marker);
                self.marker = Some((marker.to_string(), at));
                at
            }
        }
    }

    fn push(&mut self, chunk: &[u8], started: Instant) {
        self.bytes.extend_from_slice(chunk);
        self.started_for_marker = started.elapsed();
        if let Some((marker, at @ None)) = &mut self.marker {
            let window = &self.bytes[self.bytes.len().saturating_sub(chunk.len() + marker.len())..];
            if window.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                *at = Some(started.elapsed());
            }
        }
        if self.banner_at.is_none() {
            let window = &self.bytes[self.bytes.len().saturating_sub(chunk.len() + BANNER.len())..];
            if window.windows(BANNER.len()).any(|w| w == BANNER.as_bytes()) {
                self.banner_at = Some(started.elapsed());
            }
        }
    }
}

/// A private writable copy of OVMF's variable store (QEMU writes to it).
fn ovmf_vars_copy(machine: &Machine) -> Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = PathBuf::from(format!("target/ovmf-vars-{}-{n}.fd", std::process::id()));
    if machine.firmware == Firmware::Uefi {
        std::fs::copy(OVMF_VARS, &path).map_err(|e| XtaskError::Io(OVMF_VARS.into(), e))?;
    }
    Ok(path)
}

/// A person's description of how the guest ended.
pub fn describe(exit: Exit) -> String {
    match exit {
        Exit::Guest(GuestExit::Success) => "clean shutdown".into(),
        Exit::Guest(GuestExit::KernelPanic) => "kernel panic".into(),
        Exit::Guest(GuestExit::LoaderError) => "the loader could not boot the kernel".into(),
        Exit::Guest(GuestExit::TestFailure) => "in-guest tests failed".into(),
        Exit::Guest(GuestExit::PowerCut) => {
            "power cut from the shell (`cargo xtask run` on the same pmem file recovers)".into()
        }
        Exit::Status(0) => "powered off".into(),
        Exit::Status(code) => format!("QEMU exited with status {code}"),
        Exit::Timeout => "killed: timeout".into(),
        Exit::Cut => "power cut (QEMU killed)".into(),
    }
}

/// The exit status `cargo xtask run` returns for a guest's end.
pub fn status_code(exit: Exit) -> u8 {
    match exit {
        Exit::Guest(GuestExit::Success) | Exit::Status(0) => 0,
        Exit::Guest(GuestExit::TestFailure) => 1,
        Exit::Guest(GuestExit::KernelPanic) => 2,
        Exit::Guest(GuestExit::LoaderError) => 3,
        Exit::Status(_) => 4,
        Exit::Timeout => 124,
        Exit::Cut | Exit::Guest(GuestExit::PowerCut) => 137,
    }
}
