//! A bump arena over bootloader-reclaimable memory that hands out kernel
//! (HHDM) addresses for what it stores.
//!
//! The arena knows the physical address of its buffer and the HHDM offset,
//! so each placement returns the address the kernel will use. On the host,
//! tests use a heap buffer with "physical" = its real address and an HHDM
//! offset of 0, which makes the returned addresses real pointers.

use core::fmt;
use core::mem::{align_of, size_of};

use crate::protocol::{
    ArrayResponse, FileStruct, MemmapEntry, OneWordResponse, RevisionOnlyResponse, TwoWordResponse,
};

/// Plain data that may be copied into the arena byte for byte.
///
/// # Safety
///
/// Implementors must have no padding bytes and no invalid bit patterns, so
/// that viewing a value as `size_of::<Self>()` initialised bytes is sound.
pub unsafe trait Plain: Copy {}

// SAFETY: integers have neither padding nor invalid values.
unsafe impl Plain for u64 {}
// SAFETY: arrays of plain integers have no padding.
unsafe impl<const N: usize> Plain for [u64; N] {}
// SAFETY: repr(C), eight-byte fields only.
unsafe impl Plain for MemmapEntry {}
// SAFETY: repr(C); fields are laid out without gaps (checked by the
// size assertion in `protocol`'s tests: 112 bytes, the sum of the fields).
unsafe impl Plain for FileStruct {}
// SAFETY: repr(C), eight-byte fields only.
unsafe impl Plain for RevisionOnlyResponse {}
// SAFETY: repr(C), eight-byte fields only.
unsafe impl Plain for OneWordResponse {}
// SAFETY: repr(C), eight-byte fields only.
unsafe impl Plain for TwoWordResponse {}
// SAFETY: repr(C), eight-byte fields only.
unsafe impl Plain for ArrayResponse {}

/// The arena has no room left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaFull {
    /// Bytes asked for.
    pub needed: usize,
    /// Bytes left.
    pub available: usize,
}

impl fmt::Display for ArenaFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "response memory exhausted ({} bytes needed, {} left)",
            self.needed, self.available
        )
    }
}

/// A bump arena; see the module documentation.
pub struct Arena<'a> {
    buf: &'a mut [u8],
    phys: u64,
    hhdm: u64,
    used: usize,
}

impl<'a> Arena<'a> {
    /// An arena over `buf`, whose first byte is at physical `phys` (8-byte
    /// aligned) and is seen by the kernel at `phys + hhdm`.
    pub fn new(buf: &'a mut [u8], phys: u64, hhdm: u64) -> Arena<'a> {
        Arena {
            buf,
            phys,
            hhdm,
            used: 0,
        }
    }

    /// Kernel address of arena byte `offset`.
    pub fn virt(&self, offset: usize) -> u64 {
        self.phys + self.hhdm + offset as u64
    }

    /// Physical address of arena byte `offset`.
    pub fn phys(&self, offset: usize) -> u64 {
        self.phys + offset as u64
    }

    /// Bytes used so far.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Reserves `size` zeroed bytes aligned to `align` (a power of two,
    /// relative to the physical address); returns their arena offset.
    pub fn reserve(&mut self, size: usize, align: usize) -> Result<usize, ArenaFull> {
        let misalign = (self.phys as usize).wrapping_add(self.used) & (align - 1);
        let start = self.used + (align - misalign) % align;
        let available = self.buf.len().saturating_sub(self.used);
        if start
            .checked_add(size)
            .is_none_or(|end| end > self.buf.len())
        {
            return Err(ArenaFull {
                needed: size,
                available,
            });
        }
        self.buf[self.used..start + size].fill(0);
        self.used = start + size;
        Ok(start)
    }

    /// Writes `value` at arena `offset` (which `reserve` returned for at
    /// least `size_of::<T>()` bytes).
    pub fn write<T: Plain>(&mut self, offset: usize, value: T) {
        // SAFETY: `T: Plain` has no padding, so all its bytes are initialised
        // and may be read as `u8`; the slice covers exactly the value.
        let bytes =
            unsafe { core::slice::from_raw_parts((&raw const value).cast::<u8>(), size_of::<T>()) };
        self.buf[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    /// Stores `value` (aligned for `T`, at least 8); returns its arena offset.
    pub fn place<T: Plain>(&mut self, value: T) -> Result<usize, ArenaFull> {
        let offset = self.reserve(size_of::<T>(), align_of::<T>().max(8))?;
        self.write(offset, value);
        Ok(offset)
    }

    /// Stores `s` as a NUL-terminated C string; returns its kernel address.
    /// An interior NUL ends the string early, as C would read it.
    pub fn place_str(&mut self, s: &str) -> Result<u64, ArenaFull> {
        let bytes = s.as_bytes();
        let offset = self.reserve(bytes.len() + 1, 1)?;
        self.buf[offset..offset + bytes.len()].copy_from_slice(bytes);
        Ok(self.virt(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn placements_are_aligned_zero_terminated_and_bounded() {
        let mut buf = vec![0xffu8; 64];
        let mut arena = Arena::new(&mut buf, 0x1000, 0xffff_8000_0000_0000);
        assert_eq!(arena.place_str("abc").unwrap(), 0xffff_8000_0000_1000);
        let at = arena.place(7u64).unwrap();
        assert_eq!(at, 8);
        assert_eq!(arena.virt(at), 0xffff_8000_0000_1008);
        assert_eq!(arena.phys(at), 0x1008);
        assert_eq!(
            arena
                .place(MemmapEntry {
                    base: 1,
                    length: 2,
                    kind: 3
                })
                .unwrap(),
            16
        );
        assert_eq!(arena.used(), 40);
        assert_eq!(
            arena.place([0u64; 4]),
            Err(ArenaFull {
                needed: 32,
                available: 24
            })
        );
        assert_eq!(&buf[..5], b"abc\0\0");
        assert_eq!(&buf[8..16], &7u64.to_le_bytes());
        assert_eq!(&buf[32..40], &3u64.to_le_bytes());
    }

    #[test]
    fn alignment_follows_the_physical_address() {
        let mut buf = vec![0u8; 64];
        let mut arena = Arena::new(&mut buf, 0x1004, 0);
        assert_eq!(arena.reserve(1, 8).unwrap(), 4);
    }
}
