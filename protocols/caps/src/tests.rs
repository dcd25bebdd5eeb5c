//! Signing and verification, including every forgery the kernel must refuse.

use std::vec::Vec;

use protocols::cap::{
    CAP_LEN, CAP_SIGNED_LEN, CapFlags, DELEGATION_LEN, FormatError, GateMask, Grant,
    MAX_DELEGATIONS, NEVER,
};
use protocols::object::{ObjFlags, ObjHeader, ObjId, Perms};

use crate::*;

const OWNER: [u8; 32] = [1; 32];
const NOW: u64 = 1_800_000_000;

fn ctx(n: u128) -> ObjId {
    ObjId::from_u128(0xc0_0000 + n)
}
fn target() -> ObjId {
    ObjId::from_u128(0x7a12_9e70)
}
/// Holder key seed of context `n`.
fn holder(n: u128) -> [u8; 32] {
    [0x40 + n as u8; 32]
}

fn grant(accessor: u128, perms: Perms, delegable: bool, expiry: u64, gates: GateMask) -> Grant {
    Grant {
        target: target(),
        accessor: ctx(accessor),
        perms,
        flags: if delegable {
            CapFlags::DELEGATE
        } else {
            CapFlags::EMPTY
        },
        expiry,
        gates,
        holder_key: if delegable {
            public_key(&holder(accessor))
        } else {
            [0; 32]
        },
    }
}

fn gates() -> GateMask {
    GateMask {
        offset: 0x1000,
        length: 0x1000,
        align: 16,
    }
}

/// A capability for context 0 (R|W|X, delegable), then delegations 0→1→…→n,
/// each to context i+1 with `each(i)`'s grant.
fn chain(n: usize, each: impl Fn(usize) -> Grant) -> (Vec<u8>, Vec<u8>) {
    let cap = sign_cap(
        &OWNER,
        &grant(
            0,
            Perms::READ | Perms::WRITE | Perms::EXEC,
            true,
            NEVER,
            gates(),
        ),
    )
    .unwrap();
    let mut ds = Vec::new();
    for i in 0..n {
        ds.extend_from_slice(
            &sign_delegation(&holder(i as u128), ctx(i as u128), &each(i)).unwrap(),
        );
    }
    (cap.to_vec(), ds)
}

fn simple_chain(n: usize) -> (Vec<u8>, Vec<u8>) {
    chain(n, |i| {
        grant(i as u128 + 1, Perms::READ, true, NEVER, gates())
    })
}

fn pk() -> [u8; 32] {
    public_key(&OWNER)
}

#[test]
fn a_capability_grants_what_it_says() {
    let cap = sign_cap(
        &OWNER,
        &grant(0, Perms::READ | Perms::WRITE, false, NOW + 10, gates()),
    )
    .unwrap();
    let g = verify(&cap, &pk(), ctx(0), NOW).unwrap();
    assert_eq!(
        g,
        Granted {
            target: target(),
            accessor: ctx(0),
            perms: Perms::READ | Perms::WRITE,
            flags: CapFlags::EMPTY,
            expiry: NOW + 10,
            gates: gates(),
            depth: 0
        }
    );
}

#[test]
fn every_flipped_byte_is_refused() {
    let cap = sign_cap(&OWNER, &grant(0, Perms::READ, true, NEVER, gates())).unwrap();
    for i in 0..CAP_LEN {
        for bit in [0x01u8, 0x80] {
            let mut f = cap;
            f[i] ^= bit;
            let r = verify(&f, &pk(), ctx(0), NOW);
            assert!(r.is_err(), "flipping bit {bit:#x} of byte {i} was accepted");
        }
    }
    let mut sig = cap;
    sig[CAP_SIGNED_LEN + 3] ^= 1;
    assert_eq!(
        verify(&sig, &pk(), ctx(0), NOW),
        Err(CapError::BadSignature { link: 0 })
    );
    let mut perms = cap;
    perms[40] |= Perms::WRITE.bits() as u8;
    assert_eq!(
        verify(&perms, &pk(), ctx(0), NOW),
        Err(CapError::BadSignature { link: 0 })
    );
    let mut expiry = sign_cap(&OWNER, &grant(0, Perms::READ, false, NOW + 1, gates())).unwrap();
    expiry[49] ^= 1;
    assert_eq!(
        verify(&expiry, &pk(), ctx(0), NOW),
        Err(CapError::BadSignature { link: 0 })
    );
}

