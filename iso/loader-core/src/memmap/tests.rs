//! Tests of memory map building and HHDM coverage.

use super::uefi_type::*;
use super::*;
use alloc::vec;

fn r(base: u64, pages: u64, uefi_type: u32) -> FirmwareRegion {
    FirmwareRegion {
        base,
        pages,
        uefi_type,
    }
}

fn e(base: u64, length: u64, kind: u64) -> MemmapEntry {
    MemmapEntry { base, length, kind }
}

/// Checks the protocol's guarantees on any built map.
fn assert_sane(map: &[MemmapEntry]) {
    for w in map.windows(2) {
        assert!(w[0].end() <= w[1].base, "sorted and disjoint: {w:?}");
        assert!(
            !(w[0].kind == w[1].kind && w[0].end() == w[1].base),
            "merged: {w:?}"
        );
    }
    for x in map {
        assert!(x.length > 0);
        if is_page_aligned_kind(x.kind) {
            assert_eq!(x.base % PAGE, 0, "{x:?}");
            assert_eq!(x.length % PAGE, 0, "{x:?}");
        }
        if x.kind == memmap_type::USABLE {
            assert!(x.base >= 0x1000, "{x:?}");
        }
    }
}

#[test]
fn maps_every_uefi_type() {
    use memmap_type::*;
    let cases = [
        (CONVENTIONAL, USABLE),
        (BOOT_SERVICES_CODE, USABLE),
        (BOOT_SERVICES_DATA, USABLE),
        (LOADER_CODE, BOOTLOADER_RECLAIMABLE),
        (LOADER_DATA, BOOTLOADER_RECLAIMABLE),
        (KERNEL_AND_MODULES_UEFI_TYPE, EXECUTABLE_AND_MODULES),
        (ACPI_RECLAIM, ACPI_RECLAIMABLE),
        (uefi_type::ACPI_NVS, memmap_type::ACPI_NVS),
        (UNUSABLE, BAD_MEMORY),
        (uefi_type::RESERVED, memmap_type::RESERVED),
        (RUNTIME_SERVICES_CODE, memmap_type::RESERVED),
        (RUNTIME_SERVICES_DATA, memmap_type::RESERVED),
        (MMIO, memmap_type::RESERVED),
        (12, memmap_type::RESERVED),
        (13, memmap_type::RESERVED),
        (PERSISTENT, memmap_type::RESERVED),
        (0x7000_0000, memmap_type::RESERVED),
        (0x8000_0001, memmap_type::RESERVED),
    ];
    for (uefi, limine) in cases {
        assert_eq!(limine_type(uefi), limine, "UEFI type {uefi:#x}");
    }
}

#[test]
fn sorts_merges_and_keeps_page_zero_out() {
    let regions = [
        r(0x10_0000, 0x100, CONVENTIONAL),
        r(0, 0xa0, CONVENTIONAL),
        r(0xa0000, 0x60, uefi_type::RESERVED),
        r(0x20_0000, 0x10, BOOT_SERVICES_DATA),
        r(0x21_0000, 4, LOADER_DATA),
        r(0x21_4000, 4, LOADER_CODE),
        r(0x21_8000, 8, KERNEL_AND_MODULES_UEFI_TYPE),
        r(0x22_0000, 0, CONVENTIONAL),
        r(0x7fe_0000, 0x20, ACPI_RECLAIM),
    ];
    let map = build(&regions);
    assert_sane(&map);
    use memmap_type::*;
    assert_eq!(
        map,
        vec![
            e(0x1000, 0x9f000, USABLE),
            e(0xa0000, 0x60000, RESERVED),
            e(0x10_0000, 0x11_0000, USABLE),
            e(0x21_0000, 0x8000, BOOTLOADER_RECLAIMABLE),
            e(0x21_8000, 0x8000, EXECUTABLE_AND_MODULES),
            e(0x7fe_0000, 0x2_0000, ACPI_RECLAIMABLE),
        ]
    );
    let t = totals(&map);
    assert_eq!(t[USABLE as usize], 0x9f000 + 0x11_0000);
    assert_eq!(t[BOOTLOADER_RECLAIMABLE as usize], 0x8000);
}

#[test]
fn overlaps_resolve_to_the_restrictive_type() {
    use memmap_type::*;
    let regions = [
        r(0x10_0000, 0x10, CONVENTIONAL),
        r(0x10_4000, 2, uefi_type::RESERVED),
        r(0x10_8000, 0x10, LOADER_DATA),
        r(0x11_4000, 1, UNUSABLE),
    ];
    let map = build(&regions);
    assert_sane(&map);
    assert_eq!(
        map,
        vec![
            e(0x10_0000, 0x4000, USABLE),
            e(0x10_4000, 0x2000, RESERVED),
            e(0x10_6000, 0x2000, USABLE),
            e(0x10_8000, 0xc000, BOOTLOADER_RECLAIMABLE),
            e(0x11_4000, 0x1000, BAD_MEMORY),
            e(0x11_5000, 0x3000, BOOTLOADER_RECLAIMABLE),
        ]
    );
}

#[test]
fn unaligned_usable_ranges_shrink() {
    // Descriptors are page-granular in UEFI, but be defensive anyway.
    let regions = [r(0x1800, 2, CONVENTIONAL), r(0x5000, 1, 0)];
    let map = build(&regions);
    assert_sane(&map);
    assert_eq!(map[0], e(0x2000, 0x1000, memmap_type::USABLE));
    assert!(build(&[r(0x1800, 1, CONVENTIONAL)]).is_empty());
}

#[test]
fn huge_descriptors_do_not_wrap() {
    let map = build(&[r(u64::MAX - 0xfff, u64::MAX, uefi_type::RESERVED)]);
    assert_eq!(map.len(), 1);
    assert_eq!(map[0].end(), u64::MAX);
}

#[test]
fn empty_input_gives_an_empty_map() {
    assert!(build(&[]).is_empty());
}

#[test]
fn hhdm_covers_low_4g_and_usable_high_memory_only() {
    let g = 1u64 << 30;
    let regions = [
        r(0x1000, 0x7f, CONVENTIONAL),
        r(0xe000_0000, 0x1_0000, MMIO),
        r(4 * g, g / PAGE, CONVENTIONAL),
        r(5 * g, 0x10, LOADER_DATA),
        r(6 * g, 0x100, uefi_type::RESERVED),
        r(7 * g, 0x100, UNUSABLE),
        r(8 * g, 0x100, ACPI_RECLAIM),
        r(3 * g, 2 * g / PAGE, CONVENTIONAL), // straddles 4 GiB
    ];
    assert_eq!(
        hhdm_ranges(&regions),
        vec![
            PhysRange {
                base: 0,
                length: 5 * g + 0x10 * PAGE
            },
            PhysRange {
                base: 8 * g,
                length: 0x100 * PAGE
            },
        ]
    );
    assert_eq!(
        hhdm_ranges(&[]),
        vec![PhysRange {
            base: 0,
            length: 4 * g
        }]
    );
}
