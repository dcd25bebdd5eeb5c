//! The message envelope: a fixed 32-byte header in front of every request
//! and reply (format in [`crate::ipc`]), and the rejection codes a reply's
//! status field carries.

use crate::ipc::WireError;
use crate::le::{first_nonzero, put_u16, put_u32, put_u64, u16_at, u32_at, u64_at};

/// `b"PPCM"` as a little-endian `u32`.
pub const MSG_MAGIC: u32 = u32::from_le_bytes(*b"PPCM");
/// Length of the envelope header.
pub const HEADER_LEN: usize = 32;
/// Largest whole message (header and body): one per-thread message buffer.
pub const MAX_MESSAGE: usize = 4096;
/// Largest body.
pub const MAX_BODY: usize = MAX_MESSAGE - HEADER_LEN;

/// Why a call was refused: the non-zero status of a reply. The handler did
/// not run (except for [`Rejection::ServerFaulted`], which it started).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The request names a generation other than the server's current one.
    ServerRestarted,
    /// The request is for another interface than the server's.
    WrongInterface,
    /// The interface has no gate with the request's number.
    BadGate,
    /// The request's envelope is malformed.
    BadHeader,
    /// The request's body does not decode as the gate's arguments.
    Malformed(WireError),
    /// The handler faulted; the server is being restarted.
    ServerFaulted,
    /// The handler's reply did not fit one message.
    ReplyTooLarge,
}

impl Rejection {
    /// The status code a reply carries (never 0).
    pub const fn code(self) -> u16 {
        match self {
            Rejection::ServerRestarted => 1,
            Rejection::WrongInterface => 2,
            Rejection::BadGate => 3,
            Rejection::BadHeader => 4,
            Rejection::ServerFaulted => 5,
            Rejection::ReplyTooLarge => 6,
            Rejection::Malformed(w) => 0x100 | w.code() as u16,
        }
    }

    /// Decodes a status code; `None` for 0 and unknown codes.
    pub const fn from_code(code: u16) -> Option<Rejection> {
        Some(match code {
            1 => Rejection::ServerRestarted,
            2 => Rejection::WrongInterface,
            3 => Rejection::BadGate,
            4 => Rejection::BadHeader,
            5 => Rejection::ServerFaulted,
            6 => Rejection::ReplyTooLarge,
            0x100..=0x1ff => match WireError::from_code((code & 0xff) as u8) {
                Some(w) => Rejection::Malformed(w),
                None => return None,
            },
            _ => return None,
        })
    }
}

/// Why an envelope did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Shorter than the header.
    Short(usize),
    /// Longer than [`MAX_MESSAGE`].
    TooLong(usize),
    /// The magic is not [`MSG_MAGIC`].
    BadMagic(u32),
    /// Gate 0 (reserved).
    GateZero,
    /// The body-length field disagrees with the bytes present.
    LengthMismatch {
        /// What the header says.
        declared: u32,
        /// What follows the header.
        actual: usize,
    },
    /// A reserved byte (at this offset) is not zero.
    ReservedNotZero(usize),
    /// A reply status no version defines.
    UnknownStatus(u16),
}

/// A decoded envelope header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgHeader {
    /// Gate number (≥ 1).
    pub gate: u16,
    /// 0, or a [`Rejection::code`].
    pub status: u16,
    /// Interface ID.
    pub interface: u64,
    /// Server generation (see [`crate::ipc`]).
    pub generation: u64,
    /// Body length.
    pub body_len: u32,
}

impl MsgHeader {
    /// A request header with an empty body.
    pub const fn request(interface: u64, gate: u16, generation: u64) -> MsgHeader {
        MsgHeader {
            gate,
            status: 0,
            interface,
            generation,
            body_len: 0,
        }
    }

    /// A reply header with status 0 and the given body length.
    pub const fn reply(interface: u64, gate: u16, generation: u64, body_len: u32) -> MsgHeader {
        MsgHeader {
            gate,
            status: 0,
            interface,
            generation,
            body_len,
        }
    }

    /// The header's 32 bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        put_u32(&mut b, 0, MSG_MAGIC);
        put_u16(&mut b, 4, self.gate);
        put_u16(&mut b, 6, self.status);
        put_u64(&mut b, 8, self.interface);
        put_u64(&mut b, 16, self.generation);
        put_u32(&mut b, 24, self.body_len);
        b
    }

    /// Decodes and checks the header of a whole message `msg` (header and
    /// body): the body length must match the bytes present exactly.
    pub fn decode(msg: &[u8]) -> Result<MsgHeader, EnvelopeError> {
        if msg.len() < HEADER_LEN {
            return Err(EnvelopeError::Short(msg.len()));
        }
        if msg.len() > MAX_MESSAGE {
            return Err(EnvelopeError::TooLong(msg.len()));
        }
        let magic = u32_at(msg, 0);
        if magic != MSG_MAGIC {
            return Err(EnvelopeError::BadMagic(magic));
        }
        let gate = u16_at(msg, 4);
        if gate == 0 {
            return Err(EnvelopeError::GateZero);
        }
        if let Some(off) = first_nonzero(msg, 28, 32) {
            return Err(EnvelopeError::ReservedNotZero(off));
        }
        let body_len = u32_at(msg, 24);
        let actual = msg.len() - HEADER_LEN;
        if body_len as usize != actual {
            return Err(EnvelopeError::LengthMismatch {
                declared: body_len,
                actual,
            });
        }
        Ok(MsgHeader {
            gate,
            status: u16_at(msg, 6),
            interface: u64_at(msg, 8),
            generation: u64_at(msg, 16),
            body_len,
        })
    }
}
