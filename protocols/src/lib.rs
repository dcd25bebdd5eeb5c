//! The ABI every side of Perennial shares.
//!
//! This crate is the single source of truth for numbers and layouts that more
//! than one program relies on: the kernel, the boot loader, the servers and
//! the host tool (`cargo xtask`). It is `no_std` and has no dependencies, so
//! every side can link it and the host can unit-test it.
//!
//! - [`syscall`]: system-call numbers, arguments, results and errors — the
//!   reference for every call.
//! - [`layout`]: the user address space.
//! - [`debug`]: records the kernel reports for `threads` and `mem`.
//! - [`exit`]: status codes the guest reports to the host.
//! - [`exception`]: names of the CPU exception vectors.
//! - [`object`]: object IDs, permissions and the fixed object layout.
//! - [`fot`]: invariant pointers and the FOT entry format.
//! - [`kso`]: view, security-context and key-object records the kernel reads.
//! - [`cap`]: capability and delegation records (signed by the `caps` crate).
//! - [`resolver`]: the Nomenclature interfaces (resolvers and their registry).
//! - [`posix`]: the POSIX server's interface and `errno` values.
//! - [`ksod`]: the KSO persistence server's interface (thread KSOs in the
//!   KSO root).
//! - [`adder`]: the README's worked example of a server's interface.

#![cfg_attr(not(test), no_std)]

#[macro_use]
mod bits;
mod le;

pub mod adder;
pub mod cap;
pub mod debug;
pub mod echo;
pub mod exception;
pub mod exit;
pub mod fot;
pub mod ipc;
pub mod kso;
pub mod ksod;
pub mod layout;
pub mod object;
pub mod objstore;
pub mod pmem;
pub mod posix;
pub mod resolver;
pub mod syscall;
pub mod thread_kso;
