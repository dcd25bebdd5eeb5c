//! Persistent objects through the object store, as `pcut`, the `store`
//! test group and the benchmarks use them: connecting, FNV-1a, and the
//! small record format `pcut` keeps in each object.
//!
//! # pcut's object format
//!
//! An object is [`OBJ_SIZE`] bytes: an 8-byte header word at offset 0 —
//! bits 0–15 the content length (1 ..= [`MAX_CONTENT`]), bit 16 which half
//! holds the content, bits 32–63 [`MAGIC`] — then two halves of
//! [`MAX_CONTENT`] bytes at [`HALF_A`] and [`HALF_B`]. An overwrite writes
//! the *other* half, makes it durable, then replaces the header word with
//! one aligned 8-byte store: a power cut leaves the old content or the new,
//! never a mix.

use protocols::ipc::{Bytes, CallError};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::objstore::{self, CreateSpec, MAX_RW, StoreError};
use runtime::ppc::Gate;

/// The store's client.
pub type StoreClient = objstore::Client<Gate>;
/// A failed store call.
pub type StoreCallError = CallError<StoreError>;

/// Largest content.
pub const MAX_CONTENT: usize = 4096;
/// The header's magic (`"PCUT"`).
pub const MAGIC: u32 = 0x5455_4350;
/// Offset of half A.
pub const HALF_A: u64 = 64;
/// Offset of half B.
pub const HALF_B: u64 = HALF_A + MAX_CONTENT as u64;
/// Data-area size of every pcut object.
pub const OBJ_SIZE: u64 = HALF_B + MAX_CONTENT as u64;

/// Connects to the object store (waiting up to 10 s for it to start).
pub fn connect() -> Result<StoreClient, protocols::syscall::SysError> {
    Gate::connect("objstore", 10_000).map(objstore::Client::new)
}

/// FNV-1a, 64 bits.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The header word for `len` bytes in half `half`.
pub fn header(len: usize, half: u64) -> u64 {
    (u64::from(MAGIC) << 32) | (half << 16) | len as u64
}

/// `(len, half offset)` from a header word, if it is one.
pub fn parse_header(word: u64) -> Option<(usize, u64)> {
    let len = (word & 0xffff) as usize;
    let ok = (word >> 32) as u32 == MAGIC && (1..=MAX_CONTENT).contains(&len);
    ok.then_some((len, if word >> 16 & 1 == 0 { HALF_A } else { HALF_B }))
}

/// Creates a persistent object of `size` bytes anyone may read, write and
/// delete.
pub fn create(c: &mut StoreClient, size: u64) -> Result<ObjId, StoreCallError> {
    let spec = CreateSpec {
        size,
        flags: ObjFlags::PERSISTENT,
        default_perms: Perms::READ | Perms::WRITE | Perms::DELETE,
        key: ObjId::NIL,
    };
    c.create(spec).map(|i| i.id)
}

/// Writes `data` at `offset`, in message-sized pieces (durable on return).
pub fn write_all(
    c: &mut StoreClient,
    id: ObjId,
    offset: u64,
    data: &[u8],
) -> Result<(), StoreCallError> {
    for (i, chunk) in data.chunks(MAX_RW).enumerate() {
        let b = Bytes::from_slice(chunk).unwrap_or_default();
        c.write(id, offset + (i * MAX_RW) as u64, b)?;
    }
    Ok(())
}

/// Reads `out.len()` bytes at `offset`.
pub fn read_all(
    c: &mut StoreClient,
    id: ObjId,
    offset: u64,
    out: &mut [u8],
) -> Result<(), StoreCallError> {
    for (i, chunk) in out.chunks_mut(MAX_RW).enumerate() {
        let got = c.read(id, offset + (i * MAX_RW) as u64, chunk.len() as u32)?;
        chunk.copy_from_slice(&got);
    }
    Ok(())
}

/// The content of a pcut object (empty: no valid header).
pub fn content(
    c: &mut StoreClient,
    id: ObjId,
    out: &mut [u8; MAX_CONTENT],
) -> Result<usize, StoreCallError> {
    let mut h = [0u8; 8];
    read_all(c, id, 0, &mut h)?;
    match parse_header(u64::from_le_bytes(h)) {
        Some((len, half)) => {
            read_all(c, id, half, &mut out[..len])?;
            Ok(len)
        }
        None => Ok(0),
    }
}

/// Replaces the content of pcut object `id` (whose header word is
/// `old_header`, 0 for a fresh object) atomically; returns the new header.
pub fn overwrite(
    c: &mut StoreClient,
    id: ObjId,
    old_header: u64,
    data: &[u8],
) -> Result<u64, StoreCallError> {
    let half = match parse_header(old_header) {
        Some((_, HALF_A)) => 1,
        _ => 0,
    };
    write_all(c, id, if half == 0 { HALF_A } else { HALF_B }, data)?;
    let word = header(data.len(), half);
    c.write(
        id,
        0,
        Bytes::from_slice(&word.to_le_bytes()).unwrap_or_default(),
    )?;
    Ok(word)
}
