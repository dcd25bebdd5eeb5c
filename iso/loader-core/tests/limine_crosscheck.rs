//! Cross-check against the `limine` crate the kernel uses: requests declared
//! with `limine` 0.5 are found by our scanner, answered by our code, and read
//! back through the crate's own accessors.
//!
//! The "physical" addresses are real host addresses and the HHDM offset is
//! 0, so every pointer the loader writes is dereferenceable here.

use core::mem::size_of;

use limine::BaseRevision;
use limine::firmware_type::FirmwareType;
use limine::memory_map::EntryType;
use limine::request::{
    BootloaderInfoRequest, DateAtBootRequest, ExecutableAddressRequest, ExecutableCmdlineRequest,
    ExecutableFileRequest, FirmwareTypeRequest, HhdmRequest, MemoryMapRequest, ModuleRequest,
    RequestsEndMarker, RequestsStartMarker, RsdpRequest, SmbiosRequest, StackSizeRequest,
};
use loader_core::answer::{BootFacts, LoadedFile, answer, fill_memmap, stack_size};
use loader_core::arena::Arena;
use loader_core::memmap::{self, FirmwareRegion, KERNEL_AND_MODULES_UEFI_TYPE, uefi_type};
use loader_core::protocol::Feature;
use loader_core::requests::scan;

/// Requests laid out as a kernel would put them in its `.requests` section.
#[repr(C)]
struct Requests {
    start: RequestsStartMarker,
    base: BaseRevision,
    info: BootloaderInfoRequest,
    firmware: FirmwareTypeRequest,
    stack: StackSizeRequest,
    hhdm: HhdmRequest,
    memmap: MemoryMapRequest,
    file: ExecutableFileRequest,
    cmdline: ExecutableCmdlineRequest,
    modules: ModuleRequest,
    rsdp: RsdpRequest,
    date: DateAtBootRequest,
    address: ExecutableAddressRequest,
    smbios: SmbiosRequest,
    end: RequestsEndMarker,
}

fn requests(base_revision: u64) -> Box<Requests> {
    Box::new(Requests {
        start: RequestsStartMarker::new(),
        base: BaseRevision::with_revision(base_revision),
        info: BootloaderInfoRequest::new(),
        firmware: FirmwareTypeRequest::new(),
        stack: StackSizeRequest::new().with_size(256 * 1024),
        hhdm: HhdmRequest::new(),
        memmap: MemoryMapRequest::new(),
        file: ExecutableFileRequest::new(),
        cmdline: ExecutableCmdlineRequest::new(),
        modules: ModuleRequest::new(),
        rsdp: RsdpRequest::new(),
        date: DateAtBootRequest::new(),
        address: ExecutableAddressRequest::new(),
        smbios: SmbiosRequest::new(),
        end: RequestsEndMarker::new(),
    })
}

/// The bytes of the requests, as the loader sees the loaded image.
fn image_of(reqs: &mut Requests) -> &mut [u8] {
    // SAFETY: `Requests` is plain memory owned by the caller's Box for the
    // lifetime of the borrow; every byte pattern is a valid `u8`, and the
    // loader's writes (response pointers, base revision words) store values
    // valid for those fields (`Option<NonNull<_>>` and `u64`).
    unsafe {
        core::slice::from_raw_parts_mut((reqs as *mut Requests).cast::<u8>(), size_of::<Requests>())
    }
}

struct Booted {
    reqs: Box<Requests>,
    _arena: Vec<u64>,
    kernel_file: Vec<u8>,
    modules: Vec<Vec<u8>>,
}

fn boot(base_revision: u64) -> Booted {
    let mut reqs = requests(base_revision);
    let kernel_file = vec![0x7fu8; 5000];
    let modules = vec![b"init module".to_vec(), vec![1u8; 3]];
    let mut arena_buf = vec![0u64; 4096];
    let arena_phys = arena_buf.as_mut_ptr() as u64;
    {
        let image = image_of(&mut reqs);
        let scan = scan(image).expect("scan");
        assert_eq!(
            scan.requests.len(),
            11,
            "every known request found, SMBIOS ignored"
        );
        assert_eq!(stack_size(&scan), 256 * 1024);
        // SAFETY: viewing the u64 buffer as bytes; it outlives the arena.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(
                arena_buf.as_mut_ptr().cast::<u8>(),
                arena_buf.len() * 8,
            )
        };
        let mut arena = Arena::new(bytes, arena_phys, 0);
        let module_files = [
            LoadedFile {
                phys: modules[0].as_ptr() as u64,
                size: modules[0].len() as u64,
                path: "/boot/init",
                cmdline: "init",
            },
            LoadedFile {
                phys: modules[1].as_ptr() as u64,
                size: 3,
                path: "/boot/fixture",
                cmdline: "",
            },
        ];
        let facts = BootFacts {
            hhdm: 0,
            kernel_file: LoadedFile {
                phys: kernel_file.as_ptr() as u64,
                size: kernel_file.len() as u64,
                path: "/boot/kernel",
                cmdline: "selftest=panic",
            },
            modules: &module_files,
            kernel_phys_base: 0x20_0000,
            kernel_virt_base: 0xffff_ffff_8000_0000,
            rsdp_phys: Some(0x7fb_e014),
            unix_time: Some(1_700_000_000),
            memmap_capacity: 16,
        };
        let slot = answer(&scan, image, &mut arena, &facts)
            .expect("answer")
            .expect("memmap slot");
        let regions = [
            FirmwareRegion {
                base: 0,
                pages: 0xa0,
                uefi_type: uefi_type::CONVENTIONAL,
            },
            FirmwareRegion {
                base: 0x10_0000,
                pages: 0x100,
                uefi_type: uefi_type::LOADER_DATA,
            },
            FirmwareRegion {
                base: 0x20_0000,
                pages: 0x10,
                uefi_type: KERNEL_AND_MODULES_UEFI_TYPE,
            },
            FirmwareRegion {
                base: 0x7fb_0000,
                pages: 0x10,
                uefi_type: uefi_type::ACPI_RECLAIM,
            },
        ];
        fill_memmap(&mut arena, slot, &memmap::build(&regions)).expect("fill");
    }
    Booted {
        reqs,
        _arena: arena_buf,
        kernel_file,
        modules,
    }
}

