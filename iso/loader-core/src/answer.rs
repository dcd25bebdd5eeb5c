//! Answering the kernel's Limine requests: writing responses into an
//! [`Arena`] and their addresses into the loaded kernel image.
//!
//! Everything except the memory map is answered before the firmware's boot
//! services are left; the memory map response is reserved then (with room
//! for `memmap_capacity` entries) and filled by [`fill_memmap`] afterwards.

use core::fmt;

use crate::arena::{Arena, ArenaFull};
use crate::protocol::{
    ArrayResponse, FIRMWARE_UEFI64, Feature, FileStruct, LOADER_NAME, LOADER_VERSION,
    MIN_STACK_SIZE, MemmapEntry, OneWordResponse, REQUEST_RESPONSE_OFFSET, RevisionOnlyResponse,
    TwoWordResponse,
};
use crate::requests::Scan;

/// A file the loader put in memory (kernel file or module).
#[derive(Clone, Copy, Debug)]
pub struct LoadedFile<'a> {
    /// Physical address of its first byte (4 KiB aligned).
    pub phys: u64,
    /// Size in bytes.
    pub size: u64,
    /// Path on the boot volume, with the leading slash.
    pub path: &'a str,
    /// Its command line.
    pub cmdline: &'a str,
}

/// What the loader knows when it answers.
#[derive(Clone, Copy, Debug)]
pub struct BootFacts<'a> {
    /// HHDM offset.
    pub hhdm: u64,
    /// The kernel ELF file as read (its cmdline is the kernel command line).
    pub kernel_file: LoadedFile<'a>,
    /// Modules in configuration order.
    pub modules: &'a [LoadedFile<'a>],
    /// Physical address of the loaded kernel image.
    pub kernel_phys_base: u64,
    /// Virtual address the image is linked at.
    pub kernel_virt_base: u64,
    /// Physical address of the ACPI RSDP, if the firmware has one.
    pub rsdp_phys: Option<u64>,
    /// UNIX time at boot, if the firmware clock works.
    pub unix_time: Option<i64>,
    /// Most memory map entries [`fill_memmap`] may write.
    pub memmap_capacity: usize,
}

/// Where the memory map response lives, to fill after leaving boot services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemmapSlot {
    response: usize,
    pointers: usize,
    entries: usize,
    capacity: usize,
}

/// Why a request cannot be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// The response arena is too small.
    Arena(ArenaFull),
    /// More memory map entries than reserved.
    MemmapTooLarge {
        /// Entries to write.
        entries: usize,
        /// Room reserved.
        capacity: usize,
    },
    /// A request lies outside the image (the scan and the image disagree).
    RequestOutsideImage {
        /// The request's offset.
        offset: usize,
    },
}

impl From<ArenaFull> for AnswerError {
    fn from(e: ArenaFull) -> Self {
        AnswerError::Arena(e)
    }
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::Arena(e) => e.fmt(f),
            AnswerError::MemmapTooLarge { entries, capacity } => {
                write!(f, "memory map has {entries} entries, room for {capacity}")
            }
            AnswerError::RequestOutsideImage { offset } => {
                write!(f, "request at {offset:#x} is outside the kernel image")
            }
        }
    }
}

/// The stack size to give the kernel: the request's size rounded up to a
/// page, at least [`MIN_STACK_SIZE`].
pub fn stack_size(scan: &Scan) -> u64 {
    let asked = scan
        .find(Feature::StackSize)
        .and_then(|r| r.stack_size)
        .unwrap_or(0);
    asked
        .min(1 << 40)
        .next_multiple_of(4096)
        .max(MIN_STACK_SIZE)
}

/// An upper bound of the arena bytes [`answer`] needs for `facts`.
pub fn arena_bytes_needed(facts: &BootFacts<'_>) -> usize {
    let file = |f: &LoadedFile<'_>| 112 + 8 + f.path.len() + f.cmdline.len() + 2 + 16;
    2048 + file(&facts.kernel_file)
        + facts.kernel_file.cmdline.len()
        + facts.modules.iter().map(file).sum::<usize>()
        + facts.memmap_capacity * 32
}

fn set_response(image: &mut [u8], offset: usize, virt: u64) -> Result<(), AnswerError> {
    let at = offset + REQUEST_RESPONSE_OFFSET;
    let slot = image
        .get_mut(at..at + 8)
        .ok_or(AnswerError::RequestOutsideImage { offset })?;
    slot.copy_from_slice(&virt.to_le_bytes());
    Ok(())
}

