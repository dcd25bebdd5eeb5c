//! The hierarchical resolver: a file-system-like namespace (report §7).
//!
//! Names are absolute paths (`/home/a/notes`): components separated by
//! `/`, each a valid [`nomenclature::name::component`]; `/` alone is the
//! root; a trailing `/` is allowed, `//`, `.` and `..` are not. Every
//! directory is an object — its ID comes from the server's [`Env`] (the
//! object store in the guest) and is what resolving the directory's path
//! answers — and holds bindings `component → (object, kind)`.
//!
//! Errors are the ones a file system gives: a missing last component is
//! [`NameError::NotFound`], a missing earlier one
//! [`NameError::MissingComponent`]; walking through a plain object is
//! [`NameError::NotADirectory`]; binding over a name is
//! [`NameError::Exists`]; removing a directory that still holds bindings is
//! [`NameError::NotEmpty`]; renaming a directory into itself is
//! [`NameError::WouldLoop`].
//!
//! The whole namespace is one [`Resolve`] state, so the server keeps it in
//! one crash-consistent [`nomenclature::Persisted`] image: every change —
//! including a rename between two directories — is atomic across a power
//! cut.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod path;
#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::string::String;

use nomenclature::{EntryKind, Env, ListPage, NameError, Resolve};
use protocols::object::ObjId;
use protocols::resolver::{Component, DirEntry, MAX_LIST};
use serde::{Deserialize, Serialize};

pub use path::{Path, parse};

/// The root directory's object ID (the namespace's well-known root).
pub const ROOT: ObjId = ObjId::from_u128(u128::from_le_bytes(*b"HIERARCHY--ROOT/"));

/// One binding in a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The object named.
    pub id: ObjId,
    /// Plain object or directory.
    pub kind: EntryKind,
}

type Dir = BTreeMap<String, Binding>;

/// The namespace: every directory object's bindings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hierarchy {
    dirs: BTreeMap<ObjId, Dir>,
}

impl Default for Hierarchy {
    fn default() -> Hierarchy {
        let mut dirs = BTreeMap::new();
        dirs.insert(ROOT, Dir::new());
        Hierarchy { dirs }
    }
}

impl Hierarchy {
    fn dir(&self, id: ObjId) -> Result<&Dir, NameError> {
        self.dirs.get(&id).ok_or(NameError::Corrupt)
    }

    fn dir_mut(&mut self, id: ObjId) -> Result<&mut Dir, NameError> {
        self.dirs.get_mut(&id).ok_or(NameError::Corrupt)
    }

    /// The directory holding the last component of `path`, and that
    /// component (`None` for the root).
    fn parent<'p>(&self, path: &'p Path<'p>) -> Result<(ObjId, Option<&'p str>), NameError> {
        let mut dir = ROOT;
        let Some((last, walk)) = path.components().split_last() else {
            return Ok((ROOT, None));
        };
        for c in walk {
            let b = self.dir(dir)?.get(*c).ok_or(NameError::MissingComponent)?;
            if b.kind != EntryKind::Directory {
                return Err(NameError::NotADirectory);
            }
            dir = b.id;
        }
        Ok((dir, Some(last)))
    }

    /// What `path` names (the root is a directory).
    pub fn lookup(&self, path: &Path<'_>) -> Result<Binding, NameError> {
        match self.parent(path)? {
            (_, None) => Ok(Binding {
                id: ROOT,
                kind: EntryKind::Directory,
            }),
            (dir, Some(last)) => self.dir(dir)?.get(last).copied().ok_or(NameError::NotFound),
        }
    }

    /// Whether directory `ancestor` is `id` or holds it, at any depth.
    fn contains(&self, ancestor: ObjId, id: ObjId) -> bool {
        ancestor == id
            || self.dirs.get(&ancestor).is_some_and(|d| {
                d.values()
                    .any(|b| b.kind == EntryKind::Directory && self.contains(b.id, id))
            })
    }

    fn insert(&mut self, dir: ObjId, name: &str, b: Binding) -> Result<(), NameError> {
        if self.dir(dir)?.contains_key(name) {
            return Err(NameError::Exists);
        }
        if b.kind == EntryKind::Directory {
            if self.dirs.contains_key(&b.id) {
                // A directory has one name: no hard links to directories.
                return Err(NameError::Exists);
            }
            self.dirs.insert(b.id, Dir::new());
        }
        self.dir_mut(dir)?.insert(String::from(name), b);
        Ok(())
    }
}

fn checked<'a>(name: &'a str) -> Result<Path<'a>, NameError> {
    parse(name)
}

