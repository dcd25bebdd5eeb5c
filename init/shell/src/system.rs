//! What the shell needs from the system. The `init` binary implements this
//! with system calls; host tests implement it with a fake.

use alloc::vec::Vec;

use protocols::debug::{MemStats, ThreadInfo};
use protocols::exit::GuestExit;
use protocols::ipc::{CallError, TransportError};
use protocols::object::{ObjId, ObjInfo, Perms};
pub use protocols::objstore::ObjInfo as StoreInfo;
use protocols::objstore::{CheckReport, StoreError};
use protocols::syscall::SysError;

/// The services commands use.
pub trait System {
    /// Writes shell output to the console.
    fn write(&mut self, text: &str);
    /// Nanoseconds since boot.
    fn uptime_nanos(&mut self) -> Result<u64, SysError>;
    /// Every thread the kernel knows.
    fn threads(&mut self) -> Result<Vec<ThreadInfo>, SysError>;
    /// Memory figures.
    fn mem(&mut self) -> Result<MemStats, SysError>;
    /// Starts boot module `name` with argument string `args`; its program id.
    fn spawn(&mut self, name: &str, args: &str) -> Result<u64, SysError>;
    /// Waits for program `id` to end; its exit code.
    fn wait(&mut self, id: u64) -> Result<u64, SysError>;
    /// Powers the machine off with `status`. On the machine this returns
    /// only on failure; a fake returns `Ok` to say the machine is now off.
    fn poweroff(&mut self, status: GuestExit) -> Result<(), SysError>;

    // Objects, contexts and capabilities (the `obj`, `key`, `ctx` and `cap`
    // commands). The defaults say the system has none.

    /// Creates an object (`size` data bytes, default `perms`, key `key`).
    fn obj_create(&mut self, size: u64, perms: Perms, key: ObjId) -> Result<ObjId, SysError> {
        let _ = (size, perms, key);
        Err(SysError::UnknownSyscall)
    }
    /// What the kernel says about an object.
    fn obj_info(&mut self, id: ObjId) -> Result<ObjInfo, SysError> {
        let _ = id;
        Err(SysError::UnknownSyscall)
    }
    /// Reads the `u64` at `offset` from the object's base, through the MMU
    /// (the kernel may switch security contexts to allow it). An access no
    /// attached context allows is refused with `PermissionDenied` *before*
    /// it is tried (it would end the shell with a security fault).
    fn obj_read(&mut self, id: ObjId, offset: u64) -> Result<u64, SysError> {
        let _ = (id, offset);
        Err(SysError::UnknownSyscall)
    }
    /// Writes a `u64`, as [`System::obj_read`] reads.
    fn obj_write(&mut self, id: ObjId, offset: u64, value: u64) -> Result<(), SysError> {
        let _ = (id, offset, value);
        Err(SysError::UnknownSyscall)
    }
    /// Makes a key pair: (public-key object, private-key object).
    fn key_new(&mut self) -> Result<(ObjId, ObjId), SysError> {
        Err(SysError::UnknownSyscall)
    }
    /// Creates a security-context object and attaches it to the shell.
    fn ctx_new(&mut self) -> Result<ObjId, SysError> {
        Err(SysError::UnknownSyscall)
    }
    /// The active context (nil: default) and the attached ones.
    fn ctx_list(&mut self) -> Result<(ObjId, Vec<ObjId>), SysError> {
        Err(SysError::UnknownSyscall)
    }
    /// Makes an attached context (nil: default) active.
    fn ctx_use(&mut self, id: ObjId) -> Result<(), SysError> {
        let _ = id;
        Err(SysError::UnknownSyscall)
    }
    /// What context `ctx` grants on `target`.
    fn ctx_check(&mut self, ctx: ObjId, target: ObjId) -> Result<Perms, SysError> {
        let _ = (ctx, target);
        Err(SysError::UnknownSyscall)
    }
    /// Signs a capability with the private key in object `key` and appends
    /// it to context `ctx`; returns its entry number.
    fn cap_add(
        &mut self,
        key: ObjId,
        target: ObjId,
        ctx: ObjId,
        perms: Perms,
    ) -> Result<u32, SysError> {
        let _ = (key, target, ctx, perms);
        Err(SysError::UnknownSyscall)
    }
    /// IDs the shell has printed, for prefix matching.
    fn known_ids(&mut self) -> Vec<ObjId> {
        Vec::new()
    }

    // The object store (`obj new --persistent`, `obj list`, `obj rm`, the
    // text forms of `obj read`/`obj write`, `fsck`). The defaults say the
    // system has no store.
    /// Creates a persistent object of `size` bytes.
    fn store_create(&mut self, size: u64) -> Result<ObjId, StoreCallError> {
        let _ = size;
        Err(no_store())
    }
    /// Whether the store holds `id`.
    fn store_has(&mut self, id: ObjId) -> bool {
        let _ = id;
        false
    }
    /// Writes `data` at `offset` of `id`'s data area (durable on return).
    fn store_write(&mut self, id: ObjId, offset: u64, data: &[u8]) -> Result<(), StoreCallError> {
        let _ = (id, offset, data);
        Err(no_store())
    }
    /// Reads `len` bytes at `offset` of `id`'s data area.
    fn store_read(&mut self, id: ObjId, offset: u64, len: u32) -> Result<Vec<u8>, StoreCallError> {
        let _ = (id, offset, len);
        Err(no_store())
    }
    /// Every object the store holds.
    fn store_list(&mut self) -> Result<Vec<StoreInfo>, StoreCallError> {
        Err(no_store())
    }
    /// Deletes `id`.
    fn store_delete(&mut self, id: ObjId) -> Result<(), StoreCallError> {
        let _ = id;
        Err(no_store())
    }
    /// Runs the checker.
    fn store_check(&mut self) -> Result<CheckReport, StoreCallError> {
        Err(no_store())
    }

    /// The supervisor of the system's servers (`server`); `None`: none.
    fn supervisor(&mut self) -> Option<&mut dyn crate::servers::Supervisor> {
        None
    }

    /// The POSIX layer (the file commands); `None`: no POSIX server.
    fn files(&mut self) -> Option<&mut dyn crate::files::FileSystem> {
        None
    }

    /// The resolvers (the naming commands); `None`: no naming service.
    fn names(&mut self) -> Option<&mut dyn crate::names::Names> {
        None
    }

    /// The programs `run -b` started and nobody waited for yet; `None`:
    /// the system keeps no table (`wait` then names programs by id).
    fn jobs(&mut self) -> Option<&mut crate::jobs::Jobs> {
        None
    }

    /// Pauses the shell for `ms` milliseconds (`sleep`).
    fn sleep_ms(&mut self, ms: u64) -> Result<(), SysError> {
        let _ = ms;
        Err(SysError::UnknownSyscall)
    }
}

/// A failed object-store call.
pub type StoreCallError = CallError<StoreError>;

/// The error of a system without an object store.
pub fn no_store() -> StoreCallError {
    CallError::Transport(TransportError::Unbound)
}
