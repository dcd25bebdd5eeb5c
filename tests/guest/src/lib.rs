//! The host-testable part of `utest`: the bad-input table (which garbage
//! each system call gets and which error it must answer) and checking an
//! answer against it. The `utest` binary runs the table in the guest.
//! Also the summaries (`stats`) the `ubench` benchmark program prints.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod badinput;
pub mod stats;
