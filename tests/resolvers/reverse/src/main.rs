//! The server program of the reverse-lookup resolver: the generic resolver server around
//! [`Reverse`](reverse_lookup::Reverse). Arguments: `NAME [--dram]`.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

nomenclature_server::resolver_main!(reverse_lookup::Reverse);
