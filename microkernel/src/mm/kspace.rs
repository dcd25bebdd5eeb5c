//! The kernel's own page tables: the kernel image mapped W^X section by
//! section, the HHDM over every memory-map region the kernel may touch,
//! and on-demand mappings (device registers, kernel stacks).
//!
//! Every PML4 slot of the kernel half gets its PDPT up front, so each user
//! address space copies the 256 upper PML4 entries once and sees every
//! later kernel mapping. Kernel mappings are global, so `invlpg` drops them
//! under every PCID.

use kcore::memmap::{Entry, Kind};
use kcore::paging::{ENTRIES, MapError, MapOutcome, Mapper, PAGE_SIZE, TableAccess, flags};

use super::frames::{self, GlobalFrames};
use super::hhdm;
use super::tables::HhdmTables;
use crate::arch::paging::{flush_page, load_root};
use crate::sync::IrqMutex;

unsafe extern "C" {
    static __text_start: u8;
    static __rodata_start: u8;
    static __data_start: u8;
    static __kernel_end: u8;
}

const HUGE: u64 = 2 << 20;
const KERNEL_DATA: u64 = flags::WRITABLE | flags::NO_EXECUTE | flags::GLOBAL;
const UNCACHED: u64 = flags::CACHE_DISABLE | flags::WRITE_THROUGH;

static KSPACE: IrqMutex<Option<Mapper<HhdmTables>>> = IrqMutex::new(None);

/// Why the kernel tables could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KspaceError {
    /// Out of frames for tables.
    OutOfFrames,
    /// A mapping failed.
    Map(MapError),
}

impl core::fmt::Display for KspaceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KspaceError::OutOfFrames => f.write_str("out of frames for page tables"),
            KspaceError::Map(err) => write!(f, "{err}"),
        }
    }
}

impl From<MapError> for KspaceError {
    fn from(err: MapError) -> Self {
        KspaceError::Map(err)
    }
}

fn mapper() -> Result<Mapper<HhdmTables>, KspaceError> {
    let root = frames::allocate_zeroed().ok_or(KspaceError::OutOfFrames)?;
    // SAFETY: every table frame comes from the frame allocator, whose
    // frames are usable memory mapped in the (loader's and our) HHDM.
    let mut tables = unsafe { HhdmTables::new(hhdm()) };
    for slot in 256..ENTRIES {
        let pdpt = frames::allocate_zeroed().ok_or(KspaceError::OutOfFrames)?;
        tables.write_entry(root, slot, pdpt | flags::PRESENT | flags::WRITABLE);
    }
    Ok(Mapper::new(tables, root))
}

/// Maps `[virt, virt + len)` to `phys..` with `leaf` flags, 2 MiB pages
/// where both sides allow.
fn map_range(
    m: &mut Mapper<HhdmTables>,
    virt: u64,
    phys: u64,
    len: u64,
    leaf: u64,
) -> Result<(), MapError> {
    let mut off = 0;
    while off < len {
        let (v, p) = (virt + off, phys + off);
        if v % HUGE == 0 && p % HUGE == 0 && len - off >= HUGE {
            // SAFETY: the tables are not live yet; the HHDM aliases memory
            // the kernel manages, the kernel image maps itself.
            match unsafe { m.ensure_mapped_2m(v, p, leaf, &mut GlobalFrames) } {
                Ok(_) => {
                    off += HUGE;
                    continue;
                }
                Err(MapError::MappedElsewhere { .. }) => {} // fall back to 4 KiB
                Err(err) => return Err(err),
            }
        }
        // SAFETY: as above.
        unsafe { m.ensure_mapped(v, p, leaf, &mut GlobalFrames)? };
        off += PAGE_SIZE;
    }
    Ok(())
}

/// Builds the kernel's tables and switches to them. The kernel image is at
/// physical `kernel_phys`, linked at `kernel_virt`.
pub fn build_and_switch(
    entries: impl Iterator<Item = Entry>,
    kernel_phys: u64,
    kernel_virt: u64,
) -> Result<(), KspaceError> {
    let mut m = mapper()?;
    let sym = |s: *const u8| s as u64;
    let text = sym(&raw const __text_start);
    let rodata = sym(&raw const __rodata_start);
    let data = sym(&raw const __data_start);
    let end = sym(&raw const __kernel_end);
    let sections = [
        (text, rodata, flags::GLOBAL),
        (rodata, data, flags::NO_EXECUTE | flags::GLOBAL),
        (data, end, KERNEL_DATA),
    ];
    for (start, stop, leaf) in sections {
        let phys = start - kernel_virt + kernel_phys;
        map_range(&mut m, start, phys, stop - start, leaf)?;
    }
    for e in entries {
        let wanted = matches!(
            e.kind,
            Kind::Usable
                | Kind::BootloaderReclaimable
                | Kind::KernelAndModules
                | Kind::AcpiReclaimable
                | Kind::AcpiNvs
                | Kind::Framebuffer
        );
        if !wanted || e.length == 0 {
            continue;
        }
        let start = e.base / PAGE_SIZE * PAGE_SIZE;
        let stop = e.base.saturating_add(e.length).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        map_range(&mut m, hhdm() + start, start, stop - start, KERNEL_DATA)?;
    }
    // The NVDIMM is in no memory-map entry the HHDM covers, yet the kernel
    // reads and writes objects kept there (kernel state objects in the
    // store, the headers of persistent objects): map it write-back.
    if let Some((base, len)) = crate::acpi::pmem_range() {
        map_range(&mut m, hhdm() + base, base, len, KERNEL_DATA)?;
    }
    // SAFETY: the new tables map the kernel image at its link address, the
    // HHDM over every region the kernel reaches (the boot stack and loader
    // data included), so execution continues unchanged.
    unsafe { load_root(m.root(), 0, true) };
    *KSPACE.lock() = Some(m);
    Ok(())
}

/// The kernel PML4's physical address.
pub fn root() -> u64 {
    KSPACE.lock().as_ref().map_or(0, |m| m.root())
}

/// Makes sure `[phys, phys + len)` is mapped uncached in the HHDM (device
/// registers); returns the virtual address of `phys`.
pub fn map_mmio(phys: u64, len: u64) -> Result<u64, MapError> {
    let mut guard = KSPACE.lock();
    let m = guard.as_mut().ok_or(MapError::OutOfFrames)?;
    let start = phys / PAGE_SIZE * PAGE_SIZE;
    let stop = phys.saturating_add(len).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    for page in (start..stop).step_by(PAGE_SIZE as usize) {
        // SAFETY: a device page is no Rust object; aliasing it uncached in
        // the HHDM breaks nothing.
        if unsafe {
            m.ensure_mapped(
                hhdm() + page,
                page,
                KERNEL_DATA | UNCACHED,
                &mut GlobalFrames,
            )?
        } == MapOutcome::Mapped
        {
            flush_page(hhdm() + page);
        }
    }
    Ok(hhdm() + phys)
}

/// Maps the kernel page `virt` (outside the HHDM) to `frame`, writable.
pub fn map_kernel_data(virt: u64, frame: u64) -> Result<(), MapError> {
    let mut guard = KSPACE.lock();
    let m = guard.as_mut().ok_or(MapError::OutOfFrames)?;
    // SAFETY: `virt` is an unused kernel address (a stack slot) and `frame`
    // a fresh frame; nothing refers to either yet.
    if unsafe { m.ensure_mapped(virt, frame, KERNEL_DATA, &mut GlobalFrames)? }
        == MapOutcome::Mapped
    {
        flush_page(virt);
    }
    Ok(())
}
