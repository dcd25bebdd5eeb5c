//! The naming commands against the real resolvers (in this process, over
//! DRAM-backed persistent state), through the shell's dispatch.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use nomenclature::{ResolverService, SeqIds};
use protocols::debug::{MemStats, ThreadInfo};
use protocols::exit::GuestExit;
use protocols::ipc::Text;
use protocols::object::ObjId;
use protocols::resolver::{ResolverRecord, Server};
use protocols::syscall::SysError;
use store::VecPmem;

use super::*;
use crate::session::Session;
use crate::system::System;

mod custom;

const A: &str = "000000000000000000000000000000aa";
const B: &str = "000000000000000000000000000000bb";

struct Fake {
    out: String,
    names: Option<FakeNames>,
}

struct FakeNames {
    running: BTreeMap<String, (Box<dyn Server>, u64)>,
    generation: u64,
}

fn service<R: nomenclature::Resolve + 'static>(base: u128) -> Box<dyn Server> {
    Box::new(ResolverService::<R, _, _>::open(VecPmem::new(64 * 1024), SeqIds(base)).unwrap())
}

impl FakeNames {
    fn new() -> FakeNames {
        let mut n = FakeNames {
            running: BTreeMap::new(),
            generation: 0,
        };
        n.add("hier", service::<hierarchical::Hierarchy>(0x1000));
        n.add("attr", service::<attribute::Attributes>(0x2000));
        n.add("current", service::<current_version::Versions>(0x3000));
        n
    }

    fn add(&mut self, name: &str, s: Box<dyn Server>) {
        self.generation += 1;
        self.running.insert(name.to_string(), (s, self.generation));
    }
}

impl Names for FakeNames {
    fn resolver(&mut self, name: &str) -> Result<&mut dyn Server, NamesError> {
        match self.running.get_mut(name) {
            Some((s, _)) => Ok(&mut **s),
            None => Err(NamesError::NotRunning(name.to_string())),
        }
    }
    fn registered(&mut self) -> Result<Vec<ResolverRecord>, NamesError> {
        Ok(self
            .running
            .iter()
            .map(|(n, (_, g))| ResolverRecord {
                name: Text::try_from(n.as_str()).unwrap(),
                id: ObjId::from_u128(0x9000 + u128::from(*g)),
                gate: 0,
                generation: *g,
            })
            .collect())
    }
    fn configured(&mut self) -> Vec<Configured> {
        ["hier", "attr", "current", "flat"]
            .iter()
            .map(|n| Configured {
                name: n.to_string(),
                program: String::from("prog"),
                boot: *n != "flat",
            })
            .collect()
    }
    fn start(&mut self, name: &str) -> Result<ResolverRecord, NamesError> {
        if self.running.contains_key(name) {
            return Err(NamesError::AlreadyRunning(name.to_string()));
        }
        if name != "flat" {
            return Err(NamesError::NotConfigured(name.to_string()));
        }
        self.add(name, service::<current_version::Versions>(0x4000));
        let recs = self.registered()?;
        Ok(recs.into_iter().find(|r| r.name == name).unwrap())
    }
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
    fn names(&mut self) -> Option<&mut dyn Names> {
        self.names.as_mut().map(|n| n as &mut dyn Names)
    }
}

/// Runs `lines` through a session; returns everything printed after the
/// banner, with prompts.
fn run(lines: &str) -> String {
    let mut sys = Fake {
        out: String::new(),
        names: Some(FakeNames::new()),
    };
    let mut session = Session::new();
    session.start(&mut sys);
    sys.out.clear();
    session.feed_all(lines.as_bytes(), &mut sys);
    sys.out
}

fn has(out: &str, line: &str) {
    assert!(
        out.lines().any(|l| l == line),
        "no line {line:?} in:\n{out}"
    );
}

#[test]
fn prefixes_pick_the_resolver_only_when_they_look_like_one() {
    assert_eq!(target("attr:type=a", DEFAULT), ("attr", "type=a"));
    assert_eq!(target("/a/b", DEFAULT), (DEFAULT, "/a/b"));
    assert_eq!(target("/a:b", DEFAULT), (DEFAULT, "/a:b"));
    assert_eq!(target("time=12:00", ATTRIBUTES), (ATTRIBUTES, "time=12:00"));
    assert_eq!(target(":x", DEFAULT), (DEFAULT, ":x"));
    assert_eq!(target("my-res_2:x", DEFAULT), ("my-res_2", "x"));
}

