//! The resolver template: everything a new Perennial name resolver
//! implements, and nothing else.
//!
//! A resolver is a server that turns names into object IDs (report §7).
//! The machinery every resolver needs is shared in the `nomenclature`
//! crate: the wire interface ([`protocols::resolver::Resolver`]), crash-
//! consistent persistent state ([`nomenclature::Persisted`]: shadow copy +
//! atomic commit word, so names survive power cuts), the server adapter
//! ([`nomenclature::ResolverService`]: reads answer from the state, each
//! change is committed durably before it is acknowledged, and the commit
//! number is the epoch late binding watches) and the registry. A new
//! resolver only supplies **its state type and the [`Resolve`] trait on
//! it**. This crate's resolver, [`Flat`], keeps a flat table of
//! `name → object` — the smallest useful resolver.
//!
//! # Adding a resolver, step by step
//!
//! 1. **Copy the template.** `cp -r nomenclature/template nomenclature/NAME`
//!    (or anywhere outside the tree), set `name = "NAME"` and the
//!    `description` in its `Cargo.toml`, and the `[[bin]]` `name` to the
//!    same `NAME` (the server program is named after its crate), and add
//!    `"nomenclature/NAME"` to the root `Cargo.toml`'s `members` and
//!    `default-members` so `cargo test` runs its tests. The copy brings
//!    the two files that make it a server: `src/main.rs`, one line,
//!    `nomenclature_server::resolver_main!(your_crate::YourState);`, and
//!    `build.rs`, which links that program with the user linker script
//!    (fix its relative path to `servers/runtime` if the crate lives
//!    elsewhere). The program is built only with the crate's `server`
//!    feature, so host tests never link it.
//! 2. **Define the state.** Replace [`Flat`] with your own type: ordinary
//!    maps and vectors, `Clone + Default + Serialize + Deserialize`. It is
//!    all the resolver remembers; `Default` is the empty namespace a new
//!    resolver starts with. Keep it small: every change rewrites it whole.
//! 3. **Implement [`Resolve`].** Set `KIND` (what `resolver list` shows)
//!    and write `resolve` and `bindings`. Then write the operations your
//!    resolver supports — `bind`, `unbind`, `list`, `rename`, `mkdir`,
//!    `query`, `set_tags`, `publish`, `history`, `custom` — and leave the
//!    rest: their defaults answer [`NameError::Unsupported`]. Reads take
//!    `&self`. Changes take `&mut self` on a *copy* of the state that is
//!    committed only if you return `Ok`, so on an error just return it,
//!    even half-way through a change: nothing reaches persistent memory.
//!    Check names with [`nomenclature::name::component`] and answer the
//!    [`NameError`] a user would expect (`NotFound`, `Exists`,
//!    `InvalidName`, …). Need a new object (a directory)? Ask the [`Env`].
//! 4. **Test it on the host** like `tests` below: open a
//!    [`nomenclature::ResolverService`] over a `store::VecPmem` and call
//!    it, reopen it from the same memory to check names survive a restart,
//!    and run it over a `store::CrashSim` with a cut policy to check every
//!    power cut leaves the state before or after each change.
//! 5. **Add one line of configuration**: the resolver's registry name and
//!    crate in `nomenclature/resolvers.toml`, e.g. `flat = "resolver-template"`
//!    (add `boot = false` in the table form, `flat = { crate =
//!    "resolver-template", boot = false }`, to start it only on request).
//!    `cargo xtask` reads that file and builds one server program per
//!    crate — `nomenclature_server::serve::<YourState>`, the generic server
//!    around `ResolverService<YourState, _, _>` — and puts it on the image;
//!    `init` starts the boot ones after the object store, and the shell
//!    starts any other with `resolver start NAME`. Each finds its state
//!    object again after a reboot through its registry record (see
//!    `nomenclature_server`), publishes its gate as service `NAME` and
//!    registers in the registry; `resolver list` shows it, `resolve
//!    NAME:x`, `bind NAME:x ID`, … call it, and late binding
//!    (`late_binding::RegistryResolvers`) finds it by its record's object
//!    ID. No other resolver is rebuilt.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::string::String;

use nomenclature::name::component;
use nomenclature::{EntryKind, Env, ListPage, NameError, Resolve};
use protocols::ipc::heapless;
use protocols::object::ObjId;
use protocols::resolver::{DirEntry, MAX_LIST};
use serde::{Deserialize, Serialize};

/// The template resolver's state: flat names, each naming one object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flat {
    names: BTreeMap<String, ObjId>,
}

impl Resolve for Flat {
    const KIND: &'static str = "flat";

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

    fn list(&self, _name: &str, cursor: u64) -> Result<ListPage, NameError> {
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
}
