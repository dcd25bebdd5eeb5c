//! The Limine boot protocol's wire format: request ids, markers and the
//! `#[repr(C)]` response structures the loader writes.
//!
//! Pointer fields are plain `u64`: they hold addresses in the kernel's
//! address space (the higher-half direct map), which are not valid pointers
//! inside the loader. Every structure here is free of implicit padding, so it
//! can be copied byte for byte into response memory.

/// First two words of every request id.
pub const COMMON_MAGIC: [u64; 2] = [0xc7b1dd30df4c8b88, 0x0a82e883a194f07b];

/// The base revision tag: `[BASE_REVISION_MAGIC[0], loaded, requested]`.
/// The second word holds [`BASE_REVISION_MAGIC`]`[1]` until a loader answers.
pub const BASE_REVISION_MAGIC: [u64; 2] = [0xf9562b2d5c95a6c8, 0x6a7b384944536bdc];

/// The requests start marker (four words).
pub const REQUESTS_START_MARKER: [u64; 4] = [
    0xf6b8f4b39de7d1ae,
    0xfab91a6940fcb9cf,
    0x785c6ed015d3e316,
    0x181e920a7852b9d9,
];

/// The requests end marker (two words).
pub const REQUESTS_END_MARKER: [u64; 2] = [0xadc0e0531bb10d03, 0x9572709f31764c62];

/// The newest base revision this loader implements.
pub const MAX_BASE_REVISION: u64 = 3;

/// Byte offset of a request's `revision` word.
pub const REQUEST_REVISION_OFFSET: usize = 32;
/// Byte offset of a request's `response` pointer.
pub const REQUEST_RESPONSE_OFFSET: usize = 40;
/// Size of the common request header (id, revision, response).
pub const REQUEST_HEADER_SIZE: usize = 48;
/// Byte offset of the stack size request's `stack_size` field.
pub const STACK_SIZE_FIELD_OFFSET: usize = 48;

/// Offset of the higher-half direct map with 4-level paging.
pub const HHDM_OFFSET: u64 = 0xffff_8000_0000_0000;

/// Lowest virtual address a kernel segment may occupy.
pub const KERNEL_MIN_VADDR: u64 = 0xffff_ffff_8000_0000;

/// Smallest stack handed to the kernel.
pub const MIN_STACK_SIZE: u64 = 64 * 1024;

/// Name reported in the bootloader info response.
pub const LOADER_NAME: &str = "Perennial-loader";
/// Version reported in the bootloader info response.
pub const LOADER_VERSION: &str = "0.1.0";

/// Firmware type value for 64-bit UEFI.
pub const FIRMWARE_UEFI64: u64 = 2;

/// A request the loader knows how to answer (or deliberately recognises).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    /// Bootloader name and version.
    BootloaderInfo,
    /// Firmware type.
    FirmwareType,
    /// Stack size (the request carries the wanted size).
    StackSize,
    /// Higher-half direct map offset.
    Hhdm,
    /// Memory map.
    MemoryMap,
    /// The executable (kernel) file.
    ExecutableFile,
    /// The executable's command line.
    ExecutableCmdline,
    /// Modules.
    Modules,
    /// ACPI RSDP address.
    Rsdp,
    /// Date at boot (UNIX seconds).
    DateAtBoot,
    /// Executable physical and virtual base.
    ExecutableAddress,
}

impl Feature {
    /// Every feature, in answering order.
    pub const ALL: [Feature; 11] = [
        Feature::BootloaderInfo,
        Feature::FirmwareType,
        Feature::StackSize,
        Feature::Hhdm,
        Feature::MemoryMap,
        Feature::ExecutableFile,
        Feature::ExecutableCmdline,
        Feature::Modules,
        Feature::Rsdp,
        Feature::DateAtBoot,
        Feature::ExecutableAddress,
    ];

    /// The last two id words (the first two are [`COMMON_MAGIC`]).
    pub const fn id(self) -> [u64; 2] {
        match self {
            Feature::BootloaderInfo => [0xf55038d8e2a1202f, 0x279426fcf5f59740],
            Feature::FirmwareType => [0x8c2f75d90bef28a8, 0x7045a4688eac00c3],
            Feature::StackSize => [0x224ef0460a8e8926, 0xe1cb0fc25f46ea3d],
            Feature::Hhdm => [0x48dcf1cb8ad2b852, 0x63984e959a98244b],
            Feature::MemoryMap => [0x67cf3d9d378a806f, 0xe304acdfc50c3c62],
            Feature::ExecutableFile => [0xad97e90e83f1ed67, 0x31eb5d1c5ff23b69],
            Feature::ExecutableCmdline => [0x4b161536e598651e, 0xb390ad4a2f1f303a],
            Feature::Modules => [0x3e7e279702be32af, 0xca1c4f3bd1280cee],
            Feature::Rsdp => [0xc5e77b6b397e7b43, 0x27637845accdcf3c],
            Feature::DateAtBoot => [0x502746e184c088aa, 0xfbc5ec83e6327893],
            Feature::ExecutableAddress => [0x71ba76863cc55f63, 0xb2644a48c516a487],
        }
    }

