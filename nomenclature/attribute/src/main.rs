//! The server program of the attribute resolver: the generic resolver server around
//! [`Attributes`](attribute::Attributes). Arguments: `NAME [--dram]`.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

nomenclature_server::resolver_main!(attribute::Attributes);
