//! [`Bytes`]: a bounded byte string that moves through the wire in bulk.
//!
//! Its encoding is postcard's for a sequence of `u8`: a varint length,
//! then the bytes. A `heapless::Vec<u8, N>` encodes to exactly the same
//! bytes, but serde walks it one element at a time (a call per byte on
//! both sides); `Bytes` goes through serde's byte-string form instead
//! (`serialize_bytes` / `deserialize_bytes`), which postcard writes and
//! reads with one copy. Decoding still refuses a length past `N`
//! ([`super::WireError::BadValue`]) and a body that ends early
//! ([`super::WireError::Truncated`]).

use core::fmt;
use core::ops::{Deref, DerefMut};

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A bounded byte string in a message: at most `N` bytes. Derefs to the
/// `heapless::Vec<u8, N>` that holds it.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes<const N: usize>(heapless::Vec<u8, N>);

impl<const N: usize> Bytes<N> {
    /// An empty string.
    pub const fn new() -> Self {
        Bytes(heapless::Vec::new())
    }

    /// A copy of `bytes`; an error if there are more than `N`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, heapless::CapacityError> {
        heapless::Vec::from_slice(bytes).map(Bytes)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// The `heapless::Vec` holding the bytes.
    pub fn into_inner(self) -> heapless::Vec<u8, N> {
        self.0
    }
}

impl<const N: usize> Deref for Bytes<N> {
    type Target = heapless::Vec<u8, N>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<const N: usize> DerefMut for Bytes<N> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<const N: usize> fmt::Debug for Bytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_slice().fmt(f)
    }
}

impl<const N: usize> AsRef<[u8]> for Bytes<N> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl<const N: usize> From<heapless::Vec<u8, N>> for Bytes<N> {
    fn from(v: heapless::Vec<u8, N>) -> Self {
        Bytes(v)
    }
}

impl<const N: usize> FromIterator<u8> for Bytes<N> {
    /// Collects at most `N` bytes (panics past `N`, as `heapless::Vec` does).
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        Bytes(iter.into_iter().collect())
    }
}

impl<const N: usize> PartialEq<[u8]> for Bytes<N> {
    fn eq(&self, other: &[u8]) -> bool {
        self.0.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8]> for Bytes<N> {
    fn eq(&self, other: &&[u8]) -> bool {
        self.0.as_slice() == *other
    }
}

impl<const N: usize, const M: usize> PartialEq<[u8; M]> for Bytes<N> {
    fn eq(&self, other: &[u8; M]) -> bool {
        self.0.as_slice() == other
    }
}

impl<const N: usize, const M: usize> PartialEq<&[u8; M]> for Bytes<N> {
    fn eq(&self, other: &&[u8; M]) -> bool {
        self.0.as_slice() == *other
    }
}

impl<const N: usize> Serialize for Bytes<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de, const N: usize> Deserialize<'de> for Bytes<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(BytesVisitor::<N>)
    }
}

struct BytesVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for BytesVisitor<N> {
    type Value = Bytes<N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at most {N} bytes")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Bytes::from_slice(v).map_err(|_| E::invalid_length(v.len(), &self))
    }

    /// Formats without a byte-string form send a sequence of `u8`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = heapless::Vec::new();
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b)
                .map_err(|_| A::Error::invalid_length(out.len() + 1, &self))?;
        }
        Ok(Bytes(out))
    }
}

#[cfg(test)]
mod tests {
    use super::Bytes;
    use crate::ipc::{WireError, wire};

    #[test]
    fn encodes_exactly_as_a_sequence_of_u8() {
        for n in [0usize, 1, 127, 128, 300] {
            let data: std::vec::Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            let b = Bytes::<300>::from_slice(&data).unwrap();
            let v = heapless::Vec::<u8, 300>::from_slice(&data).unwrap();
            let (mut x, mut y) = ([0u8; 400], [0u8; 400]);
            let lx = wire::encode(&b, &mut x).unwrap();
            let ly = wire::encode(&v, &mut y).unwrap();
            assert_eq!(&x[..lx], &y[..ly], "{n} bytes");
            // Each decodes the other's encoding.
            assert_eq!(wire::decode::<Bytes<300>>(&y[..ly]).unwrap(), b);
            assert_eq!(wire::decode::<heapless::Vec<u8, 300>>(&x[..lx]).unwrap(), v);
        }
    }

    #[test]
    fn refuses_too_long_truncated_and_trailing() {
        let mut buf = [0u8; 16];
        let n = wire::encode(&Bytes::<8>::from_slice(b"abcdefgh").unwrap(), &mut buf).unwrap();
        assert_eq!(
            wire::decode::<Bytes<7>>(&buf[..n]),
            Err(WireError::BadValue)
        );
        assert_eq!(
            wire::decode::<Bytes<8>>(&buf[..n - 1]),
            Err(WireError::Truncated)
        );
        assert_eq!(
            wire::decode::<Bytes<8>>(&buf[..n + 1]),
            Err(WireError::TrailingBytes)
        );
        // A length varint claiming more than the body holds.
        assert_eq!(
            wire::decode::<Bytes<300>>(&[0xac, 0x02, 1, 2]),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn does_not_fit_a_short_buffer() {
        let b = Bytes::<16>::from_slice(&[9; 16]).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(wire::encode(&b, &mut buf), Err(WireError::BufferFull));
    }
}
