//! The current-version resolver: a name whose binding moves over time —
//! the report's "*current* account information" (§7).
//!
//! `publish(name, id)` makes `name` name `id` from now on and returns the
//! new version number (1 for the first); every earlier binding is kept and
//! `history` lists them oldest first. `resolve` answers the newest. `bind`
//! is `publish` of a name not yet bound (`Exists` otherwise); `unbind`
//! forgets the name and its history; `list` pages through the names.
//!
//! Because each `publish` is a committed change, it moves the resolver's
//! epoch: a late-binding cache that checks the epoch (see the
//! `late-binding` crate) re-resolves and follows the newest version.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use nomenclature::name::component;
use nomenclature::{EntryKind, Env, ListPage, Matches, NameError, Resolve, page};
use protocols::ipc::heapless;
use protocols::object::ObjId;
use protocols::resolver::{DirEntry, MAX_LIST};
use serde::{Deserialize, Serialize};

/// Every name's versions, oldest first (never empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    names: BTreeMap<String, Vec<ObjId>>,
}

impl Versions {
    /// The versions of `name`, oldest first.
    pub fn versions(&self, name: &str) -> Result<&[ObjId], NameError> {
        component(name)?;
        self.names
            .get(name)
            .map(Vec::as_slice)
            .ok_or(NameError::NotFound)
    }
}

impl Resolve for Versions {
    const KIND: &'static str = "current-version";

    fn resolve(&self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        let v = self.versions(name)?;
        Ok((*v.last().ok_or(NameError::Corrupt)?, EntryKind::Object))
    }

    fn bindings(&self) -> u64 {
        self.names.len() as u64
    }

    fn bind(
        &mut self,
        name: &str,
        id: ObjId,
        _: EntryKind,
        _: &mut dyn Env,
    ) -> Result<(), NameError> {
        component(name)?;
        if self.names.contains_key(name) {
            return Err(NameError::Exists);
        }
        self.publish(name, id).map(|_| ())
    }

    fn unbind(&mut self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        let r = self.resolve(name)?;
        self.names.remove(name);
        Ok(r)
    }

    fn list(&self, _name: &str, cursor: u64) -> Result<ListPage, NameError> {
        let mut page = ListPage {
            entries: heapless::Vec::new(),
            next: None,
        };
        for (i, (n, v)) in self.names.iter().enumerate().skip(cursor as usize) {
            if page.entries.len() == MAX_LIST {
                page.next = Some(i as u64);
                break;
            }
            let e = DirEntry {
                name: n.as_str().try_into().map_err(|_| NameError::Corrupt)?,
                id: *v.last().ok_or(NameError::Corrupt)?,
                kind: EntryKind::Object,
            };
            page.entries.push(e).map_err(|_| NameError::Corrupt)?;
        }
        Ok(page)
    }

    fn publish(&mut self, name: &str, id: ObjId) -> Result<u64, NameError> {
        component(name)?;
        if id.is_nil() {
            return Err(NameError::InvalidName);
        }
        let v = self.names.entry(String::from(name)).or_default();
        v.push(id);
        Ok(v.len() as u64)
    }

    fn history(&self, name: &str, cursor: u64) -> Result<Matches, NameError> {
        Ok(page(self.versions(name)?.iter().copied(), cursor))
    }
}