impl Resolve for Hierarchy {
    const KIND: &'static str = "hierarchical";

    fn resolve(&self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        let b = self.lookup(&checked(name)?)?;
        Ok((b.id, b.kind))
    }

    fn bindings(&self) -> u64 {
        self.dirs.values().map(|d| d.len() as u64).sum()
    }

    fn bind(
        &mut self,
        name: &str,
        id: ObjId,
        kind: EntryKind,
        _: &mut dyn Env,
    ) -> Result<(), NameError> {
        let path = checked(name)?;
        if id.is_nil() {
            return Err(NameError::InvalidName);
        }
        match self.parent(&path)? {
            (_, None) => Err(NameError::Exists),
            (dir, Some(last)) => self.insert(dir, last, Binding { id, kind }),
        }
    }

    fn mkdir(&mut self, name: &str, env: &mut dyn Env) -> Result<ObjId, NameError> {
        let path = checked(name)?;
        let (dir, last) = match self.parent(&path)? {
            (_, None) => return Err(NameError::Exists),
            (dir, Some(last)) => (dir, last),
        };
        if self.dir(dir)?.contains_key(last) {
            return Err(NameError::Exists);
        }
        let id = env.create_object(EntryKind::Directory)?;
        let kind = EntryKind::Directory;
        self.insert(dir, last, Binding { id, kind })?;
        Ok(id)
    }

    fn unbind(&mut self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        let path = checked(name)?;
        let (dir, last) = match self.parent(&path)? {
            // The root is never removed (a file system says EBUSY).
            (_, None) => return Err(NameError::InvalidName),
            (dir, Some(last)) => (dir, last),
        };
        let b = *self.dir(dir)?.get(last).ok_or(NameError::NotFound)?;
        if b.kind == EntryKind::Directory {
            if !self.dir(b.id)?.is_empty() {
                return Err(NameError::NotEmpty);
            }
            self.dirs.remove(&b.id);
        }
        self.dir_mut(dir)?.remove(last);
        Ok((b.id, b.kind))
    }

    fn list(&self, name: &str, cursor: u64) -> Result<ListPage, NameError> {
        let b = self.lookup(&checked(name)?)?;
        if b.kind != EntryKind::Directory {
            return Err(NameError::NotADirectory);
        }
        let mut page = ListPage {
            entries: protocols::ipc::heapless::Vec::new(),
            next: None,
        };
        for (i, (n, b)) in self.dir(b.id)?.iter().enumerate().skip(cursor as usize) {
            if page.entries.len() == MAX_LIST {
                page.next = Some(i as u64);
                break;
            }
            let entry = DirEntry {
                name: Component::try_from(n.as_str()).map_err(|_| NameError::Corrupt)?,
                id: b.id,
                kind: b.kind,
            };
            page.entries.push(entry).map_err(|_| NameError::Corrupt)?;
        }
        Ok(page)
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<ObjId, NameError> {
        let (from, to) = (checked(from)?, checked(to)?);
        let (fdir, flast) = match self.parent(&from)? {
            (_, None) => return Err(NameError::InvalidName),
            (d, Some(l)) => (d, l),
        };
        let moving = *self.dir(fdir)?.get(flast).ok_or(NameError::NotFound)?;
        let (tdir, tlast) = match self.parent(&to)? {
            (_, None) => return Err(NameError::Exists),
            (d, Some(l)) => (d, l),
        };
        if moving.kind == EntryKind::Directory && self.contains(moving.id, tdir) {
            return Err(NameError::WouldLoop);
        }
        let mut replaced = ObjId::NIL;
        if let Some(&old) = self.dir(tdir)?.get(tlast) {
            if old.id == moving.id {
                // Two names of one object (or the same name): nothing to do.
                return Ok(ObjId::NIL);
            }
            match (moving.kind, old.kind) {
                (EntryKind::Directory, EntryKind::Object) => return Err(NameError::NotADirectory),
                (EntryKind::Object, EntryKind::Directory) => return Err(NameError::IsADirectory),
                (EntryKind::Directory, EntryKind::Directory) => {
                    if !self.dir(old.id)?.is_empty() {
                        return Err(NameError::NotEmpty);
                    }
                    self.dirs.remove(&old.id);
                }
                (EntryKind::Object, EntryKind::Object) => {}
            }
            replaced = old.id;
        }
        self.dir_mut(fdir)?.remove(flast);
        self.dir_mut(tdir)?.insert(String::from(tlast), moving);
        Ok(replaced)
    }
}
