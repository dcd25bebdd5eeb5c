//! Reading the kernel's `debug_info` records: memory figures and the
//! thread list, decoded with [`protocols::debug`].

use alloc::vec;
use alloc::vec::Vec;

use protocols::debug::{InfoKind, MemStats, ThreadInfo};
use protocols::syscall::SysError;

use crate::sys::debug_info;

/// The kernel's memory figures.
pub fn memory() -> Result<MemStats, SysError> {
    let mut buf = [0u8; MemStats::SIZE];
    let n = debug_info(InfoKind::Memory, &mut buf)?;
    buf.get(..n)
        .and_then(MemStats::decode)
        .ok_or(SysError::InvalidArgument)
}

/// Every thread the kernel knows, growing the buffer until the list fits.
pub fn threads() -> Result<Vec<ThreadInfo>, SysError> {
    let mut capacity = 64;
    for _ in 0..8 {
        let mut buf = vec![0u8; 8 + capacity * ThreadInfo::SIZE];
        match debug_info(InfoKind::Threads, &mut buf) {
            Ok(n) => match decode_threads(&buf[..n.min(buf.len())]) {
                Listing::Complete(list) => return Ok(list),
                Listing::Truncated(count) => capacity = count.max(capacity * 2),
                Listing::Invalid => return Err(SysError::InvalidArgument),
            },
            Err(SysError::TooLarge) => capacity *= 2,
            Err(e) => return Err(e),
        }
    }
    Err(SysError::TooLarge)
}

/// What a `Threads` record held.
#[derive(Debug, PartialEq, Eq)]
pub enum Listing {
    /// Every record the count announced.
    Complete(Vec<ThreadInfo>),
    /// The count announced this many, but fewer fit in the buffer.
    Truncated(usize),
    /// Too short for the count, or a record did not decode.
    Invalid,
}

/// Decodes a `Threads` record: a `u64` count, then that many records.
pub fn decode_threads(bytes: &[u8]) -> Listing {
    let Some(count) = bytes
        .get(..8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
    else {
        return Listing::Invalid;
    };
    let count = count as usize;
    let body = &bytes[8..];
    if body.len() / ThreadInfo::SIZE < count {
        return Listing::Truncated(count);
    }
    let list: Option<Vec<ThreadInfo>> = body
        .chunks_exact(ThreadInfo::SIZE)
        .take(count)
        .map(ThreadInfo::decode)
        .collect();
    list.map_or(Listing::Invalid, Listing::Complete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocols::debug::ThreadState;

    #[test]
    fn thread_listings_decode_or_say_why_not() {
        let t = ThreadInfo {
            id: 3,
            program: 1,
            priority: 4,
            state: ThreadState::Ready,
            cpu_nanos: 5,
            name: [0; 16],
        };
        let mut bytes = 2u64.to_le_bytes().to_vec();
        for _ in 0..2 {
            let mut rec = [0u8; ThreadInfo::SIZE];
            t.encode(&mut rec).unwrap();
            bytes.extend_from_slice(&rec);
        }
        assert_eq!(decode_threads(&bytes), Listing::Complete(vec![t, t]));
        assert_eq!(
            decode_threads(&bytes[..8 + ThreadInfo::SIZE]),
            Listing::Truncated(2)
        );
        assert_eq!(decode_threads(&bytes[..4]), Listing::Invalid);
        bytes[8 + 24] = 99;
        assert_eq!(decode_threads(&bytes), Listing::Invalid);
    }
}
