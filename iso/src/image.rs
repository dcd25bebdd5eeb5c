//! Assembling the bootable ISO: the file tree, `limine.conf`, and the two
//! loaders' ways of making it bootable.
//!
//! Both loaders see the same tree (`/boot/kernel`, `/boot/limine/limine.conf`,
//! `/boot/<module>`, `/EFI/BOOT/BOOTX64.EFI`):
//! - **Limine**: the hybrid BIOS/UEFI recipe Limine documents (`xorriso` with
//!   Limine's CD boot images, then `limine bios-install`).
//! - **built-in**: a UEFI-only ISO whose El Torito EFI image is a FAT image
//!   holding the whole tree, so the loader reads every file through UEFI's
//!   SimpleFileSystem of the device it was started from.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::artifacts::Built;
use crate::{LoaderArg, Result, XtaskError};

/// A Limine binary release on this host.
#[derive(Clone, Debug)]
pub struct LimineDir {
    /// The directory holding `limine-bios.sys`, the CD images and `BOOTX64.EFI`.
    pub dir: PathBuf,
}

/// Files a Limine binary release must contain for our recipe.
const LIMINE_FILES: [&str; 4] = [
    "limine-bios.sys",
    "limine-bios-cd.bin",
    "limine-uefi-cd.bin",
    "BOOTX64.EFI",
];

/// Prefixes searched when `LIMINE_DIR` is not set.
const LIMINE_PREFIXES: [&str; 4] = [
    "/usr/share/limine",
    "/usr/local/share/limine",
    "/usr/lib/limine",
    "/opt/limine",
];

/// The loader an image is made for.
#[derive(Clone, Debug)]
pub enum LoaderChoice {
    /// The project's own UEFI loader.
    Builtin,
    /// Real Limine.
    Limine(LimineDir),
}

impl LoaderChoice {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            LoaderChoice::Builtin => "built-in",
            LoaderChoice::Limine(_) => "Limine",
        }
    }
}

/// Finds a Limine release: `LIMINE_DIR` first, then the usual prefixes.
pub fn find_limine() -> Option<LimineDir> {
    let from_env = std::env::var_os("LIMINE_DIR").map(PathBuf::from);
    from_env
        .into_iter()
        .chain(LIMINE_PREFIXES.iter().map(PathBuf::from))
        .find(|dir| LIMINE_FILES.iter().all(|f| dir.join(f).is_file()))
        .map(|dir| LimineDir { dir })
}

/// Resolves the `--loader` choice: Limine when asked for (it must exist) or
/// when installed; otherwise the built-in loader.
pub fn choose_loader(arg: Option<LoaderArg>) -> Result<LoaderChoice> {
    match (arg, find_limine()) {
        (Some(LoaderArg::Builtin), _) | (None, None) => Ok(LoaderChoice::Builtin),
        (Some(LoaderArg::Limine) | None, Some(dir)) => Ok(LoaderChoice::Limine(dir)),
        (Some(LoaderArg::Limine), None) => Err(XtaskError::MissingTool(format!(
            "no Limine binary release found: set LIMINE_DIR to a directory holding {} \
             (and the `limine` host tool or limine.c), or install one under {}",
            LIMINE_FILES.join(", "),
            LIMINE_PREFIXES.join(" or ")
        ))),
    }
}

/// Where a file's bytes come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file on the host.
    Path(PathBuf),
    /// Bytes made by the caller (test fixtures).
    Bytes(Vec<u8>),
}

/// A module on the image.
#[derive(Clone, Debug)]
pub struct ModuleFile {
    /// File name under `/boot/`.
    pub name: String,
    /// Its command line.
    pub cmdline: String,
    /// Its contents.
    pub source: Source,
}

/// Everything that goes into one image.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    /// Which loader boots it.
    pub loader: LoaderChoice,
    /// The built-in loader's EFI binary (used when `loader` is built-in).
    pub builtin_loader: PathBuf,
    /// The kernel ELF.
    pub kernel: Source,
    /// The kernel command line.
    pub cmdline: String,
    /// Modules in boot order.
    pub modules: Vec<ModuleFile>,
    /// A replacement `limine.conf` (tests of the loader's error paths).
    pub config_override: Option<String>,
}

