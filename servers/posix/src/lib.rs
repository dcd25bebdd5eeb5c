//! The POSIX layer as a program uses it: [`connect`] gives a
//! [`PosixClient`] bound to the server published as [`SERVICE`]. The
//! server tells programs apart by the caller the kernel names on every
//! protected procedure call, so each program has its own descriptors.
//!
//! The server itself is the `posix` binary (`src/main.rs`); `wc`
//! (`src/bin/wc.rs`) is a program written against this library the way a
//! C programmer writes against libc. [`relink`] keeps the server's own
//! connections (the object store, the `hier` resolver) alive across their
//! restarts.

#![cfg_attr(not(test), no_std)]

pub mod relink;

pub use posix_core::{PosixClient, strerror};
pub use protocols::posix::{DirEnt, Errno, Fd, FileType, OpenFlags, Stat, Whence};
use runtime::SysError;
use runtime::ppc::Gate;

/// The name the POSIX server publishes its gate under.
pub const SERVICE: &str = "posix";

/// A program's connection to the POSIX server.
pub type Client = PosixClient<Gate>;

/// Connects to the POSIX server, waiting up to `timeout_ms` for it to
/// appear.
pub fn connect(timeout_ms: u64) -> Result<Client, SysError> {
    let gate = Gate::connect(SERVICE, timeout_ms)?;
    Ok(PosixClient::new(gate))
}
