//! The checker on deliberately corrupted metadata: each corruption is
//! reported as exactly what it is (and what follows from it, such as the
//! pages a broken entry no longer owns), naming the entry, page or field.

use std::vec;
use std::vec::Vec;

use protocols::object::{HEADER_OFFSET, HeaderError, ObjId, Perms};

use super::{fresh, id, reopen, spec};
use crate::checksum::checksum;
use crate::dir::{ENTRY_SIZE, EntryProblem, SLOT_PAGES};
use crate::fsck::{Finding, HeaderProblem, check};
use crate::layout::{SB_OFFSETS, SbField, SbProblem};
use crate::log::LogProblem;
use crate::{OpenError, PAGE, Pmem, Store, VecPmem};

/// A store with three objects in entries 0, 1, 2; returns it and the data
/// page each object's extents start at.
fn three() -> (VecPmem, [u32; 3]) {
    let mut s = fresh();
    for i in 1..=3 {
        s.create(id(i), i, &spec(PAGE * i as u64)).unwrap();
    }
    let g = *s.geometry();
    let first =
        [1, 2, 3].map(|i| ((s.page(id(i), SLOT_PAGES - 1).unwrap() - g.data_off) / PAGE) as u32);
    let s = reopen(s);
    assert!(s.check().is_clean());
    (s.into_pmem(), first)
}

fn geometry(pm: &VecPmem) -> crate::Geometry {
    crate::layout::read_superblock(pm).unwrap().0.geometry
}

/// Rewrites entry `index` through `f`, fixing its checksum if `reseal`.
fn edit_entry(pm: &mut VecPmem, index: u32, reseal: bool, f: impl FnOnce(&mut [u8; 256])) {
    let off = geometry(pm).entry_off(index);
    let mut b = [0u8; ENTRY_SIZE as usize];
    pm.read(off, &mut b);
    f(&mut b);
    if reseal {
        b[56..64].fill(0);
        let sum = checksum(&[&b]);
        b[56..64].copy_from_slice(&sum.to_le_bytes());
    }
    pm.write(off, &b);
}

fn findings(pm: &VecPmem) -> Vec<Finding> {
    check(pm).findings
}

#[test]
fn a_damaged_entry_is_named_with_its_field() {
    let cases: Vec<(usize, Vec<u8>, EntryProblem)> = vec![
        (4, vec![0, 0], EntryProblem::ExtentCount(0)),
        (4, vec![25, 0], EntryProblem::ExtentCount(25)),
        (6, vec![0, 0], EntryProblem::MetaPages(0)),
        (8, vec![0; 16], EntryProblem::NilId),
        (40, vec![0x40, 0, 0, 0], EntryProblem::UnknownPerms(0x40)),
        (44, vec![0, 0, 0, 0], EntryProblem::BadFlags(0)),
        (48, vec![0xff; 8], EntryProblem::SizeTooLarge(u64::MAX)),
        (
            48,
            vec![0, 0x30, 0, 0, 0, 0, 0, 0],
            EntryProblem::PageCount {
                expected: 4,
                found: 3,
            },
        ),
        (68, vec![0, 0, 0, 0], EntryProblem::EmptyExtent(0)),
        (
            64,
            vec![0xff, 0xff, 0, 0],
            EntryProblem::ExtentOutOfRange {
                extent: 0,
                start: 0xffff,
                len: 3,
            },
        ),
        (64 + 8 * 5, vec![1], EntryProblem::UnusedExtentNotZero(5)),
        (
            0,
            vec![b'X'],
            EntryProblem::BadState(u32::from_le_bytes(*b"XRDE")),
        ),
    ];
    for (off, bytes, problem) in cases {
        let (mut pm, first) = three();
        edit_entry(&mut pm, 1, true, |b| {
            b[off..off + bytes.len()].copy_from_slice(&bytes)
        });
        // Entry 1 (object 2, 3 pages) is broken, so its pages are leaked.
        assert_eq!(
            findings(&pm),
            vec![
                Finding::Entry { index: 1, problem },
                Finding::Leaked {
                    first: first[1],
                    count: 3
                },
            ],
            "corrupting entry bytes at {off}"
        );
    }
}

