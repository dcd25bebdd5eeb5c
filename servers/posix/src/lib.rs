//! The POSIX layer as a program uses it: [`connect`] gives a
//! [`PosixClient`] bound to the server published as [`SERVICE`], every call
//! tagged with this program's key ([`program_key`]), which is how the
//! server tells programs apart (see `posix_core::Tagged`).
//!
//! The server itself is the `posix` binary (`src/main.rs`); `wc`
//! (`src/bin/wc.rs`) is a program written against this library the way a
//! C programmer writes against libc. [`relink`] keeps the server's own
//! connections (the object store, the `hier` resolver) alive across their
//! restarts.

#![cfg_attr(not(test), no_std)]

pub mod relink;

use core::sync::atomic::{AtomicU64, Ordering};

pub use posix_core::{PosixClient, Tagged, strerror};
pub use protocols::posix::{DirEnt, Errno, Fd, FileType, OpenFlags, Stat, Whence};
use runtime::SysError;
use runtime::ppc::Gate;

/// The name the POSIX server publishes its gate under.
pub const SERVICE: &str = "posix";

/// A program's connection to the POSIX server.
pub type Client = PosixClient<Tagged<Gate>>;

/// This program's key, drawn on first use.
static KEY: AtomicU64 = AtomicU64::new(0);

/// The key this program's calls carry: 64 random bits, the same for every
/// connection the program makes, so all of them share one descriptor
/// table.
pub fn program_key() -> u64 {
    let k = KEY.load(Ordering::Acquire);
    if k != 0 {
        return k;
    }
    let fresh = objects::setup::random_u64() | 1;
    match KEY.compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(other) => other,
    }
}

/// Connects to the POSIX server, waiting up to `timeout_ms` for it to
/// appear.
pub fn connect(timeout_ms: u64) -> Result<Client, SysError> {
    let gate = Gate::connect(SERVICE, timeout_ms)?;
    Ok(PosixClient::new(Tagged {
        inner: gate,
        key: program_key(),
    }))
}
