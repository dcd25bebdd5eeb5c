//! [`StoreFiles`]: file objects in the persistent object store, reached
//! through its [`ObjStore`](protocols::objstore::ObjStore) interface — the
//! [`Files`] the POSIX server uses.
//!
//! # A file object's data area (little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 8   | magic `b"PFILE\0\0\x01"` |
//! | 8   | 8   | atime (ns) |
//! | 16  | 8   | mtime (ns) |
//! | 24  | 8   | ctime (ns) |
//! | 32  | 32  | reserved, zero |
//! | 64  | …   | the file's bytes |
//!
//! The file's size is the object's size minus [`FILE_HEADER`]: the store
//! keeps it crash-consistently (resizes go through its redo log), and a
//! grown object reads as zeros, so a hole left by a write past the end
//! reads as zeros. Every store `write` is durable once acknowledged, so
//! `fsync` has nothing left to do.

use protocols::ipc::{Bytes, CallError, Transport};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::objstore::{Client, CreateSpec, MAX_RW, StoreError};
use protocols::posix::Errno;

use crate::files::{FileMeta, Files, MAX_FILE};

/// Bytes before a file's contents in its object.
pub const FILE_HEADER: u64 = 64;
const MAGIC: [u8; 8] = *b"PFILE\0\0\x01";

fn err(e: CallError<StoreError>) -> Errno {
    match e {
        CallError::Server(StoreError::NoSpace)
        | CallError::Server(StoreError::DirectoryFull)
        | CallError::Server(StoreError::TooFragmented) => Errno::ENOSPC,
        CallError::Server(StoreError::TooLarge) => Errno::EFBIG,
        CallError::Server(StoreError::Denied) => Errno::EACCES,
        _ => Errno::EIO,
    }
}

/// File objects in the object store behind `T`.
pub struct StoreFiles<T>(pub Client<T>);

impl<T: Transport> StoreFiles<T> {
    fn size(&mut self, id: ObjId) -> Result<u64, Errno> {
        let info = self.0.stat(id).map_err(err)?;
        info.size.checked_sub(FILE_HEADER).ok_or(Errno::EIO)
    }

    fn put(&mut self, id: ObjId, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let mut off = offset;
        for chunk in data.chunks(MAX_RW) {
            let b = Bytes::from_slice(chunk).map_err(|_| Errno::EIO)?;
            self.0.write(id, off, b).map_err(err)?;
            off += chunk.len() as u64;
        }
        Ok(())
    }

    fn put_times(&mut self, id: ObjId, a: u64, m: u64, c: u64) -> Result<(), Errno> {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&a.to_le_bytes());
        b[8..16].copy_from_slice(&m.to_le_bytes());
        b[16..24].copy_from_slice(&c.to_le_bytes());
        self.put(id, 8, &b)
    }
}

impl<T: Transport> Files for StoreFiles<T> {
    fn create(&mut self, now: u64) -> Result<ObjId, Errno> {
        let spec = CreateSpec {
            size: FILE_HEADER,
            flags: ObjFlags::PERSISTENT,
            // DELETE: `unlink` deletes it (the server's default context
            // is what the store checks).
            default_perms: Perms::READ | Perms::WRITE | Perms::DELETE,
            key: ObjId::NIL,
        };
        let id = self.0.create(spec).map_err(err)?.id;
        self.put(id, 0, &MAGIC)?;
        self.put_times(id, now, now, now)?;
        Ok(id)
    }

    fn delete(&mut self, id: ObjId) -> Result<(), Errno> {
        self.0.delete(id).map_err(err)
    }

    fn read(&mut self, id: ObjId, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let size = self.size(id)?;
        let n = (buf.len() as u64).min(size.saturating_sub(offset)) as usize;
        let mut done = 0;
        while done < n {
            let len = (n - done).min(MAX_RW);
            let at = FILE_HEADER + offset + done as u64;
            let got = self.0.read(id, at, len as u32).map_err(err)?;
            if got.len() != len {
                return Err(Errno::EIO);
            }
            buf[done..done + len].copy_from_slice(&got);
            done += len;
        }
        Ok(n)
    }

    fn write(&mut self, id: ObjId, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE {
            return Err(Errno::EFBIG);
        }
        if end > self.size(id)? {
            self.0.resize(id, FILE_HEADER + end).map_err(err)?;
        }
        self.put(id, FILE_HEADER + offset, data)
    }

    fn truncate(&mut self, id: ObjId, size: u64) -> Result<(), Errno> {
        if size > MAX_FILE {
            return Err(Errno::EFBIG);
        }
        self.0
            .resize(id, FILE_HEADER + size)
            .map_err(err)
            .map(|_| ())
    }

    fn meta(&mut self, id: ObjId) -> Result<FileMeta, Errno> {
        let size = self.size(id)?;
        let h = self.0.read(id, 0, 32).map_err(err)?;
        if h.len() != 32 || h[0..8] != MAGIC {
            return Err(Errno::EIO);
        }
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[i..i + 8]);
            u64::from_le_bytes(b)
        };
        Ok(FileMeta {
            size,
            atime: word(8),
            mtime: word(16),
            ctime: word(24),
        })
    }

    fn set_times(&mut self, id: ObjId, atime: u64, mtime: u64, ctime: u64) -> Result<(), Errno> {
        self.put_times(id, atime, mtime, ctime)
    }

    fn sync(&mut self, id: ObjId) -> Result<(), Errno> {
        // Acknowledged store writes are already durable; check it exists.
        self.size(id).map(|_| ())
    }
}
