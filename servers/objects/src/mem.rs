//! Raw access to one mapped object's bytes: the header, FOT entries,
//! atomic words and typed values at checked offsets.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicU64};

use protocols::fot::FotEntry;
use protocols::object::{
    BASE_OFFSET, DATA_END, FOT_ENTRY_SIZE, HDR_DATA_TOP, HDR_FOT_COUNT, HEADER_OFFSET, HEADER_SIZE,
    HeaderError, ObjHeader, SLOT_SIZE, fot_entry_offset,
};

use crate::error::ObjError;
use crate::invariant::Invariant;

/// One object's slot: `SLOT_SIZE` bytes starting at a page-aligned base.
///
/// Non-atomic accesses copy bytes in or out through raw pointers; the words
/// that several writers may race on (the FOT count, the data top and each
/// FOT entry's claim word) are accessed atomically in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjMem {
    base: NonNull<u8>,
    writable: bool,
}

impl ObjMem {
    /// Wraps the slot at `base`; every write through the handle fails with
    /// [`ObjError::NotWritable`] unless `writable`.
    ///
    /// # Safety
    ///
    /// `[base, base + SLOT_SIZE)` must be one object's memory, page aligned,
    /// valid for reads — and for writes if `writable` — for as long as this
    /// `ObjMem` or any copy of it is used.
    pub unsafe fn new(base: NonNull<u8>, writable: bool) -> ObjMem {
        debug_assert!((base.as_ptr() as usize).is_multiple_of(4096));
        ObjMem { base, writable }
    }

    /// Whether writes through this handle are allowed.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Fails unless the handle may write.
    pub(crate) fn check_writable(&self) -> Result<(), ObjError> {
        if self.writable {
            Ok(())
        } else {
            Err(ObjError::NotWritable)
        }
    }

    /// The slot's base address.
    pub fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// A raw pointer to `off` in the slot; `off` must be below `SLOT_SIZE`.
    pub(crate) fn at(&self, off: u64) -> *mut u8 {
        debug_assert!(off < SLOT_SIZE);
        // SAFETY: `off < SLOT_SIZE`, so the result stays inside the slot
        // (`new`'s contract).
        unsafe { self.base.as_ptr().add(off as usize) }
    }

    /// Copies `N` bytes out from `off` (`off + N <= SLOT_SIZE`).
    fn copy_out<const N: usize>(&self, off: u64) -> [u8; N] {
        assert!(off + N as u64 <= SLOT_SIZE);
        let mut b = [0u8; N];
        // SAFETY: the range is inside the slot (checked above), readable by
        // `new`'s contract, and `b` is a distinct local.
        unsafe { core::ptr::copy_nonoverlapping(self.at(off), b.as_mut_ptr(), N) };
        b
    }

    /// Copies `bytes` in at `off` (`off + len <= SLOT_SIZE`).
    pub(crate) fn copy_in(&self, off: u64, bytes: &[u8]) -> Result<(), ObjError> {
        self.check_writable()?;
        assert!(off + bytes.len() as u64 <= SLOT_SIZE);
        // SAFETY: inside the slot (checked above) and writable (`new`'s
        // contract with `writable`); `bytes` is a local or another slot's
        // memory, not this range.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.at(off), bytes.len()) };
        Ok(())
    }

    /// Copies `len` bytes out from `off` into `out`.
    pub(crate) fn read_bytes(&self, off: u64, out: &mut [u8]) {
        assert!(off + out.len() as u64 <= SLOT_SIZE);
        // SAFETY: inside the slot (checked above) and readable; `out` is the
        // caller's buffer, not slot memory borrowed elsewhere.
        unsafe { core::ptr::copy_nonoverlapping(self.at(off), out.as_mut_ptr(), out.len()) };
    }

    /// Decodes and checks the header.
    pub fn header(&self) -> Result<ObjHeader, HeaderError> {
        ObjHeader::decode(&self.copy_out::<{ HEADER_SIZE as usize }>(HEADER_OFFSET))
    }

    /// Writes a fresh header (object creation).
    pub fn write_header(&self, h: &ObjHeader) -> Result<(), ObjError> {
        self.copy_in(HEADER_OFFSET, &h.encode())
    }

    /// The FOT count word, in place.
    pub(crate) fn fot_count(&self) -> &AtomicU32 {
        // SAFETY: the header is 64-aligned (the slot is page aligned and
        // HEADER_OFFSET is a multiple of 64), so the word is 4-aligned; it
        // stays valid while `self` is used, and every access to it is atomic.
        unsafe { AtomicU32::from_ptr(self.at(HEADER_OFFSET + HDR_FOT_COUNT).cast()) }
    }

    /// The data-top word, in place.
    pub(crate) fn data_top(&self) -> &AtomicU64 {
        // SAFETY: 8-aligned for the same reason as `fot_count`; valid while
        // `self` is used; only accessed atomically.
        unsafe { AtomicU64::from_ptr(self.at(HEADER_OFFSET + HDR_DATA_TOP).cast()) }
    }

    /// The claim word of FOT entry `index` (1..=MAX_FOT_ENTRIES), in place.
    pub(crate) fn claim_word(&self, index: u32) -> Option<&AtomicU64> {
        let off = fot_entry_offset(index)?;
        // SAFETY: entries are 64-aligned inside the metadata region and the
        // claim word is their first 8 bytes; valid while `self` is used and
        // only accessed atomically.
        Some(unsafe { AtomicU64::from_ptr(self.at(off).cast()) })
    }

    /// Decodes FOT entry `index`'s 64 bytes as they are now.
    pub(crate) fn fot_entry(&self, index: u32) -> Result<FotEntry, ObjError> {
        let off = fot_entry_offset(index).ok_or(ObjError::BadIndex(index))?;
        Ok(FotEntry::decode(
            &self.copy_out::<{ FOT_ENTRY_SIZE as usize }>(off),
        )?)
    }

    /// Writes FOT entry `index`'s bytes after its claim word (the caller
    /// holds the entry BUSY).
    pub(crate) fn write_fot_fields(&self, index: u32, e: &FotEntry) -> Result<(), ObjError> {
        let off = fot_entry_offset(index).ok_or(ObjError::BadIndex(index))?;
        self.copy_in(off + 8, &e.encode()[8..])
    }

    /// Checks that a `U` fits at `off` in the data area, aligned.
    pub fn check<U>(off: u64) -> Result<(), ObjError> {
        let size = core::mem::size_of::<U>() as u64;
        if off < BASE_OFFSET || off > DATA_END - size {
            return Err(ObjError::OutOfRange(off));
        }
        if !off.is_multiple_of(core::mem::align_of::<U>() as u64) {
            return Err(ObjError::Misaligned(off));
        }
        Ok(())
    }

    /// Reads the `U` at data offset `off`.
    pub fn read<U: Invariant>(&self, off: u64) -> Result<U, ObjError> {
        Self::check::<U>(off)?;
        // SAFETY: `check` put `[off, off + size)` inside the data area and
        // aligned it; the slot is readable; `U: Invariant` accepts any bits.
        Ok(unsafe { self.at(off).cast::<U>().read() })
    }

    /// Writes `v` at data offset `off`.
    pub fn write<U: Invariant>(&self, off: u64, v: U) -> Result<(), ObjError> {
        self.check_writable()?;
        Self::check::<U>(off)?;
        // SAFETY: in the data area and aligned (`check`), writable
        // (`check_writable` and `new`'s contract); `U: Invariant` holds no
        // address.
        unsafe { self.at(off).cast::<U>().write(v) };
        Ok(())
    }
}
