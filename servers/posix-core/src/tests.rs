//! Behaviour checks in the spirit of pjdfstest, over the real hierarchical
//! resolver and in-memory file objects.

use std::vec::Vec;

use hierarchical::Hierarchy;
use nomenclature::{ResolverService, SeqIds};
use protocols::ipc::Loopback;
use protocols::posix::{self, Errno, FileType, OpenFlags, Whence};
use store::VecPmem;

use super::*;

type Names = ResolverService<Hierarchy, VecPmem, SeqIds>;
type Fs = Posix<Names, MemFiles, TickClock>;

const P: Pid = 1;
const Q: Pid = 2;
const RDONLY: OpenFlags = OpenFlags::O_RDONLY;
const WRONLY: OpenFlags = OpenFlags::O_WRONLY;
const RDWR: OpenFlags = OpenFlags::O_RDWR;
const CREAT: OpenFlags = OpenFlags::O_CREAT;
const EXCL: OpenFlags = OpenFlags::O_EXCL;
const TRUNC: OpenFlags = OpenFlags::O_TRUNC;
const APPEND: OpenFlags = OpenFlags::O_APPEND;

fn fs() -> Fs {
    let names = Names::open(VecPmem::new(256 * 1024), SeqIds(0xd000)).unwrap();
    Posix::new(names, MemFiles::default(), TickClock(0))
}

fn put(fs: &mut Fs, path: &str, data: &[u8]) {
    let fd = fs.open(P, path, WRONLY | CREAT | TRUNC, 0o644).unwrap();
    assert_eq!(fs.write(P, fd, data), Ok(data.len()));
    fs.close(P, fd).unwrap();
}

