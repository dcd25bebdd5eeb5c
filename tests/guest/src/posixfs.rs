//! `posix`: the POSIX layer through its server, in the spirit of
//! pjdfstest — the `errno` of each failure POSIX defines, holes, appends
//! from two descriptors, directory listings, and that each program has its
//! own descriptor table. Every test works in a fresh directory.
//!
//! `posix-persist write` and `posix-persist check` are the two halves of
//! the reboot test: the first leaves files behind, the second (after a
//! reboot on the same NVDIMM) checks every byte of them.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use posix::{Client, Errno, FileType, OpenFlags, Whence};
use runtime::{println, sys};

use crate::ensure;
use crate::report::{Outcome, Report};

/// How long the group waits for the POSIX server.
const CONNECT_MS: u64 = 30_000;

const RDONLY: OpenFlags = OpenFlags::O_RDONLY;
const WRONLY: OpenFlags = OpenFlags::O_WRONLY;
const RDWR: OpenFlags = OpenFlags::O_RDWR;
const CREAT: OpenFlags = OpenFlags::O_CREAT;
const EXCL: OpenFlags = OpenFlags::O_EXCL;
const TRUNC: OpenFlags = OpenFlags::O_TRUNC;
const APPEND: OpenFlags = OpenFlags::O_APPEND;

fn err(e: impl core::fmt::Debug) -> String {
    format!("{e:?}")
}

/// One test: the client and its fresh directory.
type Test = fn(&mut Client, &str) -> Outcome;

/// The group's tests, in order.
const TESTS: &[(&str, Test)] = &[
    ("posix: a missing file is ENOENT", enoent),
    ("posix: O_CREAT|O_EXCL on an existing file is EEXIST", excl),
    (
        "posix: rename over an existing file replaces it",
        rename_over,
    ),
    ("posix: unlink of a directory is EISDIR", unlink_dir),
    (
        "posix: rmdir of a non-empty directory is ENOTEMPTY",
        rmdir_full,
    ),
    (
        "posix: lseek past the end then write leaves a hole of zeros",
        hole,
    ),
    (
        "posix: O_APPEND from two descriptors never overwrites",
        append,
    ),
    ("posix: readdir lists what create and unlink left", readdir),
    (
        "posix: dup shares the offset; close frees the lowest fd",
        dup,
    ),
    (
        "posix: 20 KiB written in one call reads back identical",
        large,
    ),
    ("posix: each program has its own descriptor table", tables),
    (
        "posix: a program's descriptors close when it ends without closing",
        ended,
    ),
];

/// Runs the group.
pub fn run() -> u64 {
    let mut r = Report::default();
    let mut c = match posix::connect(CONNECT_MS) {
        Ok(c) => c,
        Err(e) => {
            r.test("posix: connect to the POSIX server", || Err(err(e)));
            return r.finish();
        }
    };
    let base = format!("/utest-{:08x}", utest::objsetup::random_u64() as u32);
    if let Err(e) = c.mkdir(&base, 0o755) {
        r.test("posix: make the test directory", || Err(err(e)));
        return r.finish();
    }
    for (i, (name, test)) in TESTS.iter().enumerate() {
        r.test(name, || {
            let d = format!("{base}/t{i}");
            c.mkdir(&d, 0o755).map_err(err)?;
            test(&mut c, &d)
        });
    }
    r.finish()
}

/// Writes `data` to a new (or truncated) file at `path`.
fn put(c: &mut Client, path: &str, data: &[u8]) -> Outcome {
    let fd = c.open(path, WRONLY | CREAT | TRUNC, 0o644).map_err(err)?;
    let n = c.write(fd, data).map_err(err)?;
    ensure!(n == data.len(), "wrote {n} of {}", data.len());
    c.close(fd).map_err(err)
}

/// Reads all of the file at `path`.
fn get(c: &mut Client, path: &str) -> Result<Vec<u8>, String> {
    let fd = c.open(path, RDONLY, 0).map_err(err)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 700];
    loop {
        match c.read(fd, &mut buf).map_err(err)? {
            0 => break,
            n => out.extend_from_slice(&buf[..n]),
        }
    }
    c.close(fd).map_err(err)?;
    Ok(out)
}

