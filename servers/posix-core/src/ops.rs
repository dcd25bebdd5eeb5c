//! The POSIX calls: decode-and-check first, then change state.

use alloc::vec::Vec;

use protocols::object::ObjId;
use protocols::posix::{DirEnt, Errno, Fd, FileType, OpenFlags, Stat, Whence};
use protocols::resolver::{EntryKind, Name, Server};

use crate::{Clock, Description, Files, Pid, Posix, errno, path_name};

fn file_type(k: EntryKind) -> FileType {
    match k {
        EntryKind::Object => FileType::Regular,
        EntryKind::Directory => FileType::Directory,
    }
}

impl<N: Server, F: Files, C: Clock> Posix<N, F, C> {
    fn desc(&self, pid: Pid, fd: Fd) -> Result<u64, Errno> {
        self.tables.get(&pid).ok_or(Errno::EBADF)?.get(fd)
    }

    fn description(&mut self, pid: Pid, fd: Fd) -> Result<&mut Description, Errno> {
        let d = self.desc(pid, fd)?;
        self.descs.get_mut(&d).ok_or(Errno::EBADF)
    }

    fn lookup(&mut self, name: &Name) -> Result<(ObjId, EntryKind), Errno> {
        let r = self.names.resolve(name.clone()).map_err(errno)?;
        Ok((r.id, r.kind))
    }

    /// Gives `pid` the lowest free descriptor for a new description.
    fn install(&mut self, pid: Pid, d: Description) -> Result<Fd, Errno> {
        let n = self.next_desc;
        let id = d.id;
        let fd = self.tables.entry(pid).or_default().insert(n)?;
        self.next_desc += 1;
        self.descs.insert(n, d);
        *self.open.entry(id).or_default() += 1;
        Ok(fd)
    }

    /// Deletes file `id` now, or at its last close if it is open.
    fn release(&mut self, id: ObjId) -> Result<(), Errno> {
        if self.open.contains_key(&id) {
            self.orphans.insert(id);
            Ok(())
        } else {
            self.files.delete(id)
        }
    }

    fn touch(&mut self, id: ObjId, access: bool, modify: bool) -> Result<(), Errno> {
        let now = self.clock.now();
        let m = self.files.meta(id)?;
        let a = if access { now } else { m.atime };
        let (mt, ct) = if modify {
            (now, now)
        } else {
            (m.mtime, m.ctime)
        };
        self.files.set_times(id, a, mt, ct)
    }

    /// `open(path, flags, mode)`: returns the lowest free descriptor.
    pub fn open(
        &mut self,
        pid: Pid,
        path: &str,
        flags: OpenFlags,
        _mode: u32,
    ) -> Result<Fd, Errno> {
        if flags.0 & !OpenFlags::KNOWN != 0 || flags.0 & OpenFlags::O_ACCMODE == 3 {
            return Err(Errno::EINVAL);
        }
        let name = path_name(path)?;
        let (id, kind) = match self.lookup(&name) {
            Ok((id, kind)) => {
                if flags.has(OpenFlags::O_CREAT | OpenFlags::O_EXCL) {
                    return Err(Errno::EEXIST);
                }
                if kind == EntryKind::Directory
                    && (flags.writable() || flags.has(OpenFlags::O_TRUNC))
                {
                    return Err(Errno::EISDIR);
                }
                if kind == EntryKind::Object && flags.has(OpenFlags::O_DIRECTORY) {
                    return Err(Errno::ENOTDIR);
                }
                if kind == EntryKind::Object && flags.has(OpenFlags::O_TRUNC) && flags.writable() {
                    self.files.truncate(id, 0)?;
                    self.touch(id, false, true)?;
                }
                (id, kind)
            }
            Err(Errno::ENOENT) if flags.has(OpenFlags::O_CREAT) => {
                if flags.has(OpenFlags::O_DIRECTORY) {
                    return Err(Errno::EINVAL);
                }
                let now = self.clock.now();
                let id = self.files.create(now)?;
                if let Err(e) = self.names.bind(name.clone(), id, EntryKind::Object) {
                    // Not named: not created.
                    let _ = self.files.delete(id);
                    return Err(errno(e));
                }
                (id, EntryKind::Object)
            }
            Err(e) => return Err(e),
        };
        let d = Description {
            id,
            kind: file_type(kind),
            flags,
            offset: 0,
            refs: 1,
            path: name,
        };
        self.install(pid, d)
    }

