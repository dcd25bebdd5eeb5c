//! The registry of resolvers: resolver name → identity (the object naming
//! the resolver, the gate to call it through, a generation), persistent and
//! crash-consistent like any resolver state.
//!
//! Re-registering a name (a restarted resolver) gives it a new generation
//! from a counter that never goes back, so a client holding an old record
//! can tell, and `unregister` with a stale generation is refused: an old
//! incarnation cannot remove its successor. The registry answers for
//! itself under [`REGISTRY_NAME`] and [`REGISTRY_ID`].

use alloc::collections::BTreeMap;
use alloc::string::String;

use protocols::ipc::{Text, heapless};
use protocols::object::ObjId;
use protocols::resolver::registry::Server;
use protocols::resolver::{
    MAX_RECORDS, MAX_RESOLVER_NAME, REGISTRY_ID, REGISTRY_NAME, RecordPage, RegistryError,
    ResolverRecord,
};
use serde::{Deserialize, Serialize};
use store::Pmem;

use crate::state::{Persisted, StateError};

impl From<StateError> for RegistryError {
    fn from(e: StateError) -> RegistryError {
        match e {
            StateError::NoSpace { .. } | StateError::TooSmall(_) => RegistryError::NoSpace,
            _ => RegistryError::Corrupt,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    id: ObjId,
    gate: u64,
    generation: u64,
}

/// The registry's persistent state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    entries: BTreeMap<String, Entry>,
    /// The last generation handed out.
    generation: u64,
}

type RName = Text<MAX_RESOLVER_NAME>;

fn check_name(name: &str) -> Result<(), RegistryError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(RegistryError::InvalidName);
    }
    if name == REGISTRY_NAME {
        return Err(RegistryError::Reserved);
    }
    Ok(())
}

fn record(name: &str, e: &Entry) -> Result<ResolverRecord, RegistryError> {
    Ok(ResolverRecord {
        name: RName::try_from(name).map_err(|_| RegistryError::Corrupt)?,
        id: e.id,
        gate: e.gate,
        generation: e.generation,
    })
}

/// The registry server: its state in persistent memory `P`.
pub struct RegistryService<P> {
    state: Persisted<Registry, P>,
    /// The registry's own gate (what `lookup("registry")` answers).
    own_gate: u64,
}

impl<P: Pmem> RegistryService<P> {
    /// Opens (recovers) the registry in `pmem`; it answers for itself with
    /// gate `own_gate`.
    pub fn open(pmem: P, own_gate: u64) -> Result<Self, StateError> {
        Ok(RegistryService {
            state: Persisted::open(pmem)?,
            own_gate,
        })
    }

    /// The registry's own record.
    pub fn own_record(&self) -> ResolverRecord {
        ResolverRecord {
            name: RName::try_from(REGISTRY_NAME).unwrap_or_default(),
            id: REGISTRY_ID,
            gate: self.own_gate,
            generation: 0,
        }
    }

    /// Gives the persistent memory back.
    pub fn into_pmem(self) -> P {
        self.state.into_pmem()
    }
}

impl<P: Pmem> Server for RegistryService<P> {
    fn register(
        &mut self,
        name: RName,
        id: ObjId,
        gate: u64,
    ) -> Result<ResolverRecord, RegistryError> {
        check_name(&name)?;
        if id.is_nil() || id == REGISTRY_ID {
            return Err(RegistryError::Reserved);
        }
        self.state.update(|s| {
            if s.entries
                .iter()
                .any(|(n, e)| e.id == id && n != name.as_str())
            {
                return Err(RegistryError::IdInUse);
            }
            s.generation += 1;
            let e = Entry {
                id,
                gate,
                generation: s.generation,
            };
            s.entries.insert(String::from(name.as_str()), e);
            record(&name, &e)
        })
    }

    fn unregister(&mut self, name: RName, generation: u64) -> Result<(), RegistryError> {
        check_name(&name)?;
        self.state.update(|s| {
            let e = s
                .entries
                .get(name.as_str())
                .ok_or(RegistryError::NotFound)?;
            if e.generation != generation {
                return Err(RegistryError::StaleGeneration(e.generation));
            }
            s.entries.remove(name.as_str());
            Ok(())
        })
    }

    fn lookup(&mut self, name: RName) -> Result<ResolverRecord, RegistryError> {
        if name == REGISTRY_NAME {
            return Ok(self.own_record());
        }
        let e = self.state.state().entries.get(name.as_str());
        record(&name, e.ok_or(RegistryError::NotFound)?)
    }

    fn lookup_id(&mut self, id: ObjId) -> Result<ResolverRecord, RegistryError> {
        if id == REGISTRY_ID {
            return Ok(self.own_record());
        }
        let (n, e) = (self.state.state().entries.iter())
            .find(|(_, e)| e.id == id)
            .ok_or(RegistryError::NotFound)?;
        record(n, e)
    }

    fn list(&mut self, cursor: u64) -> Result<RecordPage, RegistryError> {
        let mut page = RecordPage {
            records: heapless::Vec::new(),
            next: None,
        };
        let entries = &self.state.state().entries;
        for (i, (n, e)) in entries.iter().enumerate().skip(cursor as usize) {
            if page.records.push(record(n, e)?).is_err() {
                page.next = Some(i as u64);
                break;
            }
        }
        debug_assert!(page.records.len() <= MAX_RECORDS);
        Ok(page)
    }
}
