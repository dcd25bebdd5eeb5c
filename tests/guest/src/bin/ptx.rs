//! `ptx`: the durable-transaction workload for the host's power-cut
//! campaign (`powercut/transactions-*`).
//!
//! Its data is a [`txn::TxMap`] in one persistent object, mapped straight
//! from the NVDIMM and changed only inside transactions. Each operation is
//! one transaction over a *pair* of keys — record `k` and its mirror
//! `k + PAIRS` get the same value, or are both removed — so a torn
//! transaction would show as a pair that disagrees.
//!
//! - `ptx work SEED`: opens the map (recovering a transaction a cut
//!   interrupted), prints `ptx: working`, then for ever puts or removes
//!   pairs, printing `ptx: ack write <k> <len> <fnv>` / `ptx: ack delete
//!   <k>` once each transaction has committed;
//! - `ptx dump`: opens the map the same way and prints `ptx: object <k>
//!   <len> <fnv>` for every record `k < PAIRS`, then `ptx: dump done
//!   <count>`. A record whose self-checksum fails, or whose mirror
//!   differs, or a map that fails its own check, prints `ptx: damaged …`
//!   instead (which the campaign's check refuses).
//!
//! The lines mirror `pcut`'s, so one campaign check serves both.
//!
//! The map object is found again after a reboot with no volatile state:
//! it is the store's object whose key field carries [`MARK`] (a value no
//! key object has, so no capability can be made for it).

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::objstore::{CreateSpec, MAX_LIST};
use runtime::println;
use store::MappedPmem;
use txn::map::{VALUE_MAX, map_layout};
use txn::{MapError, TxMap};
use utest::objsetup::map;
use utest::pstore::{self, StoreClient};
use utest::rng::Rng;

runtime::entry!(main);

/// The mark in the map object's key field.
const MARK: ObjId = ObjId::from_u128(u128::from_le_bytes(*b"PERENNIAL-PTX-01"));
/// Record pairs (keys `0..PAIRS`, mirrors `PAIRS..2 * PAIRS`).
const PAIRS: u64 = 16;
/// Map slots: the pairs, with room to spare.
const CAPACITY: u64 = 4 * PAIRS;
/// Bytes of a value's fixed part: key, version, checksum.
const FIXED: usize = 24;

fn main(args: &str) -> u64 {
    let mut words = args.split_whitespace();
    let result = match (words.next(), words.next()) {
        (Some("work"), Some(seed)) => match seed.parse::<u64>() {
            Ok(seed) => open().and_then(|m| work(m, seed)),
            Err(_) => return usage(),
        },
        (Some("dump"), None) => open().and_then(dump),
        _ => return usage(),
    };
    match result {
        Ok(()) => 0,
        Err(why) => {
            println!("ptx: {why}");
            1
        }
    }
}

fn usage() -> u64 {
    println!("ptx: use `ptx work SEED` or `ptx dump`");
    2
}

/// Finds (or creates) the map object, maps it and opens the map in it,
/// recovering an unfinished transaction.
fn open() -> Result<TxMap<MappedPmem>, alloc::string::String> {
    use alloc::format;
    let mut c = pstore::connect().map_err(|e| format!("no object store: {e}"))?;
    let size = map_layout(0, CAPACITY).total_len();
    let id = match find(&mut c).map_err(|e| format!("list failed: {e:?}"))? {
        Some(id) => id,
        None => {
            let spec = CreateSpec {
                size,
                flags: ObjFlags::PERSISTENT,
                default_perms: Perms::READ | Perms::WRITE,
                key: MARK,
            };
            c.create(spec)
                .map_err(|e| format!("cannot create the map object: {e:?}"))?
                .id
        }
    };
    let base = map(id, Perms::READ | Perms::WRITE).map_err(|e| format!("cannot map {id}: {e}"))?;
    // SAFETY: the object is mapped read/write for the rest of this
    // program, its data area holds `size` bytes from `BASE_OFFSET`, and
    // nothing else in this program refers to it.
    let pmem = unsafe { MappedPmem::new(base.add(BASE_OFFSET as usize), size as usize) };
    let m =
        TxMap::open_pmem(pmem, 0, CAPACITY).map_err(|e| format!("cannot open the map: {e:?}"))?;
    if let Some(r) = m.tx().recovery() {
        println!("ptx: recovered an unfinished transaction ({r:?})");
    }
    Ok(m)
}

