//! The object worker: creates a persistent object through the object
//! store, writes [`OBJ_LEN`] bytes derived from the record's number into
//! it (durable when the store replies), and reads every acknowledged
//! object back to check its bytes.
//!
//! A create whose reply was lost to a restart leaves an object nobody
//! names (the store's checker does not mind); the retry creates another.
//! A write is idempotent: the retry writes the same bytes again.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::ipc::CallError;
use protocols::object::ObjId;
use protocols::objstore::StoreError;
use utest::loadrec::{OBJ_LEN, object_content as content};
use utest::pstore::{self, StoreClient};

use crate::retry::{Attempt, Failure, Shared, retry};
use crate::worker::Worker;

/// The object worker's connection (`None` after a failure: reconnect)
/// and the objects it acknowledged, by record number.
#[derive(Default)]
pub struct Objects {
    client: Option<StoreClient>,
    acked: Vec<ObjId>,
}

fn transient<T>(
    client: &mut Option<StoreClient>,
    what: &str,
    e: CallError<StoreError>,
) -> Attempt<T> {
    *client = None;
    Attempt::Transient(format!("{what}: {e:?}"))
}

impl Objects {
    fn client(&mut self) -> Result<&mut StoreClient, String> {
        if self.client.is_none() {
            let gate = runtime::ppc::Gate::connect("objstore", 200)
                .map_err(|e| format!("connect: {e}"))?;
            self.client = Some(protocols::objstore::Client::new(gate));
        }
        self.client.as_mut().ok_or_else(String::new)
    }

    fn create(&mut self) -> Attempt<ObjId> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return Attempt::Transient(e),
        };
        match pstore::create(c, OBJ_LEN as u64) {
            Ok(id) => Attempt::Done(id),
            Err(e) => transient(&mut self.client, "create", e),
        }
    }

    fn fill(&mut self, id: ObjId, seq: u64) -> Attempt<()> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return Attempt::Transient(e),
        };
        match pstore::write_all(c, id, 0, &content(seq)) {
            Ok(()) => Attempt::Done(()),
            Err(CallError::Server(StoreError::NotFound)) => Attempt::Lost(format!(
                "object {seq} ({id}) vanished right after its create"
            )),
            Err(e) => transient(&mut self.client, "write", e),
        }
    }

    fn check(&mut self, seq: u64, id: ObjId) -> Attempt<()> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return Attempt::Transient(e),
        };
        let mut got = [0u8; OBJ_LEN];
        match pstore::read_all(c, id, 0, &mut got) {
            Ok(()) if got == content(seq) => Attempt::Done(()),
            Ok(()) => Attempt::Lost(format!("object {seq} ({id}) has other bytes")),
            Err(CallError::Server(StoreError::NotFound)) => {
                Attempt::Lost(format!("object {seq} ({id}) is gone"))
            }
            Err(e) => transient(&mut self.client, "read", e),
        }
    }
}

impl Worker for Objects {
    const KIND: &'static str = "objects";
    const CAP: u64 = 800;
    const SLOT: usize = 2;
    const PACE_MS: u64 = 60;

    fn setup(&mut self, shared: &Shared) -> Result<(), Failure> {
        retry(
            &shared.retries[Self::SLOT],
            &|| String::from("connect to objstore"),
            || match self.client() {
                Ok(_) => Attempt::Done(()),
                Err(e) => Attempt::Transient(e),
            },
        )
    }

    fn write(&mut self, shared: &Shared, seq: u64) -> Result<(), Failure> {
        let id = retry(
            &shared.retries[Self::SLOT],
            &|| format!("create object {seq}"),
            || self.create(),
        )?;
        retry(
            &shared.retries[Self::SLOT],
            &|| format!("write object {seq}"),
            || self.fill(id, seq),
        )?;
        self.acked.push(id);
        Ok(())
    }

    fn verify(&mut self, shared: &Shared, acked: u64) -> Result<(), Failure> {
        let ids = self.acked.clone();
        for (seq, id) in ids.into_iter().enumerate().take(acked as usize) {
            retry(
                &shared.retries[Self::SLOT],
                &|| format!("read object {seq}"),
                || self.check(seq as u64, id),
            )?;
        }
        Ok(())
    }
}
