//! The object set-up the tests and benchmarks share: the `objects` crate's
//! guest helpers (`objects::setup`).

pub use objects::setup::*;
