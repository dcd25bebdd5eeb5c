//! `pcut`: the power-cut workload for the host's campaign.
//!
//! - `pcut work SEED`: prints `pcut: working`, then for ever creates,
//!   overwrites and deletes persistent objects (at most [`MAX_LIVE`] live,
//!   contents 1–4096 bytes, chosen by a generator seeded with SEED),
//!   printing `pcut: ack create <id> <len> <fnv>`, `pcut: ack write <id>
//!   <len> <fnv>` and `pcut: ack delete <id>` once each change is durable;
//! - `pcut fill N`: creates `N` small objects (for the recovery
//!   benchmark);
//! - `pcut dump`: prints `pcut: object <id> <len> <fnv>` for every object
//!   in the store (len 0 for one without a valid header: created, never
//!   acknowledged), then `pcut: dump done <count>`.
//!
//! The record format in each object is `utest::pstore`'s: the content sits
//! in one of two halves and a single 8-byte header word says which and how
//! long, so an overwrite is atomic.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use protocols::object::ObjId;
use runtime::println;
use utest::pstore::{self, MAX_CONTENT, StoreClient};
use utest::rng::Rng;

runtime::entry!(main);

/// Most live objects the workload keeps.
const MAX_LIVE: usize = 40;

fn main(args: &str) -> u64 {
    let mut words = args.split_whitespace();
    let mut c = match pstore::connect() {
        Ok(c) => c,
        Err(e) => {
            println!("pcut: no object store: {e}");
            return 1;
        }
    };
    match (words.next(), words.next()) {
        (Some("work"), Some(seed)) => match seed.parse::<u64>() {
            Ok(seed) => work(&mut c, seed),
            Err(_) => usage(),
        },
        (Some("dump"), None) => dump(&mut c),
        (Some("fill"), Some(n)) => match n.parse::<u64>() {
            Ok(n) => fill(&mut c, n),
            Err(_) => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> u64 {
    println!("pcut: use `pcut work SEED`, `pcut dump` or `pcut fill N`");
    2
}

/// Every object of the workload's size in the store.
fn all_objects(c: &mut StoreClient) -> Result<Vec<ObjId>, pstore::StoreCallError> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let page = c.list(cursor, protocols::objstore::MAX_LIST as u8)?;
        // Only the workload's own objects: servers keep objects too.
        out.extend(
            page.objects
                .iter()
                .filter(|i| i.size == pstore::OBJ_SIZE && i.key.is_nil())
                .map(|i| i.id),
        );
        match page.next {
            Some(n) => cursor = n,
            None => return Ok(out),
        }
    }
}

fn dump(c: &mut StoreClient) -> u64 {
    let ids = match all_objects(c) {
        Ok(ids) => ids,
        Err(e) => {
            println!("pcut: list failed: {e:?}");
            return 1;
        }
    };
    let mut buf = [0u8; MAX_CONTENT];
    for id in &ids {
        match pstore::content(c, *id, &mut buf) {
            Ok(n) => println!("pcut: object {id} {n} {:016x}", pstore::fnv1a(&buf[..n])),
            Err(e) => println!("pcut: object {id} unreadable: {e:?}"),
        }
    }
    println!("pcut: dump done {}", ids.len());
    0
}

fn work(c: &mut StoreClient, seed: u64) -> u64 {
    let mut rng = Rng::new(seed);
    // Objects already there (an earlier run's) count as live; their header
    // words are read back before they are overwritten.
    let mut live: Vec<(ObjId, u64)> = Vec::new();
    if let Ok(ids) = all_objects(c) {
        for id in ids {
            let mut h = [0u8; 8];
            if pstore::read_all(c, id, 0, &mut h).is_ok() {
                live.push((id, u64::from_le_bytes(h)));
            }
        }
    }
    println!("pcut: working");
    let mut data = [0u8; MAX_CONTENT];
    loop {
        let roll = rng.below(10);
        let op = if live.len() < 5 {
            0
        } else if live.len() >= MAX_LIVE {
            2
        } else {
            match roll {
                0..4 => 0,
                4..8 => 1,
                _ => 2,
            }
        };
        let len = 1 + rng.below(MAX_CONTENT as u64) as usize;
        for b in data[..len].iter_mut() {
            *b = rng.next_u64() as u8;
        }
        let content = &data[..len];
        let fnv = pstore::fnv1a(content);
        let outcome = match op {
            0 => pstore::create(c, pstore::OBJ_SIZE).and_then(|id| {
                let h = pstore::overwrite(c, id, 0, content)?;
                println!("pcut: ack create {id} {len} {fnv:016x}");
                live.push((id, h));
                Ok(())
            }),
            1 => {
                let i = rng.below(live.len() as u64) as usize;
                let (id, old) = live[i];
                pstore::overwrite(c, id, old, content).map(|h| {
                    println!("pcut: ack write {id} {len} {fnv:016x}");
                    live[i].1 = h;
                })
            }
            _ => {
                let i = rng.below(live.len() as u64) as usize;
                let (id, _) = live.swap_remove(i);
                c.delete(id).map(|()| println!("pcut: ack delete {id}"))
            }
        };
        if let Err(e) = outcome {
            println!("pcut: store call failed: {e:?}");
            return 1;
        }
    }
}

/// `pcut fill N`: creates `N` small persistent objects (the recovery
/// benchmark's population), then prints `pcut: filled N`.
fn fill(c: &mut StoreClient, n: u64) -> u64 {
    for i in 0..n {
        if let Err(e) = pstore::create(c, 64) {
            println!("pcut: fill stopped at {i}: {e:?}");
            return 1;
        }
    }
    println!("pcut: filled {n}");
    0
}
