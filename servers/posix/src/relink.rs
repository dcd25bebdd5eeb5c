//! [`Relinking`]: the server's connection to a server it depends on (the
//! object store, the `hier` resolver), which survives that server's
//! restart. Both keep their state in persistent objects, so a restarted
//! incarnation serves the same files and names; only the binding is stale.
//!
//! A call the kernel (or the server's runtime) refused as stale —
//! `ServerRestarted`, or `NotFound` once the old gate object is gone —
//! did not run. The transport then looks the service up again, binds to
//! the new incarnation, and sends the same request to it once, with the
//! new generation in its envelope. The reply's envelope is given the
//! generation the request was built with, so the generated client accepts
//! it; its next call carries the new one.

use protocols::ipc::{HEADER_LEN, MAX_MESSAGE, MsgHeader, Rejection, Transport, TransportError};
use protocols::syscall::SysError;
use runtime::ppc::Gate;

/// How long a stale call waits for the restarted server to publish again.
const RELINK_MS: u64 = 10_000;

/// A binding to the server published as `name`, renewed when stale.
pub struct Relinking {
    name: &'static str,
    gate: Gate,
}

impl Relinking {
    /// Binds to the server published as `name`, waiting up to
    /// `timeout_ms` for it to appear.
    pub fn connect(name: &'static str, timeout_ms: u64) -> Result<Relinking, SysError> {
        Ok(Relinking {
            name,
            gate: Gate::connect(name, timeout_ms)?,
        })
    }
}

/// Whether a call's result says the binding was stale (the call did not
/// run).
fn stale(result: &Result<usize, TransportError>, reply: &[u8; MAX_MESSAGE]) -> bool {
    match result {
        Err(TransportError::Sys(SysError::ServerRestarted | SysError::NotFound)) => true,
        Ok(n) => reply
            .get(..*n)
            .and_then(|r| MsgHeader::decode(r).ok())
            .is_some_and(|h| h.status == Rejection::ServerRestarted.code()),
        Err(_) => false,
    }
}

/// Rewrites the generation in the envelope at the start of `msg`.
fn set_generation(msg: &mut [u8], generation: u64) -> Option<()> {
    let mut h = MsgHeader::decode(msg).ok()?;
    h.generation = generation;
    msg.get_mut(..HEADER_LEN)?.copy_from_slice(&h.encode());
    Some(())
}

impl Transport for Relinking {
    fn generation(&self) -> u64 {
        self.gate.generation()
    }

    fn call(
        &mut self,
        gate: u16,
        request: &[u8],
        reply: &mut [u8; MAX_MESSAGE],
    ) -> Result<usize, TransportError> {
        let first = self.gate.call(gate, request, reply);
        if !stale(&first, reply) || request.len() > MAX_MESSAGE {
            return first;
        }
        let Ok(fresh) = Gate::connect(self.name, RELINK_MS) else {
            return first;
        };
        let sent_with = self.gate.generation();
        self.gate = fresh;
        let mut again = [0u8; MAX_MESSAGE];
        let again = &mut again[..request.len()];
        again.copy_from_slice(request);
        if set_generation(again, fresh.generation()).is_none() {
            return first;
        }
        let n = self.gate.call(gate, again, reply)?;
        // A reply the client cannot match stays unmatched.
        let _ = reply
            .get_mut(..n)
            .and_then(|r| set_generation(r, sent_with));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(status: u16, generation: u64) -> [u8; MAX_MESSAGE] {
        let mut h = MsgHeader::reply(7, 3, generation, 0);
        h.status = status;
        let mut m = [0u8; MAX_MESSAGE];
        m[..HEADER_LEN].copy_from_slice(&h.encode());
        m
    }

    #[test]
    fn only_refusals_of_a_stale_binding_are_stale() {
        let ok = envelope(0, 5);
        assert!(!stale(&Ok(HEADER_LEN), &ok));
        let refused = envelope(Rejection::ServerRestarted.code(), 5);
        assert!(stale(&Ok(HEADER_LEN), &refused));
        let other = envelope(Rejection::BadGate.code(), 5);
        assert!(!stale(&Ok(HEADER_LEN), &other));
        for e in [SysError::ServerRestarted, SysError::NotFound] {
            assert!(stale(&Err(TransportError::Sys(e)), &ok));
        }
        assert!(!stale(&Err(TransportError::Sys(SysError::Busy)), &ok));
        assert!(!stale(&Err(TransportError::Unbound), &ok));
    }

    #[test]
    fn set_generation_rewrites_only_the_generation() {
        let mut m = envelope(0, 5);
        set_generation(&mut m[..HEADER_LEN], 9).unwrap();
        let h = MsgHeader::decode(&m[..HEADER_LEN]).unwrap();
        assert_eq!((h.generation, h.interface, h.gate), (9, 7, 3));
        assert_eq!(set_generation(&mut [0u8; 4], 1), None);
    }
}
