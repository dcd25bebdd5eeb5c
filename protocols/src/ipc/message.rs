//! [`MessageBuf`]: the one buffer a client call uses, request in and reply
//! out, never cleared.
//!
//! A call needs [`MAX_MESSAGE`] bytes the kernel may write the reply into,
//! but uses only a prefix of them; clearing the whole buffer for every
//! call would cost more than the call's own work. A `MessageBuf` leaves
//! its bytes uninitialized and tracks the prefix that holds a message: the
//! request is encoded straight into it, and the reply replaces it.

use core::mem::MaybeUninit;

use serde::Serialize;

use super::envelope::{HEADER_LEN, MAX_MESSAGE, MsgHeader};
use super::wire::WireError;

/// [`MAX_MESSAGE`] bytes of which the first [`MessageBuf::message`] hold a
/// message.
pub struct MessageBuf {
    bytes: [MaybeUninit<u8>; MAX_MESSAGE],
    len: usize,
}

impl Default for MessageBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageBuf {
    /// An empty buffer (nothing is written: not even zeros).
    #[inline]
    pub fn new() -> MessageBuf {
        MessageBuf {
            // SAFETY: an array of `MaybeUninit` needs no initialization.
            // (An array expression of `uninit()` makes the compiler clear
            // the bytes anyway, which is what this type exists to avoid.)
            bytes: unsafe { MaybeUninit::<[MaybeUninit<u8>; MAX_MESSAGE]>::uninit().assume_init() },
            len: 0,
        }
    }

    /// The message it holds.
    pub fn message(&self) -> &[u8] {
        // SAFETY: the first `len` bytes were written (`set`, `encode_request`,
        // or whoever `set_len`'s contract bound).
        unsafe { core::slice::from_raw_parts(self.bytes.as_ptr().cast::<u8>(), self.len) }
    }

    /// Replaces the message with a copy of `bytes` (cut to
    /// [`MAX_MESSAGE`]).
    pub fn set(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(MAX_MESSAGE);
        for (slot, &b) in self.bytes[..n].iter_mut().zip(bytes) {
            slot.write(b);
        }
        self.len = n;
    }

    /// The whole buffer, for a transport that has the message written in
    /// place (the kernel's `ppc_call` reads the message and writes the
    /// reply here); see [`MessageBuf::set_len`].
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.bytes.as_mut_ptr().cast::<u8>()
    }

    /// Declares the first `len` bytes the message.
    ///
    /// # Safety
    ///
    /// `len` is at most [`MAX_MESSAGE`], and the first `len` bytes were
    /// written (through [`MessageBuf::as_mut_ptr`]) since the buffer was
    /// made.
    pub unsafe fn set_len(&mut self, len: usize) {
        self.len = len;
    }

    /// Encodes a request envelope for `gate` of `interface` (incarnation
    /// `generation`) carrying `args` into the buffer.
    pub fn encode_request<A: Serialize + ?Sized>(
        &mut self,
        interface: u64,
        gate: u16,
        generation: u64,
        args: &A,
    ) -> Result<(), WireError> {
        let body = postcard::serialize_with_flavor(
            args,
            Uninit {
                buf: &mut self.bytes[HEADER_LEN..],
                pos: 0,
            },
        )?;
        let mut header = MsgHeader::request(interface, gate, generation);
        header.body_len = body as u32;
        for (slot, b) in self.bytes[..HEADER_LEN].iter_mut().zip(header.encode()) {
            slot.write(b);
        }
        self.len = HEADER_LEN + body;
        Ok(())
    }
}

/// A postcard output into uninitialized bytes; resolves to the length
/// written.
struct Uninit<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    pos: usize,
}

impl postcard::ser_flavors::Flavor for Uninit<'_> {
    type Output = usize;

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        let slot = self
            .buf
            .get_mut(self.pos)
            .ok_or(postcard::Error::SerializeBufferFull)?;
        slot.write(data);
        self.pos += 1;
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        let end = self.pos + data.len();
        let out = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(postcard::Error::SerializeBufferFull)?;
        for (slot, &b) in out.iter_mut().zip(data) {
            slot.write(b);
        }
        self.pos = end;
        Ok(())
    }

    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::{Bytes, wire};

    #[test]
    fn a_request_is_the_envelope_and_body_encode_gives() {
        let mut buf = MessageBuf::new();
        let args = (7u64, Bytes::<8>::from_slice(b"abc").unwrap());
        buf.encode_request(0x1234, 3, 9, &args).unwrap();
        let msg = buf.message();
        let h = MsgHeader::decode(msg).unwrap();
        assert_eq!((h.interface, h.gate, h.generation), (0x1234, 3, 9));
        let mut body = [0u8; 64];
        let n = wire::encode(&args, &mut body).unwrap();
        assert_eq!(h.body_len as usize, n);
        assert_eq!(&msg[HEADER_LEN..], &body[..n]);
    }

    #[test]
    fn a_body_past_the_message_size_is_refused() {
        let mut buf = MessageBuf::new();
        let big = Bytes::<{ MAX_MESSAGE }>::from_slice(&[1; MAX_MESSAGE]).unwrap();
        assert_eq!(
            buf.encode_request(1, 1, 1, &big),
            Err(WireError::BufferFull)
        );
    }

    #[test]
    fn set_replaces_the_message_and_clips_to_the_buffer() {
        let mut buf = MessageBuf::new();
        assert!(buf.message().is_empty());
        buf.set(b"reply");
        assert_eq!(buf.message(), b"reply");
        buf.set(&[2; MAX_MESSAGE + 10]);
        assert_eq!(buf.message().len(), MAX_MESSAGE);
        assert!(buf.message().iter().all(|&b| b == 2));
    }
}
