//! `ptx`: the durable-transaction workload for the host's power-cut
//! campaign (`powercut/transactions-*`), over [`utest::txwork`]: pairs of
//! records of a transactional map, one transaction per pair.
//!
//! - `ptx work SEED`: opens the map (recovering a transaction a cut
//!   interrupted), prints `ptx: working`, then for ever puts or removes
//!   pairs, printing `ptx: ack write <k> <len> <fnv>` / `ptx: ack delete
//!   <k>` once each transaction has committed;
//! - `ptx dump`: opens the map the same way and prints `ptx: object <k>
//!   <len> <fnv>` for every whole pair, then `ptx: dump done <count>`. A
//!   pair that disagrees, a value whose self-checksum fails, or a map that
//!   fails its own check prints `ptx: damaged …` instead (which the
//!   campaign's check refuses).
//!
//! The lines mirror `pcut`'s, so one campaign check serves both.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use runtime::println;
use utest::rng::Rng;
use utest::txwork;

runtime::entry!(main);

fn main(args: &str) -> u64 {
    let mut words = args.split_whitespace();
    let result = match (words.next(), words.next()) {
        (Some("work"), Some(seed)) => match seed.parse::<u64>() {
            Ok(seed) => txwork::open("ptx").and_then(|mut m| {
                let mut rng = Rng::new(seed);
                println!("ptx: working");
                for version in 1u64.. {
                    m.step(&mut rng, version, "ptx", "")?;
                }
                Ok(())
            }),
            Err(_) => return usage(),
        },
        (Some("dump"), None) => txwork::open("ptx").and_then(|m| {
            let n = m.dump("ptx", "")?;
            println!("ptx: dump done {n}");
            Ok(())
        }),
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
