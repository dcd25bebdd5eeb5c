//! The naming commands, over the resolvers (report §7): `ls`, `mkdir`,
//! `bind`, `unbind`, `resolve` (the hierarchical resolver by default),
//! `tag` and `query` (the attribute resolver), `publish` (the
//! current-version resolver) and `resolver list|start|call` (`call`: a
//! resolver's own operation, its `custom` gate).
//!
//! # Choosing the resolver
//!
//! A name may start with `RESOLVER:` — a registered resolver's name, then
//! a colon — to send the command to that resolver instead of the default:
//! `resolve attr:type=account`, `bind flat:notes %1`, `ls hier:/home`.
//! Only `[a-z0-9_-]` before the first colon counts as a prefix, so
//! `/a:b` and `time=12:00` are names, not prefixes. `tag` and `query`
//! take the prefix on their first word (`query attr:type=account
//! owner=alice`).
//!
//! The commands reach the system through [`Names`], which
//! [`System::names`](crate::system::System::names) hands out; a failed call prints the command, the
//! name and what went wrong: `mkdir: /a/b/c: a component of the path does
//! not exist`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::ipc::heapless;
use protocols::object::ObjId;
use protocols::resolver::{
    DirEntry, EntryKind, MAX_TAGS, NameError, RegistryError, Resolved, ResolverRecord, Server, Tag,
};
use protocols::syscall::SysError;

mod commands;
#[cfg(test)]
mod tests;

pub use commands::{bind, ls, mkdir, publish, query, resolve, resolver, tag, unbind};

/// The resolver `ls`, `mkdir`, `bind`, `unbind` and `resolve` use.
pub const DEFAULT: &str = "hier";
/// The resolver `tag` and `query` use.
pub const ATTRIBUTES: &str = "attr";
/// The resolver `publish` uses.
pub const VERSIONS: &str = "current";

/// A configured resolver (a line of `nomenclature/resolvers.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configured {
    /// Its registry name.
    pub name: String,
    /// The program serving it.
    pub program: String,
    /// Whether it starts at boot.
    pub boot: bool,
}

/// Why a resolver could not be reached or started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamesError {
    /// The registry is not serving.
    NoRegistry(SysError),
    /// The registry refused.
    Registry(RegistryError),
    /// No resolver of that name is running.
    NotRunning(String),
    /// `resolver start` of a name `resolvers.toml` does not list.
    NotConfigured(String),
    /// `resolver start` of a resolver that is running.
    AlreadyRunning(String),
    /// Its program could not be started.
    Spawn(SysError),
    /// Its program ended before registering (its exit code).
    Exited(u64),
    /// It did not register in time.
    Timeout,
}

impl core::fmt::Display for NamesError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NamesError::NoRegistry(e) => write!(f, "the registry is not serving ({e})"),
            NamesError::Registry(e) => write!(f, "the registry refused: {e:?}"),
            NamesError::NotRunning(n) => write!(f, "resolver {n} is not running"),
            NamesError::NotConfigured(n) => {
                write!(f, "no resolver {n} in nomenclature/resolvers.toml")
            }
            NamesError::AlreadyRunning(n) => write!(f, "resolver {n} is already running"),
            NamesError::Spawn(e) => write!(f, "cannot start its program ({e})"),
            NamesError::Exited(c) => write!(f, "its program ended with {c} before registering"),
            NamesError::Timeout => write!(f, "it did not register in time"),
        }
    }
}

/// What the naming commands need from the system.
pub trait Names {
    /// The resolver registered as `name`, to call.
    fn resolver(&mut self, name: &str) -> Result<&mut dyn Server, NamesError>;
    /// Every registered resolver, in name order.
    fn registered(&mut self) -> Result<Vec<ResolverRecord>, NamesError>;
    /// The resolvers `nomenclature/resolvers.toml` lists.
    fn configured(&mut self) -> Vec<Configured>;
    /// Starts resolver `name`'s program and waits until it registered.
    fn start(&mut self, name: &str) -> Result<ResolverRecord, NamesError>;
}

