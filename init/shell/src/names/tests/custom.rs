//! `resolver call`: a resolver's own operation from the shell, and how
//! its answers print.

use protocols::ipc::{Bytes, heapless};
use protocols::resolver::{
    EntryKind, ListPage, MAX_CUSTOM, MAX_TAGS, Matches, Name, NameError, Resolved, ResolverInfo,
    Tag,
};

use super::*;

/// A resolver with operations of its own: a hierarchical one whose
/// `custom` gate echoes its argument (op 1), answers bytes that are not
/// text (op 2), nothing (op 3) or two lines (op 4).
struct WithCustom(Box<dyn Server>);

impl Server for WithCustom {
    fn resolve(&mut self, name: Name) -> Result<Resolved, NameError> {
        self.0.resolve(name)
    }
    fn bind(&mut self, name: Name, id: ObjId, kind: EntryKind) -> Result<(), NameError> {
        self.0.bind(name, id, kind)
    }
    fn unbind(&mut self, name: Name) -> Result<Resolved, NameError> {
        self.0.unbind(name)
    }
    fn list(&mut self, name: Name, cursor: u64) -> Result<ListPage, NameError> {
        self.0.list(name, cursor)
    }
    fn rename(&mut self, from: Name, to: Name) -> Result<ObjId, NameError> {
        self.0.rename(from, to)
    }
    fn mkdir(&mut self, name: Name) -> Result<ObjId, NameError> {
        self.0.mkdir(name)
    }
    fn query(&mut self, query: Name, cursor: u64) -> Result<Matches, NameError> {
        self.0.query(query, cursor)
    }
    fn set_tags(&mut self, id: ObjId, tags: heapless::Vec<Tag, MAX_TAGS>) -> Result<(), NameError> {
        self.0.set_tags(id, tags)
    }
    fn publish(&mut self, name: Name, id: ObjId) -> Result<u64, NameError> {
        self.0.publish(name, id)
    }
    fn history(&mut self, name: Name, cursor: u64) -> Result<Matches, NameError> {
        self.0.history(name, cursor)
    }
    fn info(&mut self) -> Result<ResolverInfo, NameError> {
        self.0.info()
    }
    fn custom(&mut self, op: u32, arg: Bytes<MAX_CUSTOM>) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        match op {
            1 => Ok(arg),
            2 => Ok(Bytes::from_slice(&[0, 1, 0xff]).unwrap()),
            3 => Ok(Bytes::new()),
            4 => Ok(Bytes::from_slice(b"two\nlines\n").unwrap()),
            _ => Err(NameError::Unsupported),
        }
    }
}

#[test]
fn resolver_call_sends_the_words_and_prints_the_answer() {
    let mut names = FakeNames::new();
    names.add(
        "own",
        Box::new(WithCustom(service::<hierarchical::Hierarchy>(0x5000))),
    );
    let mut sys = Fake {
        out: String::new(),
        names: Some(names),
    };
    let mut session = Session::new();
    session.feed_all(
        format!(
            "resolver call own 1 {A}  x\nresolver call own 4\nresolver call own 2\n\
             resolver call own 3\nresolver call own 9 a\nresolver call hier 1 a\n\
             resolver call nope 1 a\nresolver call own one\nresolver call own\n\
             resolver call own 1 %1\n"
        )
        .as_bytes(),
        &mut sys,
    );
    // Longer than a shell line may be (as `%N`s expand): refused.
    let long = ["call", "own", "1", &"x".repeat(MAX_CUSTOM + 1)].map(String::from);
    resolver(&mut sys, &long);
    let out = sys.out;
    // The words joined by one space; the answer one indented line per line.
    assert!(
        out.contains(&format!("resolver: own op 1:\n  {A} x\n")),
        "{out}"
    );
    assert!(
        out.contains("resolver: own op 4:\n  two\n  lines\n"),
        "{out}"
    );
    has(&out, "resolver: own op 2: 3 bytes: 00 01 ff");
    has(&out, "resolver: own op 3: empty answer");
    has(
        &out,
        "resolver: own op 9: the resolver does not support this operation",
    );
    has(
        &out,
        "resolver: hier op 1: the resolver does not support this operation",
    );
    has(&out, "resolver: nope op 1: resolver nope is not running");
    assert_eq!(
        out.matches("usage: resolver list | resolver start NAME | resolver call NAME OP [ARG...]")
            .count(),
        2,
        "{out}"
    );
    has(&out, "resolver: %1: the shell has printed no such ID");
    let too_long = format!(
        "resolver: the argument is {} bytes; at most {MAX_CUSTOM}\n",
        MAX_CUSTOM + 1
    );
    assert!(out.ends_with(&too_long), "{out}");
}

#[test]
fn custom_answers_print_as_text_or_bytes() {
    assert_eq!(
        format_custom("r op 1", b""),
        "resolver: r op 1: empty answer\n"
    );
    assert_eq!(format_custom("r op 1", b"a\n"), "resolver: r op 1:\n  a\n");
    assert_eq!(
        format_custom("r op 1", b"a\nb\tc"),
        "resolver: r op 1:\n  a\n  b\tc\n"
    );
    // Control characters and bytes that are not UTF-8: hexadecimal.
    assert_eq!(
        format_custom("r op 1", b"a\x1b"),
        "resolver: r op 1: 2 bytes: 61 1b\n"
    );
    assert_eq!(
        format_custom("r op 1", &[0xc3]),
        "resolver: r op 1: 1 bytes: c3\n"
    );
}
