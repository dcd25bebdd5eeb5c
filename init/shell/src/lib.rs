//! The `init` shell, as a library that runs on the host.
//!
//! - [`editor`]: the line editor, fed one input byte at a time;
//! - [`parse`]: splitting a line into words (with double quotes);
//! - [`commands`]: the command table and each command's output;
//! - [`objects`]: the `key`, `obj`, `ctx` and `cap` commands;
//! - [`files`]: the file commands over the POSIX layer (`cat`, `echo >`,
//!   `rm`, `mv`, `stat`, `touch`, `cp`);
//! - [`names`]: the naming commands over the resolvers (`ls`, `mkdir`,
//!   `bind`, `unbind`, `resolve`, `tag`, `query`, `publish`, `resolver`);
//! - [`servers`]: the supervisor's `server` command, and `powercut`;
//! - [`jobs`]: programs in the background (`run -b`, `wait`) and `sleep`;
//! - [`system`]: the [`System`] trait through which commands reach the
//!   kernel (the `init` binary implements it with system calls; tests use a
//!   fake);
//! - [`session`]: ties them together — prompt, dispatch, end of input.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod commands;
pub mod editor;
pub mod files;
pub mod jobs;
pub mod names;
pub mod objects;
pub mod parse;
pub mod servers;
pub mod session;
pub mod store;
pub mod system;

pub use session::{Flow, Session};
pub use system::System;

/// The prompt, printed before each line.
pub const PROMPT: &str = "perennial> ";
