//! Verification, for the kernel: record bytes and the target's public key
//! in, the access granted (or a typed reason) out.
//!
//! Cheap checks run first (lengths, chain bound, every field, the chain's
//! shape, accessor, expiry) and signatures last, so a useless record costs
//! no curve arithmetic. Signatures use RFC 8032 *strict* verification
//! (canonical encodings, no small-order keys), which every conforming
//! signer's output passes.

use ed25519_dalek::{Signature, VerifyingKey};
use protocols::cap::{
    CAP_LEN, CAP_SIGNED_LEN, CapFlags, CapRecord, DELEGATION_LEN, DELEGATION_SIGNED_LEN,
    DelegationRecord, FormatError, GateMask, Grant, KEY_LEN, MAX_DELEGATIONS,
};
use protocols::object::{ObjId, Perms};

/// What a verified chain grants. The kernel caches it per security
/// context until the context changes or `expiry` passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The object the grant is for (the kernel checks it is the object
    /// being accessed).
    pub target: ObjId,
    /// The context holding the grant (the `accessor_ctx` asked about).
    pub accessor: ObjId,
    /// Permissions: those of the last link.
    pub perms: Perms,
    /// Flags of the last link.
    pub flags: CapFlags,
    /// The earliest expiry in the chain.
    pub expiry: u64,
    /// Allowed entry points: the last link's mask.
    pub gates: GateMask,
    /// How many delegations the chain had.
    pub depth: usize,
}

/// Which part of a grant a delegation tried to widen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escalation {
    /// Permissions the previous link lacks.
    Perms,
    /// Flags the previous link lacks.
    Flags,
    /// Entry points outside the previous link's gate mask.
    Gates,
}

/// Why a capability or chain grants nothing. `link` counts from 0 (the
/// capability); delegation `i` of the chain is link `i + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapError {
    /// A record failed to decode (wrong length, magic, version, scheme,
    /// undefined bit, nil ID, bad gate mask, holder-key mismatch).
    Malformed {
        /// Which link.
        link: usize,
        /// What was wrong.
        error: FormatError,
    },
    /// The delegation bytes are not a whole number of records.
    BadChainLength(usize),
    /// More than [`MAX_DELEGATIONS`] delegations.
    ChainTooLong(usize),
    /// The target's public key is not a valid Ed25519 key.
    BadTargetKey,
    /// A holder key is not a valid Ed25519 key.
    BadHolderKey {
        /// The link naming the key.
        link: usize,
    },
    /// A signature does not verify: the record was altered or signed with
    /// another key.
    BadSignature {
        /// Which link.
        link: usize,
    },
    /// A delegation for a different object than the capability's.
    WrongTarget {
        /// Which link.
        link: usize,
    },
    /// A delegation whose delegator is not the previous link's accessor.
    BrokenChain {
        /// Which link.
        link: usize,
    },
    /// A delegation of a grant without `DELEGATE`.
    NotDelegable {
        /// The delegation.
        link: usize,
    },
    /// A delegation granting more than the previous link.
    Escalated {
        /// The delegation.
        link: usize,
        /// What it widened.
        what: Escalation,
    },
    /// The chain grants a context other than the one asking.
    WrongAccessor {
        /// The context the chain grants.
        granted_to: ObjId,
    },
    /// `now` is at or past the chain's earliest expiry.
    Expired {
        /// The earliest expiry.
        expiry: u64,
    },
}

/// Verifies a capability on its own: see [`verify_chain`].
pub fn verify(
    cap_bytes: &[u8],
    target_pubkey: &[u8; KEY_LEN],
    accessor_ctx: ObjId,
    now: u64,
) -> Result<Granted, CapError> {
    verify_chain(cap_bytes, &[], target_pubkey, accessor_ctx, now)
}

