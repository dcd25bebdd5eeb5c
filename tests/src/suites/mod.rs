//! Scenario suites, one module per area of the system.

pub mod boot;
pub mod objects;
pub mod powercut;
pub mod ppc;
pub mod shell;
pub mod store;
pub mod user;
