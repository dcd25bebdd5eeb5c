//! The shell's object-store services: a client bound (on first use) to the
//! server published as `objstore`, rebinding once when the store restarted.

use alloc::vec::Vec;

use protocols::ipc::{Bytes, CallError, TransportError};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::objstore::{self, CheckReport, CreateSpec, MAX_LIST, MAX_RW};
use protocols::syscall::SysError;
use runtime::ppc::{self, Gate};
use shell::system::{StoreCallError, StoreInfo};

/// How long the first call waits for the store to come up.
const CONNECT_MS: u64 = 10_000;

/// A lazily connected object-store client.
#[derive(Default)]
pub struct StoreLink {
    client: Option<objstore::Client<Gate>>,
}

impl StoreLink {
    /// The client, connecting on first use.
    fn client(&mut self) -> Result<&mut objstore::Client<Gate>, StoreCallError> {
        if self.client.is_none() {
            let gate = Gate::connect("objstore", CONNECT_MS)
                .map_err(|e| CallError::Transport(TransportError::Sys(e)))?;
            self.client = Some(objstore::Client::new(gate));
        }
        self.client
            .as_mut()
            .ok_or(CallError::Transport(TransportError::Unbound))
    }

    /// Runs `f`, rebinding and retrying once after `ServerRestarted`.
    fn call<R>(
        &mut self,
        f: impl Fn(&mut objstore::Client<Gate>) -> Result<R, StoreCallError>,
    ) -> Result<R, StoreCallError> {
        let c = self.client()?;
        match ppc::retrying(c, |c| c.transport_mut(), &f) {
            // A restarted store serves behind a new gate object: look it
            // up again.
            Err(CallError::Transport(TransportError::Sys(SysError::NotFound))) => {
                self.client = None;
                let c = self.client()?;
                ppc::retrying(c, |c| c.transport_mut(), &f)
            }
            other => other,
        }
    }

    /// `obj new --persistent`: readable, writable and deletable (`obj rm`)
    /// by every context.
    pub fn create(&mut self, size: u64) -> Result<ObjId, StoreCallError> {
        let spec = CreateSpec {
            size,
            flags: ObjFlags::PERSISTENT,
            default_perms: Perms::READ | Perms::WRITE | Perms::DELETE,
            key: ObjId::NIL,
        };
        self.call(|c| c.create(spec)).map(|i| i.id)
    }

    /// Whether the store holds `id`.
    pub fn has(&mut self, id: ObjId) -> bool {
        self.call(|c| c.stat(id)).is_ok()
    }

    /// `obj write` (text), in message-sized pieces.
    pub fn write(&mut self, id: ObjId, offset: u64, data: &[u8]) -> Result<(), StoreCallError> {
        for (i, chunk) in data.chunks(MAX_RW).enumerate() {
            let at = offset + (i * MAX_RW) as u64;
            self.call(|c| c.write(id, at, Bytes::from_slice(chunk).unwrap_or_default()))?;
        }
        Ok(())
    }

    /// `obj read` (text).
    pub fn read(&mut self, id: ObjId, offset: u64, len: u32) -> Result<Vec<u8>, StoreCallError> {
        let mut out = Vec::new();
        let mut done = 0u32;
        while done < len {
            let n = (len - done).min(MAX_RW as u32);
            let at = offset + u64::from(done);
            out.extend_from_slice(&self.call(|c| c.read(id, at, n))?);
            done += n;
        }
        Ok(out)
    }

    /// `obj list`.
    pub fn list(&mut self) -> Result<Vec<StoreInfo>, StoreCallError> {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            let page = self.call(|c| c.list(cursor, MAX_LIST as u8))?;
            out.extend(page.objects.iter().copied());
            match page.next {
                Some(n) => cursor = n,
                None => return Ok(out),
            }
        }
    }

    /// `obj rm`.
    pub fn delete(&mut self, id: ObjId) -> Result<(), StoreCallError> {
        self.call(|c| c.delete(id))
    }

    /// `fsck`.
    pub fn check(&mut self) -> Result<CheckReport, StoreCallError> {
        self.call(|c| c.check())
    }

    /// Marks the store shut down cleanly, if it was ever reached (a store
    /// this shell never used is not waited for).
    pub fn shutdown(&mut self) -> Result<(), StoreCallError> {
        match self.client {
            Some(_) => self.call(|c| c.shutdown()),
            None => {
                let gate = Gate::connect("objstore", 0)
                    .map_err(|e| CallError::Transport(TransportError::Sys(e)))?;
                self.client = Some(objstore::Client::new(gate));
                self.call(|c| c.shutdown())
            }
        }
    }
}
