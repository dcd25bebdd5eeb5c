//! Facts from the firmware: ACPI RSDP, the clock and the memory map.

use alloc::vec::Vec;

use loader_core::memmap::FirmwareRegion;
use loader_core::time::{CivilTime, unix_seconds};
use uefi::boot::{self, MemoryType};
use uefi::mem::memory_map::MemoryMap;
use uefi::runtime;
use uefi::system;
use uefi::table::cfg::ConfigTableEntry;

use crate::error::LoaderError;

/// Physical address of the ACPI RSDP (ACPI 2.0+ preferred).
pub fn rsdp() -> Option<u64> {
    system::with_config_table(|tables| {
        let find = |guid| {
            tables
                .iter()
                .find(|t| t.guid == guid)
                .map(|t| t.address as u64)
        };
        find(ConfigTableEntry::ACPI2_GUID).or_else(|| find(ConfigTableEntry::ACPI_GUID))
    })
}

/// The time now, as UNIX seconds, if the firmware clock answers.
pub fn unix_time() -> Option<i64> {
    let t = runtime::get_time().ok()?;
    unix_seconds(CivilTime {
        year: t.year(),
        month: t.month(),
        day: t.day(),
        hour: t.hour(),
        minute: t.minute(),
        second: t.second(),
    })
}

/// The descriptors of a UEFI memory map.
pub fn regions_of(map: &impl MemoryMap) -> Vec<FirmwareRegion> {
    map.entries()
        .map(|d| FirmwareRegion {
            base: d.phys_start,
            pages: d.page_count,
            uefi_type: d.ty.0,
        })
        .collect()
}

/// The current memory map.
pub fn current_regions() -> Result<Vec<FirmwareRegion>, LoaderError> {
    let map = boot::memory_map(MemoryType::LOADER_DATA)
        .map_err(|e| LoaderError::MemoryMap(e.status()))?;
    Ok(regions_of(&map))
}
