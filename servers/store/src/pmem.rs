//! Access to persistent memory: the [`Pmem`] trait and its plain
//! implementations — [`VecPmem`] (a byte vector: host files, tests) and
//! [`MappedPmem`] (mapped NVDIMM in the guest). The power-cut simulator is
//! [`crate::CrashSim`].

use alloc::vec;
use alloc::vec::Vec;

/// A region of persistent memory.
///
/// Offsets are from the start of the region. Accesses outside
/// `[0, len())` are bugs in the caller and panic: the store computes every
/// offset from geometry it checked against the region's length first.
pub trait Pmem {
    /// The region's length in bytes.
    fn len(&self) -> u64;
    /// Copies `buf.len()` bytes at `off` into `buf`.
    fn read(&self, off: u64, buf: &mut [u8]);
    /// Stores `bytes` at `off` (visible to loads at once; durable only
    /// after [`Pmem::flush`] and [`Pmem::fence`], or whenever the cache
    /// evicts the lines).
    fn write(&mut self, off: u64, bytes: &[u8]);
    /// Starts writing back every cache line `[off, off + len)` touches.
    fn flush(&mut self, off: u64, len: u64);
    /// Waits until every earlier flush has reached persistent memory.
    fn fence(&mut self);

    /// Whether the region is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores `len` zero bytes at `off`.
    fn zero(&mut self, off: u64, len: u64) {
        const ZEROS: [u8; 4096] = [0; 4096];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(ZEROS.len() as u64);
            self.write(off + done, &ZEROS[..n as usize]);
            done += n;
        }
    }

    /// Reads a little-endian `u64` at `off`.
    fn read_u64(&self, off: u64) -> u64 {
        let mut b = [0u8; 8];
        self.read(off, &mut b);
        u64::from_le_bytes(b)
    }
}

/// Checks that `[off, off + len)` lies in a region of `size` bytes and
/// returns it as a `usize` range.
fn span(size: usize, off: u64, len: usize) -> core::ops::Range<usize> {
    let start = usize::try_from(off).ok();
    match start.and_then(|s| s.checked_add(len).map(|e| (s, e))) {
        Some((s, e)) if e <= size => s..e,
        _ => panic!("pmem access [{off:#x}, +{len:#x}) outside a {size:#x}-byte region"),
    }
}

/// Persistent memory as a byte vector: every store is immediately
/// "durable". For images read from files and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VecPmem(pub Vec<u8>);

impl VecPmem {
    /// A zero-filled region of `len` bytes.
    pub fn new(len: usize) -> VecPmem {
        VecPmem(vec![0; len])
    }
}

impl Pmem for VecPmem {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) {
        let r = span(self.0.len(), off, buf.len());
        buf.copy_from_slice(&self.0[r]);
    }
    fn write(&mut self, off: u64, bytes: &[u8]) {
        let r = span(self.0.len(), off, bytes.len());
        self.0[r].copy_from_slice(bytes);
    }
    fn flush(&mut self, off: u64, len: u64) {
        let _ = span(self.0.len(), off, len as usize);
    }
    fn fence(&mut self) {}
}

/// Persistent memory mapped into this address space (the NVDIMM region
/// the kernel gives the store), made durable with `runtime::persist`.
#[cfg(target_arch = "x86_64")]
#[derive(Debug)]
pub struct MappedPmem {
    base: *mut u8,
    len: usize,
}

#[cfg(target_arch = "x86_64")]
impl MappedPmem {
    /// The region `[base, base + len)`.
    ///
    /// # Safety
    ///
    /// The range must stay mapped readable and writable for the value's
    /// lifetime, and no Rust reference may alias it. Other address spaces
    /// may map object pages of the region (that is the point); their
    /// stores race only with [`Pmem::read`]/[`Pmem::write`] of those
    /// objects' data, which then see or leave unspecified bytes, never
    /// anything the store's metadata depends on.
    pub unsafe fn new(base: *mut u8, len: usize) -> MappedPmem {
        MappedPmem { base, len }
    }
}

#[cfg(target_arch = "x86_64")]
impl Pmem for MappedPmem {
    fn len(&self) -> u64 {
        self.len as u64
    }
    fn read(&self, off: u64, buf: &mut [u8]) {
        let r = span(self.len, off, buf.len());
        // SAFETY: `r` lies in the mapped region (checked by `span`), and
        // `buf` is a distinct Rust buffer, so the ranges do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(self.base.add(r.start), buf.as_mut_ptr(), r.len()) }
    }
    fn write(&mut self, off: u64, bytes: &[u8]) {
        let r = span(self.len, off, bytes.len());
        // SAFETY: as in `read`, with the region writable (`new`'s contract).
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base.add(r.start), r.len()) }
    }
    fn flush(&mut self, off: u64, len: u64) {
        let r = span(self.len, off, len as usize);
        // SAFETY: the range is inside the mapped region.
        unsafe { runtime::persist::flush(self.base.add(r.start), r.len()) }
    }
    fn fence(&mut self) {
        runtime::persist::fence();
    }
}
