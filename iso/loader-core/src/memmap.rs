//! Building the Limine memory map from UEFI memory descriptors, and the set
//! of physical ranges the higher-half direct map covers.
//!
//! Where firmware descriptors overlap, the more restrictive type wins
//! (anything beats usable, anything but usable beats bootloader-reclaimable).
//! The result is sorted, merged, with usable and bootloader-reclaimable
//! entries shrunk to 4 KiB boundaries and nothing usable below 0x1000.

use alloc::vec::Vec;

use crate::protocol::{MemmapEntry, memmap_type};

/// UEFI memory types (UEFI 2.10, table 7.10).
pub mod uefi_type {
    /// EfiReservedMemoryType.
    pub const RESERVED: u32 = 0;
    /// EfiLoaderCode.
    pub const LOADER_CODE: u32 = 1;
    /// EfiLoaderData.
    pub const LOADER_DATA: u32 = 2;
    /// EfiBootServicesCode.
    pub const BOOT_SERVICES_CODE: u32 = 3;
    /// EfiBootServicesData.
    pub const BOOT_SERVICES_DATA: u32 = 4;
    /// EfiRuntimeServicesCode.
    pub const RUNTIME_SERVICES_CODE: u32 = 5;
    /// EfiRuntimeServicesData.
    pub const RUNTIME_SERVICES_DATA: u32 = 6;
    /// EfiConventionalMemory.
    pub const CONVENTIONAL: u32 = 7;
    /// EfiUnusableMemory.
    pub const UNUSABLE: u32 = 8;
    /// EfiACPIReclaimMemory.
    pub const ACPI_RECLAIM: u32 = 9;
    /// EfiACPIMemoryNVS.
    pub const ACPI_NVS: u32 = 10;
    /// EfiMemoryMappedIO.
    pub const MMIO: u32 = 11;
    /// EfiPersistentMemory.
    pub const PERSISTENT: u32 = 14;
}

/// The OS-defined UEFI memory type the loader allocates the kernel file,
/// the kernel image and the modules with; it becomes
/// [`memmap_type::EXECUTABLE_AND_MODULES`].
pub const KERNEL_AND_MODULES_UEFI_TYPE: u32 = 0x8000_0000;

/// Page size of UEFI descriptors.
pub const PAGE: u64 = 4096;
/// The HHDM covers at least physical 0 .. 4 GiB.
pub const LOW_HHDM_END: u64 = 1 << 32;

/// One UEFI memory descriptor, reduced to what matters here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirmwareRegion {
    /// Physical start.
    pub base: u64,
    /// Number of 4 KiB pages.
    pub pages: u64,
    /// UEFI memory type.
    pub uefi_type: u32,
}

/// A physical range `[base, base + length)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    /// Start.
    pub base: u64,
    /// Length in bytes.
    pub length: u64,
}

/// The Limine type of a UEFI memory type.
pub fn limine_type(uefi: u32) -> u64 {
    match uefi {
        uefi_type::CONVENTIONAL | uefi_type::BOOT_SERVICES_CODE | uefi_type::BOOT_SERVICES_DATA => {
            memmap_type::USABLE
        }
        uefi_type::LOADER_CODE | uefi_type::LOADER_DATA => memmap_type::BOOTLOADER_RECLAIMABLE,
        KERNEL_AND_MODULES_UEFI_TYPE => memmap_type::EXECUTABLE_AND_MODULES,
        uefi_type::ACPI_RECLAIM => memmap_type::ACPI_RECLAIMABLE,
        uefi_type::ACPI_NVS => memmap_type::ACPI_NVS,
        uefi_type::UNUSABLE => memmap_type::BAD_MEMORY,
        _ => memmap_type::RESERVED,
    }
}

/// Which type wins where two descriptors overlap: higher wins.
fn priority(kind: u64) -> u8 {
    match kind {
        memmap_type::USABLE => 0,
        memmap_type::BOOTLOADER_RECLAIMABLE => 1,
        memmap_type::BAD_MEMORY => 4,
        memmap_type::RESERVED => 3,
        _ => 2,
    }
}

