//! An independent implementation agrees: `fixtures/make_fixture.py` built
//! and signed a capability and a delegation with Python's `cryptography`
//! from the documented layout; these tests rebuild them with this crate and
//! verify the Python bytes.

use std::collections::HashMap;
use std::string::String;
use std::vec::Vec;

use protocols::cap::{CapFlags, GateMask, Grant};
use protocols::object::{ObjFlags, ObjId, Perms};

use crate::{derive_id, public_key, sign_cap, sign_delegation, verify, verify_chain};

const FIXTURE: &str = include_str!("../fixtures/cap_v1.txt");

struct Fixture(HashMap<String, String>);

impl Fixture {
    fn load() -> Fixture {
        let rows = FIXTURE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (k, v) = l.split_once(" = ").expect("key = value");
                (k.to_string(), v.to_string())
            })
            .collect();
        Fixture(rows)
    }
    fn s(&self, k: &str) -> &str {
        self.0.get(k).unwrap_or_else(|| panic!("fixture lacks {k}"))
    }
    fn bytes(&self, k: &str) -> Vec<u8> {
        let s = self.s(k);
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    fn key(&self, k: &str) -> [u8; 32] {
        self.bytes(k).try_into().unwrap()
    }
    fn id(&self, k: &str) -> ObjId {
        ObjId::from_u128(u128::from_str_radix(self.s(k), 16).unwrap())
    }
    fn num(&self, k: &str) -> u64 {
        self.s(k).parse().unwrap()
    }
    fn gate(&self, k: &str) -> GateMask {
        let v: Vec<u64> = self.s(k).split(' ').map(|x| x.parse().unwrap()).collect();
        GateMask {
            offset: v[0],
            length: v[1],
            align: v[2],
        }
    }
    fn cap_grant(&self) -> Grant {
        Grant {
            target: self.id("target"),
            accessor: self.id("accessor"),
            perms: Perms::from_bits(self.num("perms") as u32).unwrap(),
            flags: CapFlags::from_bits(self.num("flags") as u32).unwrap(),
            expiry: self.num("expiry"),
            gates: self.gate("gate"),
            holder_key: self.key("holder_key"),
        }
    }
    fn delegation_grant(&self) -> Grant {
        Grant {
            target: self.id("target"),
            accessor: self.id("delegatee"),
            perms: Perms::from_bits(self.num("d_perms") as u32).unwrap(),
            flags: CapFlags::from_bits(self.num("d_flags") as u32).unwrap(),
            expiry: self.num("d_expiry"),
            gates: self.gate("d_gate"),
            holder_key: [0; 32],
        }
    }
}

#[test]
fn python_signed_capability_verifies() {
    let f = Fixture::load();
    let cap = f.bytes("cap");
    let g = verify(&cap, &f.key("target_key"), f.id("accessor"), 1_700_000_000)
        .expect("independent capability verifies");
    assert_eq!(
        (g.target, g.perms, g.expiry, g.gates),
        (
            f.id("target"),
            Perms::READ | Perms::EXEC,
            4_102_444_800,
            f.gate("gate")
        )
    );
    let mut forged = cap.clone();
    forged[40] |= Perms::WRITE.bits() as u8;
    assert!(verify(&forged, &f.key("target_key"), f.id("accessor"), 0).is_err());
}

#[test]
fn python_signed_delegation_chain_verifies() {
    let f = Fixture::load();
    let g = verify_chain(
        &f.bytes("cap"),
        &f.bytes("delegation"),
        &f.key("target_key"),
        f.id("delegatee"),
        1_700_000_000,
    )
    .expect("independent chain verifies");
    assert_eq!(
        (g.perms, g.expiry, g.depth, g.accessor),
        (Perms::READ, 4_000_000_000, 1, f.id("delegatee"))
    );
}

#[test]
fn this_crate_produces_the_same_bytes() {
    let f = Fixture::load();
    assert_eq!(public_key(&f.key("target_seed")), f.key("target_key"));
    assert_eq!(public_key(&f.key("holder_seed")), f.key("holder_key"));
    // Ed25519 is deterministic, so equal bytes mean equal layout and signature.
    assert_eq!(
        sign_cap(&f.key("target_seed"), &f.cap_grant())
            .unwrap()
            .to_vec(),
        f.bytes("cap")
    );
    let d = sign_delegation(
        &f.key("holder_seed"),
        f.id("accessor"),
        &f.delegation_grant(),
    )
    .unwrap();
    assert_eq!(d.to_vec(), f.bytes("delegation"));
}

#[test]
fn object_id_derivation_matches() {
    let f = Fixture::load();
    let flags = ObjFlags::from_bits(f.num("id_flags") as u32).unwrap();
    let perms = Perms::from_bits(f.num("id_perms") as u32).unwrap();
    let nonce = f.id("id_nonce").as_u128();
    assert_eq!(derive_id(nonce, f.id("id_key"), flags, perms), f.id("id"));
}
