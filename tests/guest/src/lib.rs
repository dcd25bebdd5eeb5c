//! The host-testable part of `utest`: the bad-input table (which garbage
//! each system call gets and which error it must answer) and checking an
//! answer against it. The `utest` binary runs the table in the guest.
//! Also the object, key and security-context set-up (`objsetup`) the
//! object tests and benchmarks share, and the summaries (`stats`) the `ubench` benchmark program prints.
//! The records `loadgen` writes and checks (`loadrec`).

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod badinput;
pub mod benches;
pub mod loadrec;
pub mod objsetup;
pub mod pstore;
pub mod rng;
pub mod stats;
pub mod txwork;