/// The store's object carrying [`MARK`] (the lowest ID if several).
fn find(c: &mut StoreClient) -> Result<Option<ObjId>, pstore::StoreCallError> {
    let mut found: Option<ObjId> = None;
    let mut cursor = 0;
    loop {
        let page = c.list(cursor, MAX_LIST as u8)?;
        for i in page.objects.iter().filter(|i| i.key == MARK) {
            found = Some(found.map_or(i.id, |f| f.min(i.id)));
        }
        match page.next {
            Some(n) => cursor = n,
            None => return Ok(found),
        }
    }
}

/// Checks a value's self-checksum and key.
fn intact(key: u64, v: &[u8]) -> bool {
    if v.len() < FIXED {
        return false;
    }
    let (body, sum) = v.split_at(v.len() - 8);
    body[..8] == key.to_le_bytes() && sum == pstore::fnv1a(body).to_le_bytes()
}

fn dump(m: TxMap<MappedPmem>) -> Result<(), alloc::string::String> {
    use alloc::format;
    let mut count = 0;
    let mut damaged = false;
    let (mut a, mut b) = ([0u8; VALUE_MAX], [0u8; VALUE_MAX]);
    for k in 0..PAIRS {
        let here = m.get(k, &mut a).map_err(|e| format!("get {k}: {e:?}"))?;
        let mirror = m
            .get(k + PAIRS, &mut b)
            .map_err(|e| format!("get {k}: {e:?}"))?;
        match (here, mirror) {
            (None, None) => {}
            (Some(n), Some(nm)) if a[..n] == b[..nm] && intact(k, &a[..n]) => {
                count += 1;
                println!("ptx: object {k} {n} {:016x}", pstore::fnv1a(&a[..n]));
            }
            (here, mirror) => {
                damaged = true;
                println!("ptx: damaged pair {k}: record {here:?} bytes, mirror {mirror:?} bytes");
            }
        }
    }
    if let Err(e) = m.check() {
        damaged = true;
        println!("ptx: damaged map: {e:?}");
    }
    println!("ptx: dump done {count}");
    match damaged {
        true => Err("the map is damaged".into()),
        false => Ok(()),
    }
}

fn work(mut m: TxMap<MappedPmem>, seed: u64) -> Result<(), alloc::string::String> {
    use alloc::format;
    let mut rng = Rng::new(seed);
    println!("ptx: working");
    let mut v = [0u8; VALUE_MAX];
    for version in 1u64.. {
        let k = rng.next_u64() % PAIRS;
        if rng.next_u64().is_multiple_of(4) {
            remove_pair(&mut m, k).map_err(|e| format!("delete {k}: {e:?}"))?;
            println!("ptx: ack delete {k}");
            continue;
        }
        let len = FIXED + (rng.next_u64() % (VALUE_MAX - FIXED + 1) as u64) as usize;
        v[..8].copy_from_slice(&k.to_le_bytes());
        v[8..16].copy_from_slice(&version.to_le_bytes());
        for b in v[16..len - 8].iter_mut() {
            *b = rng.next_u64() as u8;
        }
        let sum = pstore::fnv1a(&v[..len - 8]);
        v[len - 8..len].copy_from_slice(&sum.to_le_bytes());
        let value = &v[..len];
        put_pair(&mut m, k, value).map_err(|e| format!("write {k}: {e:?}"))?;
        println!("ptx: ack write {k} {len} {:016x}", pstore::fnv1a(value));
    }
    Ok(())
}

/// Puts `value` under `k` and its mirror in one transaction.
fn put_pair(m: &mut TxMap<MappedPmem>, k: u64, value: &[u8]) -> Result<(), MapError> {
    let mut t = m.begin();
    t.insert(k, value)?;
    inside_transaction();
    t.insert(k + PAIRS, value)?;
    t.commit()
}

/// Removes `k` and its mirror in one transaction.
fn remove_pair(m: &mut TxMap<MappedPmem>, k: u64) -> Result<(), MapError> {
    let mut t = m.begin();
    t.remove(k)?;
    inside_transaction();
    t.remove(k + PAIRS)?;
    t.commit()
}

/// A pause between a transaction's two halves. Printing an
/// acknowledgement on the serial console takes far longer than a
/// transaction's stores, so without it nearly every cut would fall between
/// transactions; with it, most fall inside one, half-applied, which the
/// next open must roll back.
fn inside_transaction() {
    let _ = runtime::time::sleep(core::time::Duration::from_millis(5));
}
