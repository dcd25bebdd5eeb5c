//! `Posix`: the POSIX server's interface, its `errno` values and the
//! structures its calls return.
//!
//! Files are persistent objects named through the hierarchical resolver;
//! the server keeps one descriptor table per program. The numbers are
//! Linux's (x86_64), so a C program's expectations and `strerror` hold:
//! [`Errno`] carries the Linux `errno`, [`OpenFlags`] the Linux `O_*` bits
//! and [`Whence`] `SEEK_SET/CUR/END`.

use serde::{Deserialize, Serialize};

use crate::ipc::{Bytes, Text};

/// Longest path one call carries.
pub const MAX_PATH: usize = 256;
/// Longest directory-entry name.
pub const MAX_FILE_NAME: usize = 64;
/// Most bytes one `read`/`write` moves.
pub const MAX_IO: usize = 2048;

/// A path in a call.
pub type Path = Text<MAX_PATH>;

/// A file descriptor: an index into the calling program's table.
pub type Fd = u32;

/// POSIX error numbers, with the Linux values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(i32)]
pub enum Errno {
    /// Operation not permitted.
    EPERM = 1,
    /// No such file or directory.
    ENOENT = 2,
    /// Input/output error (the store or resolver failed).
    EIO = 5,
    /// Bad file descriptor.
    EBADF = 9,
    /// Out of memory.
    ENOMEM = 12,
    /// Permission denied.
    EACCES = 13,
    /// Device or resource busy.
    EBUSY = 16,
    /// File exists.
    EEXIST = 17,
    /// Invalid cross-device link.
    EXDEV = 18,
    /// Not a directory.
    ENOTDIR = 20,
    /// Is a directory.
    EISDIR = 21,
    /// Invalid argument.
    EINVAL = 22,
    /// Too many open files.
    EMFILE = 24,
    /// File too large.
    EFBIG = 27,
    /// No space left on device.
    ENOSPC = 28,
    /// File name too long.
    ENAMETOOLONG = 36,
    /// Function not implemented.
    ENOSYS = 38,
    /// Directory not empty.
    ENOTEMPTY = 39,
    /// Value too large for defined data type.
    EOVERFLOW = 75,
}

impl Errno {
    /// The Linux `errno` value.
    pub const fn code(self) -> i32 {
        self as i32
    }
}

/// `open` flags: the access mode (low two bits) and the Linux `O_*` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    /// Open for reading only.
    pub const O_RDONLY: OpenFlags = OpenFlags(0);
    /// Open for writing only.
    pub const O_WRONLY: OpenFlags = OpenFlags(1);
    /// Open for reading and writing.
    pub const O_RDWR: OpenFlags = OpenFlags(2);
    /// Create the file if it does not exist.
    pub const O_CREAT: OpenFlags = OpenFlags(0o100);
    /// With `O_CREAT`: fail with `EEXIST` if it exists.
    pub const O_EXCL: OpenFlags = OpenFlags(0o200);
    /// Truncate a regular file opened for writing to length 0.
    pub const O_TRUNC: OpenFlags = OpenFlags(0o1000);
    /// Every write goes to the end of the file.
    pub const O_APPEND: OpenFlags = OpenFlags(0o2000);
    /// Fail with `ENOTDIR` unless the path is a directory.
    pub const O_DIRECTORY: OpenFlags = OpenFlags(0o200000);
    /// Mask of the access mode.
    pub const O_ACCMODE: u32 = 3;
    /// Every bit this server understands.
    pub const KNOWN: u32 = 3 | 0o100 | 0o200 | 0o1000 | 0o2000 | 0o200000;

    /// Both sets of bits.
    pub const fn union(self, other: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | other.0)
    }
    /// Whether every bit of `other` (not the access mode) is set.
    pub const fn has(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether the access mode allows reading.
    pub const fn readable(self) -> bool {
        matches!(self.0 & Self::O_ACCMODE, 0 | 2)
    }
    /// Whether the access mode allows writing.
    pub const fn writable(self) -> bool {
        matches!(self.0 & Self::O_ACCMODE, 1 | 2)
    }
}

