//! Host tests: round trips, abort and nesting ([`basic`]), power cuts at
//! every store, flush and fence ([`crash`]), damaged regions
//! ([`corrupt`]) and the persistent map ([`map`]).

mod basic;
mod corrupt;
mod crash;
mod map;

use store::VecPmem;

use crate::{Layout, Tx};

/// A region at 128 with a 1 KiB log and 1 KiB of data, in 4 KiB of PM.
pub(crate) const LAYOUT: Layout = Layout::new(128, 1024, 1024);
/// Bytes of persistent memory the tests' regions live in.
pub(crate) const PM: usize = 4096;

/// A freshly formatted region.
pub(crate) fn fresh() -> Tx<VecPmem> {
    Tx::format(VecPmem::new(PM), LAYOUT).expect("formats")
}

/// The whole data area.
pub(crate) fn data<P: crate::Pmem>(tx: &Tx<P>) -> Vec<u8> {
    let mut d = vec![0u8; tx.data_len() as usize];
    tx.read(0, &mut d).unwrap();
    d
}

/// A small xorshift generator: seeded, reproducible.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