#[test]
fn a_flipped_byte_in_a_delegation_is_refused() {
    let (cap, ds) = simple_chain(2);
    for i in 0..ds.len() {
        let mut f = ds.clone();
        f[i] ^= 0x04;
        assert!(
            verify_chain(&cap, &f, &pk(), ctx(2), NOW).is_err(),
            "flipped delegation byte {i} accepted"
        );
    }
    let mut f = ds.clone();
    f[DELEGATION_LEN + 150] ^= 1;
    assert_eq!(
        verify_chain(&cap, &f, &pk(), ctx(2), NOW),
        Err(CapError::BadSignature { link: 2 })
    );
}

#[test]
fn the_wrong_key_is_refused() {
    let cap = sign_cap(&[2; 32], &grant(0, Perms::READ, false, NEVER, gates())).unwrap();
    assert_eq!(
        verify(&cap, &pk(), ctx(0), NOW),
        Err(CapError::BadSignature { link: 0 })
    );
    // A delegation signed by someone other than the holder the capability names.
    let d = sign_delegation(
        &holder(9),
        ctx(0),
        &grant(1, Perms::READ, false, NEVER, gates()),
    )
    .unwrap();
    let (cap, _) = simple_chain(0);
    assert_eq!(
        verify_chain(&cap, &d, &pk(), ctx(1), NOW),
        Err(CapError::BadSignature { link: 1 })
    );
    // Not a curve point at all.
    let bad_key = [0xff; 32];
    assert!(matches!(
        verify(&cap, &bad_key, ctx(0), NOW),
        Err(CapError::BadTargetKey | CapError::BadSignature { .. })
    ));
}

#[test]
fn a_capability_for_another_context_is_useless() {
    let cap = sign_cap(&OWNER, &grant(0, Perms::READ, false, NEVER, gates())).unwrap();
    assert_eq!(
        verify(&cap, &pk(), ctx(5), NOW),
        Err(CapError::WrongAccessor { granted_to: ctx(0) })
    );
    let (cap, ds) = simple_chain(2);
    assert_eq!(
        verify_chain(&cap, &ds, &pk(), ctx(1), NOW),
        Err(CapError::WrongAccessor { granted_to: ctx(2) })
    );
}

#[test]
fn expiry_is_the_earliest_in_the_chain() {
    let cap = sign_cap(&OWNER, &grant(0, Perms::READ, false, NOW + 1, gates())).unwrap();
    assert!(verify(&cap, &pk(), ctx(0), NOW).is_ok());
    assert_eq!(
        verify(&cap, &pk(), ctx(0), NOW + 1),
        Err(CapError::Expired { expiry: NOW + 1 })
    );
    let (cap, ds) = chain(3, |i| {
        grant(
            i as u128 + 1,
            Perms::READ,
            true,
            [NOW + 50, NOW + 5, NOW + 90][i],
            gates(),
        )
    });
    assert_eq!(
        verify_chain(&cap, &ds, &pk(), ctx(3), NOW).unwrap().expiry,
        NOW + 5
    );
    assert_eq!(
        verify_chain(&cap, &ds, &pk(), ctx(3), NOW + 5),
        Err(CapError::Expired { expiry: NOW + 5 })
    );
}

