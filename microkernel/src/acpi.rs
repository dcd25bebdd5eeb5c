//! Finding the firmware's ACPI tables and the persistent memory they
//! describe, and reporting both on the console.

use kcore::acpi::nfit::{self, Nfit};
use kcore::acpi::{
    AcpiError, PhysRead, ReadFault, RootTable, Rsdp, Signature, rsdp_physical_address,
};
use kcore::paging::PAGE_SIZE;

use crate::kprintln;
use crate::mm::EarlyMm;

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

/// Walks RSDP → XSDT/RSDT → NFIT and prints the `acpi:` and `pmem:` lines.
/// Returns the number of persistent-memory ranges found.
pub fn report(mm: &mut EarlyMm, rsdp_address: Option<u64>) -> usize {
    let found = match rsdp_address {
        None => {
            kprintln!("acpi: error: the loader gave no RSDP");
            0
        }
        Some(address) => {
            let phys = rsdp_physical_address(address, mm.hhdm());
            let mut reader = HhdmReader::new(mm);
            walk(&mut reader, phys).unwrap_or_else(|err| {
                kprintln!("acpi: error: {err}");
                0
            })
        }
    };
    if found == 0 {
        kprintln!("pmem: none found; running on volatile memory only");
    }
    found
}

/// The fallible part of [`report`]: prints as it goes, returns pmem ranges
/// printed.
fn walk(reader: &mut HhdmReader<'_>, rsdp_phys: u64) -> Result<usize, AcpiError> {
    let rsdp = Rsdp::load(reader, rsdp_phys)?;
    let root = rsdp.root_table(reader)?;
    print_tables(reader, &rsdp, &root)?;
    let Some(sdt) = root.find(reader, nfit::SIGNATURE)? else {
        return Ok(0);
    };
    let nfit = Nfit::new(sdt)?;
    let mut count = 0;
    for range in nfit.pmem_ranges(reader) {
        let range = range?;
        kprintln!(
            "pmem: range {count} base {:#x} size {} bytes",
            range.base,
            range.length
        );
        count += 1;
    }
    Ok(count)
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
