//! Object-ID derivation: SHA-512 over the bytes `protocols::object`
//! fixes ([`id_hash_input`]), first 16 bytes little-endian.

use protocols::object::{ObjFlags, ObjHeader, ObjId, Perms, id_hash_input};
use sha2::{Digest, Sha512};

/// The ID of an object created with these header fields. A nil result
/// (probability 2⁻¹²⁸) must be treated by the creator as "pick another
/// nonce".
pub fn derive_id(nonce: u128, key_id: ObjId, flags: ObjFlags, default_perms: Perms) -> ObjId {
    let digest = Sha512::digest(id_hash_input(nonce, key_id, flags, default_perms));
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    ObjId::from_le_bytes(first)
}

/// An object header that does not hash to the ID it was reached by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMismatch {
    /// The ID the object was asked for.
    pub expected: ObjId,
    /// The ID its header hashes to.
    pub derived: ObjId,
}

/// Checks, as the kernel does on an object's first use, that `header`
/// belongs to object `id`: its nonce, key, flags and default permissions
/// hash to `id`.
pub fn check_id(id: ObjId, header: &ObjHeader) -> Result<(), IdMismatch> {
    let derived = derive_id(
        header.nonce,
        header.key_id,
        header.flags,
        header.default_perms,
    );
    if derived == id && !id.is_nil() {
        Ok(())
    } else {
        Err(IdMismatch {
            expected: id,
            derived,
        })
    }
}