    /// The feature whose id ends with `words`, if the loader knows it.
    pub fn from_id(words: [u64; 2]) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.id() == words)
    }

    /// Short human-readable name, for log and error lines.
    pub const fn name(self) -> &'static str {
        match self {
            Feature::BootloaderInfo => "bootloader info",
            Feature::FirmwareType => "firmware type",
            Feature::StackSize => "stack size",
            Feature::Hhdm => "HHDM",
            Feature::MemoryMap => "memory map",
            Feature::ExecutableFile => "executable file",
            Feature::ExecutableCmdline => "executable cmdline",
            Feature::Modules => "modules",
            Feature::Rsdp => "RSDP",
            Feature::DateAtBoot => "date at boot",
            Feature::ExecutableAddress => "executable address",
        }
    }

    /// The revision of the response the loader writes for this feature.
    pub const fn response_revision(self) -> u64 {
        match self {
            // Revision 1 of the module response goes with internal modules
            // in the request (which this loader ignores, as allowed).
            Feature::Modules => 1,
            _ => 0,
        }
    }
}

/// Memory map entry types.
pub mod memmap_type {
    /// Free RAM.
    pub const USABLE: u64 = 0;
    /// Reserved by firmware or hardware.
    pub const RESERVED: u64 = 1;
    /// ACPI tables, reclaimable once parsed.
    pub const ACPI_RECLAIMABLE: u64 = 2;
    /// ACPI non-volatile storage.
    pub const ACPI_NVS: u64 = 3;
    /// Defective RAM.
    pub const BAD_MEMORY: u64 = 4;
    /// Loader data (responses, page tables, stack), reclaimable by the kernel.
    pub const BOOTLOADER_RECLAIMABLE: u64 = 5;
    /// The kernel image and modules.
    pub const EXECUTABLE_AND_MODULES: u64 = 6;
    /// A framebuffer.
    pub const FRAMEBUFFER: u64 = 7;
}

/// One memory map entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemmapEntry {
    /// Physical start.
    pub base: u64,
    /// Length in bytes.
    pub length: u64,
    /// One of [`memmap_type`].
    pub kind: u64,
}

impl MemmapEntry {
    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.base + self.length
    }
}

/// A 128-bit GUID as the file structure stores it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawUuid {
    /// First field.
    pub a: u32,
    /// Second field.
    pub b: u16,
    /// Third field.
    pub c: u16,
    /// Remaining bytes.
    pub d: [u8; 8],
}

/// The Limine file structure (kernel file and modules).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStruct {
    /// Structure revision (0).
    pub revision: u64,
    /// HHDM address of the contents (4 KiB aligned).
    pub address: u64,
    /// Size in bytes.
    pub size: u64,
    /// HHDM address of the path (C string, leading slash).
    pub path: u64,
    /// HHDM address of the command line (C string).
    pub string: u64,
    /// Media type: 0 generic, 1 optical, 2 TFTP.
    pub media_type: u32,
    /// Padding the protocol leaves unused.
    pub unused: u32,
    /// TFTP server IP (0 unless network boot).
    pub tftp_ip: u32,
    /// TFTP server port.
    pub tftp_port: u32,
    /// 1-based partition index, 0 when unknown.
    pub partition_index: u32,
    /// MBR disk id, 0 when unknown.
    pub mbr_disk_id: u32,
    /// GPT disk GUID, zero when unknown.
    pub gpt_disk_uuid: RawUuid,
    /// GPT partition GUID, zero when unknown.
    pub gpt_part_uuid: RawUuid,
    /// Filesystem UUID, zero when unknown.
    pub part_uuid: RawUuid,
}

/// A response holding only its revision (stack size).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevisionOnlyResponse {
    /// Response revision.
    pub revision: u64,
}

/// A response with one 64-bit value after the revision: bootloader-less
/// features such as firmware type, HHDM offset, RSDP address, date at boot,
/// executable file pointer and executable cmdline pointer all share it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneWordResponse {
    /// Response revision.
    pub revision: u64,
    /// The feature's value.
    pub value: u64,
}

/// A response with two 64-bit values after the revision: bootloader info
/// (name, version), executable address (physical, virtual).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwoWordResponse {
    /// Response revision.
    pub revision: u64,
    /// First value.
    pub first: u64,
    /// Second value.
    pub second: u64,
}

/// A response carrying a counted array of pointers (memory map, modules).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayResponse {
    /// Response revision.
    pub revision: u64,
    /// Number of elements.
    pub count: u64,
    /// HHDM address of the array of element pointers.
    pub array: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;

    #[test]
    fn layouts_match_the_protocol() {
        assert_eq!(size_of::<FileStruct>(), 112);
        assert_eq!(size_of::<MemmapEntry>(), 24);
        assert_eq!(size_of::<RawUuid>(), 16);
        assert_eq!(size_of::<ArrayResponse>(), 24);
    }

    #[test]
    fn ids_are_unique_and_round_trip() {
        for (i, a) in Feature::ALL.iter().enumerate() {
            assert_eq!(Feature::from_id(a.id()), Some(*a));
            for b in &Feature::ALL[i + 1..] {
                assert_ne!(a.id(), b.id(), "{a:?} and {b:?} share an id");
            }
        }
        assert_eq!(Feature::from_id([1, 2]), None);
    }
}