/// Verifies a capability and the delegations after it (`delegations`:
/// zero to [`MAX_DELEGATIONS`] records back to back) for context
/// `accessor_ctx` at `now` (seconds since the Unix epoch), against the
/// public key named by the target object's header.
pub fn verify_chain(
    cap_bytes: &[u8],
    delegations: &[u8],
    target_pubkey: &[u8; KEY_LEN],
    accessor_ctx: ObjId,
    now: u64,
) -> Result<Granted, CapError> {
    if cap_bytes.len() != CAP_LEN {
        return Err(CapError::Malformed {
            link: 0,
            error: FormatError::BadLength(cap_bytes.len()),
        });
    }
    if !delegations.len().is_multiple_of(DELEGATION_LEN) {
        return Err(CapError::BadChainLength(delegations.len()));
    }
    let depth = delegations.len() / DELEGATION_LEN;
    if depth > MAX_DELEGATIONS {
        return Err(CapError::ChainTooLong(depth));
    }
    let cap =
        CapRecord::decode(cap_bytes).map_err(|error| CapError::Malformed { link: 0, error })?;
    let mut links = [None::<DelegationRecord>; MAX_DELEGATIONS];
    let mut prev: Grant = cap.grant;
    let mut expiry = prev.expiry;
    for (i, rec) in delegations.chunks_exact(DELEGATION_LEN).enumerate() {
        let link = i + 1;
        let d =
            DelegationRecord::decode(rec).map_err(|error| CapError::Malformed { link, error })?;
        check_link(link, &prev, &d)?;
        expiry = expiry.min(d.grant.expiry);
        prev = d.grant;
        links[i] = Some(d);
    }
    if prev.accessor != accessor_ctx {
        return Err(CapError::WrongAccessor {
            granted_to: prev.accessor,
        });
    }
    if now >= expiry {
        return Err(CapError::Expired { expiry });
    }

    let target_key = VerifyingKey::from_bytes(target_pubkey).map_err(|_| CapError::BadTargetKey)?;
    let sig = Signature::from_bytes(&cap.signature);
    target_key
        .verify_strict(&cap_bytes[..CAP_SIGNED_LEN], &sig)
        .map_err(|_| CapError::BadSignature { link: 0 })?;
    let mut signer_key = cap.grant.holder_key;
    for (i, (d, rec)) in links
        .iter()
        .flatten()
        .zip(delegations.chunks_exact(DELEGATION_LEN))
        .enumerate()
    {
        let link = i + 1;
        let key = VerifyingKey::from_bytes(&signer_key)
            .map_err(|_| CapError::BadHolderKey { link: i })?;
        let sig = Signature::from_bytes(&d.signature);
        key.verify_strict(&rec[..DELEGATION_SIGNED_LEN], &sig)
            .map_err(|_| CapError::BadSignature { link })?;
        signer_key = d.grant.holder_key;
    }

    Ok(Granted {
        target: prev.target,
        accessor: prev.accessor,
        perms: prev.perms,
        flags: prev.flags,
        expiry,
        gates: prev.gates,
        depth,
    })
}

/// Checks that delegation `d` (link `link`) may follow grant `prev`.
fn check_link(link: usize, prev: &Grant, d: &DelegationRecord) -> Result<(), CapError> {
    if d.grant.target != prev.target {
        return Err(CapError::WrongTarget { link });
    }
    if d.delegator != prev.accessor {
        return Err(CapError::BrokenChain { link });
    }
    if !prev.flags.contains(CapFlags::DELEGATE) {
        return Err(CapError::NotDelegable { link });
    }
    if !d.grant.perms.is_subset_of(prev.perms) {
        return Err(CapError::Escalated {
            link,
            what: Escalation::Perms,
        });
    }
    if !d.grant.flags.is_subset_of(prev.flags) {
        return Err(CapError::Escalated {
            link,
            what: Escalation::Flags,
        });
    }
    if !d.grant.gates.within(&prev.gates) {
        return Err(CapError::Escalated {
            link,
            what: Escalation::Gates,
        });
    }
    Ok(())
}
