//! The guest glue of Perennial's name resolvers: everything a resolver's
//! server program needs besides its [`Resolve`](nomenclature::Resolve)
//! state, so that a resolver crate's program is one line:
//!
//! ```ignore
//! #![cfg_attr(target_os = "none", no_std)]
//! #![no_main]
//! nomenclature_server::resolver_main!(my_resolver::MyState);
//! ```
//!
//! - [`serve`]: the generic resolver server. Its argument string is
//!   `NAME [--dram]`: it finds (or creates) the resolver's state object,
//!   opens a [`ResolverService`](nomenclature::ResolverService) on it,
//!   publishes its gate as service `NAME` and registers itself in the
//!   registry under `NAME`.
//! - [`serve_registry`]: the registry server (the `registry` program),
//!   published as service `registry`.
//! - `nameclient` (a program of this package): a resolver client for the
//!   tests and the figures — two programs binding at once, bind/resolve
//!   timings, and FOT name entries late-bound through the registry and the
//!   resolvers (`nameclient fot`).
//!
//! # Where state lives, and how it is found again after a reboot
//!
//! Nothing volatile is needed to find state again:
//!
//! - **The registry's state** is the persistent object whose *verifying
//!   key* field is [`REGISTRY_ID`](protocols::resolver::REGISTRY_ID) — a
//!   well-known value that is no key object, so no capability can ever be
//!   signed for it and the field serves only as a mark. On start the
//!   registry lists the object store and takes the object carrying the mark
//!   (the lowest ID if several).
//! - **Each resolver's state** is the persistent object its registry
//!   record names: the record's `id` is the resolver's identity (what FOT
//!   name entries hold) *and* its state object. A starting resolver looks
//!   its name up and, when the record names a stored object, maps it.
//!
//! Both are created **lazily** ([`lazy`], `LazyRegistry`): a resolver
//! without a state object starts provisional (empty state in DRAM, a DRAM
//! object as identity) and creates its state object on its first change,
//! before making it, then registers it; the registry, provisional until
//! then too, creates its own state object when the first persistent
//! record arrives and moves its records there. So a boot that changes no
//! name writes nothing to the object store. Creation is one store
//! transaction and a new object is zeroed, which
//! [`Persisted`](nomenclature::Persisted) reads as the empty state; the
//! registry's move writes its copies before its commit line. A cut between
//! creating a resolver's object and registering it leaks one empty object
//! and loses nothing: no name was bound in it yet.
//!
//! Every change is committed durably before it is acknowledged (see
//! [`nomenclature::Persisted`]), so acknowledged names survive power cuts.
//!
//! Without an NVDIMM there is no object store; `init` then starts the
//! servers with `--dram`, they keep their state in DRAM and say so.
//!
//! The state objects are created with default permissions read/write, so
//! the servers can map them; a capability-guarded state object (a key
//! only the resolver holds) is future work.
//!
//! # The registry record's `gate`
//!
//! Clients reach a resolver through the service directory under its
//! registered name (`Gate::connect(NAME)`); the record's `gate` holds the
//! resolver's PPC incarnation generation (what `ppc_bind` answers), so a
//! client can tell a record from a dead incarnation, and its `generation`
//! is the registry's, bumped on every (re-)registration.

#![cfg_attr(target_os = "none", no_std)]

extern crate alloc;

pub mod backing;
pub mod gate;
pub mod lazy;
mod registry;
mod resolver;
pub mod store;

pub use registry::serve_registry;
pub use resolver::serve;
/// The runtime, re-exported for [`resolver_main!`].
pub use runtime;

/// Bytes of a resolver's state object (two shadow copies of the state).
pub const STATE_SIZE: u64 = 256 * 1024;
/// Bytes of the registry's state object.
pub const REGISTRY_SIZE: u64 = 64 * 1024;

/// Bytes of the DRAM objects standing in for a resolver's identity and
/// directories without an NVDIMM (DRAM objects cannot be empty).
pub const DRAM_OBJECT: u64 = 4096;

/// A server's arguments: `[NAME] [--dram]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Args<'a> {
    /// The name to register and publish under (empty for the registry).
    pub name: &'a str,
    /// Keep the state in DRAM (there is no NVDIMM).
    pub dram: bool,
}

/// Why the arguments were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// More than one name, or an unknown `--flag`.
    Unexpected,
}

impl<'a> Args<'a> {
    /// Parses `[NAME] [--dram]` (in any order).
    pub fn parse(args: &'a str) -> Result<Args<'a>, ArgsError> {
        let mut out = Args {
            name: "",
            dram: false,
        };
        for word in args.split_whitespace() {
            match word {
                "--dram" => out.dram = true,
                w if w.starts_with('-') || !out.name.is_empty() => {
                    return Err(ArgsError::Unexpected);
                }
                w => out.name = w,
            }
        }
        Ok(out)
    }
}

/// The whole `main.rs` of a resolver's server program: serves state type
/// `$state` (a [`nomenclature::Resolve`]) with [`serve`].
#[macro_export]
macro_rules! resolver_main {
    ($state:ty) => {
        $crate::runtime::entry!(main);

        fn main(args: &str) -> u64 {
            $crate::serve::<$state>(args)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_name_and_dram_in_any_order() {
        let a = Args::parse("hier --dram").unwrap();
        assert_eq!((a.name, a.dram), ("hier", true));
        let a = Args::parse("  --dram attr ").unwrap();
        assert_eq!((a.name, a.dram), ("attr", true));
        let a = Args::parse("flat").unwrap();
        assert_eq!((a.name, a.dram), ("flat", false));
        let a = Args::parse("").unwrap();
        assert_eq!((a.name, a.dram), ("", false));
    }

    #[test]
    fn args_refuse_two_names_and_unknown_flags() {
        assert_eq!(Args::parse("a b"), Err(ArgsError::Unexpected));
        assert_eq!(Args::parse("a --fast"), Err(ArgsError::Unexpected));
    }
}
