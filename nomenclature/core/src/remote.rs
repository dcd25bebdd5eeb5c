//! [`Remote`]: a resolver reached through a PPC client, as a local
//! [`Server`] — so code written against a resolver (the POSIX layer, late
//! binding, tests) runs unchanged against one in another program.

use protocols::ipc::{Bytes, CallError, Transport, heapless};
use protocols::object::ObjId;
use protocols::resolver::{
    Client, EntryKind, ListPage, MAX_CUSTOM, MAX_TAGS, Matches, Name, NameError, Resolved,
    ResolverInfo, Server, Tag,
};

/// A resolver client usable as a [`Server`]. Failures of the call itself
/// (the resolver gone, restarted, refusing) become
/// [`NameError::Unavailable`]; the resolver's own errors pass through.
pub struct Remote<T>(pub Client<T>);

fn flat<R>(r: Result<R, CallError<NameError>>) -> Result<R, NameError> {
    r.map_err(|e| match e {
        CallError::Server(e) => e,
        _ => NameError::Unavailable,
    })
}

impl<T: Transport> Server for Remote<T> {
    fn resolve(&mut self, name: Name) -> Result<Resolved, NameError> {
        flat(self.0.resolve(name))
    }
    fn bind(&mut self, name: Name, id: ObjId, kind: EntryKind) -> Result<(), NameError> {
        flat(self.0.bind(name, id, kind))
    }
    fn unbind(&mut self, name: Name) -> Result<Resolved, NameError> {
        flat(self.0.unbind(name))
    }
    fn list(&mut self, name: Name, cursor: u64) -> Result<ListPage, NameError> {
        flat(self.0.list(name, cursor))
    }
    fn rename(&mut self, from: Name, to: Name) -> Result<ObjId, NameError> {
        flat(self.0.rename(from, to))
    }
    fn mkdir(&mut self, name: Name) -> Result<ObjId, NameError> {
        flat(self.0.mkdir(name))
    }
    fn query(&mut self, query: Name, cursor: u64) -> Result<Matches, NameError> {
        flat(self.0.query(query, cursor))
    }
    fn set_tags(&mut self, id: ObjId, tags: heapless::Vec<Tag, MAX_TAGS>) -> Result<(), NameError> {
        flat(self.0.set_tags(id, tags))
    }
    fn publish(&mut self, name: Name, id: ObjId) -> Result<u64, NameError> {
        flat(self.0.publish(name, id))
    }
    fn history(&mut self, name: Name, cursor: u64) -> Result<Matches, NameError> {
        flat(self.0.history(name, cursor))
    }
    fn info(&mut self) -> Result<ResolverInfo, NameError> {
        flat(self.0.info())
    }
    fn custom(&mut self, op: u32, arg: Bytes<MAX_CUSTOM>) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        flat(self.0.custom(op, arg))
    }
}

/// An [`Env`](crate::Env) creating objects in the object store behind a
/// PPC client (the guest's resolvers: a new directory is a new persistent
/// object).
pub struct StoreEnv<T>(pub protocols::objstore::Client<T>);

impl<T: Transport> crate::Env for StoreEnv<T> {
    fn create_object(&mut self, _kind: EntryKind) -> Result<ObjId, NameError> {
        use protocols::object::{ObjFlags, Perms};
        use protocols::objstore::{CreateSpec, StoreError};
        let spec = CreateSpec {
            size: 0,
            flags: ObjFlags::PERSISTENT,
            // DELETE: released (deleted) when the directory goes.
            default_perms: Perms::READ | Perms::DELETE,
            key: ObjId::NIL,
        };
        self.0.create(spec).map(|i| i.id).map_err(|e| match e {
            CallError::Server(
                StoreError::NoSpace | StoreError::DirectoryFull | StoreError::TooFragmented,
            ) => NameError::NoSpace,
            _ => NameError::Unavailable,
        })
    }

    fn release_object(&mut self, id: ObjId) {
        // Best effort: a failure leaks an empty object, nothing else.
        let _ = self.0.delete(id);
    }
}
