//! The server program of the current-version resolver: the generic resolver server around
//! [`Versions`](current_version::Versions). Arguments: `NAME [--dram]`.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

nomenclature_server::resolver_main!(current_version::Versions);
