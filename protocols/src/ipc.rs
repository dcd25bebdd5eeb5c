//! Protected-procedure-call messages: the envelope every call carries, the
//! typed errors of a call, and the [`interface!`](crate::interface) macro
//! that declares a server's interface once and generates both sides.
//!
//! # Declaring an interface
//!
//! One module per interface (see [`crate::echo`] and [`crate::objstore`]):
//!
//! ```
//! mod adder {
//!     protocols::interface! {
//!         /// Adds numbers.
//!         interface Adder {
//!             id: 0x4144_4445_5200_0001,
//!             error: protocols::echo::EchoError,
//!             gates {
//!                 /// `a + b`.
//!                 1 => Add fn add(a: u32, b: u32) -> u64;
//!             }
//!         }
//!     }
//! }
//! struct Impl;
//! impl adder::Server for Impl {
//!     fn add(&mut self, a: u32, b: u32) -> Result<u64, protocols::echo::EchoError> {
//!         Ok(u64::from(a) + u64::from(b))
//!     }
//! }
//! let mut client = adder::Client::new(protocols::ipc::Loopback::new(adder::Service(Impl)));
//! assert_eq!(client.add(2, 3), Ok(5));
//! ```
//!
//! The macro generates, in the invoking module: `ID`, a marker type named
//! after the interface implementing [`Interface`], the `Request` and `Reply`
//! enums (one variant per gate), `Outcome` (`Result<Reply, Error>`), the
//! `Server` trait (one method per gate), the checked `dispatch` function,
//! `Service<S>` (a [`Dispatch`] for any `S: Server`) and the `Client<T>`
//! stub (one typed method per gate over any [`Transport`]).
//!
//! # Envelope (every message; little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 4   | magic `b"PPCM"` ([`MSG_MAGIC`]) |
//! | 4   | 2   | gate number (≥ 1) |
//! | 6   | 2   | status: 0 in requests and accepted replies; a [`Rejection`] code otherwise |
//! | 8   | 8   | interface ID |
//! | 16  | 8   | server generation: in a request, the incarnation the client bound to; in a reply, the server's current one |
//! | 24  | 4   | body length (bytes after the header) |
//! | 28  | 4   | reserved, zero |
//!
//! A request body is the postcard encoding of the gate's arguments (a
//! tuple); an accepted reply's body is the postcard encoding of
//! `Result<Ret, Error>`. A message is at most [`MAX_MESSAGE`] bytes.
//!
//! # Generations
//!
//! A server incarnation has a generation; a request carrying any other
//! generation is refused with [`Rejection::ServerRestarted`] before any
//! decoding, so it never reaches the wrong incarnation. The rejected call
//! had no effect: the client may rebind and retry it. The kernel (or the
//! server's runtime loop, through [`serve`]) enforces this.

mod bytes;
mod envelope;
mod interface;
mod loopback;
mod message;
pub mod wire;

#[cfg(test)]
pub(crate) mod tests;

pub use envelope::{
    EnvelopeError, HEADER_LEN, MAX_BODY, MAX_MESSAGE, MSG_MAGIC, MsgHeader, Rejection,
};
pub use loopback::Loopback;
pub use message::MessageBuf;
pub use wire::WireError;

pub use heapless;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::syscall::SysError;

pub use bytes::Bytes;
/// A bounded UTF-8 string in a message.
pub type Text<const N: usize> = heapless::String<N>;

/// What [`interface!`](crate::interface) records about an interface.
pub trait Interface {
    /// The 64-bit interface ID carried in every envelope.
    const ID: u64;
    /// The interface's name as declared.
    const NAME: &'static str;
    /// Its gate numbers, in declaration order.
    const GATES: &'static [u16];
}

/// A server side: decodes a request body for one gate, runs the handler and
/// encodes the reply body. Generated as `Service<S>` for each interface.
pub trait Dispatch {
    /// The interface this dispatcher serves.
    const INTERFACE: u64;
    /// Checks and decodes `body` for `gate`, runs the handler, and writes
    /// the encoded `Result<Ret, Error>` into `out`, returning its length.
    fn dispatch(&mut self, gate: u16, body: &[u8], out: &mut [u8]) -> Result<usize, DispatchError>;
}

