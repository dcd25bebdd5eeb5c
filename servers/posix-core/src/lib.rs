//! The POSIX layer's logic (ARCHITECTURE.md "Servers": POSIX layer): per-
//! program descriptor tables and POSIX file semantics over persistent
//! objects named through the hierarchical resolver.
//!
//! [`Posix`] is generic over the three things it stands on, so the same
//! code runs in the server and in host tests:
//!
//! - the namespace: any [`protocols::resolver::Server`] that speaks paths
//!   — the hierarchical resolver, in the same program
//!   (`nomenclature::ResolverService`) or across PPC
//!   (`nomenclature::Remote`);
//! - the file objects: a [`Files`] ([`StoreFiles`]: the object store
//!   across PPC; [`MemFiles`] in memory);
//! - the time: a [`Clock`].
//!
//! Every call takes the calling program's ID ([`Pid`]): the kernel names
//! the caller of every protected procedure call, and the server serves
//! each program through a [`Session`], which implements the
//! [`protocols::posix::Posix`] interface. Programs call it
//! through [`PosixClient`], the client library.
//!
//! # What is supported (and what is not)
//!
//! `open` (`O_RDONLY`, `O_WRONLY`, `O_RDWR`, `O_CREAT`, `O_EXCL`,
//! `O_TRUNC`, `O_APPEND`, `O_DIRECTORY`), `close`, `dup` (lowest free
//! descriptor, shared offset), `read`, `write`, `pread`, `pwrite`, `lseek`
//! (`SEEK_SET/CUR/END`; seeking past the end and writing leaves a hole
//! that reads as zeros), `fstat`/`stat` (type, size, times; a directory's
//! size is its entry count), `ftruncate`, `fsync`, `mkdir`, `rmdir`,
//! `unlink` (a file unlinked while open lives until its last descriptor
//! closes), `rename` (replacing a file or an empty directory),
//! `opendir`/`readdir`. Errors are Linux's `errno` values
//! ([`protocols::posix::Errno`]); `unlink` of a directory is `EISDIR` as on
//! Linux.
//!
//! Not supported: permissions and ownership (`mode` is accepted and
//! ignored; access control is the capability system's), hard and symbolic
//! links, a current directory (relative paths are taken from `/`),
//! `O_NONBLOCK`/`O_SYNC`/`O_CLOEXEC`, `fork` inheritance of descriptors,
//! directory times (reported as 0). With `O_APPEND`, `pwrite` appends, as
//! on Linux.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod client;
mod fdtable;
mod files;
mod ops;
mod session;
mod store_files;
mod strerror;

#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;

pub use client::PosixClient;
pub use fdtable::{FdTable, MAX_FDS};
pub use files::{FileMeta, Files, MAX_FILE, MemFiles};
pub use session::Session;
pub use store_files::{FILE_HEADER, StoreFiles};
pub use strerror::strerror;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;

use protocols::object::ObjId;
use protocols::posix::{Errno, FileType, OpenFlags};
use protocols::resolver::{MAX_NAME, Name, NameError};

/// The calling program, as the kernel names it on each call.
pub type Pid = u64;

/// The time source for file times.
pub trait Clock {
    /// Nanoseconds since the epoch.
    fn now(&mut self) -> u64;
}

/// A clock that ticks once per call (tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct TickClock(pub u64);

impl Clock for TickClock {
    fn now(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// The `errno` a resolver error means to a POSIX program.
pub fn errno(e: NameError) -> Errno {
    match e {
        NameError::NotFound | NameError::MissingComponent => Errno::ENOENT,
        NameError::Exists => Errno::EEXIST,
        NameError::NotADirectory => Errno::ENOTDIR,
        NameError::IsADirectory => Errno::EISDIR,
        NameError::NotEmpty => Errno::ENOTEMPTY,
        NameError::InvalidName | NameError::WouldLoop => Errno::EINVAL,
        NameError::Unsupported => Errno::ENOSYS,
        NameError::NoSpace => Errno::ENOSPC,
        NameError::Ambiguous(_) | NameError::Corrupt | NameError::Unavailable => Errno::EIO,
    }
}

/// The resolver name for a POSIX path: absolute as is, relative from `/`.
pub fn path_name(path: &str) -> Result<Name, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let mut s = String::new();
    if !path.starts_with('/') {
        s.push('/');
    }
    s.push_str(path);
    if s.len() > MAX_NAME {
        return Err(Errno::ENAMETOOLONG);
    }
    Name::try_from(s.as_str()).map_err(|_| Errno::ENAMETOOLONG)
}

/// An open-file description: what `open` creates and `dup` shares.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Description {
    id: ObjId,
    kind: FileType,
    flags: OpenFlags,
    offset: u64,
    /// Descriptors naming it.
    refs: u32,
    /// The path it was opened by (directories: where `readdir` lists).
    path: Name,
}

/// The POSIX layer over namespace `N`, file objects `F` and clock `C`.
pub struct Posix<N, F, C> {
    names: N,
    files: F,
    clock: C,
    tables: BTreeMap<Pid, FdTable>,
    descs: BTreeMap<u64, Description>,
    next_desc: u64,
    /// Open descriptions per file object.
    open: BTreeMap<ObjId, u32>,
    /// Files unlinked while open: deleted at their last close.
    orphans: BTreeSet<ObjId>,
}

impl<N, F, C> Posix<N, F, C> {
    /// A POSIX layer over `names`, `files` and `clock`, with no program
    /// holding a descriptor.
    pub fn new(names: N, files: F, clock: C) -> Self {
        Posix {
            names,
            files,
            clock,
            tables: BTreeMap::new(),
            descs: BTreeMap::new(),
            next_desc: 1,
            open: BTreeMap::new(),
            orphans: BTreeSet::new(),
        }
    }

    /// The namespace.
    pub fn names(&mut self) -> &mut N {
        &mut self.names
    }

    /// The file objects.
    pub fn files(&mut self) -> &mut F {
        &mut self.files
    }

    /// Open descriptions (for tests and `threads`-style reports).
    pub fn open_descriptions(&self) -> usize {
        self.descs.len()
    }
}