fn place_file(arena: &mut Arena<'_>, f: &LoadedFile<'_>, hhdm: u64) -> Result<u64, ArenaFull> {
    let path = arena.place_str(f.path)?;
    let string = arena.place_str(f.cmdline)?;
    let file = FileStruct {
        address: f.phys + hhdm,
        size: f.size,
        path,
        string,
        ..FileStruct::default()
    };
    let at = arena.place(file)?;
    Ok(arena.virt(at))
}

/// Writes the base revision answer and one response per known request into
/// `image` (the loaded kernel) and `arena`. Requests that cannot be answered
/// (no RSDP, no clock) are left untouched, as are unknown ones.
pub fn answer(
    scan: &Scan,
    image: &mut [u8],
    arena: &mut Arena<'_>,
    facts: &BootFacts<'_>,
) -> Result<Option<MemmapSlot>, AnswerError> {
    if let Some((offset, loaded, supported)) = scan.base_revision.answer() {
        let words = image
            .get_mut(offset + 8..offset + 24)
            .ok_or(AnswerError::RequestOutsideImage { offset })?;
        words[..8].copy_from_slice(&loaded.to_le_bytes());
        if let Some(zero) = supported {
            words[8..].copy_from_slice(&zero.to_le_bytes());
        }
    }
    let hhdm = facts.hhdm;
    let mut memmap = None;
    for request in &scan.requests {
        let feature = request.feature;
        let revision = feature.response_revision();
        let one = |value| OneWordResponse { revision, value };
        let at = match feature {
            Feature::BootloaderInfo => {
                let first = arena.place_str(LOADER_NAME)?;
                let second = arena.place_str(LOADER_VERSION)?;
                arena.place(TwoWordResponse {
                    revision,
                    first,
                    second,
                })?
            }
            Feature::FirmwareType => arena.place(one(FIRMWARE_UEFI64))?,
            Feature::StackSize => arena.place(RevisionOnlyResponse { revision })?,
            Feature::Hhdm => arena.place(one(hhdm))?,
            Feature::ExecutableFile => {
                let file = place_file(arena, &facts.kernel_file, hhdm)?;
                arena.place(one(file))?
            }
            Feature::ExecutableCmdline => {
                let cmdline = arena.place_str(facts.kernel_file.cmdline)?;
                arena.place(one(cmdline))?
            }
            Feature::Modules => {
                let pointers = arena.reserve(facts.modules.len() * 8, 8)?;
                for (i, module) in facts.modules.iter().enumerate() {
                    let file = place_file(arena, module, hhdm)?;
                    arena.write(pointers + i * 8, file);
                }
                let count = facts.modules.len() as u64;
                arena.place(ArrayResponse {
                    revision,
                    count,
                    array: arena.virt(pointers),
                })?
            }
            Feature::Rsdp => {
                let Some(rsdp) = facts.rsdp_phys else {
                    continue;
                };
                // From base revision 3 on, the RSDP address is physical.
                let physical = scan.base_revision.loaded >= 3;
                arena.place(one(if physical { rsdp } else { rsdp + hhdm }))?
            }
            Feature::DateAtBoot => {
                let Some(time) = facts.unix_time else {
                    continue;
                };
                arena.place(one(time as u64))?
            }
            Feature::ExecutableAddress => arena.place(TwoWordResponse {
                revision,
                first: facts.kernel_phys_base,
                second: facts.kernel_virt_base,
            })?,
            Feature::MemoryMap => {
                let capacity = facts.memmap_capacity;
                let pointers = arena.reserve(capacity * 8, 8)?;
                let entries = arena.reserve(capacity * 24, 8)?;
                let array = arena.virt(pointers);
                let response = arena.place(ArrayResponse {
                    revision,
                    count: 0,
                    array,
                })?;
                memmap = Some(MemmapSlot {
                    response,
                    pointers,
                    entries,
                    capacity,
                });
                response
            }
        };
        set_response(image, request.offset, arena.virt(at))?;
    }
    Ok(memmap)
}

/// Fills the memory map response reserved by [`answer`].
pub fn fill_memmap(
    arena: &mut Arena<'_>,
    slot: MemmapSlot,
    entries: &[MemmapEntry],
) -> Result<(), AnswerError> {
    if entries.len() > slot.capacity {
        return Err(AnswerError::MemmapTooLarge {
            entries: entries.len(),
            capacity: slot.capacity,
        });
    }
    for (i, entry) in entries.iter().enumerate() {
        let at = slot.entries + i * 24;
        arena.write(at, *entry);
        let virt = arena.virt(at);
        arena.write(slot.pointers + i * 8, virt);
    }
    let response = ArrayResponse {
        revision: Feature::MemoryMap.response_revision(),
        count: entries.len() as u64,
        array: arena.virt(slot.pointers),
    };
    arena.write(slot.response, response);
    Ok(())
}

#[cfg(test)]
mod tests;