impl ImageSpec {
    /// The system image: the kernel and the system's modules.
    pub fn system(built: &Built, loader: LoaderChoice, cmdline: &str) -> ImageSpec {
        ImageSpec {
            loader,
            builtin_loader: built.loader.clone(),
            kernel: Source::Path(built.kernel.clone()),
            cmdline: cmdline.to_string(),
            modules: built
                .modules
                .iter()
                .map(|m| ModuleFile {
                    name: m.name.clone(),
                    cmdline: m.cmdline.clone(),
                    source: Source::Path(m.path.clone()),
                })
                .collect(),
            config_override: None,
        }
    }
}

/// The `limine.conf` for a kernel command line and modules (Limine 8 syntax).
pub fn limine_conf(cmdline: &str, modules: &[ModuleFile]) -> String {
    let mut conf = String::from(
        "# Written by `cargo xtask`; read by Limine and by the built-in loader.\ntimeout: 0\n\n/Perennial\n",
    );
    conf += "    protocol: limine\n    kernel_path: boot():/boot/kernel\n";
    if !cmdline.is_empty() {
        conf += &format!("    cmdline: {cmdline}\n");
    }
    for module in modules {
        conf += &format!("    module_path: boot():/boot/{}\n", module.name);
        if !module.cmdline.is_empty() {
            conf += &format!("    module_cmdline: {}\n", module.cmdline);
        }
    }
    conf
}

/// Builds the image described by `spec` at `iso`.
pub fn assemble(spec: &ImageSpec, iso: &Path) -> Result<PathBuf> {
    let tree = iso.with_extension("tree");
    reset_dir(&tree)?;
    let conf = spec
        .config_override
        .clone()
        .unwrap_or_else(|| limine_conf(&spec.cmdline, &spec.modules));
    place(&tree.join("boot/kernel"), &spec.kernel)?;
    place(
        &tree.join("boot/limine/limine.conf"),
        &Source::Bytes(conf.into_bytes()),
    )?;
    for module in &spec.modules {
        place(&tree.join("boot").join(&module.name), &module.source)?;
    }
    match &spec.loader {
        LoaderChoice::Builtin => {
            place(
                &tree.join("EFI/BOOT/BOOTX64.EFI"),
                &Source::Path(spec.builtin_loader.clone()),
            )?;
            let esp = iso.with_extension("esp.img");
            fat_image(&tree, &esp)?;
            place(&tree.join("boot/efiboot.img"), &Source::Path(esp.clone()))?;
            run(Command::new("xorriso")
                .args(["-as", "mkisofs", "-quiet", "-R", "-r", "-J"])
                .args(["-e", "boot/efiboot.img", "-no-emul-boot"])
                .args([
                    "-efi-boot-part",
                    "--efi-boot-image",
                    "--protective-msdos-label",
                ])
                .arg(&tree)
                .arg("-o")
                .arg(iso))?;
        }
        LoaderChoice::Limine(limine) => {
            for file in [
                "limine-bios.sys",
                "limine-bios-cd.bin",
                "limine-uefi-cd.bin",
            ] {
                place(
                    &tree.join("boot/limine").join(file),
                    &Source::Path(limine.dir.join(file)),
                )?;
            }
            place(
                &tree.join("EFI/BOOT/BOOTX64.EFI"),
                &Source::Path(limine.dir.join("BOOTX64.EFI")),
            )?;
            run(Command::new("xorriso")
                .args(["-as", "mkisofs", "-quiet", "-R", "-r", "-J"])
                .args([
                    "-b",
                    "boot/limine/limine-bios-cd.bin",
                    "-no-emul-boot",
                    "-boot-load-size",
                    "4",
                    "-boot-info-table",
                ])
                .args(["-hfsplus", "-apm-block-size", "2048"])
                .args([
                    "--efi-boot",
                    "boot/limine/limine-uefi-cd.bin",
                    "-efi-boot-part",
                    "--efi-boot-image",
                    "--protective-msdos-label",
                ])
                .arg(&tree)
                .arg("-o")
                .arg(iso))?;
            run(Command::new(limine_tool(limine)?)
                .arg("bios-install")
                .arg(iso))?;
        }
    }
    Ok(iso.to_path_buf())
}