fn enoent(c: &mut Client, d: &str) -> Outcome {
    let missing = format!("{d}/missing");
    ensure!(
        c.open(&missing, RDONLY, 0) == Err(Errno::ENOENT),
        "open of a missing file"
    );
    ensure!(c.stat(&missing).err() == Some(Errno::ENOENT), "stat");
    ensure!(c.unlink(&missing) == Err(Errno::ENOENT), "unlink");
    let deep = format!("{d}/nodir/f");
    let r = c.open(&deep, WRONLY | CREAT, 0o644);
    ensure!(
        r == Err(Errno::ENOENT),
        "O_CREAT in a missing directory: {r:?}"
    );
    Ok(())
}

fn excl(c: &mut Client, d: &str) -> Outcome {
    let f = format!("{d}/f");
    let fd = c.open(&f, WRONLY | CREAT | EXCL, 0o644).map_err(err)?;
    c.close(fd).map_err(err)?;
    let again = c.open(&f, WRONLY | CREAT | EXCL, 0o644);
    ensure!(again == Err(Errno::EEXIST), "second O_EXCL: {again:?}");
    let dir = c.open(d, RDONLY | CREAT | EXCL, 0o644);
    ensure!(dir == Err(Errno::EEXIST), "O_EXCL on a directory: {dir:?}");
    Ok(())
}

fn rename_over(c: &mut Client, d: &str) -> Outcome {
    let (a, b) = (format!("{d}/a"), format!("{d}/b"));
    put(c, &a, b"new contents")?;
    put(c, &b, b"old")?;
    let old_id = c.stat(&b).map_err(err)?.id;
    c.rename(&a, &b).map_err(err)?;
    ensure!(get(c, &b)? == b"new contents", "b has the wrong bytes");
    ensure!(c.stat(&a).err() == Some(Errno::ENOENT), "a still exists");
    ensure!(
        c.stat(&b).map_err(err)?.id != old_id,
        "b is still the old object"
    );
    let missing = c.rename(&a, &b);
    ensure!(
        missing == Err(Errno::ENOENT),
        "rename of a missing file: {missing:?}"
    );
    Ok(())
}

fn unlink_dir(c: &mut Client, d: &str) -> Outcome {
    let sub = format!("{d}/sub");
    c.mkdir(&sub, 0o755).map_err(err)?;
    let r = c.unlink(&sub);
    ensure!(r == Err(Errno::EISDIR), "unlink of a directory: {r:?}");
    ensure!(
        c.stat(&sub).map_err(err)?.kind == FileType::Directory,
        "the directory is gone"
    );
    let f = format!("{d}/f");
    put(c, &f, b"x")?;
    let r = c.rmdir(&f);
    ensure!(r == Err(Errno::ENOTDIR), "rmdir of a file: {r:?}");
    Ok(())
}

fn rmdir_full(c: &mut Client, d: &str) -> Outcome {
    let sub = format!("{d}/sub");
    let f = format!("{sub}/f");
    c.mkdir(&sub, 0o755).map_err(err)?;
    put(c, &f, b"x")?;
    let r = c.rmdir(&sub);
    ensure!(
        r == Err(Errno::ENOTEMPTY),
        "rmdir of a full directory: {r:?}"
    );
    c.unlink(&f).map_err(err)?;
    c.rmdir(&sub).map_err(err)?;
    ensure!(c.stat(&sub).err() == Some(Errno::ENOENT), "still there");
    Ok(())
}

fn hole(c: &mut Client, d: &str) -> Outcome {
    let f = format!("{d}/holey");
    let fd = c.open(&f, RDWR | CREAT, 0o644).map_err(err)?;
    c.write(fd, b"ab").map_err(err)?;
    let at = c.lseek(fd, 5000, Whence::Set).map_err(err)?;
    ensure!(at == 5000, "lseek returned {at}");
    ensure!(
        c.fstat(fd).map_err(err)?.size == 2,
        "lseek alone grew the file"
    );
    c.write(fd, b"cd").map_err(err)?;
    ensure!(
        c.fstat(fd).map_err(err)?.size == 5002,
        "size after the write"
    );
    c.close(fd).map_err(err)?;
    let data = get(c, &f)?;
    ensure!(data.len() == 5002, "read {} bytes", data.len());
    ensure!(&data[..2] == b"ab" && &data[5000..] == b"cd", "ends");
    ensure!(
        data[2..5000].iter().all(|&b| b == 0),
        "the hole is not zeros"
    );
    Ok(())
}