/// Why a request was refused before (or instead of) reaching its handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DispatchError {
    /// No gate of the interface has that number.
    BadGate(u16),
    /// The body does not decode as the gate's arguments.
    Malformed(WireError),
    /// The handler's reply does not fit the reply buffer.
    ReplyTooLarge,
}

impl From<WireError> for DispatchError {
    fn from(e: WireError) -> DispatchError {
        DispatchError::Malformed(e)
    }
}

impl From<DispatchError> for Rejection {
    fn from(e: DispatchError) -> Rejection {
        match e {
            DispatchError::BadGate(_) => Rejection::BadGate,
            DispatchError::Malformed(w) => Rejection::Malformed(w),
            DispatchError::ReplyTooLarge => Rejection::ReplyTooLarge,
        }
    }
}

/// Why the transport could not deliver a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The kernel refused the call (no capability, gate mask, …).
    Sys(SysError),
    /// The transport is bound to no server.
    Unbound,
}

/// A way to reach a server: the kernel's PPC in the guest, [`Loopback`] in
/// host tests and in-process servers.
pub trait Transport {
    /// The generation of the server incarnation this transport is bound to.
    fn generation(&self) -> u64;
    /// Delivers `request` (a whole envelope) through `gate` and leaves the
    /// reply envelope in `reply`, returning its length.
    fn call(
        &mut self,
        gate: u16,
        request: &[u8],
        reply: &mut [u8; MAX_MESSAGE],
    ) -> Result<usize, TransportError>;

    /// Like [`Transport::call`] with the request as `buf`'s message, which
    /// the reply envelope replaces on success (what the generated clients
    /// use: one buffer per call, never cleared). Returns the reply's
    /// length; `buf` holds the reply when that is at most
    /// [`MAX_MESSAGE`]. The provided method copies through
    /// [`Transport::call`]; a transport that delivers in place (the
    /// kernel's) overrides it.
    fn call_in_place(&mut self, gate: u16, buf: &mut MessageBuf) -> Result<usize, TransportError> {
        let mut reply = [0u8; MAX_MESSAGE];
        let n = self.call(gate, buf.message(), &mut reply)?;
        if let Some(r) = reply.get(..n) {
            buf.set(r);
        }
        Ok(n)
    }
}

/// Why a call through a generated client failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError<E> {
    /// The handler ran and returned the interface's error.
    Server(E),
    /// The server restarted since the client bound to it; the call did not
    /// run. Rebind and retry.
    ServerRestarted,
    /// The server (or kernel) refused the call; it did not run.
    Rejected(Rejection),
    /// The transport could not deliver the call.
    Transport(TransportError),
    /// The arguments do not encode into one message.
    Request(WireError),
    /// The reply is malformed.
    BadReply(ReplyError),
}

/// What is wrong with a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// The envelope does not decode.
    Envelope(EnvelopeError),
    /// The reply is for another interface, gate or generation.
    Mismatch,
    /// The body does not decode as the gate's result.
    Body(WireError),
}

/// Panics (at compile time, where it is called in a `const`) unless every
/// gate number is non-zero and distinct.
pub const fn check_gates(gates: &[u16]) {
    let mut i = 0;
    while i < gates.len() {
        assert!(gates[i] != 0, "gate 0 is reserved");
        let mut j = i + 1;
        while j < gates.len() {
            assert!(gates[i] != gates[j], "two gates share a number");
            j += 1;
        }
        i += 1;
    }
}

