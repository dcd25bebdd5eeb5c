//! [`Session`]: one program's view of the POSIX layer, serving the
//! [`protocols::posix::Posix`] interface. The server makes one per call
//! for the program the kernel says is calling.

use protocols::ipc::Bytes;
use protocols::posix::{DirEnt, Errno, Fd, MAX_IO, OpenFlags, Path, Server, Stat, Whence};
use protocols::resolver;

use crate::{Clock, Files, Pid, Posix};

/// The POSIX layer as program `pid` calls it.
pub struct Session<'a, N, F, C> {
    /// The layer.
    pub posix: &'a mut Posix<N, F, C>,
    /// The calling program.
    pub pid: Pid,
}

fn len(n: u32) -> usize {
    (n as usize).min(MAX_IO)
}

impl<N: resolver::Server, F: Files, C: Clock> Server for Session<'_, N, F, C> {
    fn open(&mut self, path: Path, flags: OpenFlags, mode: u32) -> Result<Fd, Errno> {
        self.posix.open(self.pid, &path, flags, mode)
    }
    fn close(&mut self, fd: Fd) -> Result<(), Errno> {
        self.posix.close(self.pid, fd)
    }
    fn read(&mut self, fd: Fd, n: u32) -> Result<Bytes<MAX_IO>, Errno> {
        let mut buf = [0u8; MAX_IO];
        let got = self.posix.read(self.pid, fd, &mut buf[..len(n)])?;
        Bytes::from_slice(&buf[..got]).map_err(|_| Errno::EIO)
    }
    fn write(&mut self, fd: Fd, data: Bytes<MAX_IO>) -> Result<u32, Errno> {
        self.posix.write(self.pid, fd, &data).map(|n| n as u32)
    }
    fn pread(&mut self, fd: Fd, n: u32, offset: u64) -> Result<Bytes<MAX_IO>, Errno> {
        let mut buf = [0u8; MAX_IO];
        let got = self.posix.pread(self.pid, fd, &mut buf[..len(n)], offset)?;
        Bytes::from_slice(&buf[..got]).map_err(|_| Errno::EIO)
    }
    fn pwrite(&mut self, fd: Fd, data: Bytes<MAX_IO>, offset: u64) -> Result<u32, Errno> {
        self.posix
            .pwrite(self.pid, fd, &data, offset)
            .map(|n| n as u32)
    }
    fn lseek(&mut self, fd: Fd, offset: i64, whence: Whence) -> Result<u64, Errno> {
        self.posix.lseek(self.pid, fd, offset, whence)
    }
    fn fstat(&mut self, fd: Fd) -> Result<Stat, Errno> {
        self.posix.fstat(self.pid, fd)
    }
    fn stat(&mut self, path: Path) -> Result<Stat, Errno> {
        self.posix.stat(&path)
    }
    fn dup(&mut self, fd: Fd) -> Result<Fd, Errno> {
        self.posix.dup(self.pid, fd)
    }
    fn ftruncate(&mut self, fd: Fd, size: u64) -> Result<(), Errno> {
        self.posix.ftruncate(self.pid, fd, size)
    }
    fn fsync(&mut self, fd: Fd) -> Result<(), Errno> {
        self.posix.fsync(self.pid, fd)
    }
    fn mkdir(&mut self, path: Path, mode: u32) -> Result<(), Errno> {
        self.posix.mkdir(&path, mode)
    }
    fn rmdir(&mut self, path: Path) -> Result<(), Errno> {
        self.posix.rmdir(&path)
    }
    fn unlink(&mut self, path: Path) -> Result<(), Errno> {
        self.posix.unlink(&path)
    }
    fn rename(&mut self, from: Path, to: Path) -> Result<(), Errno> {
        self.posix.rename(&from, &to)
    }
    fn opendir(&mut self, path: Path) -> Result<Fd, Errno> {
        self.posix.opendir(self.pid, &path)
    }
    fn readdir(&mut self, fd: Fd) -> Result<Option<DirEnt>, Errno> {
        self.posix.readdir(self.pid, fd)
    }
}
