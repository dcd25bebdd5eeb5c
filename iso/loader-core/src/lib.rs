//! The logic of Perennial's built-in UEFI boot loader, free of firmware
//! calls so that it runs (and is tested) on the host.
//!
//! The loader (`iso/loader`) reads `limine.conf` ([`config`]), plans and
//! loads the kernel ELF ([`elf`]), finds the kernel's Limine requests
//! ([`requests`]), answers them ([`answer`], [`arena`], [`protocol`]),
//! builds the memory map ([`memmap`]) and the page tables ([`paging`]), and
//! sets up the entry state ([`machine`]).

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod answer;
pub mod arena;
pub mod config;
pub mod elf;
pub mod machine;
pub mod memmap;
pub mod paging;
pub mod protocol;
pub mod requests;
pub mod time;
