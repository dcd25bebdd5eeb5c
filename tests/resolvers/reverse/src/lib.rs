//! The reverse-lookup resolver: flat names, each naming one object, plus a
//! query no other resolver has — *which names does this object have?* —
//! served through the interface's `custom` operation.
//!
//! It is the worked example of adding a resolver from **outside** the
//! built-in set: this crate lives in `tests/resolvers/reverse`, not under
//! `nomenclature/`, and was made by following the walkthrough in the
//! `resolver-template` crate step by step:
//!
//! 1. copied from `nomenclature/template`, renamed (package and `[[bin]]`
//!    `reverse-lookup`), added to the root `Cargo.toml`'s `members` and
//!    `default-members`, `build.rs`'s path to `servers/runtime` fixed
//!    (`../../../servers/runtime`); `src/main.rs` is the one line
//!    `nomenclature_server::resolver_main!(reverse_lookup::Reverse);`;
//! 2. the state is [`Reverse`], a map from name to object;
//! 3. [`Resolve`] implements `resolve`, `bindings`, `bind`, `unbind`,
//!    `list`, `rename` and `custom`;
//! 4. the host tests (`tests.rs`) run it over `store::VecPmem` and
//!    `store::CrashSim`;
//! 5. one line in `nomenclature/resolvers.toml`:
//!    `rev = { crate = "reverse-lookup", boot = false }`.
//!
//! The shell starts it with `resolver start rev`, binds with `bind rev:x
//! ID`, and asks the reverse query with `resolver call rev 1 ID`; the QEMU
//! scenario `names/runtime-resolver-from-outside-crate` does all of it,
//! follows a FOT name entry through it, and finds the names again after a
//! reboot.
//!
//! # The `custom` operations
//!
//! Arguments and answers are text, so a generic client (the shell's
//! `resolver call`) can drive them:
//!
//! - [`NAMES_OF`] (op 1): the argument is `ID` — an object ID as 32
//!   hexadecimal digits, as IDs print — optionally followed by a space and
//!   a name `AFTER` to continue after. The answer is the number of names
//!   bound to `ID` in all on the first line, then those names after
//!   `AFTER` (all of them without it) in name order, one per line, as many
//!   as fit in [`MAX_CUSTOM`] bytes. A caller holding fewer than the total
//!   asks again with the last name it got as `AFTER`. An ID nothing is
//!   bound to answers `0`. [`names_of_arg`] builds the argument and
//!   [`NamesOf::parse`] reads the answer.
//! - Any other op answers [`NameError::Unsupported`]; an argument that is
//!   not UTF-8, lacks the ID, has a malformed ID or `AFTER`, or has more
//!   words answers [`NameError::InvalidName`].
//!
//! `custom` runs on a copy of the state like every change (see
//! [`Resolve::custom`]); a query leaves the copy as it was, so nothing is
//! committed and the resolver's epoch stays.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use nomenclature::name::component;
use nomenclature::{EntryKind, Env, ListPage, NameError, Resolve};
use protocols::ipc::{Bytes, heapless};
use protocols::object::ObjId;
use protocols::resolver::{DirEntry, MAX_CUSTOM, MAX_LIST};
use serde::{Deserialize, Serialize};

/// The `custom` operation asking which names an object has.
pub const NAMES_OF: u32 = 1;

/// Hexadecimal digits in an object ID as the argument carries it.
const ID_DIGITS: usize = 32;

/// The reverse-lookup resolver's state: flat names, each naming one
/// object. The reverse query scans it; resolver tables are small and the
/// scan keeps the state free of a second index that could disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reverse {
    names: BTreeMap<String, ObjId>,
}

impl Reverse {
    /// The names bound to `id`, in name order.
    pub fn names_of(&self, id: ObjId) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .filter(move |(_, bound)| **bound == id)
            .map(|(name, _)| name.as_str())
    }

    /// The [`NAMES_OF`] answer for the argument `arg`.
    fn answer_names_of(&self, arg: &[u8]) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        let (id, after) = parse_names_of(arg)?;
        let total = self.names_of(id).count();
        let mut out: heapless::Vec<u8, MAX_CUSTOM> = heapless::Vec::new();
        let header = alloc::format!("{total}\n");
        out.extend_from_slice(header.as_bytes())
            .map_err(|_| NameError::NoSpace)?;
        let rest = self.names_of(id).filter(|n| after.is_none_or(|a| *n > a));
        for name in rest {
            // Stop at the first name that does not fit whole: the caller
            // asks again after the last one it got.
            if out.len() + name.len() + 1 > MAX_CUSTOM {
                break;
            }
            out.extend_from_slice(name.as_bytes())
                .map_err(|_| NameError::NoSpace)?;
            out.push(b'\n').map_err(|_| NameError::NoSpace)?;
        }
        Ok(Bytes::from(out))
    }
}

