//! Signing, for user space: private-key bytes in, record bytes out.
//!
//! The private key is the 32-byte Ed25519 seed (RFC 8032 §5.1.5) held in
//! an object's private-key object. Signing is deterministic: the same key
//! and grant always give the same bytes.

use ed25519_dalek::{Signer, SigningKey};
use protocols::cap::{
    CAP_LEN, CAP_SIGNED_LEN, CapRecord, DELEGATION_LEN, DELEGATION_SIGNED_LEN, DelegationRecord,
    FormatError, Grant, KEY_LEN,
};
use protocols::object::ObjId;

/// Why a record could not be signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignError {
    /// The grant would not decode (nil ID, bad gate mask, holder key without
    /// `DELEGATE`, …); nothing was signed.
    Format(FormatError),
}

/// The Ed25519 public key of private key (seed) `secret`.
pub fn public_key(secret: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    SigningKey::from_bytes(secret).verifying_key().to_bytes()
}

/// Signs a capability for `grant` with the target object's private key.
pub fn sign_cap(target_secret: &[u8; KEY_LEN], grant: &Grant) -> Result<[u8; CAP_LEN], SignError> {
    let body = CapRecord::signed_bytes(grant);
    let mut out = [0u8; CAP_LEN];
    out[..CAP_SIGNED_LEN].copy_from_slice(&body);
    CapRecord::decode(&out).map_err(SignError::Format)?;
    let sig = SigningKey::from_bytes(target_secret).sign(&body);
    out[CAP_SIGNED_LEN..].copy_from_slice(&sig.to_bytes());
    Ok(out)
}

/// Signs a delegation of `grant` from context `delegator` with the
/// delegator's holder key (the private half of the holder key its own grant
/// names). Whether the grant is a subset of the delegator's is checked when
/// the chain is verified.
pub fn sign_delegation(
    holder_secret: &[u8; KEY_LEN],
    delegator: ObjId,
    grant: &Grant,
) -> Result<[u8; DELEGATION_LEN], SignError> {
    let body = DelegationRecord::signed_bytes(delegator, grant);
    let mut out = [0u8; DELEGATION_LEN];
    out[..DELEGATION_SIGNED_LEN].copy_from_slice(&body);
    DelegationRecord::decode(&out).map_err(SignError::Format)?;
    let sig = SigningKey::from_bytes(holder_secret).sign(&body);
    out[DELEGATION_SIGNED_LEN..].copy_from_slice(&sig.to_bytes());
    Ok(out)
}
