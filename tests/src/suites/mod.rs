//! Scenario suites, one module per area of the system.

pub mod boot;