#[test]
fn a_delegation_passes_a_subset_on() {
    let narrow = GateMask {
        offset: 0x1100,
        length: 0x100,
        align: 64,
    };
    let (cap, ds) = chain(2, |i| {
        if i == 0 {
            grant(1, Perms::READ | Perms::EXEC, true, NEVER, narrow)
        } else {
            grant(2, Perms::READ, false, NEVER, GateMask::NONE)
        }
    });
    let g = verify_chain(&cap, &ds, &pk(), ctx(2), NOW).unwrap();
    assert_eq!(
        (g.perms, g.gates, g.depth, g.flags),
        (Perms::READ, GateMask::NONE, 2, CapFlags::EMPTY)
    );
    let g1 = verify_chain(&cap, &ds[..DELEGATION_LEN], &pk(), ctx(1), NOW).unwrap();
    assert_eq!((g1.perms, g1.gates), (Perms::READ | Perms::EXEC, narrow));
}

#[test]
fn escalating_delegations_are_refused() {
    let esc = |g: Grant| {
        let (cap, ds) = chain(1, |_| g);
        verify_chain(&cap, &ds, &pk(), ctx(1), NOW)
    };
    let e = |what| Err(CapError::Escalated { link: 1, what });
    assert_eq!(
        esc(grant(1, Perms::READ | Perms::DELETE, false, NEVER, gates())),
        e(Escalation::Perms)
    );
    assert_eq!(
        esc(grant(1, Perms::ALL, false, NEVER, gates())),
        e(Escalation::Perms)
    );
    assert_eq!(
        esc(grant(1, Perms::READ, false, NEVER, GateMask::ALL)),
        e(Escalation::Gates)
    );
    assert_eq!(
        esc(grant(
            1,
            Perms::READ,
            false,
            NEVER,
            GateMask {
                offset: 0x1000,
                length: 0x1000,
                align: 8
            }
        )),
        e(Escalation::Gates)
    );
    assert_eq!(
        esc(grant(
            1,
            Perms::READ,
            false,
            NEVER,
            GateMask {
                offset: 0x1f00,
                length: 0x200,
                align: 16
            }
        )),
        e(Escalation::Gates)
    );
    // A grant without DELEGATE cannot be passed on, and cannot gain it.
    let cap = sign_cap(&OWNER, &grant(0, Perms::READ, false, NEVER, gates())).unwrap();
    let d = sign_delegation(
        &holder(0),
        ctx(0),
        &grant(1, Perms::READ, true, NEVER, gates()),
    )
    .unwrap();
    assert_eq!(
        verify_chain(&cap, &d, &pk(), ctx(1), NOW),
        Err(CapError::NotDelegable { link: 1 })
    );
    // A later link cannot widen again what an earlier one narrowed.
    let (cap, ds) = chain(2, |i| {
        grant(
            i as u128 + 1,
            if i == 0 {
                Perms::READ
            } else {
                Perms::READ | Perms::WRITE
            },
            true,
            NEVER,
            gates(),
        )
    });
    assert_eq!(
        verify_chain(&cap, &ds, &pk(), ctx(2), NOW),
        Err(CapError::Escalated {
            link: 2,
            what: Escalation::Perms
        })
    );
}

#[test]
fn chains_must_link_up() {
    let (cap, _) = simple_chain(0);
    let other = Grant {
        target: ObjId::from_u128(99),
        ..grant(1, Perms::READ, false, NEVER, gates())
    };
    let d = sign_delegation(&holder(0), ctx(0), &other).unwrap();
    assert_eq!(
        verify_chain(&cap, &d, &pk(), ctx(1), NOW),
        Err(CapError::WrongTarget { link: 1 })
    );
    let d = sign_delegation(
        &holder(0),
        ctx(7),
        &grant(1, Perms::READ, false, NEVER, gates()),
    )
    .unwrap();
    assert_eq!(
        verify_chain(&cap, &d, &pk(), ctx(1), NOW),
        Err(CapError::BrokenChain { link: 1 })
    );
    // Links out of order.
    let (cap, ds) = simple_chain(2);
    let swapped = [&ds[DELEGATION_LEN..], &ds[..DELEGATION_LEN]].concat();
    assert_eq!(
        verify_chain(&cap, &swapped, &pk(), ctx(2), NOW),
        Err(CapError::BrokenChain { link: 1 })
    );
    // A capability replayed as a delegation, and the other way round.
    assert!(matches!(
        verify(&ds[..CAP_LEN], &pk(), ctx(1), NOW),
        Err(CapError::Malformed {
            link: 0,
            error: FormatError::BadMagic(_)
        })
    ));
}

