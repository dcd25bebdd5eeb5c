//! Everything that stops the loader, with the message the user sees.

use alloc::string::String;
use core::fmt;

use loader_core::answer::AnswerError;
use loader_core::config::ConfigError;
use loader_core::elf::ElfError;
use loader_core::paging::PagingError;
use loader_core::requests::ScanError;
use uefi::Status;

/// Why the kernel cannot be booted.
#[derive(Debug)]
pub enum LoaderError {
    /// The boot volume's file system is not reachable.
    NoFileSystem(Status),
    /// No `limine.conf` in any of the searched places.
    NoConfig,
    /// The config is not valid UTF-8.
    ConfigNotUtf8 {
        /// Where it was read from.
        path: &'static str,
    },
    /// The config is invalid.
    Config {
        /// Where it was read from.
        path: &'static str,
        /// What is wrong.
        error: ConfigError,
    },
    /// A file named in the config cannot be opened or read.
    File {
        /// Its path.
        path: String,
        /// The firmware's status.
        status: Status,
    },
    /// A path cannot be expressed as a UEFI path.
    BadFileName {
        /// Its path.
        path: String,
    },
    /// The kernel ELF is unusable.
    Elf(ElfError),
    /// The kernel's requests are inconsistent.
    Requests(ScanError),
    /// Writing the responses failed.
    Answer(AnswerError),
    /// Building the page tables failed.
    Paging(PagingError),
    /// The firmware refused an allocation.
    OutOfMemory {
        /// What was being allocated.
        what: &'static str,
        /// How many pages.
        pages: usize,
        /// The firmware's status.
        status: Status,
    },
    /// The firmware memory map could not be read.
    MemoryMap(Status),
    /// Loader code lies where the HHDM does not reach.
    TrampolineUnmapped(u64),
}

impl fmt::Display for LoaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoaderError::NoFileSystem(s) => write!(f, "cannot open the boot volume: {s:?}"),
            LoaderError::NoConfig => f.write_str(
                "no limine.conf found (looked in /boot/limine/, /boot/, /limine/, /, /EFI/BOOT/)",
            ),
            LoaderError::ConfigNotUtf8 { path } => write!(f, "{path} is not valid UTF-8"),
            LoaderError::Config { path, error } => write!(f, "{path}: {error}"),
            LoaderError::File { path, status } => write!(f, "cannot read {path}: {status:?}"),
            LoaderError::BadFileName { path } => write!(f, "cannot use file name {path}"),
            LoaderError::Elf(e) => write!(f, "bad kernel ELF: {e}"),
            LoaderError::Requests(e) => write!(f, "bad kernel requests: {e}"),
            LoaderError::Answer(e) => write!(f, "cannot answer requests: {e}"),
            LoaderError::Paging(e) => write!(f, "cannot build page tables: {e}"),
            LoaderError::OutOfMemory {
                what,
                pages,
                status,
            } => {
                write!(f, "cannot allocate {pages} pages for {what}: {status:?}")
            }
            LoaderError::MemoryMap(s) => write!(f, "cannot read the memory map: {s:?}"),
            LoaderError::TrampolineUnmapped(a) => {
                write!(f, "loader code at {a:#x} is outside the direct map")
            }
        }
    }
}

impl From<ElfError> for LoaderError {
    fn from(e: ElfError) -> Self {
        LoaderError::Elf(e)
    }
}

impl From<ScanError> for LoaderError {
    fn from(e: ScanError) -> Self {
        LoaderError::Requests(e)
    }
}

impl From<AnswerError> for LoaderError {
    fn from(e: AnswerError) -> Self {
        LoaderError::Answer(e)
    }
}

impl From<PagingError> for LoaderError {
    fn from(e: PagingError) -> Self {
        LoaderError::Paging(e)
    }
}
