//! [`PosixClient`]: the client library — the POSIX calls under their POSIX
//! names, returning `errno` values, over any transport to the POSIX
//! server (the kernel's PPC in a program; a loopback in tests).
//!
//! A failure of the call itself (the server restarted or refused the call)
//! is `EIO`. `read` may return fewer bytes than asked (as POSIX allows);
//! `write` and `pwrite` send data larger than one message in several
//! calls.

use protocols::ipc::{Bytes, CallError, Transport};
use protocols::posix::{Client, DirEnt, Errno, Fd, MAX_IO, OpenFlags, Path, Stat, Whence};

/// The POSIX client library over transport `T`.
pub struct PosixClient<T>(pub Client<T>);

fn flat<R>(r: Result<R, CallError<Errno>>) -> Result<R, Errno> {
    r.map_err(|e| match e {
        CallError::Server(e) => e,
        _ => Errno::EIO,
    })
}

fn path(p: &str) -> Result<Path, Errno> {
    Path::try_from(p).map_err(|_| Errno::ENAMETOOLONG)
}

impl<T: Transport> PosixClient<T> {
    /// A client calling through `transport`.
    pub fn new(transport: T) -> Self {
        PosixClient(Client::new(transport))
    }
    /// `open(path, flags, mode)`.
    pub fn open(&mut self, p: &str, flags: OpenFlags, mode: u32) -> Result<Fd, Errno> {
        flat(self.0.open(path(p)?, flags, mode))
    }
    /// `close(fd)`.
    pub fn close(&mut self, fd: Fd) -> Result<(), Errno> {
        flat(self.0.close(fd))
    }
    /// `read(fd, buf)`: up to `buf.len()` bytes (0 at the end).
    pub fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        let want = buf.len().min(MAX_IO) as u32;
        let got = flat(self.0.read(fd, want))?;
        buf[..got.len()].copy_from_slice(&got);
        Ok(got.len())
    }
    /// `pread(fd, buf, offset)`.
    pub fn pread(&mut self, fd: Fd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let want = buf.len().min(MAX_IO) as u32;
        let got = flat(self.0.pread(fd, want, offset))?;
        buf[..got.len()].copy_from_slice(&got);
        Ok(got.len())
    }
    /// `write(fd, data)`: all of `data`.
    pub fn write(&mut self, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        for chunk in data.chunks(MAX_IO) {
            let b = Bytes::from_slice(chunk).map_err(|_| Errno::EINVAL)?;
            flat(self.0.write(fd, b))?;
        }
        Ok(data.len())
    }
    /// `pwrite(fd, data, offset)`: all of `data`.
    pub fn pwrite(&mut self, fd: Fd, data: &[u8], offset: u64) -> Result<usize, Errno> {
        let mut off = offset;
        for chunk in data.chunks(MAX_IO) {
            let b = Bytes::from_slice(chunk).map_err(|_| Errno::EINVAL)?;
            flat(self.0.pwrite(fd, b, off))?;
            off += chunk.len() as u64;
        }
        Ok(data.len())
    }
    /// `lseek(fd, offset, whence)`.
    pub fn lseek(&mut self, fd: Fd, offset: i64, whence: Whence) -> Result<u64, Errno> {
        flat(self.0.lseek(fd, offset, whence))
    }
    /// `fstat(fd)`.
    pub fn fstat(&mut self, fd: Fd) -> Result<Stat, Errno> {
        flat(self.0.fstat(fd))
    }
    /// `stat(path)`.
    pub fn stat(&mut self, p: &str) -> Result<Stat, Errno> {
        flat(self.0.stat(path(p)?))
    }
    /// `dup(fd)`.
    pub fn dup(&mut self, fd: Fd) -> Result<Fd, Errno> {
        flat(self.0.dup(fd))
    }
    /// `ftruncate(fd, size)`.
    pub fn ftruncate(&mut self, fd: Fd, size: u64) -> Result<(), Errno> {
        flat(self.0.ftruncate(fd, size))
    }
    /// `fsync(fd)`.
    pub fn fsync(&mut self, fd: Fd) -> Result<(), Errno> {
        flat(self.0.fsync(fd))
    }
    /// `mkdir(path, mode)`.
    pub fn mkdir(&mut self, p: &str, mode: u32) -> Result<(), Errno> {
        flat(self.0.mkdir(path(p)?, mode))
    }
    /// `rmdir(path)`.
    pub fn rmdir(&mut self, p: &str) -> Result<(), Errno> {
        flat(self.0.rmdir(path(p)?))
    }
    /// `unlink(path)`.
    pub fn unlink(&mut self, p: &str) -> Result<(), Errno> {
        flat(self.0.unlink(path(p)?))
    }
    /// `rename(from, to)`.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), Errno> {
        flat(self.0.rename(path(from)?, path(to)?))
    }
    /// `opendir(path)`.
    pub fn opendir(&mut self, p: &str) -> Result<Fd, Errno> {
        flat(self.0.opendir(path(p)?))
    }
    /// `readdir(fd)`: the next entry, `None` at the end.
    pub fn readdir(&mut self, fd: Fd) -> Result<Option<DirEnt>, Errno> {
        flat(self.0.readdir(fd))
    }
}
