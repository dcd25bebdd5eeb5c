//! Explicit little-endian field access for the on-media formats in this
//! crate ([`crate::object`], [`crate::fot`], [`crate::cap`]).
//!
//! Every format is read and written field by field at documented offsets,
//! never by transmuting bytes into a struct, so the byte layout is exactly
//! what the documentation says on every compiler and target. Callers check
//! the buffer length once, up front, against the record size; these helpers
//! then index inside that checked buffer.

/// Reads a little-endian `u16` at `off`.
pub(crate) fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

/// Reads a little-endian `u32` at `off`.
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

/// Reads a little-endian `u64` at `off`.
pub(crate) fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// Reads a little-endian `u128` at `off`.
pub(crate) fn u128_at(b: &[u8], off: usize) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[off..off + 16]);
    u128::from_le_bytes(a)
}

/// Writes `v` little-endian at `off`.
pub(crate) fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` little-endian at `off`.
pub(crate) fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` little-endian at `off`.
pub(crate) fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Writes `v` little-endian at `off`.
pub(crate) fn put_u128(b: &mut [u8], off: usize, v: u128) {
    b[off..off + 16].copy_from_slice(&v.to_le_bytes());
}

/// The first offset in `b[range]` holding a non-zero byte, if any.
pub(crate) fn first_nonzero(b: &[u8], start: usize, end: usize) -> Option<usize> {
    b[start..end]
        .iter()
        .position(|&x| x != 0)
        .map(|i| start + i)
}