/// Serves one request envelope: checks the header (interface, generation,
/// length), dispatches, and writes the reply envelope into `reply`,
/// returning its length. Every failure becomes a rejection status in the
/// reply; the handler runs only for a well-formed request to this
/// incarnation (`generation`).
pub fn serve<D: Dispatch>(
    server: &mut D,
    generation: u64,
    request: &[u8],
    reply: &mut [u8; MAX_MESSAGE],
) -> usize {
    let (mut header, outcome) = match MsgHeader::decode(request) {
        Err(_) => {
            // Echo what the caller sent where it can be read, so the
            // caller can match the refusal to its call.
            let gate = match request.get(4..6) {
                Some(&[lo, hi]) if u16::from_le_bytes([lo, hi]) != 0 => {
                    u16::from_le_bytes([lo, hi])
                }
                _ => u16::MAX,
            };
            let rh = MsgHeader::reply(D::INTERFACE, gate, generation, 0);
            (rh, Err(Rejection::BadHeader))
        }
        Ok(h) => {
            let rh = MsgHeader::reply(h.interface, h.gate, generation, 0);
            if h.status != 0 {
                (rh, Err(Rejection::BadHeader))
            } else if h.interface != D::INTERFACE {
                (rh, Err(Rejection::WrongInterface))
            } else if h.generation != generation {
                (rh, Err(Rejection::ServerRestarted))
            } else {
                let body = &request[HEADER_LEN..];
                let out = &mut reply[HEADER_LEN..];
                (
                    rh,
                    server.dispatch(h.gate, body, out).map_err(Rejection::from),
                )
            }
        }
    };
    match outcome {
        Ok(len) => header.body_len = len as u32,
        Err(r) => header.status = r.code(),
    }
    reply[..HEADER_LEN].copy_from_slice(&header.encode());
    HEADER_LEN + header.body_len as usize
}

/// The client side of one call (what every generated client method does):
/// encodes `args` into an envelope for `gate`, calls through `transport`,
/// and checks and decodes the reply.
pub fn call<T, A, R, E>(
    transport: &mut T,
    interface: u64,
    gate: u16,
    args: &A,
) -> Result<R, CallError<E>>
where
    T: Transport + ?Sized,
    A: Serialize,
    R: DeserializeOwned,
    E: DeserializeOwned,
{
    let generation = transport.generation();
    // One buffer: the request is encoded into it and the reply replaces it.
    let mut buf = MessageBuf::new();
    buf.encode_request(interface, gate, generation, args)
        .map_err(CallError::Request)?;
    let n = transport
        .call_in_place(gate, &mut buf)
        .map_err(|e| match e {
            // The kernel's refusal of a stale binding is the same fact as
            // the server's: the call did not run.
            TransportError::Sys(SysError::ServerRestarted) => CallError::ServerRestarted,
            TransportError::Sys(SysError::ServerFaulted) => {
                CallError::Rejected(Rejection::ServerFaulted)
            }
            e => CallError::Transport(e),
        })?;
    if n > MAX_MESSAGE {
        return Err(CallError::BadReply(ReplyError::Envelope(
            EnvelopeError::TooLong(n),
        )));
    }
    let reply = buf.message();
    decode_reply(interface, gate, generation, reply)
}

/// Checks a reply envelope against the call it answers and decodes it.
pub fn decode_reply<R, E>(
    interface: u64,
    gate: u16,
    generation: u64,
    reply: &[u8],
) -> Result<R, CallError<E>>
where
    R: DeserializeOwned,
    E: DeserializeOwned,
{
    let h = MsgHeader::decode(reply).map_err(|e| CallError::BadReply(ReplyError::Envelope(e)))?;
    if h.interface != interface || h.gate != gate {
        return Err(CallError::BadReply(ReplyError::Mismatch));
    }
    if h.status != 0 {
        return match Rejection::from_code(h.status) {
            Some(Rejection::ServerRestarted) => Err(CallError::ServerRestarted),
            Some(r) => Err(CallError::Rejected(r)),
            None => Err(CallError::BadReply(ReplyError::Envelope(
                EnvelopeError::UnknownStatus(h.status),
            ))),
        };
    }
    if h.generation != generation {
        return Err(CallError::BadReply(ReplyError::Mismatch));
    }
    match wire::decode::<Result<R, E>>(&reply[HEADER_LEN..]) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(CallError::Server(e)),
        Err(w) => Err(CallError::BadReply(ReplyError::Body(w))),
    }
}
