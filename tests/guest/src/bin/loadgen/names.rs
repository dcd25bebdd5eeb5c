//! The naming worker: binds `/lgnames/nK` in the hierarchical resolver
//! (`hier`) to an object ID derived from `K`, and resolves every
//! acknowledged name to check it.
//!
//! A retried bind whose first try landed before the resolver died answers
//! `Exists`; the worker then resolves the name, and the binding counts if
//! it names the expected object.

use alloc::format;
use alloc::string::String;

use protocols::ipc::{CallError, Text};
use protocols::resolver::{Client, EntryKind, MAX_NAME, NameError};
use runtime::ppc::Gate;

use utest::loadrec::name_target as target;

use crate::retry::{Attempt, Failure, Shared, retry};
use crate::worker::Worker;

/// The directory the names go in (not the POSIX worker's: files are named
/// by the same resolver).
pub const DIR: &str = "/lgnames";
/// How long one attempt waits for the resolver to be published.
const CONNECT_MS: u64 = 200;

fn path(seq: u64) -> String {
    format!("{DIR}/n{seq}")
}

fn name(text: &str) -> Text<MAX_NAME> {
    Text::try_from(text).unwrap_or_default()
}

/// The naming worker's connection (`None` after a failure: reconnect).
#[derive(Default)]
pub struct Names {
    client: Option<Client<Gate>>,
}

/// Whether a failed call could be a restart: anything but an answer.
fn transient<T>(
    client: &mut Option<Client<Gate>>,
    what: &str,
    e: CallError<NameError>,
) -> Attempt<T> {
    *client = None;
    Attempt::Transient(format!("{what}: {e:?}"))
}

impl Names {
    fn client(&mut self) -> Result<&mut Client<Gate>, String> {
        if self.client.is_none() {
            let gate = Gate::connect("hier", CONNECT_MS).map_err(|e| format!("connect: {e}"))?;
            self.client = Some(Client::new(gate));
        }
        self.client.as_mut().ok_or_else(String::new)
    }

    /// One try at finding `seq`'s binding as it should be.
    fn check(&mut self, seq: u64) -> Attempt<()> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return Attempt::Transient(e),
        };
        match c.resolve(name(&path(seq))) {
            Ok(r) if r.id == target(seq) => Attempt::Done(()),
            Ok(r) => Attempt::Lost(format!(
                "{} names {} instead of {}",
                path(seq),
                r.id,
                target(seq)
            )),
            Err(CallError::Server(NameError::NotFound | NameError::MissingComponent)) => {
                Attempt::Lost(format!("name {} is gone", path(seq)))
            }
            Err(e) => transient(&mut self.client, "resolve", e),
        }
    }

    /// One try at binding `seq`.
    fn bind(&mut self, seq: u64) -> Attempt<()> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return Attempt::Transient(e),
        };
        match c.bind(name(&path(seq)), target(seq), EntryKind::Object) {
            Ok(()) => Attempt::Done(()),
            // An earlier try landed: it counts if it is ours.
            Err(CallError::Server(NameError::Exists)) => match self.check(seq) {
                Attempt::Lost(why) => Attempt::Lost(format!("after bind said Exists: {why}")),
                other => other,
            },
            Err(CallError::Server(NameError::MissingComponent)) => {
                Attempt::Lost(format!("directory {DIR} is gone"))
            }
            Err(e) => transient(&mut self.client, "bind", e),
        }
    }
}

impl Worker for Names {
    const KIND: &'static str = "names";
    const CAP: u64 = 800;
    const SLOT: usize = 1;
    const PACE_MS: u64 = 60;

    fn setup(&mut self, shared: &Shared) -> Result<(), Failure> {
        retry(
            &shared.retries[Self::SLOT],
            &|| format!("mkdir {DIR}"),
            || {
                let c = match self.client() {
                    Ok(c) => c,
                    Err(e) => return Attempt::Transient(e),
                };
                match c.mkdir(name(DIR)) {
                    Ok(_) | Err(CallError::Server(NameError::Exists)) => Attempt::Done(()),
                    Err(e) => transient(&mut self.client, "mkdir", e),
                }
            },
        )
    }

    fn write(&mut self, shared: &Shared, seq: u64) -> Result<(), Failure> {
        retry(
            &shared.retries[Self::SLOT],
            &|| format!("bind {}", path(seq)),
            || self.bind(seq),
        )
    }

    fn verify(&mut self, shared: &Shared, acked: u64) -> Result<(), Failure> {
        for seq in 0..acked {
            retry(
                &shared.retries[Self::SLOT],
                &|| format!("resolve {}", path(seq)),
                || self.check(seq),
            )?;
        }
        Ok(())
    }
}
