//! `Adder`: the worked example of the README's "Writing a server". The
//! server (`servers/adder`) adds two numbers and keeps a running total; the
//! whole interface is this one declaration, from which the `interface!`
//! macro makes the request and reply types, the checked dispatch and the
//! client stub.

use serde::{Deserialize, Serialize};

/// The name the `adder` server publishes its gate object under.
pub const SERVICE: &str = "adder";

/// What an `Adder` call can fail with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdderError {
    /// The running total would pass `u64::MAX`; it is left as it was.
    Overflow {
        /// The total the server keeps.
        total: u64,
    },
}

crate::interface! {
    /// Adds numbers and keeps a running total.
    interface Adder {
        id: u64::from_le_bytes(*b"ADDER\0\0\x01"),
        error: AdderError,
        gates {
            /// `a + b` (never overflows: two `u32`s).
            1 => Add fn add(a: u32, b: u32) -> u64;
            /// Adds `n` to the running total and returns the new total.
            2 => Accumulate fn accumulate(n: u64) -> u64;
            /// The running total.
            3 => Total fn total() -> u64;
        }
    }
}

/// The server's state and handlers: everything a server writes by hand.
/// (`servers/adder` serves it; the host tests call it through a loopback.)
#[derive(Clone, Copy, Debug, Default)]
pub struct AdderImpl {
    /// The running total.
    pub total: u64,
}

impl Server for AdderImpl {
    fn add(&mut self, a: u32, b: u32) -> Result<u64, AdderError> {
        Ok(u64::from(a) + u64::from(b))
    }

    fn accumulate(&mut self, n: u64) -> Result<u64, AdderError> {
        self.total = self
            .total
            .checked_add(n)
            .ok_or(AdderError::Overflow { total: self.total })?;
        Ok(self.total)
    }

    fn total(&mut self) -> Result<u64, AdderError> {
        Ok(self.total)
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::ipc::{Interface, Loopback};

    fn requests() -> Vec<Request> {
        vec![
            Request::Add { a: u32::MAX, b: 0 },
            Request::Accumulate { n: u64::MAX },
            Request::Total {},
        ]
    }

    fn outcomes() -> Vec<Outcome> {
        vec![
            Ok(Reply::Add(u64::MAX)),
            Ok(Reply::Accumulate(1)),
            Ok(Reply::Total(0)),
            Err(AdderError::Overflow { total: u64::MAX }),
        ]
    }

    #[test]
    fn every_message_round_trips_and_refuses_mangling() {
        crate::ipc::tests::probe_interface!(Adder, requests(), outcomes(), 53);
    }

    #[test]
    fn the_stub_reaches_the_handlers_and_the_errors_come_back() {
        let mut c = Client::new(Loopback::new(Service(AdderImpl::default())));
        assert_eq!(c.add(u32::MAX, u32::MAX), Ok(2 * u64::from(u32::MAX)));
        assert_eq!(c.accumulate(40), Ok(40));
        assert_eq!(c.accumulate(2), Ok(42));
        assert_eq!(
            c.accumulate(u64::MAX),
            Err(crate::ipc::CallError::Server(AdderError::Overflow {
                total: 42
            }))
        );
        assert_eq!(c.total(), Ok(42), "a refused change leaves the total");
        assert_eq!(Adder::GATES, &[1, 2, 3]);
    }
}