fn get(fs: &mut Fs, path: &str) -> Vec<u8> {
    let fd = fs.open(P, path, RDONLY, 0).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = fs.read(P, fd, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    fs.close(P, fd).unwrap();
    out
}

fn names(fs: &mut Fs, dir: &str) -> Vec<std::string::String> {
    let fd = fs.opendir(P, dir).unwrap();
    let mut out = Vec::new();
    while let Some(e) = fs.readdir(P, fd).unwrap() {
        out.push(e.name.as_str().into());
    }
    fs.close(P, fd).unwrap();
    out
}

#[test]
fn open_reports_the_errno_a_posix_system_does() {
    let mut fs = fs();
    assert_eq!(fs.open(P, "/missing", RDONLY, 0), Err(Errno::ENOENT));
    assert_eq!(fs.open(P, "/no/dir/f", RDWR | CREAT, 0), Err(Errno::ENOENT));
    assert_eq!(fs.open(P, "", RDONLY, 0), Err(Errno::ENOENT));
    put(&mut fs, "/f", b"x");
    assert_eq!(fs.open(P, "/f", RDWR | CREAT | EXCL, 0), Err(Errno::EEXIST));
    assert_eq!(fs.open(P, "/f/g", RDONLY, 0), Err(Errno::ENOTDIR));
    assert_eq!(
        fs.open(P, "/f", RDONLY | OpenFlags::O_DIRECTORY, 0),
        Err(Errno::ENOTDIR)
    );
    fs.mkdir("/d", 0o755).unwrap();
    assert_eq!(fs.open(P, "/d", WRONLY, 0), Err(Errno::EISDIR));
    assert_eq!(fs.open(P, "/d", RDWR | CREAT | EXCL, 0), Err(Errno::EEXIST));
    assert_eq!(fs.open(P, "/f", OpenFlags(3), 0), Err(Errno::EINVAL));
    assert_eq!(fs.open(P, "/f", OpenFlags(0o4000), 0), Err(Errno::EINVAL));
    assert_eq!(
        fs.open(P, &"/x".repeat(200), RDONLY, 0),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        fs.open(P, "f", RDONLY, 0),
        Ok(0),
        "relative paths are from /"
    );
    assert_eq!(fs.read(P, 9, &mut [0; 4]), Err(Errno::EBADF));
    assert_eq!(
        fs.read(Q, 0, &mut [0; 4]),
        Err(Errno::EBADF),
        "tables are per program"
    );
    assert_eq!(fs.write(P, 0, b"no"), Err(Errno::EBADF), "read-only");
    let w = fs.open(P, "/f", WRONLY, 0).unwrap();
    assert_eq!(fs.read(P, w, &mut [0; 4]), Err(Errno::EBADF), "write-only");
    let d = fs.opendir(P, "/d").unwrap();
    assert_eq!(fs.read(P, d, &mut [0; 4]), Err(Errno::EISDIR));
    assert_eq!(fs.readdir(P, w), Err(Errno::ENOTDIR));
}

#[test]
fn descriptors_follow_the_lowest_free_rule_and_dup_shares_the_offset() {
    let mut fs = fs();
    put(&mut fs, "/f", b"0123456789");
    let a = fs.open(P, "/f", RDONLY, 0).unwrap();
    let b = fs.open(P, "/f", RDONLY, 0).unwrap();
    let c = fs.open(P, "/f", RDONLY, 0).unwrap();
    assert_eq!((a, b, c), (0, 1, 2));
    fs.close(P, b).unwrap();
    assert_eq!(fs.close(P, b), Err(Errno::EBADF));
    let d = fs.dup(P, a).unwrap();
    assert_eq!(d, 1, "dup takes the lowest free descriptor");
    let mut buf = [0u8; 4];
    fs.read(P, a, &mut buf).unwrap();
    assert_eq!(&buf, b"0123");
    fs.read(P, d, &mut buf).unwrap();
    assert_eq!(&buf, b"4567", "dup shares the offset");
    fs.close(P, a).unwrap();
    fs.read(P, d, &mut buf[..2]).unwrap();
    assert_eq!(
        &buf[..2],
        b"89",
        "the description lives while a descriptor does"
    );
    assert_eq!(
        fs.open(Q, "/f", RDONLY, 0),
        Ok(0),
        "another program starts at 0"
    );
    assert_eq!(fs.dup(P, 7), Err(Errno::EBADF));
    fs.exit(P);
    fs.exit(Q);
    assert_eq!(fs.open_descriptions(), 0);
}

#[test]
fn lseek_past_the_end_then_write_leaves_a_hole_of_zeros() {
    let mut fs = fs();
    let fd = fs.open(P, "/hole", RDWR | CREAT, 0).unwrap();
    fs.write(P, fd, b"ab").unwrap();
    assert_eq!(fs.lseek(P, fd, 10, Whence::End), Ok(12));
    fs.write(P, fd, b"cd").unwrap();
    assert_eq!(fs.fstat(P, fd).unwrap().size, 14);
    let mut buf = [0xffu8; 14];
    assert_eq!(fs.pread(P, fd, &mut buf, 0), Ok(14));
    assert_eq!(&buf, b"ab\0\0\0\0\0\0\0\0\0\0cd");
    assert_eq!(fs.lseek(P, fd, -4, Whence::Cur), Ok(10));
    assert_eq!(fs.lseek(P, fd, 0, Whence::Set), Ok(0));
    assert_eq!(fs.lseek(P, fd, -1, Whence::Set), Err(Errno::EINVAL));
    assert_eq!(
        fs.lseek(P, fd, i64::MAX, Whence::End),
        Err(Errno::EOVERFLOW)
    );
    assert_eq!(fs.pread(P, fd, &mut buf, 100), Ok(0), "past the end: EOF");
    assert_eq!(fs.pwrite(P, fd, b"Z", 1), Ok(1));
    assert_eq!(
        fs.lseek(P, fd, 0, Whence::Cur),
        Ok(0),
        "pread/pwrite leave the offset"
    );
    assert_eq!(get(&mut fs, "/hole")[..2], *b"aZ");
    fs.ftruncate(P, fd, 1).unwrap();
    assert_eq!(get(&mut fs, "/hole"), b"a");
    fs.ftruncate(P, fd, 3).unwrap();
    assert_eq!(get(&mut fs, "/hole"), b"a\0\0");
    let r = fs.open(P, "/hole", RDONLY, 0).unwrap();
    assert_eq!(fs.ftruncate(P, r, 0), Err(Errno::EINVAL));
    assert_eq!(fs.fsync(P, fd), Ok(()));
    assert_eq!(fs.files().syncs, 1);
}

#[test]
fn o_append_from_two_descriptors_never_overwrites() {
    let mut fs = fs();
    put(&mut fs, "/log", b"");
    let a = fs.open(P, "/log", WRONLY | APPEND, 0).unwrap();
    let b = fs.open(Q, "/log", WRONLY | APPEND, 0).unwrap();
    fs.write(P, a, b"one\n").unwrap();
    fs.write(Q, b, b"two\n").unwrap();
    fs.write(P, a, b"three\n").unwrap();
    assert_eq!(fs.lseek(P, a, 0, Whence::Set), Ok(0));
    fs.write(P, a, b"four\n").unwrap();
    assert_eq!(get(&mut fs, "/log"), b"one\ntwo\nthree\nfour\n");
    // Without O_APPEND, a second descriptor writes over.
    let c = fs.open(P, "/log", WRONLY, 0).unwrap();
    fs.write(P, c, b"ONE").unwrap();
    assert_eq!(&get(&mut fs, "/log")[..5], b"ONE\nt");
    // O_TRUNC empties.
    let t = fs.open(P, "/log", WRONLY | TRUNC, 0).unwrap();
    fs.close(P, t).unwrap();
    assert_eq!(fs.stat("/log").unwrap().size, 0);
}

#[test]
fn unlink_rmdir_and_rename_give_the_errors_of_a_file_system() {
    let mut fs = fs();
    fs.mkdir("/d", 0).unwrap();
    assert_eq!(fs.mkdir("/d", 0), Err(Errno::EEXIST));
    assert_eq!(fs.mkdir("/x/y", 0), Err(Errno::ENOENT));
    put(&mut fs, "/d/f", b"data");
    assert_eq!(fs.unlink("/d"), Err(Errno::EISDIR));
    assert_eq!(fs.rmdir("/d"), Err(Errno::ENOTEMPTY));
    assert_eq!(fs.rmdir("/d/f"), Err(Errno::ENOTDIR));
    assert_eq!(fs.rmdir("/"), Err(Errno::EBUSY));
    assert_eq!(fs.unlink("/d/nope"), Err(Errno::ENOENT));
    assert_eq!(fs.mkdir("/d/f/g", 0), Err(Errno::ENOTDIR));
    // rename over an existing file replaces it (and frees the old one).
    put(&mut fs, "/g", b"new");
    let before = fs.files().count();
    fs.rename("/g", "/d/f").unwrap();
    assert_eq!(get(&mut fs, "/d/f"), b"new");
    assert_eq!(fs.stat("/g"), Err(Errno::ENOENT));
    assert_eq!(
        fs.files().count(),
        before - 1,
        "the replaced file is deleted"
    );
    fs.mkdir("/e", 0).unwrap();
    assert_eq!(fs.rename("/d/f", "/e"), Err(Errno::EISDIR));
    assert_eq!(fs.rename("/e", "/d/f"), Err(Errno::ENOTDIR));
    assert_eq!(fs.rename("/e", "/d"), Err(Errno::ENOTEMPTY));
    assert_eq!(fs.rename("/d", "/d/sub"), Err(Errno::EINVAL));
    assert_eq!(fs.rename("/nope", "/x"), Err(Errno::ENOENT));
    fs.rename("/d", "/e").unwrap();
    assert_eq!(get(&mut fs, "/e/f"), b"new");
    fs.unlink("/e/f").unwrap();
    fs.rmdir("/e").unwrap();
    assert_eq!(fs.stat("/e"), Err(Errno::ENOENT));
    assert_eq!(fs.files().count(), 0);
}

#[test]
fn a_file_unlinked_while_open_lives_until_its_last_close() {
    let mut fs = fs();
    put(&mut fs, "/tmp", b"still here");
    let fd = fs.open(P, "/tmp", RDONLY, 0).unwrap();
    fs.unlink("/tmp").unwrap();
    assert_eq!(fs.stat("/tmp"), Err(Errno::ENOENT));
    let mut buf = [0u8; 10];
    assert_eq!(fs.read(P, fd, &mut buf), Ok(10));
    assert_eq!(&buf, b"still here");
    assert_eq!(fs.files().count(), 1);
    fs.close(P, fd).unwrap();
    assert_eq!(fs.files().count(), 0);
}

#[test]
fn readdir_lists_what_create_and_unlink_left() {
    let mut fs = fs();
    fs.mkdir("/dir", 0).unwrap();
    assert!(names(&mut fs, "/dir").is_empty());
    for n in ["c", "a", "b"] {
        put(&mut fs, &std::format!("/dir/{n}"), b"");
    }
    fs.mkdir("/dir/sub", 0).unwrap();
    assert_eq!(names(&mut fs, "/dir"), ["a", "b", "c", "sub"]);
    fs.unlink("/dir/b").unwrap();
    assert_eq!(names(&mut fs, "/dir"), ["a", "c", "sub"]);
    let fd = fs.opendir(P, "/dir").unwrap();
    let first = fs.readdir(P, fd).unwrap().unwrap();
    assert_eq!((first.name.as_str(), first.kind), ("a", FileType::Regular));
    let st = fs.fstat(P, fd).unwrap();
    assert_eq!((st.kind, st.size), (FileType::Directory, 3));
    assert_eq!(fs.opendir(P, "/dir/a"), Err(Errno::ENOTDIR));
    assert_eq!(fs.opendir(P, "/none"), Err(Errno::ENOENT));
}

#[test]
fn stat_reports_type_size_and_times() {
    let mut fs = fs();
    put(&mut fs, "/f", b"hello");
    let s1 = fs.stat("/f").unwrap();
    assert_eq!((s1.kind, s1.size, s1.nlink), (FileType::Regular, 5, 1));
    assert!(s1.mtime >= s1.ctime.min(s1.mtime) && s1.mtime > 0);
    let fd = fs.open(P, "/f", RDWR, 0).unwrap();
    fs.read(P, fd, &mut [0; 1]).unwrap();
    let s2 = fs.fstat(P, fd).unwrap();
    assert!(
        s2.atime > s1.atime && s2.mtime == s1.mtime,
        "read: atime only"
    );
    fs.write(P, fd, b"J").unwrap();
    let s3 = fs.fstat(P, fd).unwrap();
    assert!(
        s3.mtime > s2.mtime && s3.ctime == s3.mtime,
        "write: mtime and ctime"
    );
    assert_eq!(fs.stat("/").unwrap().kind, FileType::Directory);
    assert_eq!(fs.fstat(P, 99), Err(Errno::EBADF));
}

#[test]
fn files_are_intact_after_the_namespace_restarts() {
    let mut fs = fs();
    fs.mkdir("/home", 0).unwrap();
    put(&mut fs, "/home/notes", b"remember");
    let Posix { names, files, .. } = fs;
    let names = Names::open(names.into_pmem(), SeqIds(0xe000)).unwrap();
    let mut fs = Posix::new(names, files, TickClock(100));
    assert_eq!(get(&mut fs, "/home/notes"), b"remember");
    assert_eq!(names_of_root(&mut fs), ["home"]);
}

fn names_of_root(fs: &mut Fs) -> Vec<std::string::String> {
    names(fs, "/")
}

/// A tiny `wc`-style program written against the client library as a C
/// programmer would: open, read until 0, close.
fn wc<T: protocols::ipc::Transport>(
    c: &mut PosixClient<T>,
    path: &str,
) -> Result<(u64, u64), Errno> {
    let fd = c.open(path, RDONLY, 0)?;
    let (mut bytes, mut lines) = (0, 0);
    let mut buf = [0u8; 100];
    loop {
        let n = c.read(fd, &mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    c.close(fd)?;
    Ok((bytes, lines))
}

#[test]
fn a_posix_program_runs_over_the_interface() {
    let mut fs = fs();
    let session = Session {
        posix: &mut fs,
        pid: 7,
    };
    let mut c = PosixClient::new(Loopback::new(posix::Service(session)));
    let fd = c.open("/poem", WRONLY | CREAT, 0o644).unwrap();
    let text = b"line\n".repeat(1000);
    assert_eq!(c.write(fd, &text), Ok(5000), "more than one message");
    c.close(fd).unwrap();
    assert_eq!(wc(&mut c, "/poem"), Ok((5000, 1000)));
    assert_eq!(wc(&mut c, "/nope"), Err(Errno::ENOENT));
    assert_eq!(c.unlink("/"), Err(Errno::EISDIR));
    assert_eq!(c.stat(&"/a".repeat(200)), Err(Errno::ENAMETOOLONG));
    c.mkdir("/d", 0).unwrap();
    c.rename("/poem", "/d/poem").unwrap();
    let d = c.opendir("/d").unwrap();
    assert_eq!(c.readdir(d).unwrap().unwrap().name.as_str(), "poem");
    assert_eq!(c.readdir(d), Ok(None));
    let f = c.open("/d/poem", RDWR, 0).unwrap();
    assert_eq!(c.dup(f), Ok(f + 1));
    assert_eq!(c.pwrite(f, b"LINE", 0), Ok(4));
    let mut head = [0u8; 6];
    assert_eq!(c.pread(f, &mut head, 0), Ok(6));
    assert_eq!(&head, b"LINE\nl");
    assert_eq!(c.lseek(f, 0, Whence::End), Ok(5000));
    c.ftruncate(f, 10).unwrap();
    assert_eq!(c.fstat(f).unwrap().size, 10);
    c.fsync(f).unwrap();
    c.unlink("/d/poem").unwrap();
    assert_eq!(c.rmdir("/d"), Ok(()));
}

#[test]
fn a_sweep_closes_what_ended_programs_left_open() {
    let mut fs = fs();
    put(&mut fs, "/f", b"kept open");
    let q = fs.open(Q, "/f", RDONLY, 0).unwrap();
    let p = fs.open(P, "/f", RDONLY, 0).unwrap();
    // Unlinked while open: the object lives until the last close.
    fs.unlink("/f").unwrap();
    assert_eq!(fs.files().count(), 1);
    // Q ended without closing; P still runs.
    assert_eq!(fs.sweep(|pid| pid == P), 1);
    assert!(!fs.has_table(Q) && fs.has_table(P));
    assert_eq!(fs.read(Q, q, &mut [0; 4]), Err(Errno::EBADF));
    assert_eq!(fs.files().count(), 1, "P's descriptor keeps the file");
    assert_eq!(fs.read(P, p, &mut [0; 4]), Ok(4));
    // Then P ends too: the last descriptor goes, and the file with it.
    assert_eq!(fs.sweep(|_| false), 1);
    assert_eq!(fs.files().count(), 0);
    assert_eq!(fs.sweep(|_| false), 0);
}
