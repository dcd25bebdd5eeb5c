//! An in-process [`Transport`]: the client's envelope goes straight to
//! [`serve`] on a server value. Host tests use it to run both generated
//! sides end to end, including server restarts and rebinding; a program may
//! also use it to call a server it links.

use super::{Dispatch, MAX_MESSAGE, Transport, TransportError, serve};

/// A server value and the generation bookkeeping a kernel would do.
pub struct Loopback<D> {
    server: D,
    /// The current incarnation's generation.
    server_generation: u64,
    /// The incarnation the client bound to.
    bound: u64,
}

impl<D: Dispatch> Loopback<D> {
    /// Binds to `server` as generation 1.
    pub const fn new(server: D) -> Loopback<D> {
        Loopback {
            server,
            server_generation: 1,
            bound: 1,
        }
    }

    /// Replaces the server with a new incarnation (a restart): calls from
    /// the old binding fail with `ServerRestarted` until [`Self::rebind`].
    pub fn restart(&mut self, server: D) {
        self.server = server;
        self.server_generation += 1;
    }

    /// Binds to the current incarnation.
    pub fn rebind(&mut self) {
        self.bound = self.server_generation;
    }

    /// The server.
    pub fn server(&self) -> &D {
        &self.server
    }

    /// The server, mutably.
    pub fn server_mut(&mut self) -> &mut D {
        &mut self.server
    }

    /// The current incarnation's generation.
    pub fn server_generation(&self) -> u64 {
        self.server_generation
    }
}

impl<D: Dispatch> Transport for Loopback<D> {
    fn generation(&self) -> u64 {
        self.bound
    }

    fn call(
        &mut self,
        _gate: u16,
        request: &[u8],
        reply: &mut [u8; MAX_MESSAGE],
    ) -> Result<usize, TransportError> {
        Ok(serve(
            &mut self.server,
            self.server_generation,
            request,
            reply,
        ))
    }
}