#[test]
fn chains_are_bounded() {
    let (cap, ds) = simple_chain(MAX_DELEGATIONS);
    assert_eq!(
        verify_chain(&cap, &ds, &pk(), ctx(MAX_DELEGATIONS as u128), NOW)
            .unwrap()
            .depth,
        MAX_DELEGATIONS
    );
    let (cap, ds) = simple_chain(MAX_DELEGATIONS + 1);
    assert_eq!(
        verify_chain(&cap, &ds, &pk(), ctx(MAX_DELEGATIONS as u128 + 1), NOW),
        Err(CapError::ChainTooLong(MAX_DELEGATIONS + 1))
    );
}

#[test]
fn malformed_lengths_are_refused() {
    let (cap, ds) = simple_chain(1);
    assert_eq!(
        verify(&cap[..CAP_LEN - 1], &pk(), ctx(0), NOW),
        Err(CapError::Malformed {
            link: 0,
            error: FormatError::BadLength(CAP_LEN - 1)
        })
    );
    assert_eq!(
        verify(&[cap.as_slice(), &[0]].concat(), &pk(), ctx(0), NOW),
        Err(CapError::Malformed {
            link: 0,
            error: FormatError::BadLength(CAP_LEN + 1)
        })
    );
    assert_eq!(
        verify(&[], &pk(), ctx(0), NOW),
        Err(CapError::Malformed {
            link: 0,
            error: FormatError::BadLength(0)
        })
    );
    assert_eq!(
        verify_chain(&cap, &ds[..DELEGATION_LEN - 1], &pk(), ctx(1), NOW),
        Err(CapError::BadChainLength(DELEGATION_LEN - 1))
    );
    let mut bad = ds.clone();
    bad[60] = 0x80; // an undefined flag bit in the delegation
    assert_eq!(
        verify_chain(&cap, &bad, &pk(), ctx(1), NOW),
        Err(CapError::Malformed {
            link: 1,
            error: FormatError::UnknownFlags(0x80)
        })
    );
}

#[test]
fn signing_refuses_grants_that_would_not_decode() {
    let mut g = grant(0, Perms::READ, false, NEVER, gates());
    g.holder_key = [3; 32];
    assert_eq!(
        sign_cap(&OWNER, &g),
        Err(SignError::Format(FormatError::HolderKeyMismatch))
    );
    let g = grant(
        0,
        Perms::READ,
        false,
        NEVER,
        GateMask {
            offset: 1,
            length: 1,
            align: 2,
        },
    );
    assert_eq!(
        sign_cap(&OWNER, &g),
        Err(SignError::Format(FormatError::BadGateMask))
    );
    assert_eq!(
        sign_delegation(
            &OWNER,
            ObjId::NIL,
            &grant(1, Perms::READ, false, NEVER, gates())
        ),
        Err(SignError::Format(FormatError::NilId))
    );
}

#[test]
fn object_ids_vouch_for_their_header() {
    let key = ObjId::from_u128(0xbeef);
    let id = derive_id(7, key, ObjFlags::PERSISTENT, Perms::READ);
    let h = ObjHeader::new(7, key, Perms::READ, ObjFlags::PERSISTENT);
    assert_eq!(check_id(id, &h), Ok(()));
    for forged in [
        ObjHeader { nonce: 8, ..h },
        ObjHeader {
            key_id: ObjId::from_u128(0xbeee),
            ..h
        },
        ObjHeader {
            default_perms: Perms::READ | Perms::WRITE,
            ..h
        },
        ObjHeader {
            flags: ObjFlags::EMPTY,
            ..h
        },
    ] {
        assert!(check_id(id, &forged).is_err(), "{forged:?} passed as {id}");
    }
    assert_ne!(
        derive_id(7, key, ObjFlags::PERSISTENT, Perms::READ),
        derive_id(7, key, ObjFlags::PERSISTENT, Perms::EXEC)
    );
}
