//! Everything done while boot services run: config, files, kernel image,
//! responses, stack, GDT and page tables.

use alloc::string::String;
use alloc::vec::Vec;

use loader_core::answer::{self, BootFacts, LoadedFile};
use loader_core::arena::Arena;
use loader_core::config::{self, Config};
use loader_core::elf;
use loader_core::machine::{GDT, entry_rsp};
use loader_core::memmap::{self, FirmwareRegion, LOW_HHDM_END};
use loader_core::paging::{PageTables, Rights};
use loader_core::protocol::HHDM_OFFSET;
use loader_core::requests;

use crate::error::LoaderError;
use crate::files::{CONFIG_PATHS, LoadedBytes, Volume};
use crate::handoff::{Handoff, trampoline_range};
use crate::memory::{self, KERNEL_AND_MODULES, RECLAIMABLE, TableFrames};
use crate::{firmware, log};

/// Finds and parses `limine.conf`.
fn read_config(volume: &mut Volume) -> Result<Config, LoaderError> {
    for path in CONFIG_PATHS {
        let Some(bytes) = volume.read_small(path)? else {
            continue;
        };
        let text = core::str::from_utf8(&bytes).map_err(|_| LoaderError::ConfigNotUtf8 { path })?;
        let config = config::parse(text).map_err(|error| LoaderError::Config { path, error })?;
        log!("config {path}, entry \"{}\"", config.selected().name);
        return Ok(config);
    }
    Err(LoaderError::NoConfig)
}

/// A module as read, with its config path and cmdline.
struct ModuleFile {
    path: String,
    cmdline: String,
    bytes: LoadedBytes,
}

/// Loads everything and builds the state the kernel is entered with.
pub fn prepare() -> Result<Handoff, LoaderError> {
    let mut volume = Volume::open_boot_volume()?;
    let config = read_config(&mut volume)?;
    let entry = config.selected();

    let kernel_file = volume.read_to_pages(&entry.kernel_path)?;
    let kernel_bytes = &kernel_file.bytes[..kernel_file.size as usize];
    let plan = elf::plan(kernel_bytes)?;
    let image = memory::allocate("the kernel image", plan.span as usize, KERNEL_AND_MODULES)?;
    plan.load_into(kernel_bytes, image.bytes)?;

    let mut modules = Vec::with_capacity(entry.modules.len());
    for module in &entry.modules {
        let bytes = volume.read_to_pages(&module.path)?;
        modules.push(ModuleFile {
            path: module.path.clone(),
            cmdline: module.cmdline.clone(),
            bytes,
        });
    }
    drop(volume);
    log!(
        "kernel {} ({} bytes), {} modules",
        entry.kernel_path,
        kernel_file.size,
        modules.len()
    );

    let scan = requests::scan(image.bytes)?;
    let base_revision = scan.base_revision.loaded;
    let stack_size = answer::stack_size(&scan);
    let stack = memory::allocate("the kernel stack", stack_size as usize, RECLAIMABLE)?;

    let regions = firmware::current_regions()?;
    let module_files: Vec<LoadedFile<'_>> = modules
        .iter()
        .map(|m| LoadedFile {
            phys: m.bytes.phys,
            size: m.bytes.size,
            path: &m.path,
            cmdline: &m.cmdline,
        })
        .collect();
    let facts = BootFacts {
        hhdm: HHDM_OFFSET,
        kernel_file: LoadedFile {
            phys: kernel_file.phys,
            size: kernel_file.size,
            path: &entry.kernel_path,
            cmdline: &entry.cmdline,
        },
        modules: &module_files,
        kernel_phys_base: image.phys,
        kernel_virt_base: plan.virt_base,
        rsdp_phys: firmware::rsdp(),
        unix_time: firmware::unix_time(),
        // The final map differs from this one by a few allocations; merging
        // only ever reduces the count.
        memmap_capacity: regions.len() * 2 + 64,
    };
    let gdt_bytes = 8 * GDT.len() + 16;
    let arena_pages = memory::allocate(
        "responses",
        answer::arena_bytes_needed(&facts) + gdt_bytes,
        RECLAIMABLE,
    )?;
    let mut arena = Arena::new(arena_pages.bytes, arena_pages.phys, HHDM_OFFSET);
    let memmap = answer::answer(&scan, image.bytes, &mut arena, &facts)?;

    let gdt = arena.place(GDT).map_err(answer::AnswerError::from)?;
    let limit = (8 * GDT.len() - 1) as u64;
    let base = arena.virt(gdt);
    let gdtr = arena
        .place([limit | (base << 16), base >> 48])
        .map_err(answer::AnswerError::from)?;

    let keep_identity = base_revision == 0;
    let cr3 = build_page_tables(&regions, &plan, image.phys, keep_identity)?;
    Ok(Handoff {
        cr3,
        hhdm: HHDM_OFFSET,
        entry: plan.entry,
        rsp: entry_rsp(stack.phys + HHDM_OFFSET, stack.bytes.len() as u64),
        gdtr: arena.virt(gdtr),
        keep_identity,
        arena,
        memmap,
    })
}

/// The kernel's page tables: HHDM, kernel segments, and an identity
/// mapping of either the trampoline or (base revision 0) low 4 GiB.
fn build_page_tables(
    regions: &[FirmwareRegion],
    plan: &elf::LoadPlan,
    kernel_phys: u64,
    identity_4g: bool,
) -> Result<u64, LoaderError> {
    let mut tables = PageTables::new(TableFrames::new())?;
    let hhdm = memmap::hhdm_ranges(regions);
    for range in &hhdm {
        tables.map_range(
            HHDM_OFFSET + range.base,
            range.base,
            range.length,
            Rights::RWX,
        )?;
    }
    for run in plan.page_runs() {
        let rights = Rights {
            write: run.rights.write,
            execute: run.rights.execute,
        };
        tables.map_range(
            run.virt,
            kernel_phys + run.image_offset,
            run.pages * 4096,
            rights,
        )?;
    }
    let (start, end) = trampoline_range();
    let in_hhdm = hhdm
        .iter()
        .any(|r| start >= r.base && end <= r.base + r.length);
    if !in_hhdm {
        return Err(LoaderError::TrampolineUnmapped(start));
    }
    if identity_4g {
        tables.map_range(0, 0, LOW_HHDM_END, Rights::RWX)?;
    } else {
        let first = start & !0xfff;
        let last = (end + 0xfff) & !0xfff;
        tables.map_range(
            first,
            first,
            last - first,
            Rights {
                write: false,
                execute: true,
            },
        )?;
    }
    Ok(tables.root())
}
