//! `Echo`: the trivial test interface. It exercises every shape a gate can
//! have (no arguments, scalars, a bounded byte string, an enum argument, an
//! error reply) so the generated code and the PPC path can be tested
//! without a real server.

use serde::{Deserialize, Serialize};

use crate::ipc::Bytes;

/// Longest payload `echo` carries.
pub const MAX_ECHO: usize = 256;

/// What `transform` does to the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EchoOp {
    /// Returns them unchanged.
    Identity,
    /// Returns them reversed.
    Reverse,
    /// Returns them with ASCII letters upper-cased.
    Upper,
}

/// The errors an `Echo` server returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EchoError {
    /// `fail` was called: the error every call of it returns.
    Refused,
    /// An argument is out of the range the call accepts.
    OutOfRange(u64),
}

crate::interface! {
    /// The echo test interface.
    interface Echo {
        id: u64::from_le_bytes(*b"ECHO\0\0\0\x01"),
        error: EchoError,
        gates {
            /// Does nothing: the cost of a call.
            1 => Null fn null() -> ();
            /// Returns `value + 1` (`OutOfRange` for `u64::MAX`).
            2 => Ping fn ping(value: u64) -> u64;
            /// Returns the bytes it was given.
            3 => Echo fn echo(data: Bytes<MAX_ECHO>) -> Bytes<MAX_ECHO>;
            /// Returns the bytes after `op`.
            4 => Transform fn transform(op: EchoOp, data: Bytes<MAX_ECHO>) -> Bytes<MAX_ECHO>;
            /// Always fails with `EchoError::Refused`.
            5 => Fail fn fail(code: u32) -> ();
        }
    }
}

/// The reference `Echo` server (host tests; a guest echo server wraps it).
#[derive(Clone, Copy, Debug, Default)]
pub struct EchoImpl {
    /// Calls handled so far.
    pub calls: u64,
}

impl Server for EchoImpl {
    fn null(&mut self) -> Result<(), EchoError> {
        self.calls += 1;
        Ok(())
    }

    fn ping(&mut self, value: u64) -> Result<u64, EchoError> {
        self.calls += 1;
        value.checked_add(1).ok_or(EchoError::OutOfRange(value))
    }

    fn echo(&mut self, data: Bytes<MAX_ECHO>) -> Result<Bytes<MAX_ECHO>, EchoError> {
        self.calls += 1;
        Ok(data)
    }

    fn transform(
        &mut self,
        op: EchoOp,
        mut data: Bytes<MAX_ECHO>,
    ) -> Result<Bytes<MAX_ECHO>, EchoError> {
        self.calls += 1;
        match op {
            EchoOp::Identity => {}
            EchoOp::Reverse => data.reverse(),
            EchoOp::Upper => data.make_ascii_uppercase(),
        }
        Ok(data)
    }

    fn fail(&mut self, _code: u32) -> Result<(), EchoError> {
        self.calls += 1;
        Err(EchoError::Refused)
    }
}
