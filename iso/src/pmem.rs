//! The host file behind the guest's NVDIMM: sizes and lifetime.
//!
//! The file is the persistent memory. It is created zeroed on first use and
//! kept across runs; killing QEMU is a power cut, and whatever the guest had
//! written to it survives.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::{Result, XtaskError};

/// NVDIMM sizes must be whole multiples of this (QEMU maps the backing file
/// with huge-page alignment).
pub const PMEM_ALIGN: u64 = 2 << 20;

/// Parses `256M`, `1G`, `64MiB`, `1048576`.
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = || XtaskError::Usage(format!("bad size {text:?}: use e.g. 256M or 1G"));
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(digits_end);
    let value: u64 = digits.parse().map_err(|_| bad())?;
    let shift = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        _ => return Err(bad()),
    };
    let bytes = value.checked_mul(1 << shift).ok_or_else(bad)?;
    if bytes == 0 || bytes % PMEM_ALIGN != 0 {
        return Err(XtaskError::Usage(format!(
            "persistent memory size {text:?} must be a non-zero multiple of 2 MiB"
        )));
    }
    Ok(bytes)
}

/// A ready persistent-memory file.
#[derive(Clone, Debug)]
pub struct PmemFile {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes (the NVDIMM's size).
    pub size: u64,
}

/// Creates the file at `size` if it is missing (or `fresh`), else checks that
/// the existing file has that size: resizing persistent memory under a
/// system that lives in it would lose data, so that takes `--fresh`.
pub fn prepare(path: &Path, size: u64, fresh: bool) -> Result<PmemFile> {
    let io = |e| XtaskError::Io(path.display().to_string(), e);
    if fresh && path.exists() {
        std::fs::remove_file(path).map_err(io)?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    if path.exists() {
        let have = std::fs::metadata(path).map_err(io)?.len();
        if have != size {
            return Err(XtaskError::Usage(format!(
                "{} holds {} MiB of persistent memory, not the {} MiB asked for; \
                 pass --pmem-size {}M to use it, or --fresh to start over (erases it)",
                path.display(),
                have >> 20,
                size >> 20,
                have >> 20
            )));
        }
    } else {
        let file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        file.set_len(size).map_err(io)?;
    }
    Ok(PmemFile {
        path: path.to_path_buf(),
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("256M").unwrap(), 256 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("2097152").unwrap(), 2 << 20);
        for bad in ["", "M", "12X", "1M", "0", "-4M", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_kept_file_is_never_resized_silently() {
        let dir = std::env::temp_dir().join(format!("pmem-test-{}", std::process::id()));
        let path = dir.join("p.pmem");
        let first = prepare(&path, 4 << 20, false).unwrap();
        assert_eq!(std::fs::metadata(&first.path).unwrap().len(), 4 << 20);
        std::fs::write(&path, vec![7u8; 4 << 20]).unwrap();
        assert!(prepare(&path, 8 << 20, false).is_err());
        // Same size: kept as it is, contents untouched.
        prepare(&path, 4 << 20, false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap()[123], 7);
        // --fresh: zeroed at the new size.
        prepare(&path, 8 << 20, true).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 8 << 20);
        assert_eq!(bytes[123], 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