#[test]
fn a_torn_entry_fails_its_checksum_and_a_dirty_free_entry_is_found() {
    let (mut pm, _) = three();
    edit_entry(&mut pm, 0, false, |b| b[50] ^= 1);
    let f = findings(&pm);
    assert!(
        matches!(f[0], Finding::Entry { index: 0, problem: EntryProblem::BadChecksum { stored, computed } } if stored != computed)
    );
    let (mut pm, _) = three();
    edit_entry(&mut pm, 7, false, |b| b[100] = 9);
    assert_eq!(
        findings(&pm),
        vec![Finding::Entry {
            index: 7,
            problem: EntryProblem::FreeNotZero(100)
        }]
    );
}

#[test]
fn bitmap_disagreements_are_pinned_to_pages() {
    let (mut pm, first) = three();
    let g = geometry(&pm);
    let word = |pm: &VecPmem, w: u64| pm.read_u64(g.bitmap_off + w * 8);
    let set_word =
        |pm: &mut VecPmem, w: u64, v: u64| pm.write(g.bitmap_off + w * 8, &v.to_le_bytes());
    // Clear the bit of object 3's first page.
    let p = first[2];
    let w = word(&pm, u64::from(p / 64));
    set_word(&mut pm, u64::from(p / 64), w & !(1 << (p % 64)));
    assert_eq!(findings(&pm), vec![Finding::Unmarked { page: p, entry: 2 }]);
    // Set two free pages' bits: one leaked run.
    let (mut pm, _) = three();
    let q = g.data_pages - 2;
    let w = word(&pm, u64::from(q / 64));
    set_word(&mut pm, u64::from(q / 64), w | (3 << (q % 64)));
    assert_eq!(findings(&pm), vec![Finding::Leaked { first: q, count: 2 }]);
    // A bit past the last data page.
    let (mut pm, _) = three();
    let last = u64::from(g.data_pages - 1) / 64;
    let stray = 1u64 << 63;
    assert!(
        u64::from(g.data_pages) % 64 != 0,
        "the test needs a partial last word"
    );
    let w = word(&pm, last);
    set_word(&mut pm, last, w | stray);
    assert_eq!(
        findings(&pm),
        vec![Finding::BitmapTail {
            word: last as u32,
            bits: stray
        }]
    );
}

#[test]
fn shared_pages_and_duplicate_ids_name_both_entries() {
    let (mut pm, first) = three();
    // Entry 2's first extent now starts at entry 1's first page.
    edit_entry(&mut pm, 2, true, |b| {
        b[64..68].copy_from_slice(&first[1].to_le_bytes())
    });
    let f = findings(&pm);
    assert_eq!(
        f[0],
        Finding::SharedPage {
            page: first[1],
            first: 1,
            second: 2
        }
    );
    assert!(
        f.contains(&Finding::Leaked {
            first: first[2] + 1,
            count: 3
        }),
        "{f:?}"
    );
    let (mut pm, _) = three();
    edit_entry(&mut pm, 2, true, |b| {
        b[8..24].copy_from_slice(&id(1).to_le_bytes())
    });
    assert_eq!(
        findings(&pm),
        vec![Finding::DuplicateId {
            id: id(1),
            first: 0,
            second: 2
        }]
    );
}

