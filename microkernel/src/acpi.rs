//! Finding the firmware's ACPI tables and the persistent memory they
//! describe, and reporting both on the console; the MADT (interrupt
//! controllers) is read on the same walk.

use core::sync::atomic::{AtomicU64, Ordering};

use kcore::acpi::madt::{self, Madt, MadtInfo};
use kcore::acpi::nfit::{self, Nfit};
use kcore::acpi::{
    AcpiError, PhysRead, ReadFault, RootTable, Rsdp, Signature, rsdp_physical_address,
};
use kcore::paging::PAGE_SIZE;

use crate::kprintln;
use crate::mm::early::EarlyMm;

/// Reads physical memory through the HHDM, mapping pages as needed.
pub struct HhdmReader<'a> {
    mm: &'a mut EarlyMm,
}

impl<'a> HhdmReader<'a> {
    /// A reader over `mm`'s HHDM.
    pub fn new(mm: &'a mut EarlyMm) -> Self {
        HhdmReader { mm }
    }
}

impl PhysRead for HhdmReader<'_> {
    fn read_phys(&mut self, phys: u64, buf: &mut [u8]) -> Result<(), ReadFault> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = phys.checked_add(done as u64).ok_or(ReadFault::OutOfRange)?;
            let in_page = (PAGE_SIZE - at % PAGE_SIZE) as usize;
            let n = in_page.min(buf.len() - done);
            let virt = self.mm.map_hhdm(at).map_err(ReadFault::Map)?;
            for (i, byte) in buf[done..done + n].iter_mut().enumerate() {
                // SAFETY: `map_hhdm` made `virt..virt + n` (inside one page)
                // readable; firmware tables are not Rust objects, so a
                // volatile byte read out of them aliases nothing.
                *byte = unsafe { ((virt as usize + i) as *const u8).read_volatile() };
            }
            done += n;
        }
        Ok(())
    }
}

/// How many table signatures the `acpi:` line lists before eliding.
const MAX_LISTED: usize = 64;

/// Bytes of persistent memory found.
static PMEM_BYTES: AtomicU64 = AtomicU64::new(0);

/// Bytes of persistent memory the NFIT describes (0 without an NVDIMM).
pub fn pmem_bytes() -> u64 {
    PMEM_BYTES.load(Ordering::Relaxed)
}

/// The first persistent-memory range: physical base and length.
static PMEM_FIRST: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// The first persistent-memory range the NFIT describes, `(base, length)`
/// (the one the object store owns).
pub fn pmem_range() -> Option<(u64, u64)> {
    let len = PMEM_FIRST[1].load(Ordering::Relaxed);
    (len != 0).then(|| (PMEM_FIRST[0].load(Ordering::Relaxed), len))
}

/// Whether physical address `phys` is persistent memory (never a frame of
/// the frame allocator's).
pub fn in_pmem(phys: u64) -> bool {
    pmem_range().is_some_and(|(base, len)| phys >= base && phys - base < len)
}

/// Walks RSDP → XSDT/RSDT → NFIT and prints the `acpi:` and `pmem:` lines.
/// Returns what the MADT says about interrupt controllers, if readable.
pub fn report(mm: &mut EarlyMm, rsdp_address: Option<u64>) -> Option<MadtInfo> {
    let mut facts = Facts::default();
    match rsdp_address {
        None => kprintln!("acpi: error: the loader gave no RSDP"),
        Some(address) => {
            let phys = rsdp_physical_address(address, mm.hhdm());
            let mut reader = HhdmReader::new(mm);
            if let Err(err) = walk(&mut reader, phys, &mut facts) {
                kprintln!("acpi: error: {err}");
            }
        }
    }
    if facts.pmem_ranges == 0 {
        kprintln!("pmem: none found; running on volatile memory only");
    }
    facts.madt
}

/// What the walk found.
#[derive(Default)]
struct Facts {
    pmem_ranges: usize,
    madt: Option<MadtInfo>,
}

/// The fallible part of [`report`]: prints as it goes.
fn walk(reader: &mut HhdmReader<'_>, rsdp_phys: u64, facts: &mut Facts) -> Result<(), AcpiError> {
    let rsdp = Rsdp::load(reader, rsdp_phys)?;
    let root = rsdp.root_table(reader)?;
    print_tables(reader, &rsdp, &root)?;
    // The MADT first: a broken NFIT must not cost the interrupt routing.
    match root
        .find(reader, madt::SIGNATURE)
        .and_then(|t| t.map(Madt::new).transpose())
    {
        Ok(Some(table)) => match table.info(reader) {
            Ok(info) => facts.madt = Some(info),
            Err(err) => kprintln!("acpi: error: {err}"),
        },
        Ok(None) => {}
        Err(err) => kprintln!("acpi: error: {err}"),
    }
    let Some(sdt) = root.find(reader, nfit::SIGNATURE)? else {
        return Ok(());
    };
    let nfit = Nfit::new(sdt)?;
    for range in nfit.pmem_ranges(reader) {
        let range = range?;
        kprintln!(
            "pmem: range {} base {:#x} size {} bytes",
            facts.pmem_ranges,
            range.base,
            range.length
        );
        PMEM_BYTES.fetch_add(range.length, Ordering::Relaxed);
        if facts.pmem_ranges == 0 {
            PMEM_FIRST[0].store(range.base, Ordering::Relaxed);
            PMEM_FIRST[1].store(range.length, Ordering::Relaxed);
        }
        facts.pmem_ranges += 1;
    }
    Ok(())
}

/// Prints the `acpi:` line (signatures gathered first, so an unreadable
/// entry leaves no half-printed line).
fn print_tables(
    reader: &mut HhdmReader<'_>,
    rsdp: &Rsdp,
    root: &RootTable,
) -> Result<(), AcpiError> {
    let mut sigs = [Signature(*b"    "); MAX_LISTED];
    for (index, slot) in sigs.iter_mut().enumerate().take(root.len()) {
        *slot = root.signature_at(reader, index)?;
    }
    let listed = root.len().min(MAX_LISTED);
    crate::kprint!(
        "acpi: rsdp {:#x} revision {}, {} with {} tables:",
        rsdp.phys,
        rsdp.revision,
        root.kind,
        root.len()
    );
    for sig in &sigs[..listed] {
        crate::kprint!(" {sig}");
    }
    if root.len() > listed {
        crate::kprint!(" (+{} more)", root.len() - listed);
    }
    kprintln!();
    Ok(())
}
