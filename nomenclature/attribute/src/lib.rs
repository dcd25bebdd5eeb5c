//! The attribute resolver: objects carry `key=value` tags, and a name is a
//! query (report §7's "search by attribute").
//!
//! A query is whitespace-separated terms, all of which must hold: `key=value`
//! (the object has that tag) or `key` (it has the key at all). `query`
//! pages through every matching object; `resolve` asks for exactly one and
//! answers clearly otherwise: no match is [`NameError::NotFound`], several
//! are [`NameError::Ambiguous`] with the count. `bind(query, id)` tags `id`
//! with the query's `key=value` terms; `set_tags` sets or (with an empty
//! value) removes tags; `unbind(query)` removes the one matching object's
//! tags.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use nomenclature::name::component;
use nomenclature::{EntryKind, Env, Matches, NameError, Resolve, Tag, page};
use protocols::object::ObjId;
use serde::{Deserialize, Serialize};

/// One term of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term<'a> {
    /// `key=value`: the object has that tag.
    Is(&'a str, &'a str),
    /// `key`: the object has the key.
    Has(&'a str),
}

/// Parses a query into terms (at least one; each key and value a valid
/// component).
pub fn parse(query: &str) -> Result<Vec<Term<'_>>, NameError> {
    let mut terms = Vec::new();
    for t in query.split_whitespace() {
        match t.split_once('=') {
            Some((k, v)) => {
                component(k)?;
                component(v)?;
                terms.push(Term::Is(k, v));
            }
            None => {
                component(t)?;
                terms.push(Term::Has(t));
            }
        }
    }
    if terms.is_empty() {
        return Err(NameError::InvalidName);
    }
    Ok(terms)
}

/// Every tagged object's tags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    tags: BTreeMap<ObjId, BTreeMap<String, String>>,
}

impl Attributes {
    /// The objects matching every term, in ID order.
    pub fn matching<'s>(&'s self, terms: &'s [Term<'_>]) -> impl Iterator<Item = ObjId> + 's {
        self.tags.iter().filter_map(move |(id, tags)| {
            let ok = terms.iter().all(|t| match *t {
                Term::Is(k, v) => tags.get(k).is_some_and(|x| x == v),
                Term::Has(k) => tags.contains_key(k),
            });
            ok.then_some(*id)
        })
    }

    /// The tags of `id` (empty if none).
    pub fn tags_of(&self, id: ObjId) -> impl Iterator<Item = (&str, &str)> {
        (self.tags.get(&id).into_iter().flatten()).map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn set(&mut self, id: ObjId, key: &str, value: &str) -> Result<(), NameError> {
        component(key)?;
        let tags = self.tags.entry(id).or_default();
        if value.is_empty() {
            tags.remove(key);
        } else {
            component(value)?;
            tags.insert(String::from(key), String::from(value));
        }
        if tags.is_empty() {
            self.tags.remove(&id);
        }
        Ok(())
    }

    fn one(&self, query: &str) -> Result<ObjId, NameError> {
        let terms = parse(query)?;
        let mut it = self.matching(&terms);
        let first = it.next().ok_or(NameError::NotFound)?;
        let more = it.count();
        if more > 0 {
            return Err(NameError::Ambiguous(
                u32::try_from(more + 1).unwrap_or(u32::MAX),
            ));
        }
        Ok(first)
    }
}

impl Resolve for Attributes {
    const KIND: &'static str = "attribute";

    fn resolve(&self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        Ok((self.one(name)?, EntryKind::Object))
    }

    fn bindings(&self) -> u64 {
        self.tags.values().map(|t| t.len() as u64).sum()
    }

    fn bind(
        &mut self,
        name: &str,
        id: ObjId,
        _: EntryKind,
        _: &mut dyn Env,
    ) -> Result<(), NameError> {
        if id.is_nil() {
            return Err(NameError::InvalidName);
        }
        for t in parse(name)? {
            match t {
                Term::Is(k, v) => self.set(id, k, v)?,
                Term::Has(_) => return Err(NameError::InvalidName),
            }
        }
        Ok(())
    }

    fn unbind(&mut self, name: &str) -> Result<(ObjId, EntryKind), NameError> {
        let id = self.one(name)?;
        self.tags.remove(&id);
        Ok((id, EntryKind::Object))
    }

    fn query(&self, query: &str, cursor: u64) -> Result<Matches, NameError> {
        let terms = parse(query)?;
        Ok(page(self.matching(&terms), cursor))
    }

    fn set_tags(&mut self, id: ObjId, tags: &[Tag]) -> Result<(), NameError> {
        if id.is_nil() {
            return Err(NameError::InvalidName);
        }
        for t in tags {
            self.set(id, &t.key, &t.value)?;
        }
        Ok(())
    }
}