fn append(c: &mut Client, d: &str) -> Outcome {
    let f = format!("{d}/log");
    put(c, &f, b"start\n")?;
    let one = c.open(&f, WRONLY | APPEND, 0).map_err(err)?;
    let two = c.open(&f, WRONLY | APPEND, 0).map_err(err)?;
    c.write(one, b"one\n").map_err(err)?;
    c.write(two, b"two\n").map_err(err)?;
    c.write(one, b"three\n").map_err(err)?;
    // Even a descriptor moved back writes at the end.
    c.lseek(two, 0, Whence::Set).map_err(err)?;
    c.write(two, b"four\n").map_err(err)?;
    c.close(one).map_err(err)?;
    c.close(two).map_err(err)?;
    let got = get(c, &f)?;
    ensure!(
        got == b"start\none\ntwo\nthree\nfour\n",
        "file is {:?}",
        String::from_utf8_lossy(&got)
    );
    Ok(())
}

/// The names `readdir` returns for `d`, sorted.
fn listing(c: &mut Client, d: &str) -> Result<Vec<String>, String> {
    let fd = c.opendir(d).map_err(err)?;
    let mut names = Vec::new();
    while let Some(e) = c.readdir(fd).map_err(err)? {
        names.push(String::from(e.name.as_str()));
    }
    c.close(fd).map_err(err)?;
    names.sort();
    Ok(names)
}

fn readdir(c: &mut Client, d: &str) -> Outcome {
    ensure!(listing(c, d)?.is_empty(), "a new directory is not empty");
    for name in ["a", "b", "c"] {
        put(c, &format!("{d}/{name}"), name.as_bytes())?;
    }
    c.mkdir(&format!("{d}/sub"), 0o755).map_err(err)?;
    ensure!(listing(c, d)? == ["a", "b", "c", "sub"], "after create");
    c.unlink(&format!("{d}/b")).map_err(err)?;
    ensure!(listing(c, d)? == ["a", "c", "sub"], "after unlink");
    ensure!(c.stat(d).map_err(err)?.size == 3, "directory size");
    Ok(())
}

fn dup(c: &mut Client, d: &str) -> Outcome {
    let f = format!("{d}/f");
    put(c, &f, b"0123456789")?;
    let a = c.open(&f, RDONLY, 0).map_err(err)?;
    let b = c.dup(a).map_err(err)?;
    ensure!(b > a, "dup gave {b} for {a}");
    let mut buf = [0u8; 4];
    c.read(a, &mut buf).map_err(err)?;
    c.read(b, &mut buf).map_err(err)?;
    ensure!(&buf == b"4567", "dup does not share the offset: {buf:?}");
    c.close(a).map_err(err)?;
    let again = c.open(&f, RDONLY, 0).map_err(err)?;
    ensure!(again == a, "the lowest free fd is {a}, got {again}");
    c.close(again).map_err(err)?;
    c.close(b).map_err(err)?;
    ensure!(c.close(b) == Err(Errno::EBADF), "double close");
    Ok(())
}

fn large(c: &mut Client, d: &str) -> Outcome {
    let f = format!("{d}/big");
    let data: Vec<u8> = (0..20 * 1024u32).map(|i| (i * 7 + i / 251) as u8).collect();
    put(c, &f, &data)?;
    ensure!(get(c, &f)? == data, "contents differ");
    let mut buf = vec![0u8; 100];
    let fd = c.open(&f, RDONLY, 0).map_err(err)?;
    let n = c.pread(fd, &mut buf, 10_000).map_err(err)?;
    c.close(fd).map_err(err)?;
    ensure!(n == 100 && buf[..] == data[10_000..10_100], "pread");
    Ok(())
}

fn tables(c: &mut Client, d: &str) -> Outcome {
    let f = format!("{d}/mine");
    put(c, &f, b"secret")?;
    let fd = c.open(&f, RDONLY, 0).map_err(err)?;
    // Another program (the kernel tells the server who calls): my
    // descriptor is not its, and its own table starts at 0.
    let child = sys::program_spawn("utest", &format!("posix-other {fd} {f}")).map_err(err)?;
    let code = sys::program_wait(child, 0).map_err(err)?;
    ensure!(code == 0, "posix-other exited with {code:#x}");
    // Mine is still open.
    let mut buf = [0u8; 8];
    let n = c.read(fd, &mut buf).map_err(err)?;
    ensure!(&buf[..n] == b"secret", "my fd lost its file");
    c.close(fd).map_err(err)
}

