//! Message bodies: postcard encoding and the checked decoding every body
//! goes through, plus the serde forms of the shared ABI types that travel
//! in messages ([`ObjId`], [`Perms`], [`ObjFlags`]).
//!
//! Decoding consumes the whole body: a body with bytes left over is
//! [`WireError::TrailingBytes`], one that ends early is
//! [`WireError::Truncated`]. Values are checked as they decode — flag words
//! with undefined bits, enum tags with no variant and sequences longer than
//! their bound are all refused. postcard reports those three through one
//! error (serde's "custom" path), so they share [`WireError::BadValue`].

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::object::{ObjFlags, ObjId, Perms};

/// Why a body did not encode or decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireError {
    /// The body ends before the value does.
    Truncated,
    /// Bytes are left after the value.
    TrailingBytes,
    /// A varint is over-long or overflows its type.
    BadVarint,
    /// A `bool` or `Option` tag that is not 0 or 1, or an enum tag past `u32`.
    BadTag,
    /// A value its type refuses: an enum tag with no variant, a sequence or
    /// string longer than its bound, undefined flag bits.
    BadValue,
    /// A string that is not UTF-8, or a `char` that is not a scalar value.
    BadUtf8,
    /// The value does not fit the buffer (encoding).
    BufferFull,
    /// A form postcard does not encode (never for the types in this crate).
    Unsupported,
}

impl WireError {
    /// The error's number in a [`super::Rejection::Malformed`] status.
    pub const fn code(self) -> u8 {
        match self {
            WireError::Truncated => 1,
            WireError::TrailingBytes => 2,
            WireError::BadVarint => 3,
            WireError::BadTag => 4,
            WireError::BadValue => 5,
            WireError::BadUtf8 => 6,
            WireError::BufferFull => 7,
            WireError::Unsupported => 8,
        }
    }

    /// The error with number `code`.
    pub const fn from_code(code: u8) -> Option<WireError> {
        Some(match code {
            1 => WireError::Truncated,
            2 => WireError::TrailingBytes,
            3 => WireError::BadVarint,
            4 => WireError::BadTag,
            5 => WireError::BadValue,
            6 => WireError::BadUtf8,
            7 => WireError::BufferFull,
            8 => WireError::Unsupported,
            _ => return None,
        })
    }
}

impl From<postcard::Error> for WireError {
    fn from(e: postcard::Error) -> WireError {
        use postcard::Error as P;
        match e {
            P::DeserializeUnexpectedEnd => WireError::Truncated,
            P::DeserializeBadVarint => WireError::BadVarint,
            P::DeserializeBadBool | P::DeserializeBadOption | P::DeserializeBadEnum => {
                WireError::BadTag
            }
            P::DeserializeBadChar | P::DeserializeBadUtf8 => WireError::BadUtf8,
            P::SerdeDeCustom | P::DeserializeBadEncoding => WireError::BadValue,
            P::SerializeBufferFull => WireError::BufferFull,
            _ => WireError::Unsupported,
        }
    }
}

/// Encodes `value` into `out`, returning the length used.
pub fn encode<T: Serialize + ?Sized>(value: &T, out: &mut [u8]) -> Result<usize, WireError> {
    Ok(postcard::to_slice(value, out)?.len())
}

/// Decodes a `T` from exactly `bytes`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(WireError::TrailingBytes)
    }
}

impl Serialize for ObjId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_u128().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ObjId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ObjId, D::Error> {
        u128::deserialize(d).map(ObjId::from_u128)
    }
}

/// Serde for a checked flag word: encoded as its `u32`, decoded only if
/// every bit is defined.
macro_rules! serde_bits {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.bits().serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let bits = u32::deserialize(d)?;
                $ty::from_bits(bits)
                    .ok_or_else(|| D::Error::custom(concat!("undefined bits in ", stringify!($ty))))
            }
        }
    };
}

serde_bits!(Perms);
serde_bits!(ObjFlags);
