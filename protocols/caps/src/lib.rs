//! Signed capabilities and delegations (report §3), and object-ID
//! derivation.
//!
//! Anyone who can read an object's private-key object creates capabilities
//! for it in user space with [`sign_cap`]; a capability's holder passes a
//! subset of it on with [`sign_delegation`]. The kernel only verifies, with
//! [`verify`] or [`verify_chain`], against the public key the target
//! object's header names; it holds no secrets and may cache the verdict
//! ([`Granted`]) until the context changes or the grant expires.
//!
//! Every forgery is a typed [`CapError`]: a flipped byte, a wrong key, a
//! wrong accessor, an expired grant, an escalating delegation, an over-long
//! chain, a malformed length. The crate is `no_std` and builds for
//! `x86_64-unknown-none`.
//!
//! Object IDs ([`derive_id`], [`check_id`]) are hashes over the header
//! fields they vouch for, so an ID cannot be chosen or forged.
//!
//! The byte formats, shared word for word with `protocols::cap`:
//!
#![doc = include_str!("../../src/cap_format.md")]
#![cfg_attr(not(test), no_std)]

mod objid;
mod sign;
mod verify;

pub use objid::{IdMismatch, check_id, derive_id};
pub use sign::{SignError, public_key, sign_cap, sign_delegation};
pub use verify::{CapError, Escalation, Granted, verify, verify_chain};

pub use protocols::cap::{CapFlags, GateMask, Grant, KEY_LEN, MAX_DELEGATIONS, NEVER};

#[cfg(test)]
mod fixture_test;
#[cfg(test)]
mod tests;