    /// `close(fd)`.
    pub fn close(&mut self, pid: Pid, fd: Fd) -> Result<(), Errno> {
        let t = self.tables.get_mut(&pid).ok_or(Errno::EBADF)?;
        let n = t.remove(fd)?;
        if t.descriptions().next().is_none() {
            self.tables.remove(&pid);
        }
        let d = self.descs.get_mut(&n).ok_or(Errno::EBADF)?;
        d.refs = d.refs.saturating_sub(1);
        if d.refs > 0 {
            return Ok(());
        }
        let id = d.id;
        self.descs.remove(&n);
        let count = self.open.entry(id).or_default();
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.open.remove(&id);
            if self.orphans.remove(&id) {
                self.files.delete(id)?;
            }
        }
        Ok(())
    }

    /// Whether `pid` holds descriptors.
    pub fn has_table(&self, pid: Pid) -> bool {
        self.tables.contains_key(&pid)
    }

    /// Closes every descriptor of each program holding some that `alive`
    /// says has ended: nothing tells the server when a client exits, so it
    /// asks when a program without descriptors calls (see the server's
    /// handler). Returns how many programs' tables were closed.
    pub fn sweep(&mut self, alive: impl Fn(Pid) -> bool) -> usize {
        let gone: Vec<Pid> = self.tables.keys().copied().filter(|&p| !alive(p)).collect();
        for &pid in &gone {
            self.exit(pid);
        }
        gone.len()
    }

    /// Closes every descriptor of `pid` (the program exited).
    pub fn exit(&mut self, pid: Pid) {
        let fds: Vec<Fd> = self
            .tables
            .get(&pid)
            .map(|t| t.fds().collect())
            .unwrap_or_default();
        for fd in fds {
            let _ = self.close(pid, fd);
        }
        self.tables.remove(&pid);
    }

    /// `dup(fd)`: the lowest free descriptor, sharing `fd`'s offset.
    pub fn dup(&mut self, pid: Pid, fd: Fd) -> Result<Fd, Errno> {
        let n = self.desc(pid, fd)?;
        let new = self.tables.entry(pid).or_default().insert(n)?;
        if let Some(d) = self.descs.get_mut(&n) {
            d.refs += 1;
        }
        Ok(new)
    }

    fn readable_file(&mut self, pid: Pid, fd: Fd) -> Result<(ObjId, u64), Errno> {
        let d = self.description(pid, fd)?;
        if d.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        if !d.flags.readable() {
            return Err(Errno::EBADF);
        }
        Ok((d.id, d.offset))
    }

    fn writable_file(&mut self, pid: Pid, fd: Fd) -> Result<(ObjId, u64, bool), Errno> {
        let d = self.description(pid, fd)?;
        if d.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        if !d.flags.writable() {
            return Err(Errno::EBADF);
        }
        Ok((d.id, d.offset, d.flags.has(OpenFlags::O_APPEND)))
    }

    /// `read(fd, buf)`: reads at the offset and advances it.
    pub fn read(&mut self, pid: Pid, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        let (id, off) = self.readable_file(pid, fd)?;
        let n = self.files.read(id, off, buf)?;
        self.touch(id, true, false)?;
        self.description(pid, fd)?.offset = off + n as u64;
        Ok(n)
    }

    /// `pread(fd, buf, offset)`: the offset does not move.
    pub fn pread(&mut self, pid: Pid, fd: Fd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let (id, _) = self.readable_file(pid, fd)?;
        let n = self.files.read(id, offset, buf)?;
        self.touch(id, true, false)?;
        Ok(n)
    }

    /// `write(fd, data)`: at the offset (the end with `O_APPEND`), which
    /// then points past the data.
    pub fn write(&mut self, pid: Pid, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        let (id, mut off, append) = self.writable_file(pid, fd)?;
        if append {
            off = self.files.meta(id)?.size;
        }
        self.files.write(id, off, data)?;
        self.touch(id, false, true)?;
        self.description(pid, fd)?.offset = off + data.len() as u64;
        Ok(data.len())
    }

    /// `pwrite(fd, data, offset)`: the offset does not move.
    pub fn pwrite(&mut self, pid: Pid, fd: Fd, data: &[u8], offset: u64) -> Result<usize, Errno> {
        let (id, _, append) = self.writable_file(pid, fd)?;
        let off = if append {
            self.files.meta(id)?.size
        } else {
            offset
        };
        self.files.write(id, off, data)?;
        self.touch(id, false, true)?;
        Ok(data.len())
    }

    /// `lseek(fd, offset, whence)`: the new offset (past the end is fine).
    pub fn lseek(&mut self, pid: Pid, fd: Fd, offset: i64, whence: Whence) -> Result<u64, Errno> {
        let d = self.description(pid, fd)?;
        let (id, cur, kind) = (d.id, d.offset, d.kind);
        let base = match whence {
            Whence::Set => 0,
            Whence::Cur => cur,
            Whence::End if kind == FileType::Directory => return Err(Errno::EINVAL),
            Whence::End => self.files.meta(id)?.size,
        };
        let new = i128::from(base) + i128::from(offset);
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        let new = u64::try_from(new)
            .ok()
            .filter(|&n| n <= i64::MAX as u64)
            .ok_or(Errno::EOVERFLOW)?;
        self.description(pid, fd)?.offset = new;
        Ok(new)
    }

    fn stat_of(&mut self, id: ObjId, kind: EntryKind, path: &Name) -> Result<Stat, Errno> {
        match kind {
            EntryKind::Object => {
                let m = self.files.meta(id)?;
                Ok(Stat {
                    id,
                    kind: FileType::Regular,
                    size: m.size,
                    atime: m.atime,
                    mtime: m.mtime,
                    ctime: m.ctime,
                    nlink: 1,
                })
            }
            EntryKind::Directory => {
                let mut size = 0u64;
                let mut cursor = Some(0);
                while let Some(c) = cursor {
                    let page = self.names.list(path.clone(), c).map_err(errno)?;
                    size += page.entries.len() as u64;
                    cursor = page.next;
                }
                Ok(Stat {
                    id,
                    kind: FileType::Directory,
                    size,
                    atime: 0,
                    mtime: 0,
                    ctime: 0,
                    nlink: 2,
                })
            }
        }
    }

    /// `fstat(fd)`.
    pub fn fstat(&mut self, pid: Pid, fd: Fd) -> Result<Stat, Errno> {
        let d = self.description(pid, fd)?;
        let (id, path) = (d.id, d.path.clone());
        let kind = match d.kind {
            FileType::Regular => EntryKind::Object,
            FileType::Directory => EntryKind::Directory,
        };
        self.stat_of(id, kind, &path)
    }

    /// `stat(path)`.
    pub fn stat(&mut self, path: &str) -> Result<Stat, Errno> {
        let name = path_name(path)?;
        let (id, kind) = self.lookup(&name)?;
        self.stat_of(id, kind, &name)
    }

    /// `ftruncate(fd, size)`: `EINVAL` unless open for writing.
    pub fn ftruncate(&mut self, pid: Pid, fd: Fd, size: u64) -> Result<(), Errno> {
        let (id, _, _) = self.writable_file(pid, fd).map_err(|e| match e {
            Errno::EBADF if self.desc(pid, fd).is_ok() => Errno::EINVAL,
            Errno::EISDIR => Errno::EINVAL,
            e => e,
        })?;
        self.files.truncate(id, size)?;
        self.touch(id, false, true)
    }

    /// `fsync(fd)`.
    pub fn fsync(&mut self, pid: Pid, fd: Fd) -> Result<(), Errno> {
        let d = self.description(pid, fd)?;
        let (id, kind) = (d.id, d.kind);
        match kind {
            // A directory's bindings are durable when the resolver answers.
            FileType::Directory => Ok(()),
            FileType::Regular => self.files.sync(id),
        }
    }

    /// `mkdir(path, mode)`.
    pub fn mkdir(&mut self, path: &str, _mode: u32) -> Result<(), Errno> {
        let name = path_name(path)?;
        self.names.mkdir(name).map(|_| ()).map_err(errno)
    }

    /// `rmdir(path)`.
    pub fn rmdir(&mut self, path: &str) -> Result<(), Errno> {
        let name = path_name(path)?;
        let (_, kind) = self.lookup(&name)?;
        if kind != EntryKind::Directory {
            return Err(Errno::ENOTDIR);
        }
        if name.trim_end_matches('/').is_empty() {
            return Err(Errno::EBUSY);
        }
        self.names.unbind(name).map(|_| ()).map_err(errno)
    }

    /// `unlink(path)`: `EISDIR` for a directory (Linux).
    pub fn unlink(&mut self, path: &str) -> Result<(), Errno> {
        let name = path_name(path)?;
        let (_, kind) = self.lookup(&name)?;
        if kind == EntryKind::Directory {
            return Err(Errno::EISDIR);
        }
        let r = self.names.unbind(name).map_err(errno)?;
        self.release(r.id)
    }

    /// `rename(from, to)`: replaces a file, or an empty directory with a
    /// directory.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), Errno> {
        let (from, to) = (path_name(from)?, path_name(to)?);
        let replaced_kind = self.lookup(&to).ok().map(|(_, k)| k);
        let replaced = self.names.rename(from, to).map_err(errno)?;
        if !replaced.is_nil() && replaced_kind == Some(EntryKind::Object) {
            self.release(replaced)?;
        }
        Ok(())
    }

    /// `opendir(path)`: a descriptor for `readdir`.
    pub fn opendir(&mut self, pid: Pid, path: &str) -> Result<Fd, Errno> {
        self.open(pid, path, OpenFlags::O_RDONLY | OpenFlags::O_DIRECTORY, 0)
    }

    /// `readdir(fd)`: the next entry (`None` at the end).
    pub fn readdir(&mut self, pid: Pid, fd: Fd) -> Result<Option<DirEnt>, Errno> {
        let d = self.description(pid, fd)?;
        if d.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let (path, cursor) = (d.path.clone(), d.offset);
        let page = self.names.list(path, cursor).map_err(errno)?;
        let Some(e) = page.entries.first() else {
            return Ok(None);
        };
        let ent = DirEnt {
            name: e.name.as_str().try_into().map_err(|_| Errno::EIO)?,
            kind: file_type(e.kind),
            id: e.id,
        };
        self.description(pid, fd)?.offset = cursor + 1;
        Ok(Some(ent))
    }
}
