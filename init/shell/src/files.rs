//! The file commands, over the POSIX layer: `cat`, `echo … > FILE` and
//! `>> FILE`, `rm`, `mv`, `stat`, `touch`, `cp`.
//!
//! They reach the POSIX server through [`FileSystem`] (the calls they
//! use, under their POSIX names), which [`System::files`] hands out; any
//! `posix_core::PosixClient` is one. A failed call prints the command, the
//! path, the `errno` name and its meaning:
//! `cat: /x: ENOENT (no such file or directory)`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use posix_core::{PosixClient, strerror};
use protocols::ipc::Transport;
use protocols::posix::{Errno, Fd, FileType, OpenFlags, Stat};

use crate::session::Flow;
use crate::system::System;

/// The POSIX calls the file commands make.
pub trait FileSystem {
    /// `open(path, flags, mode)`.
    fn open(&mut self, path: &str, flags: OpenFlags, mode: u32) -> Result<Fd, Errno>;
    /// `close(fd)`.
    fn close(&mut self, fd: Fd) -> Result<(), Errno>;
    /// `read(fd, buf)`: 0 at the end.
    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno>;
    /// `write(fd, data)`: all of it.
    fn write(&mut self, fd: Fd, data: &[u8]) -> Result<usize, Errno>;
    /// `fstat(fd)`.
    fn fstat(&mut self, fd: Fd) -> Result<Stat, Errno>;
    /// `ftruncate(fd, size)`.
    fn ftruncate(&mut self, fd: Fd, size: u64) -> Result<(), Errno>;
    /// `stat(path)`.
    fn stat(&mut self, path: &str) -> Result<Stat, Errno>;
    /// `unlink(path)`.
    fn unlink(&mut self, path: &str) -> Result<(), Errno>;
    /// `rename(from, to)`.
    fn rename(&mut self, from: &str, to: &str) -> Result<(), Errno>;
}

impl<T: Transport> FileSystem for PosixClient<T> {
    fn open(&mut self, path: &str, flags: OpenFlags, mode: u32) -> Result<Fd, Errno> {
        PosixClient::open(self, path, flags, mode)
    }
    fn close(&mut self, fd: Fd) -> Result<(), Errno> {
        PosixClient::close(self, fd)
    }
    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        PosixClient::read(self, fd, buf)
    }
    fn write(&mut self, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        PosixClient::write(self, fd, data)
    }
    fn fstat(&mut self, fd: Fd) -> Result<Stat, Errno> {
        PosixClient::fstat(self, fd)
    }
    fn ftruncate(&mut self, fd: Fd, size: u64) -> Result<(), Errno> {
        PosixClient::ftruncate(self, fd, size)
    }
    fn stat(&mut self, path: &str) -> Result<Stat, Errno> {
        PosixClient::stat(self, path)
    }
    fn unlink(&mut self, path: &str) -> Result<(), Errno> {
        PosixClient::unlink(self, path)
    }
    fn rename(&mut self, from: &str, to: &str) -> Result<(), Errno> {
        PosixClient::rename(self, from, to)
    }
}

/// `CMD: PATH: ENAME (meaning)`.
pub fn format_error(cmd: &str, path: &str, e: Errno) -> String {
    let (name, meaning) = strerror(e);
    format!("{cmd}: {path}: {name} ({meaning})\n")
}

/// Where `echo` sends its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The words to print.
    pub words: Vec<String>,
    /// The file.
    pub path: String,
    /// `>>`: append instead of replacing.
    pub append: bool,
}

/// Why an `echo` redirection does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectError {
    /// `>` or `>>` with no file after it.
    MissingFile,
    /// Words after the file.
    TrailingWords,
}

/// Finds a redirection in `echo`'s words: `> FILE` or `>> FILE` as
/// separate words, or glued (`>FILE`, `>>FILE`). `None`: no redirection.
pub fn redirection(args: &[String]) -> Option<Result<Redirect, RedirectError>> {
    let at = args.iter().position(|w| w.starts_with('>'))?;
    let op = &args[at];
    let append = op.starts_with(">>");
    let glued = &op[if append { 2 } else { 1 }..];
    let (path, rest) = if glued.is_empty() {
        match args.get(at + 1) {
            Some(p) => (p.clone(), &args[at + 2..]),
            None => return Some(Err(RedirectError::MissingFile)),
        }
    } else {
        (String::from(glued), &args[at + 1..])
    };
    if !rest.is_empty() {
        return Some(Err(RedirectError::TrailingWords));
    }
    Some(Ok(Redirect {
        words: args[..at].to_vec(),
        path,
        append,
    }))
}

/// `echo WORDS > FILE` / `>> FILE`.
pub fn echo_to(sys: &mut dyn System, r: Result<Redirect, RedirectError>) -> Flow {
    let r = match r {
        Ok(r) => r,
        Err(RedirectError::MissingFile) => {
            sys.write("echo: usage: echo WORDS... > FILE (or >> FILE)\n");
            return Flow::Continue;
        }
        Err(RedirectError::TrailingWords) => {
            sys.write("echo: only one file after > or >>\n");
            return Flow::Continue;
        }
    };
    let line = format!("{}\n", r.words.join(" "));
    let mode = if r.append {
        OpenFlags::O_APPEND
    } else {
        OpenFlags::O_TRUNC
    };
    let flags = OpenFlags::O_WRONLY | OpenFlags::O_CREAT | mode;
    let out = with_fs(sys, "echo", |fs| {
        let fd = fs.open(&r.path, flags, 0o644)?;
        let wrote = fs.write(fd, line.as_bytes()).map(|_| ());
        let closed = fs.close(fd);
        wrote.and(closed)
    });
    finish(sys, "echo", &r.path, out)
}

