//! Tests of answering at the word level, with a non-zero HHDM offset.

use super::*;
use crate::protocol::{COMMON_MAGIC, HHDM_OFFSET};
use crate::requests::scan;
use alloc::vec;
use alloc::vec::Vec;

fn image(revision: u64, features: &[Feature]) -> Vec<u8> {
    let mut words = vec![0xf9562b2d5c95a6c8, 0x6a7b384944536bdc, revision];
    for f in features {
        let id = f.id();
        words.extend([COMMON_MAGIC[0], COMMON_MAGIC[1], id[0], id[1], 0, 0, 0]);
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn word(bytes: &[u8], at: usize) -> u64 {
    crate::requests::word(bytes, at).unwrap()
}

fn facts<'a>(rsdp: Option<u64>, time: Option<i64>, modules: &'a [LoadedFile<'a>]) -> BootFacts<'a> {
    BootFacts {
        hhdm: HHDM_OFFSET,
        kernel_file: LoadedFile {
            phys: 0x30_0000,
            size: 10,
            path: "/boot/kernel",
            cmdline: "",
        },
        modules,
        kernel_phys_base: 0x40_0000,
        kernel_virt_base: 0xffff_ffff_8000_0000,
        rsdp_phys: rsdp,
        unix_time: time,
        memmap_capacity: 4,
    }
}

/// Answers and returns (image, arena bytes, arena physical base).
fn run(revision: u64, features: &[Feature], facts: &BootFacts<'_>) -> (Vec<u8>, Vec<u8>) {
    let mut img = image(revision, features);
    let s = scan(&img).unwrap();
    let mut buf = vec![0u8; arena_bytes_needed(facts)];
    let mut arena = Arena::new(&mut buf, 0x10_0000, HHDM_OFFSET);
    answer(&s, &mut img, &mut arena, facts).unwrap();
    (img, buf)
}

/// The arena offset a response pointer refers to.
fn offset_of(virt: u64) -> usize {
    (virt - HHDM_OFFSET - 0x10_0000) as usize
}

#[test]
fn rsdp_is_physical_from_revision_3_and_hhdm_before() {
    for (revision, expected) in [(2, 0xe_0000 + HHDM_OFFSET), (3, 0xe_0000)] {
        let (img, arena) = run(
            revision,
            &[Feature::Rsdp],
            &facts(Some(0xe_0000), None, &[]),
        );
        let response = word(&img, 24 + 40);
        assert_eq!(
            word(&arena, offset_of(response) + 8),
            expected,
            "revision {revision}"
        );
    }
}

#[test]
fn base_revision_words() {
    let (img, _) = run(2, &[], &facts(None, None, &[]));
    assert_eq!((word(&img, 8), word(&img, 16)), (2, 0));
    let (img, _) = run(4, &[], &facts(None, None, &[]));
    assert_eq!((word(&img, 8), word(&img, 16)), (3, 4));
}

#[test]
fn missing_facts_leave_requests_untouched() {
    let (img, _) = run(
        3,
        &[Feature::Rsdp, Feature::DateAtBoot, Feature::Hhdm],
        &facts(None, None, &[]),
    );
    assert_eq!(word(&img, 24 + 40), 0);
    assert_eq!(word(&img, 24 + 56 + 40), 0);
    assert_ne!(word(&img, 24 + 112 + 40), 0);
}

#[test]
fn file_addresses_are_hhdm_addresses() {
    let module = [LoadedFile {
        phys: 0x50_0000,
        size: 4,
        path: "/boot/init",
        cmdline: "init",
    }];
    let (img, arena) = run(3, &[Feature::Modules], &facts(None, None, &module));
    let response = offset_of(word(&img, 24 + 40));
    assert_eq!(word(&arena, response), 1, "module response revision");
    assert_eq!(word(&arena, response + 8), 1);
    let array = offset_of(word(&arena, response + 16));
    let file = offset_of(word(&arena, array));
    assert_eq!(word(&arena, file + 8), 0x50_0000 + HHDM_OFFSET);
    assert_eq!(word(&arena, file + 16), 4);
    let path = offset_of(word(&arena, file + 24));
    assert_eq!(&arena[path..path + 11], b"/boot/init\0");
}

#[test]
fn memmap_capacity_and_arena_limits() {
    let mut img = image(3, &[Feature::MemoryMap]);
    let s = scan(&img).unwrap();
    let f = facts(None, None, &[]);
    let mut buf = vec![0u8; 64];
    let mut arena = Arena::new(&mut buf, 0x10_0000, HHDM_OFFSET);
    assert!(matches!(
        answer(&s, &mut img, &mut arena, &f),
        Err(AnswerError::Arena(_))
    ));

    let mut buf = vec![0u8; 4096];
    let mut arena = Arena::new(&mut buf, 0x10_0000, HHDM_OFFSET);
    let slot = answer(&s, &mut img, &mut arena, &f).unwrap().unwrap();
    let entry = MemmapEntry {
        base: 0x1000,
        length: 0x1000,
        kind: 0,
    };
    assert_eq!(
        fill_memmap(&mut arena, slot, &[entry; 5]),
        Err(AnswerError::MemmapTooLarge {
            entries: 5,
            capacity: 4
        })
    );
    fill_memmap(&mut arena, slot, &[entry; 2]).unwrap();
    let response = offset_of(word(&img, 24 + 40));
    assert_eq!(word(&buf, response + 8), 2);
}

#[test]
fn stack_size_has_a_floor_and_rounds_up() {
    let mut words: Vec<u64> = Vec::new();
    let id = Feature::StackSize.id();
    words.extend([
        COMMON_MAGIC[0],
        COMMON_MAGIC[1],
        id[0],
        id[1],
        0,
        0,
        0x1_0001,
    ]);
    let img: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(stack_size(&scan(&img).unwrap()), 0x1_1000);
    assert_eq!(stack_size(&scan(&[0u8; 64]).unwrap()), 64 * 1024);
}
