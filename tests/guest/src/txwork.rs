//! The transactional part of the power-cut workloads (`ptx`, `pmix`):
//! pairs of records in a [`txn::TxMap`] kept in one persistent object,
//! mapped straight from the NVDIMM and changed only inside transactions.
//! Each operation is one transaction over a pair — record `k` and its
//! mirror `k + PAIRS` get the same value, or are both removed — so a torn
//! transaction would show as a pair that disagrees. Values carry their key
//! and a self-checksum, so a torn value shows too.
//!
//! The map object is found again after a reboot with no volatile state:
//! it is the store's object whose key field carries [`MARK`] (a value no
//! key object has, so no capability can be made for it).

use alloc::format;
use alloc::string::String;

use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::objstore::{CreateSpec, MAX_LIST};
use runtime::println;
use store::MappedPmem;
use txn::map::{VALUE_MAX, map_layout};
use txn::{MapError, TxMap};

use crate::objsetup::map;
use crate::pstore::{self, StoreClient};
use crate::rng::Rng;

/// The mark in the map object's key field.
pub const MARK: ObjId = ObjId::from_u128(u128::from_le_bytes(*b"PERENNIAL-PTX-01"));
/// Record pairs (keys `0..PAIRS`, mirrors `PAIRS..2 * PAIRS`).
pub const PAIRS: u64 = 16;
/// Map slots: the pairs, with room to spare.
pub const CAPACITY: u64 = 4 * PAIRS;
/// Bytes of a value's fixed part: key, version, checksum.
const FIXED: usize = 24;

/// The workload's map of record pairs.
pub struct Pairs(TxMap<MappedPmem>);

/// Finds (or creates) the map object, maps it and opens the map in it,
/// recovering an unfinished transaction.
pub fn open(who: &str) -> Result<Pairs, String> {
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
        println!("{who}: recovered an unfinished transaction ({r:?})");
    }
    Ok(Pairs(m))
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

impl Pairs {
    /// Prints `WHO: object PREFIXk LEN FNV` for every whole pair, and
    /// `WHO: damaged …` for a pair that disagrees, a value that fails its
    /// checksum, or a map that fails its check; returns how many whole
    /// pairs there are, or `Err` if anything was damaged.
    pub fn dump(&self, who: &str, prefix: &str) -> Result<usize, String> {
        let m = &self.0;
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
                    println!(
                        "{who}: object {prefix}{k} {n} {:016x}",
                        pstore::fnv1a(&a[..n])
                    );
                }
                (here, mirror) => {
                    damaged = true;
                    println!(
                        "{who}: damaged pair {k}: record {here:?} bytes, mirror {mirror:?} bytes"
                    );
                }
            }
        }
        if let Err(e) = m.check() {
            damaged = true;
            println!("{who}: damaged map: {e:?}");
        }
        match damaged {
            true => Err("the map is damaged".into()),
            false => Ok(count),
        }
    }

    /// One operation (version `version`, choices from `rng`): puts a fresh
    /// value in a pair or removes one, in one transaction, then prints its
    /// acknowledgement `WHO: ack write PREFIXk LEN FNV` / `WHO: ack delete
    /// PREFIXk`.
    pub fn step(
        &mut self,
        rng: &mut Rng,
        version: u64,
        who: &str,
        prefix: &str,
    ) -> Result<(), String> {
        let m = &mut self.0;
        let k = rng.next_u64() % PAIRS;
        if rng.next_u64().is_multiple_of(4) {
            remove_pair(m, k).map_err(|e| format!("delete {k}: {e:?}"))?;
            println!("{who}: ack delete {prefix}{k}");
            return Ok(());
        }
        let mut v = [0u8; VALUE_MAX];
        let len = FIXED + (rng.next_u64() % (VALUE_MAX - FIXED + 1) as u64) as usize;
        v[..8].copy_from_slice(&k.to_le_bytes());
        v[8..16].copy_from_slice(&version.to_le_bytes());
        for b in v[16..len - 8].iter_mut() {
            *b = rng.next_u64() as u8;
        }
        let sum = pstore::fnv1a(&v[..len - 8]);
        v[len - 8..len].copy_from_slice(&sum.to_le_bytes());
        let value = &v[..len];
        put_pair(m, k, value).map_err(|e| format!("write {k}: {e:?}"))?;
        println!(
            "{who}: ack write {prefix}{k} {len} {:016x}",
            pstore::fnv1a(value)
        );
        Ok(())
    }
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
