//! Who is calling. The kernel's PPC does not tell a server which program
//! made a call (the handler gets the message, its length and the gate), so
//! the POSIX layer identifies programs itself: the client library tags
//! every request with its program's key — 64 random bits drawn once per
//! program — and the server keys its descriptor tables on that tag.
//!
//! The tag is 8 bytes (little-endian) after the envelope. A program can
//! reach only the descriptors of a key it knows; keys are random, so one
//! program cannot guess another's. A request without a tag loses its last
//! 8 bytes to [`untag`] and then fails the envelope's length check: it is
//! refused, never served under a wrong key.

use protocols::ipc::{MAX_MESSAGE, Transport, TransportError};
use protocols::syscall::SysError;

use crate::Pid;

/// Bytes of the tag after the envelope.
pub const TAG_LEN: usize = 8;

/// A transport that tags every request with `key`.
#[derive(Clone, Debug)]
pub struct Tagged<T> {
    /// The transport underneath (the kernel's `Gate` in a program).
    pub inner: T,
    /// The calling program's key.
    pub key: Pid,
}

impl<T: Transport> Transport for Tagged<T> {
    fn generation(&self) -> u64 {
        self.inner.generation()
    }

    fn call(
        &mut self,
        gate: u16,
        request: &[u8],
        reply: &mut [u8; MAX_MESSAGE],
    ) -> Result<usize, TransportError> {
        let n = request.len();
        if n + TAG_LEN > MAX_MESSAGE {
            return Err(TransportError::Sys(SysError::TooLarge));
        }
        let mut buf = [0u8; MAX_MESSAGE];
        buf[..n].copy_from_slice(request);
        buf[n..n + TAG_LEN].copy_from_slice(&self.key.to_le_bytes());
        self.inner.call(gate, &buf[..n + TAG_LEN], reply)
    }
}

/// Splits a tagged request into the caller's key and the envelope (the
/// last [`TAG_LEN`] bytes are the key). A request shorter than a tag is
/// key 0 with an empty envelope, which the server refuses.
pub fn untag(request: &[u8]) -> (Pid, &[u8]) {
    let Some(split) = request.len().checked_sub(TAG_LEN) else {
        return (0, &[]);
    };
    let mut key = [0u8; TAG_LEN];
    key.copy_from_slice(&request[split..]);
    (Pid::from_le_bytes(key), &request[..split])
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use hierarchical::Hierarchy;
    use nomenclature::{ResolverService, SeqIds};
    use protocols::ipc::{self, CallError, HEADER_LEN, Rejection};
    use protocols::posix::{self, Errno, OpenFlags};
    use store::VecPmem;

    use super::*;
    use crate::{MemFiles, Posix, PosixClient, Session, TickClock};

    type Fs = Posix<ResolverService<Hierarchy, VecPmem, SeqIds>, MemFiles, TickClock>;

    /// A server reached the way the POSIX server is: the raw request, the
    /// key untagged, one [`Session`] per call.
    struct Wire<'a> {
        fs: &'a mut Fs,
        seen: Vec<Pid>,
    }

    impl Transport for Wire<'_> {
        fn generation(&self) -> u64 {
            1
        }
        fn call(
            &mut self,
            _gate: u16,
            request: &[u8],
            reply: &mut [u8; MAX_MESSAGE],
        ) -> Result<usize, TransportError> {
            let (pid, envelope) = untag(request);
            self.seen.push(pid);
            let session = Session {
                posix: &mut *self.fs,
                pid,
            };
            Ok(ipc::serve(&mut posix::Service(session), 1, envelope, reply))
        }
    }

    fn fs() -> Fs {
        let names = ResolverService::open(VecPmem::new(256 * 1024), SeqIds(0xd000)).unwrap();
        Posix::new(names, MemFiles::default(), TickClock(0))
    }

    #[test]
    fn each_key_has_its_own_descriptor_table() {
        let mut fs = fs();
        let flags = OpenFlags::O_RDWR | OpenFlags::O_CREAT;
        let fd_a = {
            let wire = Wire {
                fs: &mut fs,
                seen: Vec::new(),
            };
            let mut a = PosixClient::new(Tagged {
                inner: wire,
                key: 0xaaaa,
            });
            let fd = a.open("/f", flags, 0).unwrap();
            assert_eq!(a.write(fd, b"from a"), Ok(6));
            assert_eq!(a.0.transport_mut().inner.seen, [0xaaaa, 0xaaaa]);
            fd
        };
        let wire = Wire {
            fs: &mut fs,
            seen: Vec::new(),
        };
        let mut b = PosixClient::new(Tagged {
            inner: wire,
            key: 0xbbbb,
        });
        // Program b does not hold a's descriptor; its first is also 0.
        assert_eq!(b.lseek(fd_a, 0, posix::Whence::Set), Err(Errno::EBADF));
        assert_eq!(b.open("/f", OpenFlags::O_RDONLY, 0), Ok(0));
        let mut buf = [0u8; 16];
        assert_eq!(b.read(0, &mut buf), Ok(6));
        assert_eq!(&buf[..6], b"from a");
        drop(b);
        // a's descriptor is still open, at its offset.
        assert_eq!(fs.lseek(0xaaaa, fd_a, 0, posix::Whence::Cur), Ok(6));
    }

    #[test]
    fn an_untagged_request_is_refused() {
        let mut fs = fs();
        let wire = Wire {
            fs: &mut fs,
            seen: Vec::new(),
        };
        // Straight onto the wire, no tag: the envelope loses 8 bytes.
        let mut c = PosixClient::new(wire);
        let r = c.0.open("/f".try_into().unwrap(), OpenFlags::O_RDONLY, 0);
        assert_eq!(r, Err(CallError::Rejected(Rejection::BadHeader)));
        assert_eq!(fs.open_descriptions(), 0);
    }

    #[test]
    fn untag_splits_off_the_last_eight_bytes() {
        let mut msg = [0u8; HEADER_LEN + TAG_LEN];
        msg[HEADER_LEN..].copy_from_slice(&7u64.to_le_bytes());
        assert_eq!(untag(&msg), (7, &msg[..HEADER_LEN]));
        assert_eq!(untag(&msg[..TAG_LEN - 1]), (0, &[][..]));
    }
}