#[test]
fn headers_must_match_their_entries() {
    let (mut pm, first) = three();
    let g = geometry(&pm);
    let at = g.page_off(first[0]) + HEADER_OFFSET % PAGE;
    pm.write(at + 24, &ObjId::from_u128(5).to_le_bytes());
    assert_eq!(
        findings(&pm),
        vec![Finding::Header {
            index: 0,
            id: id(1),
            problem: HeaderProblem::Key {
                entry: spec(0).key,
                header: ObjId::from_u128(5)
            },
        }]
    );
    pm.write(at + 40, &Perms::READ.bits().to_le_bytes());
    pm.write(at + 24, &spec(0).key.to_le_bytes());
    assert!(matches!(
        findings(&pm)[0],
        Finding::Header {
            problem: HeaderProblem::Perms { .. },
            ..
        }
    ));
    pm.write(at, &[0; 4]);
    assert_eq!(
        findings(&pm),
        vec![Finding::Header {
            index: 0,
            id: id(1),
            problem: HeaderProblem::Decode(HeaderError::BadMagic(0))
        }]
    );
}

#[test]
fn superblock_damage_is_reported_per_copy_and_field() {
    // After a reopen both copies are valid: damaging one is survivable.
    let (mut pm, _) = three();
    pm.write(SB_OFFSETS[1], &[0; 8]);
    assert!(check(&pm).is_clean(), "the other copy is in force");
    pm.write(SB_OFFSETS[0] + 3, &[0xff]);
    let f = findings(&pm);
    assert!(
        matches!(
            f[..],
            [Finding::NoSuperblock([
                SbProblem::BadMagic(_),
                SbProblem::BadMagic(0)
            ])]
        ),
        "{f:?}"
    );
    // A geometry field that disagrees with the size, checksum resealed.
    let (mut pm, _) = three();
    let g = geometry(&pm);
    for off in SB_OFFSETS {
        let mut b = [0u8; 128];
        pm.read(off, &mut b);
        b[88..96].copy_from_slice(&(g.data_off + PAGE).to_le_bytes());
        let sum = checksum(&[&b[..120]]);
        b[120..].copy_from_slice(&sum.to_le_bytes());
        pm.write(off, &b);
    }
    let expected = SbProblem::Geometry {
        field: SbField::DataOff,
        found: g.data_off + PAGE,
        expected: g.data_off,
    };
    assert_eq!(
        findings(&pm),
        vec![Finding::NoSuperblock([expected, expected])]
    );
    assert!(matches!(Store::open(pm), Err(OpenError::NotFormatted(_))));
}

#[test]
fn log_damage_is_reported_and_refuses_to_open() {
    let (mut pm, _) = three();
    let g = geometry(&pm);
    let applied = pm.read_u64(g.log_off + 8);
    pm.write(g.log_off, &(applied + 3).to_le_bytes());
    assert_eq!(
        findings(&pm),
        vec![Finding::Log(LogProblem::Words {
            commit: applied + 3,
            applied
        })]
    );
    assert!(matches!(Store::open(pm.clone()), Err(OpenError::Log(_))));
    // commit = applied + 1, but the header holds the last transaction.
    pm.write(g.log_off, &(applied + 1).to_le_bytes());
    assert_eq!(
        findings(&pm),
        vec![Finding::Log(LogProblem::WrongSeq {
            commit: applied + 1,
            header: applied
        })]
    );
    // Make the header name it, leaving the checksum stale.
    pm.write(g.log_off + 64, &(applied + 1).to_le_bytes());
    assert!(matches!(
        findings(&pm)[..],
        [Finding::Log(LogProblem::BadChecksum { .. })]
    ));
}

#[test]
fn a_corrupt_store_does_not_open_and_says_why() {
    let (mut pm, _) = three();
    edit_entry(&mut pm, 0, false, |b| b[50] ^= 1);
    match Store::open(pm) {
        Err(OpenError::Corrupt(r)) => {
            assert!(!r.is_clean());
            let text = std::format!("{r}");
            assert!(text.starts_with("directory entry 0: checksum"), "{text}");
            assert!(text.ends_with("NOT CLEAN"), "{text}");
        }
        other => panic!("opened a corrupt store: {:?}", other.err()),
    }
}
