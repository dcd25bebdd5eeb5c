//! `registry`: the registry of name resolvers (see `nomenclature_server`).
//! Started by `init` after the object store; published as `registry`.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

nomenclature_server::runtime::entry!(main);

fn main(args: &str) -> u64 {
    nomenclature_server::serve_registry(args)
}
