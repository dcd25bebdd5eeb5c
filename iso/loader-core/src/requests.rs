//! Finding the Limine base revision tag and requests in a loaded kernel image.
//!
//! Everything is 8-byte aligned relative to the image start, which is page
//! aligned. The base revision tag is searched in the whole image (first one
//! wins, as in Limine). Requests are searched in the whole image, except
//! that from base revision 2 on, if start/end markers exist, only requests
//! between the last start marker and the first end marker count. Only ids
//! the loader knows are collected; a known id found twice is an error.

use alloc::vec::Vec;
use core::fmt;

use crate::protocol::{
    BASE_REVISION_MAGIC, COMMON_MAGIC, Feature, MAX_BASE_REVISION, REQUEST_HEADER_SIZE,
    REQUEST_REVISION_OFFSET, REQUESTS_END_MARKER, REQUESTS_START_MARKER, STACK_SIZE_FIELD_OFFSET,
};

/// The kernel's base revision tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseRevisionTag {
    /// Byte offset of the tag in the image.
    pub offset: usize,
    /// The revision the kernel asks for (third word).
    pub requested: u64,
}

/// The revision the loader boots the kernel with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseRevision {
    /// Where the tag is (absent: revision 0 and nothing to write).
    pub tag: Option<BaseRevisionTag>,
    /// The revision in effect.
    pub loaded: u64,
    /// Whether the requested revision is supported (third word set to 0).
    pub supported: bool,
}

impl BaseRevision {
    /// Decides the revision for a tag (or its absence).
    pub fn for_tag(tag: Option<BaseRevisionTag>) -> BaseRevision {
        match tag {
            None => BaseRevision {
                tag,
                loaded: 0,
                supported: true,
            },
            Some(t) if t.requested <= MAX_BASE_REVISION => BaseRevision {
                tag,
                loaded: t.requested,
                supported: true,
            },
            Some(_) => BaseRevision {
                tag,
                loaded: MAX_BASE_REVISION,
                supported: false,
            },
        }
    }

    /// The words to store at the tag's offset + 8 and + 16, if any. The
    /// second word (`loaded`) is always written; the third is set to 0 only
    /// when the requested revision is supported.
    pub fn answer(&self) -> Option<(usize, u64, Option<u64>)> {
        let tag = self.tag?;
        Some((tag.offset, self.loaded, self.supported.then_some(0)))
    }
}

/// One request found in the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// What it asks for.
    pub feature: Feature,
    /// Byte offset of its first id word in the image.
    pub offset: usize,
    /// The request's revision.
    pub revision: u64,
    /// For the stack size request: the size asked for.
    pub stack_size: Option<u64>,
}

/// The result of scanning an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    /// The base revision decision.
    pub base_revision: BaseRevision,
    /// Known requests in image order.
    pub requests: Vec<Request>,
    /// The image range searched for requests.
    pub window: (usize, usize),
}

impl Scan {
    /// The request for `feature`, if the kernel made one.
    pub fn find(&self, feature: Feature) -> Option<&Request> {
        self.requests.iter().find(|r| r.feature == feature)
    }
}

/// Why the requests cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// The same request appears twice.
    DuplicateRequest {
        /// The feature.
        feature: Feature,
        /// Offset of the first copy.
        first: usize,
        /// Offset of the second copy.
        second: usize,
    },
    /// A request runs past the end of the image.
    TruncatedRequest {
        /// The feature.
        feature: Feature,
        /// Its offset.
        offset: usize,
    },
    /// The first end marker comes before the last start marker.
    MarkersOutOfOrder {
        /// Offset of the last start marker.
        start: usize,
        /// Offset of the first end marker.
        end: usize,
    },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::DuplicateRequest {
                feature,
                first,
                second,
            } => write!(
                f,
                "duplicate Limine {} request (image offsets {first:#x} and {second:#x})",
                feature.name()
            ),
            ScanError::TruncatedRequest { feature, offset } => write!(
                f,
                "Limine {} request at image offset {offset:#x} runs past the image end",
                feature.name()
            ),
            ScanError::MarkersOutOfOrder { start, end } => write!(
                f,
                "requests end marker at {end:#x} comes before the start marker at {start:#x}"
            ),
        }
    }
}

/// Reads the little-endian word at byte offset `at`, if it is in the image.
pub fn word(image: &[u8], at: usize) -> Option<u64> {
    let bytes = image.get(at..at.checked_add(8)?)?;
    let mut b = [0; 8];
    b.copy_from_slice(bytes);
    Some(u64::from_le_bytes(b))
}

fn words_match(image: &[u8], at: usize, expected: &[u64]) -> bool {
    expected
        .iter()
        .enumerate()
        .all(|(i, &w)| word(image, at + i * 8) == Some(w))
}

/// Offsets of every occurrence of `pattern` at 8-byte alignment.
fn occurrences(image: &[u8], pattern: &[u64]) -> impl Iterator<Item = usize> {
    (0..image.len() / 8)
        .map(|i| i * 8)
        .filter(move |&at| words_match(image, at, pattern))
}

/// Scans `image` (the kernel as loaded, first byte at its virtual base).
pub fn scan(image: &[u8]) -> Result<Scan, ScanError> {
    let tag = occurrences(image, &BASE_REVISION_MAGIC)
        .next()
        .map(|offset| BaseRevisionTag {
            offset,
            requested: word(image, offset + 16).unwrap_or(0),
        });
    let base_revision = BaseRevision::for_tag(tag);

    let mut window = (0, image.len());
    if base_revision.loaded >= 2 {
        let start = occurrences(image, &REQUESTS_START_MARKER).last();
        let end = occurrences(image, &REQUESTS_END_MARKER).next();
        if let (Some(s), Some(e)) = (start, end)
            && e < s + 32
        {
            return Err(ScanError::MarkersOutOfOrder { start: s, end: e });
        }
        window = (start.map_or(0, |s| s + 32), end.unwrap_or(image.len()));
    }

    let mut requests: Vec<Request> = Vec::new();
    let mut at = window.0;
    while at < window.1 {
        if words_match(image, at, &COMMON_MAGIC) {
            let id = [
                word(image, at + 16).unwrap_or(0),
                word(image, at + 24).unwrap_or(0),
            ];
            if let Some(feature) = Feature::from_id(id) {
                requests.push(read_request(image, feature, at)?);
            }
        }
        at += 8;
    }
    for (i, a) in requests.iter().enumerate() {
        if let Some(b) = requests[i + 1..].iter().find(|b| b.feature == a.feature) {
            return Err(ScanError::DuplicateRequest {
                feature: a.feature,
                first: a.offset,
                second: b.offset,
            });
        }
    }
    Ok(Scan {
        base_revision,
        requests,
        window,
    })
}

fn read_request(image: &[u8], feature: Feature, offset: usize) -> Result<Request, ScanError> {
    let size = match feature {
        Feature::StackSize => STACK_SIZE_FIELD_OFFSET + 8,
        _ => REQUEST_HEADER_SIZE,
    };
    if offset + size > image.len() {
        return Err(ScanError::TruncatedRequest { feature, offset });
    }
    let revision = word(image, offset + REQUEST_REVISION_OFFSET).unwrap_or(0);
    let stack_size = match feature {
        Feature::StackSize => word(image, offset + STACK_SIZE_FIELD_OFFSET),
        _ => None,
    };
    Ok(Request {
        feature,
        offset,
        revision,
        stack_size,
    })
}

#[cfg(test)]
mod tests;
