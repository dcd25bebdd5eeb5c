//! The memory a server's state lives in: a persistent object mapped
//! straight onto the NVDIMM, or — with no NVDIMM — a DRAM buffer.

use protocols::object::{BASE_OFFSET, ObjId, Perms};
use protocols::syscall::SysError;
use store::{MappedPmem, Pmem, VecPmem};

/// A server's state memory.
pub enum Backing {
    /// The data area of a mapped persistent object.
    Object(MappedPmem),
    /// A DRAM buffer (lost at power-off).
    Dram(VecPmem),
}

impl Backing {
    /// Maps persistent object `id` (whose data area holds `size` bytes)
    /// read/write and returns its data area.
    pub fn map(id: ObjId, size: u64) -> Result<Backing, SysError> {
        let base = objects::setup::map(id, Perms::READ | Perms::WRITE)?;
        let len = usize::try_from(size).map_err(|_| SysError::InvalidArgument)?;
        // SAFETY: the kernel mapped the object's slot read/write at `base`
        // for the program's lifetime (it is never unmapped); its data area
        // starts at BASE_OFFSET and holds `size` bytes, the store's answer
        // for it. Only this server writes the object, and no Rust
        // reference points into the slot.
        let pmem = unsafe { MappedPmem::new(base.add(BASE_OFFSET as usize), len) };
        Ok(Backing::Object(pmem))
    }

    /// A zeroed DRAM buffer of `size` bytes.
    pub fn dram(size: u64) -> Backing {
        Backing::Dram(VecPmem::new(size as usize))
    }
}

impl Pmem for Backing {
    fn len(&self) -> u64 {
        match self {
            Backing::Object(p) => p.len(),
            Backing::Dram(p) => p.len(),
        }
    }
    fn read(&self, off: u64, buf: &mut [u8]) {
        match self {
            Backing::Object(p) => p.read(off, buf),
            Backing::Dram(p) => p.read(off, buf),
        }
    }
    fn write(&mut self, off: u64, bytes: &[u8]) {
        match self {
            Backing::Object(p) => p.write(off, bytes),
            Backing::Dram(p) => p.write(off, bytes),
        }
    }
    fn flush(&mut self, off: u64, len: u64) {
        match self {
            Backing::Object(p) => p.flush(off, len),
            Backing::Dram(p) => p.flush(off, len),
        }
    }
    fn fence(&mut self) {
        match self {
            Backing::Object(p) => p.fence(),
            Backing::Dram(p) => p.fence(),
        }
    }
}
