//! The POSIX layer from `init`: starting the `posix` server (after the
//! object store and the resolvers; the server itself waits for the shared
//! `hier` resolver), and the shell's connection to it for the file
//! commands.

use ::posix as client;
use runtime::ppc::Gate;
use runtime::println;
use shell::files::FileSystem;

/// How long the first file command waits for the server (it may still be
/// waiting for the resolvers).
const CONNECT_MS: u64 = 30_000;

/// Starts the POSIX server, supervised (started again if it fails; its
/// clients' descriptors are lost then, its files are not).
pub fn start() {
    if let Err(e) = crate::supervisor::start("posix", "posix", "") {
        println!("init: cannot start posix: {e}");
    }
}

/// The shell's connection to the POSIX server, made on first use and
/// made again when the server was restarted (a new gate or incarnation).
#[derive(Default)]
pub struct PosixLink {
    client: Option<client::Client>,
}

impl PosixLink {
    /// The file system, or `None` when no POSIX server answers.
    pub fn files(&mut self) -> Option<&mut dyn FileSystem> {
        let current = self.client.as_mut().map(|c| *c.0.transport_mut());
        let stale = match current {
            None => true,
            // Gone (not yet back) or behind a new gate: connect again.
            Some(gate) => Gate::connect(client::SERVICE, 0).ok() != Some(gate),
        };
        if stale {
            match client::connect(CONNECT_MS) {
                Ok(c) => self.client = Some(c),
                Err(e) => {
                    println!("init: no POSIX server: {e}");
                    self.client = None;
                }
            }
        }
        self.client.as_mut().map(|c| c as &mut dyn FileSystem)
    }
}