#[test]
fn tags_parse_and_refuse() {
    let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    let t = parse_tags(&w("type=account owner=")).unwrap();
    assert_eq!(
        (t[0].key.as_str(), t[0].value.as_str()),
        ("type", "account")
    );
    assert_eq!((t[1].key.as_str(), t[1].value.as_str()), ("owner", ""));
    assert!(parse_tags(&w("novalue")).is_err());
    assert!(parse_tags(&w("=x")).is_err());
    assert!(parse_tags(&w("a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9")).is_err());
}

#[test]
fn hierarchical_commands_and_their_errors() {
    let out = run(&format!(
        "mkdir /home\nmkdir /home/a\nbind /home/a/notes {A}\nls /home/a\nls\n\
         resolve /home/a/notes\nbind /home/a/notes {B}\nmkdir /x/y\nbind /home/a/notes/z {A}\n\
         unbind /home/a\nresolve /nothing\nunbind /home/a/notes\nls /home/a\nunbind /home/a\n"
    ));
    assert!(out.contains("mkdir: /home -> directory "), "{out}");
    has(&out, &format!("bind: /home/a/notes -> {A}"));
    assert!(
        out.contains(&format!("  notes                    {A}\n")),
        "{out}"
    );
    assert!(out.contains("  home/ "), "{out}");
    has(
        &out,
        &format!("resolve: /home/a/notes -> {A} (object, epoch 3)"),
    );
    has(&out, "bind: /home/a/notes: already bound");
    has(&out, "mkdir: /x/y: a component of the path does not exist");
    has(&out, "bind: /home/a/notes/z: not a directory");
    has(&out, "unbind: /home/a: directory not empty");
    has(&out, "resolve: /nothing: no such name");
    has(&out, &format!("unbind: /home/a/notes (was object {A})"));
    has(&out, "ls: /home/a: empty");
    assert!(out.contains("unbind: /home/a (was directory "), "{out}");
}

#[test]
fn attribute_and_version_commands() {
    let out = run(&format!(
        "tag {A} type=account owner=alice\ntag {B} type=account owner=bob\n\
         query type=account owner=alice\nquery type=account\nquery type=nothing\n\
         resolve attr:type=account\nresolve attr:type=account owner=bob\n\
         publish acct {A}\npublish acct {B}\nresolve current:acct\nmkdir attr:/d\ntag {A} bad\n"
    ));
    has(&out, &format!("tag: {A}: type=account owner=alice"));
    has(&out, &format!("query: 1 match: {A}"));
    has(&out, "query: 2 matches");
    has(&out, "query: no object matches");
    has(
        &out,
        "resolve: attr:type=account: ambiguous: 2 objects match",
    );
    has(
        &out,
        &format!("resolve: attr:type=account owner=bob -> {B} (object, epoch 2)"),
    );
    has(&out, &format!("publish: acct -> {A} (version 1)"));
    has(&out, &format!("publish: acct -> {B} (version 2)"));
    assert!(
        out.contains(&format!("resolve: current:acct -> {B} (object")),
        "{out}"
    );
    has(
        &out,
        "mkdir: attr:/d: the resolver does not support this operation",
    );
    has(&out, "tag: \"bad\" is not key=value");
}

#[test]
fn resolver_list_and_start() {
    let out = run(
        "resolver list\nresolve flat:x\nresolver start flat\nresolver start flat\n\
                   resolver start nope\nresolver list\nresolver\n",
    );
    assert!(out.contains("hier       hierarchical"), "{out}");
    assert!(
        out.contains("flat       (stopped: resolver start flat; program prog)"),
        "{out}"
    );
    has(&out, "resolve: flat:x: resolver flat is not running");
    assert!(
        out.contains("resolver: started flat (generation 4, object "),
        "{out}"
    );
    has(&out, "resolver: flat: resolver flat is already running");
    has(
        &out,
        "resolver: nope: no resolver nope in nomenclature/resolvers.toml",
    );
    assert!(out.contains("flat       current-version"), "{out}");
    has(
        &out,
        "usage: resolver list | resolver start NAME | resolver call NAME OP [ARG...]",
    );
}

#[test]
fn without_a_naming_service_commands_say_so() {
    let mut sys = Fake {
        out: String::new(),
        names: None,
    };
    let mut session = Session::new();
    session.feed_all(b"ls /\nresolver list\n", &mut sys);
    assert!(sys.out.contains("ls: /: no naming service"), "{}", sys.out);
    assert!(
        sys.out.contains("resolver: no naming service"),
        "{}",
        sys.out
    );
}

#[test]
fn help_lists_every_naming_command() {
    let out = run("help\n");
    for c in [
        "ls", "mkdir", "bind", "unbind", "resolve", "tag", "query", "publish", "resolver",
    ] {
        assert!(out.contains(&format!("\n  {c} ")), "help lacks {c}:\n{out}");
    }
}
