//! [`Files`]: what the POSIX layer needs from the object store — file
//! objects with a size and times — and [`MemFiles`], an in-memory one for
//! tests.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use protocols::object::ObjId;
use protocols::posix::Errno;

/// A file object's metadata (kept in the object's metadata by the store).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileMeta {
    /// Size in bytes.
    pub size: u64,
    /// Last access (ns since the epoch).
    pub atime: u64,
    /// Last data change.
    pub mtime: u64,
    /// Last status change.
    pub ctime: u64,
}

/// File objects. In the guest: the object store (`ObjStore` create,
/// read, write, resize, and the metadata times); in tests: [`MemFiles`].
pub trait Files {
    /// Creates an empty file object with all times `now`.
    fn create(&mut self, now: u64) -> Result<ObjId, Errno>;
    /// Deletes a file object.
    fn delete(&mut self, id: ObjId) -> Result<(), Errno>;
    /// Copies bytes at `offset` into `buf`; returns how many (0 at or past
    /// the end).
    fn read(&mut self, id: ObjId, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes `data` at `offset`, growing the file; bytes between the old
    /// end and `offset` read as zeros.
    fn write(&mut self, id: ObjId, offset: u64, data: &[u8]) -> Result<(), Errno>;
    /// Sets the size (growing: zeros).
    fn truncate(&mut self, id: ObjId, size: u64) -> Result<(), Errno>;
    /// The metadata.
    fn meta(&mut self, id: ObjId) -> Result<FileMeta, Errno>;
    /// Sets the times (the size is the store's).
    fn set_times(&mut self, id: ObjId, atime: u64, mtime: u64, ctime: u64) -> Result<(), Errno>;
    /// Makes the file's data and metadata durable.
    fn sync(&mut self, id: ObjId) -> Result<(), Errno>;
}

/// Largest file size (the object store's data area is 1 GiB).
pub const MAX_FILE: u64 = 1 << 30;

/// Files in memory.
#[derive(Debug, Default)]
pub struct MemFiles {
    files: BTreeMap<ObjId, (Vec<u8>, FileMeta)>,
    next: u128,
    /// `sync` calls so far.
    pub syncs: u64,
}

impl MemFiles {
    /// How many file objects exist.
    pub fn count(&self) -> usize {
        self.files.len()
    }

    fn get(&mut self, id: ObjId) -> Result<&mut (Vec<u8>, FileMeta), Errno> {
        self.files.get_mut(&id).ok_or(Errno::EIO)
    }
}

fn end(offset: u64, len: usize) -> Result<usize, Errno> {
    let end = offset.checked_add(len as u64).ok_or(Errno::EFBIG)?;
    if end > MAX_FILE {
        return Err(Errno::EFBIG);
    }
    Ok(end as usize)
}

impl Files for MemFiles {
    fn create(&mut self, now: u64) -> Result<ObjId, Errno> {
        self.next += 1;
        let id = ObjId::from_u128(0xf11e_0000_0000 + self.next);
        let meta = FileMeta {
            size: 0,
            atime: now,
            mtime: now,
            ctime: now,
        };
        self.files.insert(id, (Vec::new(), meta));
        Ok(id)
    }
    fn delete(&mut self, id: ObjId) -> Result<(), Errno> {
        self.files.remove(&id).map(|_| ()).ok_or(Errno::EIO)
    }
    fn read(&mut self, id: ObjId, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let (data, _) = self.get(id)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }
    fn write(&mut self, id: ObjId, offset: u64, bytes: &[u8]) -> Result<(), Errno> {
        let e = end(offset, bytes.len())?;
        let (data, meta) = self.get(id)?;
        if data.len() < e {
            data.resize(e, 0);
        }
        data[offset as usize..e].copy_from_slice(bytes);
        meta.size = data.len() as u64;
        Ok(())
    }
    fn truncate(&mut self, id: ObjId, size: u64) -> Result<(), Errno> {
        let e = end(size, 0)?;
        let (data, meta) = self.get(id)?;
        data.resize(e, 0);
        meta.size = size;
        Ok(())
    }
    fn meta(&mut self, id: ObjId) -> Result<FileMeta, Errno> {
        Ok(self.get(id)?.1)
    }
    fn set_times(&mut self, id: ObjId, atime: u64, mtime: u64, ctime: u64) -> Result<(), Errno> {
        let (_, m) = self.get(id)?;
        (m.atime, m.mtime, m.ctime) = (atime, mtime, ctime);
        Ok(())
    }
    fn sync(&mut self, id: ObjId) -> Result<(), Errno> {
        self.get(id)?;
        self.syncs += 1;
        Ok(())
    }
}
