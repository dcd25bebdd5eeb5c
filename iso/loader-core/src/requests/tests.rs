//! Tests of request scanning over hand-built images.

use super::*;
use alloc::vec;

/// A little image builder working in words.
struct Image(Vec<u64>);

impl Image {
    fn new(words: usize) -> Image {
        Image(vec![0x5a5a_5a5a_5a5a_5a5a; words])
    }
    fn put(&mut self, at_word: usize, words: &[u64]) -> &mut Image {
        self.0[at_word..at_word + words.len()].copy_from_slice(words);
        self
    }
    fn request(&mut self, at_word: usize, feature: Feature, revision: u64) -> &mut Image {
        let id = feature.id();
        self.put(
            at_word,
            &[COMMON_MAGIC[0], COMMON_MAGIC[1], id[0], id[1], revision, 0],
        )
    }
    fn base_revision(&mut self, at_word: usize, revision: u64) -> &mut Image {
        self.put(
            at_word,
            &[BASE_REVISION_MAGIC[0], BASE_REVISION_MAGIC[1], revision],
        )
    }
    fn bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

#[test]
fn finds_requests_and_fields() {
    let mut img = Image::new(64);
    img.base_revision(0, 3)
        .request(4, Feature::Hhdm, 0)
        .request(12, Feature::StackSize, 0)
        .put(18, &[0x4_0000])
        .request(20, Feature::Modules, 1);
    let scan = scan(&img.bytes()).unwrap();
    assert_eq!(scan.base_revision.loaded, 3);
    assert!(scan.base_revision.supported);
    assert_eq!(
        scan.base_revision.tag,
        Some(BaseRevisionTag {
            offset: 0,
            requested: 3
        })
    );
    assert_eq!(scan.requests.len(), 3);
    assert_eq!(scan.find(Feature::Hhdm).unwrap().offset, 32);
    let stack = scan.find(Feature::StackSize).unwrap();
    assert_eq!((stack.offset, stack.stack_size), (96, Some(0x4_0000)));
    assert_eq!(scan.find(Feature::Modules).unwrap().revision, 1);
    assert_eq!(scan.find(Feature::Rsdp), None);
}

#[test]
fn unknown_ids_are_left_alone_even_when_repeated() {
    let mut img = Image::new(32);
    let unknown = [COMMON_MAGIC[0], COMMON_MAGIC[1], 1, 2, 0, 0];
    img.put(0, &unknown)
        .put(8, &unknown)
        .request(16, Feature::Rsdp, 0);
    let scan = scan(&img.bytes()).unwrap();
    assert_eq!(scan.requests.len(), 1);
    assert_eq!(
        scan.base_revision,
        BaseRevision {
            tag: None,
            loaded: 0,
            supported: true
        }
    );
}

#[test]
fn duplicate_requests_are_an_error() {
    let mut img = Image::new(32);
    img.base_revision(0, 3)
        .request(4, Feature::Hhdm, 0)
        .request(12, Feature::Hhdm, 0);
    let err = scan(&img.bytes()).unwrap_err();
    assert_eq!(
        err,
        ScanError::DuplicateRequest {
            feature: Feature::Hhdm,
            first: 32,
            second: 96
        }
    );
    assert_eq!(
        err.to_string(),
        "duplicate Limine HHDM request (image offsets 0x20 and 0x60)"
    );
}

#[test]
fn misaligned_requests_are_not_seen() {
    let mut bytes = Image::new(16).bytes();
    let id = Feature::Hhdm.id();
    let words = [COMMON_MAGIC[0], COMMON_MAGIC[1], id[0], id[1], 0, 0];
    for (i, w) in words.iter().enumerate() {
        bytes[4 + i * 8..12 + i * 8].copy_from_slice(&w.to_le_bytes());
    }
    assert!(scan(&bytes).unwrap().requests.is_empty());
}

#[test]
fn markers_bound_the_search_from_revision_2() {
    let mut img = Image::new(96);
    img.base_revision(0, 2)
        .request(4, Feature::Hhdm, 0) // before the last start marker: ignored
        .put(10, &REQUESTS_START_MARKER)
        .put(16, &REQUESTS_START_MARKER)
        .request(20, Feature::Hhdm, 0)
        .request(26, Feature::Rsdp, 0)
        .put(32, &REQUESTS_END_MARKER)
        .request(40, Feature::Rsdp, 0) // after the first end marker: ignored
        .put(50, &REQUESTS_END_MARKER);
    let scan = scan(&img.bytes()).unwrap();
    assert_eq!(scan.window, (20 * 8, 32 * 8));
    let offsets: Vec<usize> = scan.requests.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, vec![160, 208]);
}

#[test]
fn markers_are_ignored_before_revision_2() {
    let mut img = Image::new(64);
    img.base_revision(0, 1)
        .request(4, Feature::Hhdm, 0)
        .put(10, &REQUESTS_START_MARKER)
        .request(16, Feature::Rsdp, 0)
        .put(22, &REQUESTS_END_MARKER);
    assert_eq!(scan(&img.bytes()).unwrap().requests.len(), 2);
}

#[test]
fn only_one_marker_bounds_one_side() {
    let mut img = Image::new(64);
    img.base_revision(0, 3)
        .request(4, Feature::Hhdm, 0)
        .put(12, &REQUESTS_END_MARKER)
        .request(16, Feature::Rsdp, 0);
    let scan = scan(&img.bytes()).unwrap();
    assert_eq!(scan.requests.len(), 1);
    assert_eq!(scan.requests[0].feature, Feature::Hhdm);
}

#[test]
fn markers_out_of_order() {
    let mut img = Image::new(64);
    img.base_revision(0, 3)
        .put(4, &REQUESTS_END_MARKER)
        .put(8, &REQUESTS_START_MARKER);
    assert_eq!(
        scan(&img.bytes()).unwrap_err(),
        ScanError::MarkersOutOfOrder { start: 64, end: 32 }
    );
}

#[test]
fn truncated_request_at_the_image_end() {
    let mut img = Image::new(20);
    let id = Feature::StackSize.id();
    img.put(14, &[COMMON_MAGIC[0], COMMON_MAGIC[1], id[0], id[1], 0, 0]);
    assert_eq!(
        scan(&img.bytes()).unwrap_err(),
        ScanError::TruncatedRequest {
            feature: Feature::StackSize,
            offset: 112
        }
    );
}

#[test]
fn base_revision_decisions() {
    let tag = |requested| {
        Some(BaseRevisionTag {
            offset: 8,
            requested,
        })
    };
    for r in 0..=3 {
        let b = BaseRevision::for_tag(tag(r));
        assert_eq!((b.loaded, b.supported), (r, true));
        assert_eq!(b.answer(), Some((8, r, Some(0))));
    }
    let b = BaseRevision::for_tag(tag(7));
    assert_eq!((b.loaded, b.supported), (3, false));
    assert_eq!(b.answer(), Some((8, 3, None)));
    assert_eq!(BaseRevision::for_tag(None).answer(), None);
}

#[test]
fn first_base_revision_tag_wins() {
    let mut img = Image::new(16);
    img.base_revision(2, 1).base_revision(8, 3);
    let scan = scan(&img.bytes()).unwrap();
    assert_eq!(
        scan.base_revision.tag,
        Some(BaseRevisionTag {
            offset: 16,
            requested: 1
        })
    );
}
