//! Kernel logic that does not need the machine.
//!
//! ACPI tables ([`acpi`]: RSDP, XSDT/RSDT, NFIT, MADT), the boot memory map
//! ([`memmap`]), physical frames ([`frame`]: the early bump allocator and
//! the bitmap allocator), four-level page tables ([`paging`]), program
//! images ([`elf`]), and small helpers ([`cmdline`], [`hash`], [`text`]).
//!
//! Everything here is pure: it reaches memory only through small traits
//! ([`acpi::PhysRead`], [`paging::TableAccess`], [`frame::FrameAllocator`]), so
//! the host runs the same code against byte buffers and fake page frames
//! (`cargo test -p kcore`). The `microkernel` binary supplies the real
//! implementations (the HHDM, CR3, `invlpg`) and stays thin.

#![cfg_attr(not(test), no_std)]

pub mod acpi;
pub mod cmdline;
pub mod elf;
pub mod frame;
pub mod hash;
pub mod memmap;
pub mod paging;
pub mod text;
