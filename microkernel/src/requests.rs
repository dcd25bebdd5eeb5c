//! The Limine requests, and typed access to the loader's answers.
//!
//! All requests live in the `.requests` section, between the start and end
//! markers (the linker script keeps them in that order inside `.data`, which
//! the loader writes the response pointers into). Responses are HHDM
//! pointers into bootloader-reclaimable memory; they stay valid until that
//! memory is reclaimed (`main::reclaim_loader_memory`), after which nothing
//! may call these accessors: what the kernel needs later is copied first.

use core::ffi::{CStr, c_char};

use limine::BaseRevision;
use limine::file::File;
use limine::firmware_type::FirmwareType;
use limine::memory_map::Entry;
use limine::request::{
    BootloaderInfoRequest, DateAtBootRequest, ExecutableAddressRequest, ExecutableFileRequest,
    FirmwareTypeRequest, HhdmRequest, MemoryMapRequest, ModuleRequest, RequestsEndMarker,
    RequestsStartMarker, RsdpRequest, StackSizeRequest,
};
use limine::response::BootloaderInfoResponse;

/// The base revision this kernel asks for.
pub const REQUESTED_REVISION: u64 = 3;

/// The boot stack the kernel asks for.
pub const STACK_SIZE: u64 = 256 * 1024;

#[used]
#[unsafe(link_section = ".requests_start_marker")]
static START_MARKER: RequestsStartMarker = RequestsStartMarker::new();

#[used]
#[unsafe(link_section = ".requests")]
static BASE_REVISION: BaseRevision = BaseRevision::with_revision(REQUESTED_REVISION);

#[used]
#[unsafe(link_section = ".requests")]
static BOOTLOADER_INFO: BootloaderInfoRequest = BootloaderInfoRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static FIRMWARE_TYPE: FirmwareTypeRequest = FirmwareTypeRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static EXECUTABLE_FILE: ExecutableFileRequest = ExecutableFileRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static STACK_SIZE_REQUEST: StackSizeRequest = StackSizeRequest::new().with_size(STACK_SIZE);

#[used]
#[unsafe(link_section = ".requests")]
static HHDM: HhdmRequest = HhdmRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static MEMORY_MAP: MemoryMapRequest = MemoryMapRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static MODULES: ModuleRequest = ModuleRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static RSDP: RsdpRequest = RsdpRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static EXECUTABLE_ADDRESS: ExecutableAddressRequest = ExecutableAddressRequest::new();

#[used]
#[unsafe(link_section = ".requests")]
static DATE_AT_BOOT: DateAtBootRequest = DateAtBootRequest::new();

#[used]
#[unsafe(link_section = ".requests_end_marker")]
static END_MARKER: RequestsEndMarker = RequestsEndMarker::new();

/// What the base-revision tag says about the protocol in force.
#[derive(Clone, Copy, Debug)]
pub struct Revision {
    /// The base revision the kernel was loaded with.
    pub loaded: u64,
    /// Whether the loader accepted [`REQUESTED_REVISION`].
    pub supported: bool,
    /// Whether `loaded` was reported by the loader (else inferred).
    pub reported: bool,
}

/// Reads the base-revision tag.
pub fn revision() -> Revision {
    let supported = BASE_REVISION.is_supported();
    match BASE_REVISION.loaded_revision() {
        Some(loaded) => Revision {
            loaded,
            supported,
            reported: true,
        },
        // Loaders older than the "loaded revision" field (Limine 8.x) leave
        // it alone. If they accepted our revision it is in force; if not,
        // they boot with the newest one they know, which for Limine 8 is 2.
        None => Revision {
            loaded: if supported { REQUESTED_REVISION } else { 2 },
            supported,
            reported: false,
        },
    }
}

/// The loader's name and version, as bytes (no UTF-8 assumption).
pub fn bootloader() -> Option<(&'static [u8], &'static [u8])> {
    /// Same layout as [`BootloaderInfoResponse`], whose accessors panic on
    /// non-UTF-8 strings.
    #[repr(C)]
    struct Raw {
        revision: u64,
        name: *const c_char,
        version: *const c_char,
    }
    let response: &'static BootloaderInfoResponse = BOOTLOADER_INFO.get_response()?;
    let raw = core::ptr::from_ref(response).cast::<Raw>();
    // SAFETY: `BootloaderInfoResponse` is `repr(C)` with exactly `Raw`'s
    // fields (Limine protocol); the loader points both strings at
    // NUL-terminated text that lives as long as the response.
    unsafe {
        let raw = &*raw;
        if raw.name.is_null() || raw.version.is_null() {
            return None;
        }
        Some((
            CStr::from_ptr(raw.name).to_bytes(),
            CStr::from_ptr(raw.version).to_bytes(),
        ))
    }
}

/// The firmware name as the console prints it.
pub fn firmware() -> &'static str {
    match FIRMWARE_TYPE.get_response().map(|r| r.firmware_type()) {
        Some(FirmwareType::X86_BIOS) => "bios",
        Some(FirmwareType::UEFI_32) => "uefi32",
        Some(FirmwareType::UEFI_64) => "uefi64",
        _ => "unknown",
    }
}

/// The kernel file (its `string` is the kernel command line).
pub fn executable_file() -> Option<&'static File> {
    EXECUTABLE_FILE.get_response().map(|r| r.file())
}

/// The HHDM offset.
pub fn hhdm_offset() -> Option<u64> {
    HHDM.get_response().map(|r| r.offset())
}

/// The memory map entries.
pub fn memory_map() -> Option<&'static [&'static Entry]> {
    MEMORY_MAP.get_response().map(|r| r.entries())
}

/// The modules, in `limine.conf` order.
pub fn modules() -> Option<&'static [&'static File]> {
    MODULES.get_response().map(|r| r.modules())
}

/// The RSDP address as the loader gave it (physical from base revision 3,
/// HHDM-virtual before).
pub fn rsdp_address() -> Option<u64> {
    RSDP.get_response().map(|r| r.address() as u64)
}

/// The kernel's (physical, virtual) load base.
pub fn executable_address() -> Option<(u64, u64)> {
    EXECUTABLE_ADDRESS
        .get_response()
        .map(|r| (r.physical_base(), r.virtual_base()))
}

/// UNIX time at boot (from the RTC), if the loader gave it.
pub fn boot_time() -> Option<u64> {
    DATE_AT_BOOT.get_response().map(|r| r.timestamp().as_secs())
}

/// The stack size the loader confirmed, if it answered.
pub fn stack_size_acknowledged() -> bool {
    STACK_SIZE_REQUEST.get_response().is_some()
}
