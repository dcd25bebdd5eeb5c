//! Objects in DRAM, views and security contexts (the report's sections 2,
//! 3 and 6): the object table, each program's object space (two-level
//! mapping composed in the page tables), the security-context cache with
//! capability verdicts, and the fault path that maps object pages on first
//! touch and switches security contexts automatically.

pub mod fault;
mod random;
pub mod secctx;
pub mod space;
pub mod table;
