//! The object store as the resolvers use it: a client that rebinds when
//! the store restarts, the [`Env`] that makes a resolver's new objects
//! (directories) persistent objects, and the DRAM stand-ins used when the
//! machine has no NVDIMM.

use nomenclature::Env;
use protocols::ipc::{CallError, TransportError};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::objstore::{self, CreateSpec, MAX_LIST, ObjInfo, StoreError};
use protocols::resolver::{EntryKind, NameError};
use protocols::syscall::SysError;
use runtime::ppc::{self, Gate};
use runtime::sys;

/// How long a server waits for the object store to publish itself.
pub const CONNECT_MS: u64 = 10_000;

/// A failed store call.
pub type StoreCallError = CallError<StoreError>;

/// An object-store client that survives a store restart: it retries once
/// after `ServerRestarted` and looks the store up again when its gate
/// object is gone.
pub struct StoreLink {
    client: objstore::Client<Gate>,
}

impl StoreLink {
    /// Connects to the store published as `objstore`.
    pub fn connect() -> Result<StoreLink, SysError> {
        Ok(StoreLink {
            client: objstore::Client::new(Gate::connect("objstore", CONNECT_MS)?),
        })
    }

    /// Runs `f` with the retries described on the type.
    pub fn call<R>(
        &mut self,
        f: impl Fn(&mut objstore::Client<Gate>) -> Result<R, StoreCallError>,
    ) -> Result<R, StoreCallError> {
        match ppc::retrying(&mut self.client, |c| c.transport_mut(), &f) {
            Err(CallError::Transport(TransportError::Sys(SysError::NotFound))) => {
                let gate = Gate::connect("objstore", CONNECT_MS)
                    .map_err(|e| CallError::Transport(TransportError::Sys(e)))?;
                self.client = objstore::Client::new(gate);
                ppc::retrying(&mut self.client, |c| c.transport_mut(), &f)
            }
            other => other,
        }
    }

    /// Creates a zeroed persistent object of `size` bytes with verifying
    /// key `key` (nil: none) and default permissions `perms`.
    pub fn create(
        &mut self,
        size: u64,
        perms: Perms,
        key: ObjId,
    ) -> Result<ObjInfo, StoreCallError> {
        let spec = CreateSpec {
            size,
            flags: ObjFlags::PERSISTENT,
            default_perms: perms,
            key,
        };
        self.call(|c| c.create(spec))
    }

    /// Every object whose verifying key is `key`, in the store's order.
    pub fn with_key(&mut self, key: ObjId) -> Result<alloc::vec::Vec<ObjInfo>, StoreCallError> {
        let mut out = alloc::vec::Vec::new();
        let mut cursor = 0;
        loop {
            let page = self.call(|c| c.list(cursor, MAX_LIST as u8))?;
            out.extend(page.objects.iter().filter(|i| i.key == key).copied());
            match page.next {
                Some(n) => cursor = n,
                None => return Ok(out),
            }
        }
    }
}

fn name_error(e: StoreCallError) -> NameError {
    match e {
        CallError::Server(
            StoreError::NoSpace | StoreError::DirectoryFull | StoreError::TooFragmented,
        ) => NameError::NoSpace,
        _ => NameError::Unavailable,
    }
}

/// A directory object's default permissions: readable (its ID is the
/// directory's identity; it holds nothing) and deletable, so the resolver
/// can release it when the directory goes.
const DIRECTORY_PERMS: Perms = Perms::READ.union(Perms::DELETE);

/// Where a resolver's new objects come from.
pub enum Objects {
    /// Persistent objects in the object store.
    Store(StoreLink),
    /// DRAM objects (no NVDIMM: nothing survives power-off anyway).
    Dram,
}

impl Env for Objects {
    fn create_object(&mut self, _kind: EntryKind) -> Result<ObjId, NameError> {
        match self {
            Objects::Store(s) => s
                .create(0, DIRECTORY_PERMS, ObjId::NIL)
                .map(|i| i.id)
                .map_err(name_error),
            Objects::Dram => sys::obj_create(
                crate::DRAM_OBJECT,
                ObjFlags::EMPTY,
                DIRECTORY_PERMS,
                ObjId::NIL,
            )
            .map_err(|e| match e {
                SysError::NoMemory => NameError::NoSpace,
                _ => NameError::Unavailable,
            }),
        }
    }

    fn release_object(&mut self, id: ObjId) {
        // Best effort: a failure leaks an empty object, nothing else.
        match self {
            Objects::Store(s) => drop(s.call(|c| c.delete(id))),
            Objects::Dram => drop(sys::obj_delete(id)),
        }
    }
}