/// What a resolver error means, for a person.
pub fn describe(e: NameError) -> String {
    String::from(match e {
        NameError::NotFound => "no such name",
        NameError::MissingComponent => "a component of the path does not exist",
        NameError::Exists => "already bound",
        NameError::NotADirectory => "not a directory",
        NameError::IsADirectory => "is a directory",
        NameError::NotEmpty => "directory not empty",
        NameError::InvalidName => "invalid name",
        NameError::WouldLoop => "would move a directory into itself",
        NameError::Ambiguous(n) => return format!("ambiguous: {n} objects match"),
        NameError::Unsupported => "the resolver does not support this operation",
        NameError::NoSpace => "the resolver's state is full",
        NameError::Corrupt => "the resolver's state is corrupt",
        NameError::Unavailable => "the resolver is unavailable",
    })
}

/// `RESOLVER:NAME` → (`RESOLVER`, `NAME`); anything else → (`default`,
/// the text).
pub fn target<'a>(text: &'a str, default: &'a str) -> (&'a str, &'a str) {
    match text.split_once(':') {
        Some((r, rest))
            if !r.is_empty()
                && r.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                }) =>
        {
            (r, rest)
        }
        _ => (default, text),
    }
}

/// `key=value` words → tags (an empty value removes the key).
pub fn parse_tags(words: &[String]) -> Result<heapless::Vec<Tag, MAX_TAGS>, String> {
    let mut out = heapless::Vec::new();
    for w in words {
        let (k, v) = w
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("{w:?} is not key=value"))?;
        let tag = Tag {
            key: k.try_into().map_err(|_| format!("{k:?} is too long"))?,
            value: v.try_into().map_err(|_| format!("{v:?} is too long"))?,
        };
        out.push(tag)
            .map_err(|_| format!("at most {MAX_TAGS} tags at once"))?;
    }
    Ok(out)
}

pub(crate) fn kind(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Object => "object",
        EntryKind::Directory => "directory",
    }
}

/// The `ls` listing: one line per entry, directories with a `/`.
pub fn format_entries(path: &str, entries: &[DirEntry]) -> String {
    if entries.is_empty() {
        return format!("ls: {path}: empty\n");
    }
    let mut out = String::new();
    for e in entries {
        let slash = if e.kind == EntryKind::Directory {
            "/"
        } else {
            ""
        };
        out += &format!("  {:<24} {}\n", format!("{}{slash}", e.name.as_str()), e.id);
    }
    out
}

/// The `resolve` line.
pub fn format_resolved(name: &str, r: &Resolved) -> String {
    format!(
        "resolve: {name} -> {} ({}, epoch {})\n",
        r.id,
        kind(r.kind),
        r.epoch
    )
}

/// The `query` result: the count, then one ID per line.
pub fn format_matches(ids: &[ObjId], total: u32) -> String {
    match total {
        0 => String::from("query: no object matches\n"),
        1 => format!(
            "query: 1 match: {}\n",
            ids.first().copied().unwrap_or(ObjId::NIL)
        ),
        n => {
            let mut out = format!("query: {n} matches\n");
            for id in ids {
                out += &format!("  {id}\n");
            }
            out
        }
    }
}

/// A `custom` answer (`resolver call`), headed `resolver: WHAT`: text
/// (UTF-8 with no control characters but newlines and tabs) one indented
/// line per line, anything else in hexadecimal.
pub fn format_custom(what: &str, answer: &[u8]) -> String {
    if answer.is_empty() {
        return format!("resolver: {what}: empty answer\n");
    }
    match core::str::from_utf8(answer) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t') =>
        {
            let mut out = format!("resolver: {what}:\n");
            for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
                out += &format!("  {line}\n");
            }
            out
        }
        _ => {
            let mut out = format!("resolver: {what}: {} bytes:", answer.len());
            for b in answer {
                out += &format!(" {b:02x}");
            }
            out.push('\n');
            out
        }
    }
}