/// A child opens a file and ends without closing it; the file is then
/// unlinked. Had the server kept the child's descriptor, the file object
/// would live on (unlinked while open); closed, it is deleted.
fn ended(c: &mut Client, d: &str) -> Outcome {
    let f = format!("{d}/left-open");
    put(c, &f, b"left open")?;
    let id = c.stat(&f).map_err(err)?.id;
    let child = sys::program_spawn("utest", &format!("posix-leave-open {f}")).map_err(err)?;
    let code = sys::program_wait(child, 0).map_err(err)?;
    ensure!(code == 0, "posix-leave-open exited with {code:#x}");
    c.unlink(&f).map_err(err)?;
    let mut store = utest::pstore::connect().map_err(err)?;
    let left = store.stat(id);
    ensure!(
        left.is_err(),
        "file object {id} outlived its last (ended) opener: {left:?}"
    );
    Ok(())
}

/// `posix-leave-open PATH`: opens `PATH` and ends without closing it.
pub fn leave_open(path: &str) -> u64 {
    let opened = posix::connect(CONNECT_MS)
        .map_err(err)
        .and_then(|mut c| c.open(path, RDONLY, 0).map_err(err));
    match opened {
        Ok(_) => 0,
        Err(why) => {
            println!("utest: posix-leave-open: {why}");
            1
        }
    }
}

/// The files the reboot test leaves behind: (path, contents).
fn persist_files() -> Vec<(String, Vec<u8>)> {
    let big: Vec<u8> = (0..9000u32).map(|i| (i % 253) as u8).collect();
    vec![
        (
            String::from("/persist/hello.txt"),
            b"hello, reboot\n".to_vec(),
        ),
        (String::from("/persist/sub/big.bin"), big),
        (String::from("/persist/sub/empty"), Vec::new()),
    ]
}

/// `posix-persist write|check`: exit 0 when the step succeeded.
pub fn persist(step: &str) -> u64 {
    let mut r = Report::default();
    let mut c = match posix::connect(CONNECT_MS) {
        Ok(c) => c,
        Err(e) => {
            r.test("posix: connect to the POSIX server", || Err(err(e)));
            return r.finish();
        }
    };
    match step {
        "write" => r.test("posix: write files to keep across a reboot", || {
            c.mkdir("/persist", 0o755).map_err(err)?;
            c.mkdir("/persist/sub", 0o755).map_err(err)?;
            for (path, data) in persist_files() {
                put(&mut c, &path, &data)?;
            }
            // A removed file must stay removed.
            put(&mut c, "/persist/gone", b"x")?;
            c.unlink("/persist/gone").map_err(err)
        }),
        "check" => r.test("posix: files are intact after a reboot", || {
            for (path, data) in persist_files() {
                let got = get(&mut c, &path)?;
                ensure!(got == data, "{path}: {} bytes differ", got.len());
                println!("utest: posix: {path} intact ({} bytes)", got.len());
            }
            ensure!(
                c.stat("/persist/gone").err() == Some(Errno::ENOENT),
                "a removed file came back"
            );
            ensure!(
                listing(&mut c, "/persist")? == ["hello.txt", "sub"],
                "listing"
            );
            Ok(())
        }),
        _ => {
            println!("utest: posix-persist: unknown step {step:?}");
            return 2;
        }
    }
    r.finish()
}

/// `posix-other FD PATH`: run by the per-program-tables test as another
/// program. Descriptor `FD` is the parent's: here it is `EBADF`; opening
/// `PATH` gives this program's first descriptor, 0. Exit 0 when both hold.
pub fn other(fd: &str, path: &str) -> u64 {
    let check = || -> Outcome {
        let fd: posix::Fd = fd.parse().map_err(err)?;
        let mut c = posix::connect(CONNECT_MS).map_err(err)?;
        let mut buf = [0u8; 8];
        let r = c.read(fd, &mut buf);
        ensure!(r == Err(Errno::EBADF), "read the parent's fd: {r:?}");
        let mine = c.open(path, RDONLY, 0).map_err(err)?;
        ensure!(mine == 0, "this program's first fd is {mine}");
        c.close(mine).map_err(err)
    };
    match check() {
        Ok(()) => 0,
        Err(why) => {
            println!("utest: posix-other: {why}");
            1
        }
    }
}