/// The `limine` host tool: in the release directory, on `PATH`, or built
/// from the release's `limine.c` (binary releases ship the source).
fn limine_tool(limine: &LimineDir) -> Result<PathBuf> {
    let in_dir = limine.dir.join("limine");
    if in_dir.is_file() {
        return Ok(in_dir);
    }
    if let Some(found) = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("limine"))
            .find(|p| p.is_file())
    }) {
        return Ok(found);
    }
    let source = limine.dir.join("limine.c");
    let built = PathBuf::from("target/limine-host-tool");
    if source.is_file() {
        if !built.is_file() {
            run(Command::new("cc")
                .args(["-O2", "-std=c99", "-o"])
                .arg(&built)
                .arg(&source))?;
        }
        return Ok(built);
    }
    Err(XtaskError::MissingTool(format!(
        "the `limine` host tool: not in {}, not on PATH, and no limine.c to build it from",
        limine.dir.display()
    )))
}

/// Makes a FAT image holding everything under `tree`.
fn fat_image(tree: &Path, img: &Path) -> Result<()> {
    let payload: u64 = walk(tree)?.iter().map(|(_, len)| len).sum();
    // Room for FAT structures and directories, in whole MiB; at least 4 MiB.
    let mib = (payload + (1 << 20) + payload / 8).div_ceil(1 << 20).max(4);
    let sectors = mib * 2048;
    std::fs::write(img, []).map_err(|e| XtaskError::Io(img.display().to_string(), e))?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(img)
        .map_err(|e| XtaskError::Io(img.display().to_string(), e))?;
    file.set_len(mib << 20)
        .map_err(|e| XtaskError::Io(img.display().to_string(), e))?;
    run(Command::new("mformat").arg("-i").arg(img).args([
        "-T",
        &sectors.to_string(),
        "-h",
        "16",
        "-s",
        "32",
        "::",
    ]))?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (file, _) in walk(tree)? {
        let rel = file.strip_prefix(tree).expect("walk stays under tree");
        for parent in rel
            .ancestors()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            if !parent.as_os_str().is_empty() && !dirs.iter().any(|d| d == parent) {
                run(Command::new("mmd")
                    .arg("-i")
                    .arg(img)
                    .arg(format!("::/{}", parent.display())))?;
                dirs.push(parent.to_path_buf());
            }
        }
        run(Command::new("mcopy")
            .arg("-i")
            .arg(img)
            .arg(&file)
            .arg(format!("::/{}", rel.display())))?;
    }
    Ok(())
}

/// Every file under `dir` with its length, sorted by path.
fn walk(dir: &Path) -> Result<Vec<(PathBuf, u64)>> {
    let io = |e| XtaskError::Io(dir.display().to_string(), e);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let meta = entry.metadata().map_err(io)?;
        if meta.is_dir() {
            out.extend(walk(&entry.path())?);
        } else {
            out.push((entry.path(), meta.len()));
        }
    }
    out.sort();
    Ok(out)
}

fn reset_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| XtaskError::Io(dir.display().to_string(), e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| XtaskError::Io(dir.display().to_string(), e))
}

fn place(dest: &Path, source: &Source) -> Result<()> {
    let io = |e| XtaskError::Io(dest.display().to_string(), e);
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    match source {
        Source::Path(from) => std::fs::copy(from, dest)
            .map(|_| ())
            .map_err(|e| XtaskError::Io(from.display().to_string(), e)),
        Source::Bytes(bytes) => std::fs::write(dest, bytes).map_err(io),
    }
}

/// Runs a host command, turning failure into an error that names it.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| XtaskError::CommandFailed(format!("cannot run {shown}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(XtaskError::CommandFailed(format!(
        "{shown} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_names_kernel_cmdline_and_each_module_in_order() {
        let modules = vec![
            ModuleFile {
                name: "init".into(),
                cmdline: "init --verbose".into(),
                source: Source::Bytes(vec![]),
            },
            ModuleFile {
                name: "blob".into(),
                cmdline: String::new(),
                source: Source::Bytes(vec![]),
            },
        ];
        let conf = limine_conf("a=b c", &modules);
        let lines: Vec<&str> = conf
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(
            lines,
            [
                "timeout: 0",
                "/Perennial",
                "protocol: limine",
                "kernel_path: boot():/boot/kernel",
                "cmdline: a=b c",
                "module_path: boot():/boot/init",
                "module_cmdline: init --verbose",
                "module_path: boot():/boot/blob",
            ]
        );
        assert!(!limine_conf("", &[]).contains("cmdline"));
    }
}
