//! The naming commands themselves (see the parent module for the
//! syntax): each parses its words, makes one resolver call through
//! [`Names`], and prints the result or the error.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::ipc::Bytes;
use protocols::object::ObjId;
use protocols::resolver::{EntryKind, MAX_CUSTOM, Name, NameError, Server};

use super::{
    ATTRIBUTES, DEFAULT, Names, VERSIONS, describe, format_custom, format_entries, format_matches,
    format_resolved, kind, parse_tags, target,
};
use crate::objects::parse_id;
use crate::session::Flow;
use crate::system::System;

/// Runs `f` on resolver `r`; on failure prints `cmd: what: why`.
fn call<T>(
    sys: &mut dyn System,
    cmd: &str,
    what: &str,
    r: &str,
    f: impl FnOnce(&mut dyn Server) -> Result<T, NameError>,
) -> Option<T> {
    let result = match sys.names() {
        None => Err(String::from("no naming service")),
        Some(n) => match n.resolver(r) {
            Err(e) => Err(format!("{e}")),
            Ok(s) => f(s).map_err(describe),
        },
    };
    match result {
        Ok(v) => Some(v),
        Err(why) => {
            sys.write(&format!("{cmd}: {what}: {why}\n"));
            None
        }
    }
}

fn name_of(sys: &mut dyn System, cmd: &str, text: &str) -> Option<Name> {
    match Name::try_from(text) {
        Ok(n) => Some(n),
        Err(_) => {
            sys.write(&format!(
                "{cmd}: {text}: {}\n",
                describe(NameError::InvalidName)
            ));
            None
        }
    }
}

fn usage(sys: &mut dyn System, text: &str) -> Flow {
    sys.write(&format!("usage: {text}\n"));
    Flow::Continue
}

fn id_arg(sys: &mut dyn System, cmd: &str, text: &str) -> Option<ObjId> {
    let known = sys.known_ids();
    match parse_id(text, &known) {
        Ok(id) => Some(id),
        Err(e) => {
            sys.write(&format!("{cmd}: {e}\n"));
            None
        }
    }
}

/// `ls [PATH]`.
pub fn ls(sys: &mut dyn System, args: &[String]) -> Flow {
    let text = args.first().map_or("/", String::as_str);
    if args.len() > 1 {
        return usage(sys, "ls [PATH]");
    }
    let (r, path) = target(text, DEFAULT);
    let Some(name) = name_of(sys, "ls", path) else {
        return Flow::Continue;
    };
    let listed = call(sys, "ls", text, r, |s| {
        let mut all = Vec::new();
        let mut cursor = 0;
        loop {
            let page = s.list(name.clone(), cursor)?;
            all.extend(page.entries);
            match page.next {
                Some(n) => cursor = n,
                None => return Ok(all),
            }
        }
    });
    if let Some(entries) = listed {
        sys.write(&format_entries(text, &entries));
    }
    Flow::Continue
}

/// `mkdir PATH`.
pub fn mkdir(sys: &mut dyn System, args: &[String]) -> Flow {
    let [text] = args else {
        return usage(sys, "mkdir PATH");
    };
    let (r, path) = target(text, DEFAULT);
    let Some(name) = name_of(sys, "mkdir", path) else {
        return Flow::Continue;
    };
    if let Some(id) = call(sys, "mkdir", text, r, |s| s.mkdir(name)) {
        sys.write(&format!("mkdir: {text} -> directory {id}\n"));
    }
    Flow::Continue
}

/// `bind NAME ID`.
pub fn bind(sys: &mut dyn System, args: &[String]) -> Flow {
    let [text, id] = args else {
        return usage(sys, "bind NAME ID");
    };
    let (r, path) = target(text, DEFAULT);
    let (Some(name), Some(id)) = (name_of(sys, "bind", path), id_arg(sys, "bind", id)) else {
        return Flow::Continue;
    };
    if call(sys, "bind", text, r, |s| {
        s.bind(name, id, EntryKind::Object)
    })
    .is_some()
    {
        sys.write(&format!("bind: {text} -> {id}\n"));
    }
    Flow::Continue
}

/// `unbind NAME`.
pub fn unbind(sys: &mut dyn System, args: &[String]) -> Flow {
    let [text] = args else {
        return usage(sys, "unbind NAME");
    };
    let (r, path) = target(text, DEFAULT);
    let Some(name) = name_of(sys, "unbind", path) else {
        return Flow::Continue;
    };
    if let Some(was) = call(sys, "unbind", text, r, |s| s.unbind(name)) {
        sys.write(&format!(
            "unbind: {text} (was {} {})\n",
            kind(was.kind),
            was.id
        ));
    }
    Flow::Continue
}

/// `resolve NAME`.
pub fn resolve(sys: &mut dyn System, args: &[String]) -> Flow {
    if args.is_empty() {
        return usage(sys, "resolve [RESOLVER:]NAME");
    }
    // A query may be several words: `resolve attr:type=account owner=alice`.
    let text = args.join(" ");
    let (r, rest) = target(&text, DEFAULT);
    let Some(name) = name_of(sys, "resolve", rest) else {
        return Flow::Continue;
    };
    if let Some(found) = call(sys, "resolve", &text, r, |s| s.resolve(name)) {
        sys.write(&format_resolved(&text, &found));
    }
    Flow::Continue
}

/// `tag ID KEY=VALUE...`.
pub fn tag(sys: &mut dyn System, args: &[String]) -> Flow {
    let Some((first, words)) = args.split_first().filter(|(_, w)| !w.is_empty()) else {
        return usage(sys, "tag [RESOLVER:]ID KEY=VALUE...");
    };
    let (r, id_text) = target(first, ATTRIBUTES);
    let Some(id) = id_arg(sys, "tag", id_text) else {
        return Flow::Continue;
    };
    let tags = match parse_tags(words) {
        Ok(t) => t,
        Err(e) => {
            sys.write(&format!("tag: {e}\n"));
            return Flow::Continue;
        }
    };
    let what = format!("{id}");
    if call(sys, "tag", &what, r, |s| s.set_tags(id, tags)).is_some() {
        sys.write(&format!("tag: {id}: {}\n", words.join(" ")));
    }
    Flow::Continue
}

