//! The file commands against the real POSIX layer (hierarchical resolver,
//! in-memory file objects), through the client library and the wire.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hierarchical::Hierarchy;
use nomenclature::{ResolverService, SeqIds};
use posix_core::{MemFiles, Posix, Session, TickClock};
use protocols::debug::{MemStats, ThreadInfo};
use protocols::exit::GuestExit;
use protocols::ipc::{self, MAX_MESSAGE, TransportError};
use protocols::posix;
use protocols::syscall::SysError;
use store::VecPmem;

use super::*;
use crate::session::execute;

type Fs = Posix<ResolverService<Hierarchy, VecPmem, SeqIds>, MemFiles, TickClock>;

/// The POSIX server in this process, called as program 1.
struct Local(Fs);

impl Transport for Local {
    fn generation(&self) -> u64 {
        1
    }
    fn call(
        &mut self,
        _gate: u16,
        request: &[u8],
        reply: &mut [u8; MAX_MESSAGE],
    ) -> Result<usize, TransportError> {
        let session = Session {
            posix: &mut self.0,
            pid: 1,
        };
        Ok(ipc::serve(&mut posix::Service(session), 1, request, reply))
    }
}

/// A system whose only service is the file system (or none).
struct Fake {
    out: String,
    fs: Option<PosixClient<Local>>,
}

impl System for Fake {
    fn write(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn uptime_nanos(&mut self) -> Result<u64, SysError> {
        Err(SysError::UnknownSyscall)
    }
    fn threads(&mut self) -> Result<Vec<ThreadInfo>, SysError> {
        Err(SysError::UnknownSyscall)
    }
    fn mem(&mut self) -> Result<MemStats, SysError> {
        Err(SysError::UnknownSyscall)
    }
    fn spawn(&mut self, _: &str, _: &str) -> Result<u64, SysError> {
        Err(SysError::UnknownSyscall)
    }
    fn wait(&mut self, _: u64) -> Result<u64, SysError> {
        Err(SysError::UnknownSyscall)
    }
    fn poweroff(&mut self, _: GuestExit) -> Result<(), SysError> {
        Err(SysError::UnknownSyscall)
    }
    fn files(&mut self) -> Option<&mut dyn FileSystem> {
        self.fs.as_mut().map(|c| c as &mut dyn FileSystem)
    }
}

fn fake() -> Fake {
    let names = ResolverService::open(VecPmem::new(256 * 1024), SeqIds(0xd000)).unwrap();
    let fs = Posix::new(names, MemFiles::default(), TickClock(0));
    Fake {
        out: String::new(),
        fs: Some(PosixClient::new(Local(fs))),
    }
}

/// Runs each line and returns what they printed.
fn run(sys: &mut Fake, lines: &[&str]) -> String {
    sys.out.clear();
    for line in lines {
        execute(line, sys);
    }
    core::mem::take(&mut sys.out)
}

fn words(ws: &[&str]) -> Vec<String> {
    ws.iter().map(|w| w.to_string()).collect()
}

#[test]
fn redirection_parses_separate_and_glued_forms() {
    let r = redirection(&words(&["a", "b", ">", "/f"]))
        .unwrap()
        .unwrap();
    assert_eq!(r.words, words(&["a", "b"]));
    assert_eq!((r.path.as_str(), r.append), ("/f", false));
    let r = redirection(&words(&["a", ">>/f"])).unwrap().unwrap();
    assert_eq!((r.path.as_str(), r.append), ("/f", true));
    let r = redirection(&words(&[">>", "/f"])).unwrap().unwrap();
    assert!(r.words.is_empty() && r.append);
    assert_eq!(redirection(&words(&["plain", "words"])), None);
    assert_eq!(
        redirection(&words(&["a", ">"])),
        Some(Err(RedirectError::MissingFile))
    );
    assert_eq!(
        redirection(&words(&["a", ">", "/f", "/g"])),
        Some(Err(RedirectError::TrailingWords))
    );
}

#[test]
fn echo_writes_appends_and_cat_reads_back() {
    let mut sys = fake();
    let out = run(
        &mut sys,
        &[
            "echo hello world > /notes",
            "echo second line >> /notes",
            "cat /notes",
        ],
    );
    assert_eq!(out, "hello world\nsecond line\n");
    // `>` replaces.
    let out = run(&mut sys, &["echo new >/notes", "cat /notes"]);
    assert_eq!(out, "new\n");
    // Plain echo still prints.
    assert_eq!(run(&mut sys, &["echo a > b"]), "");
    assert_eq!(run(&mut sys, &["echo just words"]), "just words\n");
}

#[test]
fn errors_print_the_errno_name_and_meaning() {
    let mut sys = fake();
    assert_eq!(
        run(&mut sys, &["cat /x"]),
        "cat: /x: ENOENT (no such file or directory)\n"
    );
    assert_eq!(
        run(&mut sys, &["rm /x"]),
        "rm: /x: ENOENT (no such file or directory)\n"
    );
    assert_eq!(
        run(&mut sys, &["echo hi > /x/y"]),
        "echo: /x/y: ENOENT (no such file or directory)\n"
    );
    assert_eq!(
        run(&mut sys, &["cat /"]),
        "cat: /: EISDIR (is a directory)\n"
    );
    assert_eq!(run(&mut sys, &["mv /a"]), "mv: usage: mv FROM TO\n");
}

#[test]
fn rm_mv_cp_and_touch_change_the_namespace() {
    let mut sys = fake();
    run(&mut sys, &["echo data > /a", "cp /a /b", "mv /a /c"]);
    assert_eq!(run(&mut sys, &["cat /b /c"]), "data\ndata\n");
    assert_eq!(
        run(&mut sys, &["cat /a"]),
        "cat: /a: ENOENT (no such file or directory)\n"
    );
    assert_eq!(run(&mut sys, &["rm /b", "cat /b"]).lines().count(), 1);
    assert_eq!(
        run(&mut sys, &["cp /missing /d"]),
        "cp: /missing: ENOENT (no such file or directory)\n"
    );
    // touch: creates an empty file; an existing one keeps its bytes and
    // gets a later modification time.
    assert_eq!(run(&mut sys, &["touch /t", "cat /t"]), "");
    let fs = sys.fs.as_mut().unwrap();
    let before = FileSystem::stat(fs, "/c").unwrap();
    run(&mut sys, &["touch /c"]);
    let fs = sys.fs.as_mut().unwrap();
    let after = FileSystem::stat(fs, "/c").unwrap();
    assert_eq!(after.size, 5);
    assert!(after.mtime > before.mtime);
}

#[test]
fn stat_prints_type_size_and_times() {
    let mut sys = fake();
    let out = run(&mut sys, &["echo 12345 > /s", "stat /s"]);
    assert!(out.contains("  file: /s\n  type: regular file\n  size: 6\n"));
    assert!(out.contains("modify: "));
    let out = run(&mut sys, &["stat /"]);
    assert!(out.contains("type: directory\n  size: 1\n"));
}

#[test]
fn without_a_posix_server_the_commands_say_so() {
    let mut sys = fake();
    sys.fs = None;
    assert_eq!(run(&mut sys, &["cat /x"]), "cat: no POSIX server\n");
    assert_eq!(run(&mut sys, &["echo a > /x"]), "echo: no POSIX server\n");
}
