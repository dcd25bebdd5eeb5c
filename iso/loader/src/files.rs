//! Reading files from the volume the loader itself was loaded from.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use uefi::boot::{self, ScopedProtocol};
use uefi::proto::media::file::{Directory, File, FileAttribute, FileInfo, FileMode, RegularFile};
use uefi::proto::media::fs::SimpleFileSystem;
use uefi::{CString16, Status};

use crate::error::LoaderError;
use crate::memory::{self, KERNEL_AND_MODULES};

/// Where `limine.conf` may be, in search order (first found wins).
pub const CONFIG_PATHS: [&str; 5] = [
    "/boot/limine/limine.conf",
    "/boot/limine.conf",
    "/limine/limine.conf",
    "/limine.conf",
    "/EFI/BOOT/limine.conf",
];

/// The boot volume, open. Drop it before leaving boot services.
pub struct Volume {
    root: Directory,
    _fs: ScopedProtocol<SimpleFileSystem>,
}

/// A file read into executable-and-modules memory.
pub struct LoadedBytes {
    /// Physical address of the first byte (page aligned).
    pub phys: u64,
    /// File size in bytes.
    pub size: u64,
    /// The file's bytes.
    pub bytes: &'static mut [u8],
}

impl Volume {
    /// Opens the file system of the device the loader was loaded from.
    pub fn open_boot_volume() -> Result<Volume, LoaderError> {
        let mut fs = boot::get_image_file_system(boot::image_handle())
            .map_err(|e| LoaderError::NoFileSystem(e.status()))?;
        let root = fs
            .open_volume()
            .map_err(|e| LoaderError::NoFileSystem(e.status()))?;
        Ok(Volume { root, _fs: fs })
    }

    fn open(&mut self, path: &str) -> Result<(RegularFile, u64), LoaderError> {
        let file_error = |status| LoaderError::File {
            path: path.to_string(),
            status,
        };
        let uefi_path: String = path.trim_start_matches('/').replace('/', "\\");
        let name =
            CString16::try_from(uefi_path.as_str()).map_err(|_| LoaderError::BadFileName {
                path: path.to_string(),
            })?;
        let handle = self
            .root
            .open(&name, FileMode::Read, FileAttribute::empty())
            .map_err(|e| file_error(e.status()))?;
        let mut file = handle
            .into_regular_file()
            .ok_or(file_error(Status::NOT_FOUND))?;
        let info = file
            .get_boxed_info::<FileInfo>()
            .map_err(|e| file_error(e.status()))?;
        Ok((file, info.file_size()))
    }

    fn read_all(path: &str, file: &mut RegularFile, buf: &mut [u8]) -> Result<(), LoaderError> {
        let mut done = 0;
        while done < buf.len() {
            let n = file.read(&mut buf[done..]).map_err(|e| LoaderError::File {
                path: path.to_string(),
                status: e.status(),
            })?;
            if n == 0 {
                return Err(LoaderError::File {
                    path: path.to_string(),
                    status: Status::END_OF_FILE,
                });
            }
            done += n;
        }
        Ok(())
    }

    /// Reads a small file (the configuration) into the heap; `None` when
    /// it does not exist.
    pub fn read_small(&mut self, path: &str) -> Result<Option<Vec<u8>>, LoaderError> {
        let (mut file, size) = match self.open(path) {
            Ok(opened) => opened,
            Err(LoaderError::File {
                status: Status::NOT_FOUND,
                ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut buf = vec![0; size as usize];
        Self::read_all(path, &mut file, &mut buf)?;
        Ok(Some(buf))
    }

    /// Reads a kernel or module file into page-aligned
    /// executable-and-modules memory.
    pub fn read_to_pages(&mut self, path: &str) -> Result<LoadedBytes, LoaderError> {
        let (mut file, size) = self.open(path)?;
        let len = usize::try_from(size).map_err(|_| LoaderError::File {
            path: path.to_string(),
            status: Status::BAD_BUFFER_SIZE,
        })?;
        let pages = memory::allocate("a file", len, KERNEL_AND_MODULES)?;
        Self::read_all(path, &mut file, &mut pages.bytes[..len])?;
        Ok(LoadedBytes {
            phys: pages.phys,
            size,
            bytes: pages.bytes,
        })
    }
}