fn is_page_aligned_kind(kind: u64) -> bool {
    kind == memmap_type::USABLE || kind == memmap_type::BOOTLOADER_RECLAIMABLE
}

/// Converts descriptors to Limine entries, clamping lengths that would wrap.
fn raw_entries(regions: &[FirmwareRegion]) -> Vec<MemmapEntry> {
    regions
        .iter()
        .filter(|r| r.pages != 0)
        .map(|r| {
            let length = r.pages.saturating_mul(PAGE).min(u64::MAX - r.base);
            MemmapEntry {
                base: r.base,
                length,
                kind: limine_type(r.uefi_type),
            }
        })
        .filter(|e| e.length != 0)
        .collect()
}

/// Builds the memory map the kernel receives.
pub fn build(regions: &[FirmwareRegion]) -> Vec<MemmapEntry> {
    let mut entries = raw_entries(regions);
    entries.sort_by_key(|e| (e.base, e.end()));
    let entries = resolve_overlaps(&entries);

    let mut out: Vec<MemmapEntry> = Vec::with_capacity(entries.len());
    for mut e in entries {
        if is_page_aligned_kind(e.kind) {
            let mut start = e.base.next_multiple_of(PAGE);
            let end = e.end() & !(PAGE - 1);
            if e.kind == memmap_type::USABLE {
                start = start.max(PAGE);
            }
            if end <= start {
                continue;
            }
            e = MemmapEntry {
                base: start,
                length: end - start,
                kind: e.kind,
            };
        }
        match out.last_mut() {
            Some(last) if last.kind == e.kind && last.end() == e.base => last.length += e.length,
            _ => out.push(e),
        }
    }
    out
}

/// Splits sorted, possibly overlapping entries into disjoint pieces, each
/// taking the highest-priority type covering it.
fn resolve_overlaps(sorted: &[MemmapEntry]) -> Vec<MemmapEntry> {
    let overlapping = sorted.windows(2).any(|w| w[0].end() > w[1].base);
    if !overlapping {
        return sorted.to_vec();
    }
    let mut bounds: Vec<u64> = sorted.iter().flat_map(|e| [e.base, e.end()]).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let winner = sorted
            .iter()
            .filter(|e| e.base <= lo && e.end() >= hi)
            .max_by_key(|e| priority(e.kind));
        if let Some(e) = winner {
            out.push(MemmapEntry {
                base: lo,
                length: hi - lo,
                kind: e.kind,
            });
        }
    }
    out
}

/// The physical ranges the HHDM maps: all of 0 .. 4 GiB, plus every region
/// above 4 GiB that is neither reserved nor bad. Sorted, merged, 4 KiB
/// aligned (outwards).
pub fn hhdm_ranges(regions: &[FirmwareRegion]) -> Vec<PhysRange> {
    let mut ranges = alloc::vec![PhysRange {
        base: 0,
        length: LOW_HHDM_END
    }];
    for e in raw_entries(regions) {
        if e.kind == memmap_type::RESERVED || e.kind == memmap_type::BAD_MEMORY {
            continue;
        }
        if e.end() <= LOW_HHDM_END {
            continue;
        }
        let base = e.base.max(LOW_HHDM_END) & !(PAGE - 1);
        let end = e.end().saturating_add(PAGE - 1) & !(PAGE - 1);
        ranges.push(PhysRange {
            base,
            length: end - base,
        });
    }
    ranges.sort_by_key(|r| r.base);
    let mut merged: Vec<PhysRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if last.base + last.length >= r.base => {
                let end = (last.base + last.length).max(r.base + r.length);
                last.length = end - last.base;
            }
            _ => merged.push(r),
        }
    }
    merged
}

/// Totals per Limine type, in bytes, indexed by type (0..=7).
pub fn totals(entries: &[MemmapEntry]) -> [u64; 8] {
    let mut t = [0u64; 8];
    for e in entries {
        if let Some(slot) = t.get_mut(e.kind as usize) {
            *slot += e.length;
        }
    }
    t
}

#[cfg(test)]
mod tests;