/// `ID [AFTER]` → the ID and the optional name to continue after.
fn parse_names_of(arg: &[u8]) -> Result<(ObjId, Option<&str>), NameError> {
    let text = core::str::from_utf8(arg).map_err(|_| NameError::InvalidName)?;
    let mut words = text.split(' ');
    let id = words.next().ok_or(NameError::InvalidName)?;
    if id.len() != ID_DIGITS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NameError::InvalidName);
    }
    let id = u128::from_str_radix(id, 16)
        .map(ObjId::from_u128)
        .map_err(|_| NameError::InvalidName)?;
    let after = match words.next() {
        None => None,
        Some(a) => Some(component(a).map(|_| a)?),
    };
    if words.next().is_some() {
        return Err(NameError::InvalidName);
    }
    Ok((id, after))
}

/// The [`NAMES_OF`] argument asking for the names of `id` after `after`.
pub fn names_of_arg(id: ObjId, after: Option<&str>) -> Result<Bytes<MAX_CUSTOM>, NameError> {
    let text = match after {
        None => alloc::format!("{id}"),
        Some(a) => alloc::format!("{id} {a}"),
    };
    Bytes::from_slice(text.as_bytes()).map_err(|_| NameError::InvalidName)
}

/// A [`NAMES_OF`] answer, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamesOf {
    /// How many names the object has in all.
    pub total: u64,
    /// The names this answer carries, in name order.
    pub names: Vec<String>,
}

impl NamesOf {
    /// Reads a [`NAMES_OF`] answer (`None`: not one).
    pub fn parse(answer: &[u8]) -> Option<NamesOf> {
        let text = core::str::from_utf8(answer).ok()?;
        let body = text.strip_suffix('\n')?;
        let mut lines = body.split('\n');
        let total = lines.next()?.parse().ok()?;
        let names: Vec<String> = lines.map(String::from).collect();
        if names.len() as u64 > total || names.iter().any(|n| component(n).is_err()) {
            return None;
        }
        Some(NamesOf { total, names })
    }
}

impl Resolve for Reverse {
    const KIND: &'static str = "reverse-lookup";

    fn resolve(&self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        component(name)?;
        let id = self.names.get(name).ok_or(NameError::NotFound)?;
        Ok((*id, EntryKind::Object))
    }

    fn bindings(&self) -> u64 {
        self.names.len() as u64
    }

    fn bind(
        &mut self,
        name: &str,
        id: ObjId,
        kind: EntryKind,
        _env: &mut dyn Env,
    ) -> Result<(), NameError> {
        component(name)?;
        if kind != EntryKind::Object {
            return Err(NameError::Unsupported);
        }
        if id.is_nil() {
            return Err(NameError::InvalidName);
        }
        if self.names.contains_key(name) {
            return Err(NameError::Exists);
        }
        self.names.insert(String::from(name), id);
        Ok(())
    }

    fn unbind(&mut self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        component(name)?;
        let id = self.names.remove(name).ok_or(NameError::NotFound)?;
        Ok((id, EntryKind::Object))
    }

    /// Lists the whole table (`""` or `"/"`); a bound name is no directory.
    fn list(&self, name: &str, cursor: u64) -> Result<ListPage, NameError> {
        if !name.is_empty() && name != "/" {
            self.resolve(name)?;
            return Err(NameError::NotADirectory);
        }
        let mut page = ListPage {
            entries: heapless::Vec::new(),
            next: None,
        };
        for (i, (n, id)) in self.names.iter().enumerate().skip(cursor as usize) {
            if page.entries.len() == MAX_LIST {
                page.next = Some(i as u64);
                break;
            }
            let entry = DirEntry {
                name: n.as_str().try_into().map_err(|_| NameError::Corrupt)?,
                id: *id,
                kind: EntryKind::Object,
            };
            page.entries.push(entry).map_err(|_| NameError::Corrupt)?;
        }
        Ok(page)
    }

    /// Moves `from` to `to`, replacing what `to` named (returned; nil if
    /// nothing). Renaming a name to itself changes nothing.
    fn rename(&mut self, from: &str, to: &str) -> Result<ObjId, NameError> {
        component(from)?;
        component(to)?;
        let id = *self.names.get(from).ok_or(NameError::NotFound)?;
        if from == to {
            return Ok(ObjId::NIL);
        }
        self.names.remove(from);
        let replaced = self.names.insert(String::from(to), id);
        Ok(replaced.unwrap_or(ObjId::NIL))
    }

    fn custom(&mut self, op: u32, arg: &[u8]) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        match op {
            NAMES_OF => self.answer_names_of(arg),
            _ => Err(NameError::Unsupported),
        }
    }
}