/// Runs `f` on the file system, or says there is none.
fn with_fs<R>(
    sys: &mut dyn System,
    cmd: &str,
    f: impl FnOnce(&mut dyn FileSystem) -> Result<R, Errno>,
) -> Option<Result<R, Errno>> {
    match sys.files() {
        Some(fs) => Some(f(fs)),
        None => {
            sys.write(&format!("{cmd}: no POSIX server\n"));
            None
        }
    }
}

/// Prints the error of a finished command, if any.
fn finish(sys: &mut dyn System, cmd: &str, path: &str, out: Option<Result<(), Errno>>) -> Flow {
    if let Some(Err(e)) = out {
        sys.write(&format_error(cmd, path, e));
    }
    Flow::Continue
}

/// Reads all of an open file.
fn read_all(fs: &mut dyn FileSystem, fd: Fd) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match fs.read(fd, &mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// `cat FILE...`.
pub fn cat(sys: &mut dyn System, args: &[String]) -> Flow {
    if args.is_empty() {
        sys.write("cat: usage: cat FILE...\n");
    }
    for path in args {
        let out = with_fs(sys, "cat", |fs| {
            let fd = fs.open(path, OpenFlags::O_RDONLY, 0)?;
            let data = read_all(fs, fd);
            let closed = fs.close(fd);
            let data = data?;
            closed.map(|_| data)
        });
        match out {
            None => break,
            Some(Ok(data)) => sys.write(&String::from_utf8_lossy(&data)),
            Some(Err(e)) => sys.write(&format_error("cat", path, e)),
        }
    }
    Flow::Continue
}

/// `rm FILE...`.
pub fn rm(sys: &mut dyn System, args: &[String]) -> Flow {
    if args.is_empty() {
        sys.write("rm: usage: rm FILE...\n");
    }
    for path in args {
        let out = with_fs(sys, "rm", |fs| fs.unlink(path));
        finish(sys, "rm", path, out);
    }
    Flow::Continue
}

/// `mv FROM TO`.
pub fn mv(sys: &mut dyn System, args: &[String]) -> Flow {
    let [from, to] = args else {
        sys.write("mv: usage: mv FROM TO\n");
        return Flow::Continue;
    };
    let out = with_fs(sys, "mv", |fs| fs.rename(from, to));
    finish(sys, "mv", from, out)
}

/// `touch FILE...`: creates a missing file; an existing one gets a new
/// modification time (truncated to the size it has).
pub fn touch(sys: &mut dyn System, args: &[String]) -> Flow {
    if args.is_empty() {
        sys.write("touch: usage: touch FILE...\n");
    }
    for path in args {
        let out = with_fs(sys, "touch", |fs| {
            let fd = fs.open(path, OpenFlags::O_WRONLY | OpenFlags::O_CREAT, 0o644)?;
            let done = fs.fstat(fd).and_then(|st| fs.ftruncate(fd, st.size));
            let closed = fs.close(fd);
            done.and(closed)
        });
        finish(sys, "touch", path, out);
    }
    Flow::Continue
}

/// `cp FROM TO`: copies a file's bytes, replacing `TO`.
pub fn cp(sys: &mut dyn System, args: &[String]) -> Flow {
    let [from, to] = args else {
        sys.write("cp: usage: cp FROM TO\n");
        return Flow::Continue;
    };
    let mut failed_path = from;
    let out = with_fs(sys, "cp", |fs| {
        let src = fs.open(from, OpenFlags::O_RDONLY, 0)?;
        let data = read_all(fs, src);
        let closed = fs.close(src);
        let data = data?;
        closed?;
        failed_path = to;
        let flags = OpenFlags::O_WRONLY | OpenFlags::O_CREAT | OpenFlags::O_TRUNC;
        let dst = fs.open(to, flags, 0o644)?;
        let wrote = fs.write(dst, &data).map(|_| ());
        let closed = fs.close(dst);
        wrote.and(closed)
    });
    finish(sys, "cp", failed_path, out)
}

/// `stat PATH`.
pub fn stat(sys: &mut dyn System, args: &[String]) -> Flow {
    if args.is_empty() {
        sys.write("stat: usage: stat PATH...\n");
    }
    for path in args {
        match with_fs(sys, "stat", |fs| fs.stat(path)) {
            None => break,
            Some(Ok(st)) => sys.write(&format_stat(path, &st)),
            Some(Err(e)) => sys.write(&format_error("stat", path, e)),
        }
    }
    Flow::Continue
}

/// What `stat` prints.
pub fn format_stat(path: &str, st: &Stat) -> String {
    let kind = match st.kind {
        FileType::Regular => "regular file",
        FileType::Directory => "directory",
    };
    format!(
        "  file: {path}\n  type: {kind}\n  size: {}\nobject: {}\n links: {}\naccess: {} ns\nmodify: {} ns\nchange: {} ns\n",
        st.size, st.id, st.nlink, st.atime, st.mtime, st.ctime
    )
}

#[cfg(test)]
mod tests;
