//! The server program of the hierarchical resolver: the generic resolver server around
//! [`Hierarchy`](hierarchical::Hierarchy). Arguments: `NAME [--dram]`.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

nomenclature_server::resolver_main!(hierarchical::Hierarchy);