impl core::ops::BitOr for OpenFlags {
    type Output = OpenFlags;
    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        self.union(rhs)
    }
}

/// `lseek`'s origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Whence {
    /// From the start of the file (`SEEK_SET`, 0).
    Set,
    /// From the current offset (`SEEK_CUR`, 1).
    Cur,
    /// From the end of the file (`SEEK_END`, 2).
    End,
}

/// The type of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileType {
    /// A regular file (`S_IFREG`).
    Regular,
    /// A directory (`S_IFDIR`).
    Directory,
}

/// What `stat`/`fstat` report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    /// The object holding the file (its `st_ino` is the low 64 bits).
    pub id: crate::object::ObjId,
    /// Regular file or directory.
    pub kind: FileType,
    /// Size in bytes (directories: number of entries).
    pub size: u64,
    /// Last access, nanoseconds since the epoch.
    pub atime: u64,
    /// Last data change, nanoseconds since the epoch.
    pub mtime: u64,
    /// Last status change, nanoseconds since the epoch.
    pub ctime: u64,
    /// Hard links (always 1 for files; directories: 2).
    pub nlink: u32,
}

/// One `readdir` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEnt {
    /// The entry's name.
    pub name: Text<MAX_FILE_NAME>,
    /// Its type.
    pub kind: FileType,
    /// Its object (`d_ino`).
    pub id: crate::object::ObjId,
}

crate::interface! {
    /// The POSIX layer (one descriptor table per calling program).
    interface Posix {
        id: u64::from_le_bytes(*b"POSIXFS1"),
        error: Errno,
        gates {
            /// Opens (or creates) `path`; returns the lowest free descriptor.
            1 => Open fn open(path: Path, flags: OpenFlags, mode: u32) -> Fd;
            /// Releases a descriptor.
            2 => Close fn close(fd: Fd) -> ();
            /// Reads up to `len` bytes at the descriptor's offset.
            3 => Read fn read(fd: Fd, len: u32) -> Bytes<MAX_IO>;
            /// Writes at the offset (or the end, with `O_APPEND`); returns
            /// the count written.
            4 => Write fn write(fd: Fd, data: Bytes<MAX_IO>) -> u32;
            /// Reads at `offset` without moving the descriptor's offset.
            5 => Pread fn pread(fd: Fd, len: u32, offset: u64) -> Bytes<MAX_IO>;
            /// Writes at `offset` without moving the descriptor's offset.
            6 => Pwrite fn pwrite(fd: Fd, data: Bytes<MAX_IO>, offset: u64) -> u32;
            /// Moves the offset; returns the new one.
            7 => Lseek fn lseek(fd: Fd, offset: i64, whence: Whence) -> u64;
            /// Describes an open file.
            8 => Fstat fn fstat(fd: Fd) -> Stat;
            /// Describes the file at `path`.
            9 => StatPath fn stat(path: Path) -> Stat;
            /// A second descriptor (the lowest free) for the same open file.
            10 => Dup fn dup(fd: Fd) -> Fd;
            /// Sets a file's size (growing reads as zeros).
            11 => Ftruncate fn ftruncate(fd: Fd, size: u64) -> ();
            /// Makes the file's data and metadata durable.
            12 => Fsync fn fsync(fd: Fd) -> ();
            /// Creates a directory.
            13 => Mkdir fn mkdir(path: Path, mode: u32) -> ();
            /// Removes an empty directory.
            14 => Rmdir fn rmdir(path: Path) -> ();
            /// Removes a file's name (and the file once no descriptor uses it).
            15 => Unlink fn unlink(path: Path) -> ();
            /// Moves `from` to `to`, replacing what `to` named.
            16 => Rename fn rename(from: Path, to: Path) -> ();
            /// Opens a directory stream (a descriptor).
            17 => Opendir fn opendir(path: Path) -> Fd;
            /// The next entry of a directory stream (`None` at the end).
            18 => Readdir fn readdir(fd: Fd) -> Option<DirEnt>;
        }
    }
}

#[cfg(test)]
mod tests;
