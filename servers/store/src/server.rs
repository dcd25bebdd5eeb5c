//! The store behind its two interfaces: [`protocols::objstore`] (what
//! programs and the shell call) and [`protocols::objstore::pager`] (what the
//! kernel asks when it maps a persistent object's page). The server binary
//! wraps a [`StoreServer`] in the generated `Service` and runs the PPC loop;
//! everything it answers is decided here, and tested on the host.

use core::fmt::Write;

use protocols::ipc::{Bytes, Text};
use protocols::object::{ObjFlags, ObjId};
use protocols::objstore::{self, CheckReport, ListPage, MAX_LIST, MAX_REPORT, MAX_RW, pager};

use crate::fsck::Report;
use crate::{CreateSpec, ObjInfo, Pmem, Store, StoreError};

/// Chooses a new object's ID: a fresh random nonce, and the ID hashed from
/// it and the creation fields (`protocols::object::id_hash_input`; the
/// guest uses the `caps` crate's hash and the CPU's random numbers).
pub trait IdSource {
    /// The `(id, nonce)` for an object created with `spec` (whose flags
    /// already include `PERSISTENT`).
    fn assign(&mut self, spec: &CreateSpec) -> (ObjId, u128);
}

/// A store serving the object-store and pager interfaces.
pub struct StoreServer<P: Pmem, I: IdSource> {
    /// The store.
    pub store: Store<P>,
    /// Where new IDs come from.
    pub ids: I,
}

/// The checker's report as the `check` gate returns it: the count, and as
/// many lines of text as fit.
pub fn check_report(report: &Report) -> CheckReport {
    /// Keeps what fits and drops the rest.
    struct Truncating(Text<MAX_REPORT>);
    impl Write for Truncating {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for c in s.chars() {
                if self.0.push(c).is_err() {
                    break;
                }
            }
            Ok(())
        }
    }
    let mut text = Truncating(Text::new());
    let _ = write!(text, "{report}");
    CheckReport {
        findings: report.findings.len() as u32 + report.omitted,
        text: text.0,
    }
}

impl<P: Pmem, I: IdSource> objstore::Server for StoreServer<P, I> {
    fn create(&mut self, spec: CreateSpec) -> Result<ObjInfo, StoreError> {
        let spec = CreateSpec {
            flags: spec.flags.union(ObjFlags::PERSISTENT),
            ..spec
        };
        let (id, nonce) = self.ids.assign(&spec);
        self.store.create(id, nonce, &spec)
    }

    fn delete(&mut self, id: ObjId) -> Result<(), StoreError> {
        self.store.delete(id)
    }

    fn resize(&mut self, id: ObjId, size: u64) -> Result<ObjInfo, StoreError> {
        self.store.resize(id, size)
    }

    fn stat(&mut self, id: ObjId) -> Result<ObjInfo, StoreError> {
        self.store.stat(id)
    }

    fn list(&mut self, cursor: u64, max: u8) -> Result<ListPage, StoreError> {
        let max = usize::from(max).clamp(1, MAX_LIST);
        let (found, next) = self.store.list(cursor, max);
        let mut objects = protocols::ipc::heapless::Vec::new();
        for info in found {
            // `max` ≤ MAX_LIST, so every one fits.
            let _ = objects.push(info);
        }
        Ok(ListPage { objects, next })
    }

    fn read(&mut self, id: ObjId, offset: u64, len: u32) -> Result<Bytes<MAX_RW>, StoreError> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > MAX_RW {
            return Err(StoreError::TooLarge);
        }
        let mut buf = [0u8; MAX_RW];
        self.store.read(id, offset, &mut buf[..len])?;
        Ok(Bytes::from_slice(&buf[..len]).unwrap_or_default())
    }

    fn write(&mut self, id: ObjId, offset: u64, data: Bytes<MAX_RW>) -> Result<(), StoreError> {
        self.store.write(id, offset, &data)
    }

    fn check(&mut self) -> Result<CheckReport, StoreError> {
        Ok(check_report(&self.store.check()))
    }

    fn shutdown(&mut self) -> Result<(), StoreError> {
        self.store.shutdown();
        Ok(())
    }

    fn create_with(
        &mut self,
        spec: CreateSpec,
        data: Bytes<MAX_RW>,
    ) -> Result<ObjInfo, StoreError> {
        let info = self.create(spec)?;
        // Both steps are durable before each returns. If the write fails
        // (the data does not fit), the object goes again: the caller gets
        // the error and nothing it must clean up.
        if let Err(e) = self.store.write(info.id, 0, &data) {
            let _ = self.store.delete(info.id);
            return Err(e);
        }
        Ok(info)
    }
}

impl<P: Pmem, I: IdSource> pager::Server for StoreServer<P, I> {
    fn lookup(&mut self, id: ObjId, page: u32) -> Result<u64, StoreError> {
        self.store.page(id, u64::from(page))
    }
}
