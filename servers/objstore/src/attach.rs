//! Keeping the kernel's object table in step with the store: every object
//! the store holds is *attached* (`obj_pmem_attach`) with its identity and
//! its metadata pages (header and FOT, at the top of the slot), which the
//! kernel maps straight to their NVDIMM frames; its data pages the kernel
//! asks for through the pager interface on first touch (the `Pager` impl
//! below), except a kernel state object's, which are mapped at attach. Create and resize attach; delete detaches.
//!
//! Every call that touches an existing object's bytes or life first asks
//! the kernel what the *caller's* active security context grants on it
//! ([`require`]): the store owns all persistent memory, so without this
//! check any program could read, overwrite or delete any object through it
//! whatever the object's permissions and capabilities say.

use protocols::ipc::Bytes;
use protocols::object::{ObjFlags, ObjId, Perms, SLOT_SIZE};
use protocols::objstore::{self, CheckReport, CreateSpec, ListPage, MAX_RW, ObjInfo, StoreError};
use protocols::pmem::{self, MAX_RECORD, MAX_RUNS, Run};
use protocols::syscall::SysError;
use runtime::{println, sys};
use store::{IdSource, MappedPmem, PAGE, StoreServer};

/// A [`StoreServer`] that attaches what it creates and detaches what it
/// deletes.
pub struct Attaching<I: IdSource>(pub StoreServer<MappedPmem, I>);

impl<I: IdSource> Attaching<I> {
    /// Attaches every object in the store; returns how many.
    pub fn attach_all(&mut self) -> usize {
        let mut cursor = 0;
        let mut count = 0;
        loop {
            let (found, next) = self.0.store.list(cursor, 64);
            for info in found {
                if self.attach(&info).is_ok() {
                    count += 1;
                }
            }
            match next {
                Some(n) => cursor = n,
                None => return count,
            }
        }
    }

    /// Tells the kernel where `info`'s pages are.
    fn attach(&self, info: &ObjInfo) -> Result<(), StoreError> {
        let slot_pages = SLOT_SIZE / PAGE;
        let data = info.size.div_ceil(PAGE);
        let mut runs = [Run {
            slot_offset: 0,
            pmem_offset: 0,
            pages: 0,
        }; MAX_RUNS];
        let mut n = 0usize;
        let meta_first = slot_pages - u64::from(info.pages).saturating_sub(data);
        // Data pages come through the pager, on first touch — except a
        // kernel state object's: the kernel reads those itself (a view, a
        // security context), outside any user fault that could ask the
        // pager, so they are mapped from the start.
        let data_pages = if info.flags.contains(ObjFlags::KSO) {
            1..1 + data
        } else {
            0..0
        };
        for p in data_pages.chain(meta_first..slot_pages) {
            let at = self.0.store.page(info.id, p)?;
            let extends = n > 0 && {
                let r = &runs[n - 1];
                r.slot_offset + r.pages * PAGE == p * PAGE && r.pmem_offset + r.pages * PAGE == at
            };
            if extends {
                runs[n - 1].pages += 1;
            } else if n == MAX_RUNS {
                return Err(StoreError::TooFragmented);
            } else {
                runs[n] = Run {
                    slot_offset: p * PAGE,
                    pmem_offset: at,
                    pages: 1,
                };
                n += 1;
            }
        }
        let a = pmem::Attach {
            id: info.id,
            key: info.key,
            size: info.size,
            flags: info.flags,
            default_perms: info.default_perms,
        };
        let mut buf = [0u8; MAX_RECORD];
        let len = pmem::encode(&a, &runs[..n], &mut buf).map_err(|_| StoreError::Corrupt)?;
        sys::obj_pmem_attach(&buf[..len]).map_err(|e| {
            println!("objstore: attach {}: {e}", info.id);
            StoreError::Denied
        })
    }
}

impl<I: IdSource> protocols::objstore::pager::Server for Attaching<I> {
    fn lookup(&mut self, id: ObjId, page: u32) -> Result<u64, StoreError> {
        self.0.store.page(id, u64::from(page))
    }
}

/// Refuses (`Denied`) unless the program that made the current call holds
/// `need` on `id` in its active security context. An object the kernel
/// does not know is `NotFound` when the store has none either, else
/// `Denied` (its rights cannot be judged).
fn require<I: IdSource>(
    store: &mut StoreServer<MappedPmem, I>,
    id: ObjId,
    need: Perms,
) -> Result<(), StoreError> {
    match sys::ppc_caller_perms(id) {
        Ok(have) if need.is_subset_of(have) => Ok(()),
        Ok(_) => Err(StoreError::Denied),
        Err(SysError::NotFound) => match objstore::Server::stat(store, id) {
            Err(StoreError::NotFound) => Err(StoreError::NotFound),
            _ => Err(StoreError::Denied),
        },
        Err(_) => Err(StoreError::Denied),
    }
}

impl<I: IdSource> objstore::Server for Attaching<I> {
    fn create(&mut self, spec: CreateSpec) -> Result<ObjInfo, StoreError> {
        let info = self.0.create(spec)?;
        // The object is durable; a failed attach only means it cannot be
        // mapped until the next start.
        let _ = self.attach(&info);
        Ok(info)
    }

    fn delete(&mut self, id: ObjId) -> Result<(), StoreError> {
        require(&mut self.0, id, Perms::DELETE)?;
        self.0.delete(id)?;
        let _ = sys::obj_pmem_detach(id);
        Ok(())
    }

    fn resize(&mut self, id: ObjId, size: u64) -> Result<ObjInfo, StoreError> {
        require(&mut self.0, id, Perms::WRITE)?;
        let info = self.0.resize(id, size)?;
        let _ = self.attach(&info);
        Ok(info)
    }

    fn stat(&mut self, id: ObjId) -> Result<ObjInfo, StoreError> {
        self.0.stat(id)
    }

    fn list(&mut self, cursor: u64, max: u8) -> Result<ListPage, StoreError> {
        self.0.list(cursor, max)
    }

    fn read(&mut self, id: ObjId, offset: u64, len: u32) -> Result<Bytes<MAX_RW>, StoreError> {
        require(&mut self.0, id, Perms::READ)?;
        self.0.read(id, offset, len)
    }

    fn write(&mut self, id: ObjId, offset: u64, data: Bytes<MAX_RW>) -> Result<(), StoreError> {
        require(&mut self.0, id, Perms::WRITE)?;
        self.0.write(id, offset, data)
    }

    fn check(&mut self) -> Result<CheckReport, StoreError> {
        self.0.check()
    }

    fn shutdown(&mut self) -> Result<(), StoreError> {
        self.0.shutdown()
    }

    fn create_with(
        &mut self,
        spec: CreateSpec,
        data: Bytes<MAX_RW>,
    ) -> Result<ObjInfo, StoreError> {
        let info = self.0.create_with(spec, data)?;
        let _ = self.attach(&info);
        Ok(info)
    }
}