#[test]
fn responses_read_back_through_the_limine_crate() {
    let b = boot(3);
    let r = &b.reqs;
    assert!(r.base.is_supported());
    assert!(r.base.is_valid());
    assert_eq!(r.base.loaded_revision(), Some(3));

    let info = r.info.get_response().expect("bootloader info");
    assert_eq!((info.name(), info.version()), ("Perennial-loader", "0.1.0"));
    assert!(r.firmware.get_response().unwrap().firmware_type() == FirmwareType::UEFI_64);
    assert_eq!(r.stack.get_response().unwrap().revision(), 0);
    assert_eq!(r.hhdm.get_response().unwrap().offset(), 0);

    let file = r.file.get_response().expect("executable file").file();
    assert_eq!(file.addr(), b.kernel_file.as_ptr().cast_mut());
    assert_eq!(file.size(), 5000);
    assert_eq!(file.path(), c"/boot/kernel");
    assert_eq!(file.string(), c"selftest=panic");
    assert_eq!(file.partition_idx(), None);
    assert!(file.gpt_disk_id().is_none());
    assert_eq!(
        r.cmdline.get_response().unwrap().cmdline(),
        c"selftest=panic"
    );

    let modules = r.modules.get_response().expect("modules");
    assert_eq!(modules.revision(), 1);
    let m = modules.modules();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].path(), c"/boot/init");
    assert_eq!(m[0].string(), c"init");
    assert_eq!(m[0].size(), 11);
    // SAFETY: the module pointer is the host address of `b.modules[0]`.
    let contents = unsafe { core::slice::from_raw_parts(m[0].addr(), m[0].size() as usize) };
    assert_eq!(contents, &b.modules[0][..]);
    assert_eq!(
        (m[1].path(), m[1].string(), m[1].size()),
        (c"/boot/fixture", c"", 3)
    );

    assert_eq!(r.rsdp.get_response().unwrap().address(), 0x7fb_e014);
    assert_eq!(
        r.date.get_response().unwrap().timestamp().as_secs(),
        1_700_000_000
    );
    let address = r.address.get_response().unwrap();
    assert_eq!(
        (address.physical_base(), address.virtual_base()),
        (0x20_0000, 0xffff_ffff_8000_0000)
    );
    assert!(
        r.smbios.get_response().is_none(),
        "unknown requests stay untouched"
    );

    let map = r.memmap.get_response().expect("memory map").entries();
    let kinds: Vec<(u64, u64, EntryType)> = map
        .iter()
        .map(|e| (e.base, e.length, e.entry_type))
        .collect();
    assert_eq!(kinds.len(), 4);
    assert_eq!((kinds[0].0, kinds[0].1), (0x1000, 0x9f000));
    assert!(kinds[0].2 == EntryType::USABLE);
    assert!(kinds[1].2 == EntryType::BOOTLOADER_RECLAIMABLE);
    assert!(kinds[2].2 == EntryType::EXECUTABLE_AND_MODULES);
    assert!(kinds[3].2 == EntryType::ACPI_RECLAIMABLE);
}

#[test]
fn an_unsupported_base_revision_boots_as_3_and_says_so() {
    let b = boot(9);
    assert!(!b.reqs.base.is_supported());
    assert_eq!(b.reqs.base.loaded_revision(), Some(3));
    assert!(b.reqs.hhdm.get_response().is_some());
}

#[test]
fn older_base_revisions_are_supported() {
    for revision in 0..=2 {
        let b = boot(revision);
        assert!(b.reqs.base.is_supported());
        assert_eq!(b.reqs.base.loaded_revision(), Some(revision));
    }
}

#[test]
fn feature_ids_match_the_crate() {
    let reqs = requests(3);
    let tail = |id: &[u64; 4]| [id[2], id[3]];
    assert_eq!(
        Feature::from_id(tail(reqs.info.id())),
        Some(Feature::BootloaderInfo)
    );
    assert_eq!(
        Feature::from_id(tail(reqs.firmware.id())),
        Some(Feature::FirmwareType)
    );
    assert_eq!(
        Feature::from_id(tail(reqs.stack.id())),
        Some(Feature::StackSize)
    );
    assert_eq!(Feature::from_id(tail(reqs.hhdm.id())), Some(Feature::Hhdm));
    assert_eq!(
        Feature::from_id(tail(reqs.memmap.id())),
        Some(Feature::MemoryMap)
    );
    assert_eq!(
        Feature::from_id(tail(reqs.file.id())),
        Some(Feature::ExecutableFile)
    );
    assert_eq!(
        Feature::from_id(tail(reqs.cmdline.id())),
        Some(Feature::ExecutableCmdline)
    );
    assert_eq!(
        Feature::from_id(tail(reqs.modules.id())),
        Some(Feature::Modules)
    );
    assert_eq!(Feature::from_id(tail(reqs.rsdp.id())), Some(Feature::Rsdp));
    assert_eq!(
        Feature::from_id(tail(reqs.date.id())),
        Some(Feature::DateAtBoot)
    );
    assert_eq!(
        Feature::from_id(tail(reqs.address.id())),
        Some(Feature::ExecutableAddress)
    );
    assert_eq!(Feature::from_id(tail(reqs.smbios.id())), None);
}
