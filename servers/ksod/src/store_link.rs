//! The object store as `ksod`'s [`Objects`]: calls that survive a store
//! restart (retried once after `ServerRestarted`, reconnected when the
//! store's gate is gone), and persistent objects mapped straight from the
//! NVDIMM.

use alloc::vec::Vec;
use core::fmt;

use ksod::Objects;
use protocols::ipc::{Bytes, CallError, TransportError};
use protocols::ksod::KsodError;
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::objstore::{self, CreateSpec, MAX_LIST, StoreError};
use protocols::syscall::SysError;
use runtime::ppc::{self, Gate};
use runtime::println;
use store::MappedPmem;

/// The object store's service name.
pub const STORE_SERVICE: &str = "objstore";
/// How long `ksod` waits for the store to publish itself.
pub const CONNECT_MS: u64 = 10_000;

type StoreCall<R> = Result<R, CallError<StoreError>>;

/// A connection to the object store.
pub struct StoreLink {
    client: objstore::Client<Gate>,
}

impl StoreLink {
    /// Connects to the store, waiting up to [`CONNECT_MS`].
    pub fn connect() -> Result<StoreLink, SysError> {
        Ok(StoreLink {
            client: objstore::Client::new(Gate::connect(STORE_SERVICE, CONNECT_MS)?),
        })
    }

    fn call<R>(&mut self, f: impl Fn(&mut objstore::Client<Gate>) -> StoreCall<R>) -> StoreCall<R> {
        match ppc::retrying(&mut self.client, |c| c.transport_mut(), &f) {
            Err(CallError::Transport(TransportError::Sys(SysError::NotFound))) => {
                let gate = Gate::connect(STORE_SERVICE, CONNECT_MS)
                    .map_err(|e| CallError::Transport(TransportError::Sys(e)))?;
                self.client = objstore::Client::new(gate);
                ppc::retrying(&mut self.client, |c| c.transport_mut(), &f)
            }
            other => other,
        }
    }
}

fn ksod_error(e: CallError<StoreError>) -> KsodError {
    match e {
        CallError::Server(
            StoreError::NoSpace | StoreError::DirectoryFull | StoreError::TooFragmented,
        ) => KsodError::NoSpace,
        _ => KsodError::Store,
    }
}

impl Objects for StoreLink {
    type Mapped = MappedPmem;

    fn marked(&mut self, mark: ObjId) -> Result<Vec<ObjId>, KsodError> {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            let page = self
                .call(|c| c.list(cursor, MAX_LIST as u8))
                .map_err(ksod_error)?;
            out.extend(page.objects.iter().filter(|i| i.key == mark).map(|i| i.id));
            match page.next {
                Some(n) => cursor = n,
                None => return Ok(out),
            }
        }
    }

    fn create(
        &mut self,
        size: u64,
        flags: ObjFlags,
        perms: Perms,
        mark: ObjId,
        bytes: &[u8],
    ) -> Result<ObjId, KsodError> {
        let spec = CreateSpec {
            size,
            flags,
            default_perms: perms,
            key: mark,
        };
        let created = if bytes.is_empty() {
            self.call(|c| c.create(spec))
        } else {
            let data = Bytes::from_slice(bytes).map_err(|_| KsodError::Store)?;
            // The store writes, flushes and fences the bytes before it
            // replies.
            self.call(|c| c.create_with(spec, data.clone()))
        };
        created.map(|i| i.id).map_err(ksod_error)
    }

    fn read(&mut self, id: ObjId, buf: &mut [u8]) -> Result<(), KsodError> {
        let len = u32::try_from(buf.len()).map_err(|_| KsodError::Store)?;
        let got = self.call(|c| c.read(id, 0, len)).map_err(ksod_error)?;
        if got.len() != buf.len() {
            return Err(KsodError::Store);
        }
        buf.copy_from_slice(&got);
        Ok(())
    }

    fn delete(&mut self, id: ObjId) -> Result<(), KsodError> {
        self.call(|c| c.delete(id)).map_err(ksod_error)
    }

    fn map(&mut self, id: ObjId, size: u64) -> Result<MappedPmem, KsodError> {
        let info = self.call(|c| c.stat(id)).map_err(ksod_error)?;
        if info.size < size {
            return Err(KsodError::Root);
        }
        let base =
            objects::setup::map(id, Perms::READ | Perms::WRITE).map_err(|_| KsodError::Store)?;
        let len = usize::try_from(size).map_err(|_| KsodError::Store)?;
        // SAFETY: the kernel mapped the object's slot read/write at `base`
        // for the program's lifetime (scratch slots are never unmapped);
        // its data area starts at BASE_OFFSET and holds at least `size` bytes
        // (the store's answer, checked above). Only `ksod` writes the
        // root, and no Rust reference points into the slot.
        Ok(unsafe { MappedPmem::new(base.add(BASE_OFFSET as usize), len) })
    }

    fn say(&mut self, line: fmt::Arguments<'_>) {
        println!("{line}");
    }
}
