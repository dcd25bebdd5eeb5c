//! The server program of the template (flat) resolver: the generic resolver server around
//! [`Flat`](resolver_template::Flat). Arguments: `NAME [--dram]`.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

nomenclature_server::resolver_main!(resolver_template::Flat);