/// `query KEY=VALUE...`.
pub fn query(sys: &mut dyn System, args: &[String]) -> Flow {
    if args.is_empty() {
        return usage(sys, "query [RESOLVER:]KEY=VALUE...");
    }
    let text = args.join(" ");
    let (r, q) = target(&text, ATTRIBUTES);
    let Some(name) = name_of(sys, "query", q) else {
        return Flow::Continue;
    };
    let found = call(sys, "query", &text, r, |s| {
        let mut ids = Vec::new();
        let mut cursor = 0;
        loop {
            let page = s.query(name.clone(), cursor)?;
            ids.extend(page.ids.iter().copied());
            match page.next {
                Some(n) => cursor = n,
                None => return Ok((ids, page.total)),
            }
        }
    });
    if let Some((ids, total)) = found {
        sys.write(&format_matches(&ids, total));
    }
    Flow::Continue
}

/// `publish NAME ID`.
pub fn publish(sys: &mut dyn System, args: &[String]) -> Flow {
    let [text, id] = args else {
        return usage(sys, "publish [RESOLVER:]NAME ID");
    };
    let (r, rest) = target(text, VERSIONS);
    let (Some(name), Some(id)) = (name_of(sys, "publish", rest), id_arg(sys, "publish", id)) else {
        return Flow::Continue;
    };
    if let Some(v) = call(sys, "publish", text, r, |s| s.publish(name, id)) {
        sys.write(&format!("publish: {text} -> {id} (version {v})\n"));
    }
    Flow::Continue
}

/// `resolver list` / `resolver start NAME` / `resolver call NAME OP [ARG...]`.
pub fn resolver(sys: &mut dyn System, args: &[String]) -> Flow {
    if let Some((call, rest)) = args.split_first()
        && call == "call"
    {
        return custom(sys, rest);
    }
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match (sys.names(), words.as_slice()) {
        (None, _) => String::from("resolver: no naming service\n"),
        (Some(n), ["list"]) => list_resolvers(n),
        (Some(n), ["start", name]) => match n.start(name) {
            Ok(r) => format!(
                "resolver: started {name} (generation {}, object {})\n",
                r.generation, r.id
            ),
            Err(e) => format!("resolver: {name}: {e}\n"),
        },
        _ => String::from(RESOLVER_USAGE),
    };
    sys.write(&out);
    Flow::Continue
}

const RESOLVER_USAGE: &str =
    "usage: resolver list | resolver start NAME | resolver call NAME OP [ARG...]\n";

/// `resolver call NAME OP [ARG...]`: resolver `NAME`'s own operation `OP`
/// (its `custom` gate). The argument is the words joined by single
/// spaces, each `%N` replaced by the `N`th ID the shell printed; the
/// answer prints as [`format_custom`] says.
fn custom(sys: &mut dyn System, args: &[String]) -> Flow {
    let Some((name, op, words)) = (match args {
        [name, op, words @ ..] => op.parse::<u32>().ok().map(|op| (name, op, words)),
        _ => None,
    }) else {
        sys.write(RESOLVER_USAGE);
        return Flow::Continue;
    };
    let known = sys.known_ids();
    let mut arg = Vec::new();
    for w in words {
        if !arg.is_empty() {
            arg.push(b' ');
        }
        if w.starts_with('%') {
            match parse_id(w, &known) {
                Ok(id) => arg.extend_from_slice(format!("{id}").as_bytes()),
                Err(e) => {
                    sys.write(&format!("resolver: {e}\n"));
                    return Flow::Continue;
                }
            }
        } else {
            arg.extend_from_slice(w.as_bytes());
        }
    }
    let Ok(arg) = Bytes::<MAX_CUSTOM>::from_slice(&arg) else {
        sys.write(&format!(
            "resolver: the argument is {} bytes; at most {MAX_CUSTOM}\n",
            arg.len()
        ));
        return Flow::Continue;
    };
    let what = format!("{name} op {op}");
    if let Some(answer) = call(sys, "resolver", &what, name, |s| s.custom(op, arg)) {
        sys.write(&format_custom(&what, &answer));
    }
    Flow::Continue
}

/// The `resolver list` table: every registered resolver (its kind and
/// bindings asked of it), then configured ones not running.
fn list_resolvers(n: &mut dyn Names) -> String {
    let records = match n.registered() {
        Ok(r) => r,
        Err(e) => return format!("resolver: {e}\n"),
    };
    let mut out = format!(
        "{:<10} {:<18} {:>4} {:>8}  {}\n",
        "NAME", "KIND", "GEN", "NAMES", "OBJECT"
    );
    for rec in &records {
        let info = n.resolver(&rec.name).ok().and_then(|s| s.info().ok());
        let (kind, count) = match &info {
            Some(i) => (String::from(i.kind.as_str()), format!("{}", i.bindings)),
            None => (String::from("(unreachable)"), String::from("-")),
        };
        out += &format!(
            "{:<10} {:<18} {:>4} {:>8}  {}\n",
            rec.name.as_str(),
            kind,
            rec.generation,
            count,
            rec.id
        );
    }
    for c in n.configured() {
        if !records.iter().any(|r| r.name.as_str() == c.name) {
            out += &format!(
                "{:<10} (stopped: resolver start {}; program {})\n",
                c.name, c.name, c.program
            );
        }
    }
    out
}
