//! Scenario suites, one module per area of the system.

pub mod boot;
pub mod kso;
pub mod ksod;
pub mod names;
pub mod objects;
pub mod posix;
pub mod powercut;
pub mod ppc;
pub mod restart;
pub mod shell;
pub mod store;
pub mod user;
