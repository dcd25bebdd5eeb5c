//! ACPI parsing against fixture tables built in memory with real checksums.

use super::nfit::{self, Nfit, PMEM_GUID, SpaRange};
use super::*;

/// Fake physical memory: `bytes` at physical addresses `BASE..`.
struct Mem {
    bytes: Vec<u8>,
}

const BASE: u64 = 0x7f00_0000;
const RSDP_AT: u64 = BASE;
const ROOT_AT: u64 = BASE + 0x100;
const TABLES_AT: u64 = BASE + 0x1000;

impl Mem {
    fn new() -> Self {
        Mem {
            bytes: vec![0; 0x4000],
        }
    }
    fn put(&mut self, phys: u64, data: &[u8]) {
        let at = (phys - BASE) as usize;
        self.bytes[at..at + data.len()].copy_from_slice(data);
    }
    /// Puts each table one after the other from [`TABLES_AT`]; returns their addresses.
    fn put_tables(&mut self, tables: &[Vec<u8>]) -> Vec<u64> {
        let mut at = TABLES_AT;
        tables
            .iter()
            .map(|t| {
                self.put(at, t);
                let here = at;
                at += (t.len() as u64).next_multiple_of(16);
                here
            })
            .collect()
    }
}

impl PhysRead for Mem {
    fn read_phys(&mut self, phys: u64, buf: &mut [u8]) -> Result<(), ReadFault> {
        let start = phys.checked_sub(BASE).ok_or(ReadFault::OutOfRange)? as usize;
        let src = self
            .bytes
            .get(start..start + buf.len())
            .ok_or(ReadFault::OutOfRange)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

fn fix_checksum(bytes: &mut [u8], at: usize, over: usize) {
    bytes[at] = 0;
    let sum = bytes[..over].iter().fold(0u8, |s, &b| s.wrapping_add(b));
    bytes[at] = 0u8.wrapping_sub(sum);
}

/// A table with a correct header and checksum.
fn sdt(sig: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(sig);
    t.extend_from_slice(&(36 + body.len() as u32).to_le_bytes());
    t.push(1); // revision
    t.push(0); // checksum
    t.extend_from_slice(b"PRNIAL");
    t.extend_from_slice(b"FIXTURE ");
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(b"TEST");
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(body);
    let len = t.len();
    fix_checksum(&mut t, 9, len);
    t
}

fn rsdp_v1(rsdt: u32) -> Vec<u8> {
    let mut r = b"RSD PTR ".to_vec();
    r.push(0);
    r.extend_from_slice(b"PRNIAL");
    r.push(0);
    r.extend_from_slice(&rsdt.to_le_bytes());
    fix_checksum(&mut r, 8, 20);
    r
}

fn rsdp_v2(xsdt: u64, rsdt: u32) -> Vec<u8> {
    let mut r = rsdp_v1(rsdt);
    r[15] = 2;
    fix_checksum(&mut r, 8, 20);
    r.extend_from_slice(&36u32.to_le_bytes());
    r.extend_from_slice(&xsdt.to_le_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    fix_checksum(&mut r, 32, 36);
    r
}

fn xsdt(entries: &[u64]) -> Vec<u8> {
    sdt(
        b"XSDT",
        &entries
            .iter()
            .flat_map(|e| e.to_le_bytes())
            .collect::<Vec<_>>(),
    )
}

fn rsdt(entries: &[u64]) -> Vec<u8> {
    sdt(
        b"RSDT",
        &entries
            .iter()
            .flat_map(|&e| (e as u32).to_le_bytes())
            .collect::<Vec<_>>(),
    )
}

const VOLATILE_GUID: [u8; 16] = [
    0x4f, 0x94, 0x0e, 0x7d, 0x6f, 0x0b, 0xf4, 0x4b, 0x8c, 0x7b, 0x63, 0x68, 0x9b, 0x23, 0x2f, 0x66,
];

/// An SPA Range structure of `len` bytes (56 or 64).
fn spa(index: u16, guid: [u8; 16], base: u64, length: u64, len: u16) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&0u16.to_le_bytes());
    s.extend_from_slice(&len.to_le_bytes());
    s.extend_from_slice(&index.to_le_bytes());
    s.extend_from_slice(&2u16.to_le_bytes()); // flags
    s.extend_from_slice(&0u32.to_le_bytes());
    s.extend_from_slice(&7u32.to_le_bytes()); // proximity domain
    s.extend_from_slice(&guid);
    s.extend_from_slice(&base.to_le_bytes());
    s.extend_from_slice(&length.to_le_bytes());
    s.extend_from_slice(&0x8008u64.to_le_bytes());
    s.resize(usize::from(len).max(s.len()), 0);
    s
}

/// Any other NFIT structure: `kind`, `len` bytes.
fn other(kind: u16, len: u16) -> Vec<u8> {
    let mut s = kind.to_le_bytes().to_vec();
    s.extend_from_slice(&len.to_le_bytes());
    s.resize(usize::from(len), 0xab);
    s
}

fn nfit(structures: &[Vec<u8>]) -> Vec<u8> {
    let mut body = vec![0u8; 4];
    structures.iter().for_each(|s| body.extend_from_slice(s));
    sdt(b"NFIT", &body)
}

/// Machine with an RSDP v2 → XSDT → [FACP, APIC, NFIT(structures)].
fn machine(structures: &[Vec<u8>]) -> Mem {
    let mut mem = Mem::new();
    let addrs = mem.put_tables(&[
        sdt(b"FACP", &[0; 8]),
        sdt(b"APIC", &[1; 12]),
        nfit(structures),
    ]);
    mem.put(ROOT_AT, &xsdt(&addrs));
    mem.put(RSDP_AT, &rsdp_v2(ROOT_AT, 0));
    mem
}

fn pmem_of(mem: &mut Mem) -> Result<Vec<SpaRange>, AcpiError> {
    let rsdp = Rsdp::load(mem, RSDP_AT)?;
    let root = rsdp.root_table(mem)?;
    let sdt = root
        .find(mem, nfit::SIGNATURE)?
        .expect("fixture has an NFIT");
    Nfit::new(sdt)?.pmem_ranges(mem).collect()
}

#[test]
fn walks_rsdp_v2_xsdt_and_lists_tables() {
    let mut mem = machine(&[]);
    let rsdp = Rsdp::load(&mut mem, RSDP_AT).unwrap();
    assert_eq!(
        (rsdp.revision, rsdp.xsdt, &rsdp.oem_id),
        (2, Some(ROOT_AT), b"PRNIAL")
    );
    let root = rsdp.root_table(&mut mem).unwrap();
    assert_eq!(root.kind, RootKind::Xsdt);
    assert_eq!(root.len(), 3);
    let sigs: Vec<String> = (0..root.len())
        .map(|i| root.signature_at(&mut mem, i).unwrap().to_string())
        .collect();
    assert_eq!(sigs, ["FACP", "APIC", "NFIT"]);
    assert_eq!(root.find(&mut mem, Signature(*b"HPET")), Ok(None));
    assert_eq!(
        root.entry(&mut mem, 3),
        Err(AcpiError::OutOfTable {
            signature: Signature(*b"XSDT"),
            offset: 60,
            len: 8,
            length: 60
        })
    );
}

#[test]
fn walks_rsdp_v1_rsdt() {
    let mut mem = Mem::new();
    let addrs = mem.put_tables(&[
        sdt(b"FACP", &[]),
        nfit(&[spa(1, PMEM_GUID, 0x1_4000_0000, 1 << 28, 56)]),
    ]);
    mem.put(ROOT_AT, &rsdt(&addrs));
    mem.put(RSDP_AT, &rsdp_v1(ROOT_AT as u32));
    let rsdp = Rsdp::load(&mut mem, RSDP_AT).unwrap();
    assert_eq!((rsdp.revision, rsdp.xsdt), (0, None));
    let root = rsdp.root_table(&mut mem).unwrap();
    assert_eq!((root.kind, root.len()), (RootKind::Rsdt, 2));
    assert_eq!(root.entry(&mut mem, 1), Ok(addrs[1]));
    let ranges = pmem_of(&mut mem).unwrap();
    assert_eq!(ranges.len(), 1);
    assert_eq!((ranges[0].base, ranges[0].length), (0x1_4000_0000, 1 << 28));
}

#[test]
fn finds_several_pmem_ranges_and_skips_everything_else() {
    let mut mem = machine(&[
        other(4, 80), // control region
        spa(1, PMEM_GUID, 0x1_4000_0000, 256 << 20, 56),
        spa(2, VOLATILE_GUID, 0x2_0000_0000, 1 << 30, 56), // volatile: ignored
        other(0xff, 12),                                   // unknown type
        spa(3, PMEM_GUID, 0x1_5000_0000, 128 << 20, 64),   // ACPI 6.3 length
        other(1, 48),                                      // region mapping
    ]);
    let ranges = pmem_of(&mut mem).unwrap();
    let got: Vec<(u16, u64, u64)> = ranges.iter().map(|r| (r.index, r.base, r.length)).collect();
    assert_eq!(
        got,
        [(1, 0x1_4000_0000, 256 << 20), (3, 0x1_5000_0000, 128 << 20)]
    );
    assert_eq!(
        (
            ranges[0].flags,
            ranges[0].proximity_domain,
            ranges[0].mapping_attributes
        ),
        (2, 7, 0x8008)
    );

    // All SPA ranges, volatile included.
    let root = Rsdp::load(&mut mem, RSDP_AT)
        .unwrap()
        .root_table(&mut mem)
        .unwrap();
    let table = Nfit::new(root.find(&mut mem, nfit::SIGNATURE).unwrap().unwrap()).unwrap();
    assert_eq!(table.spa_ranges(&mut mem).count(), 3);
}

#[test]
fn nfit_without_pmem_is_empty() {
    let mut mem = machine(&[spa(1, VOLATILE_GUID, 0x1000_0000, 0x1000, 56)]);
    assert_eq!(pmem_of(&mut mem), Ok(vec![]));
    let mut mem = machine(&[]);
    assert_eq!(pmem_of(&mut mem), Ok(vec![]));
}

#[test]
fn rejects_bad_rsdps() {
    let mut mem = Mem::new();
    let mut bad = rsdp_v2(ROOT_AT, 0);
    bad[0] = b'X';
    mem.put(RSDP_AT, &bad);
    assert_eq!(Rsdp::load(&mut mem, RSDP_AT), Err(AcpiError::RsdpSignature));

    let mut bad = rsdp_v2(ROOT_AT, 0);
    bad[9] ^= 1; // OEM id, inside the 1.0 checksum
    mem.put(RSDP_AT, &bad);
    assert_eq!(Rsdp::load(&mut mem, RSDP_AT), Err(AcpiError::RsdpChecksum));

    let mut bad = rsdp_v2(ROOT_AT, 0);
    bad[24] ^= 1; // XSDT address, only in the extended checksum
    mem.put(RSDP_AT, &bad);
    assert_eq!(
        Rsdp::load(&mut mem, RSDP_AT),
        Err(AcpiError::RsdpExtendedChecksum)
    );

    let mut bad = rsdp_v2(ROOT_AT, 0);
    bad[20..24].copy_from_slice(&20u32.to_le_bytes());
    mem.put(RSDP_AT, &bad);
    assert_eq!(
        Rsdp::load(&mut mem, RSDP_AT),
        Err(AcpiError::RsdpLength(20))
    );

    mem.put(RSDP_AT, &rsdp_v1(0));
    let rsdp = Rsdp::load(&mut mem, RSDP_AT).unwrap();
    assert_eq!(rsdp.root_table(&mut mem), Err(AcpiError::NoRootTable));

    // An RSDP at the very end of reachable memory.
    let end = BASE + 0x4000 - 10;
    assert!(matches!(
        Rsdp::load(&mut mem, end),
        Err(AcpiError::Read {
            fault: ReadFault::OutOfRange,
            ..
        })
    ));
    assert!(matches!(
        Rsdp::load(&mut mem, u64::MAX - 4),
        Err(AcpiError::Read { .. })
    ));
}

#[test]
fn rejects_bad_root_tables() {
    let mut mem = machine(&[]);
    // Flip a byte in the XSDT body: checksum.
    mem.bytes[(ROOT_AT - BASE) as usize + 40] ^= 0x10;
    let rsdp = Rsdp::load(&mut mem, RSDP_AT).unwrap();
    assert_eq!(
        rsdp.root_table(&mut mem),
        Err(AcpiError::TableChecksum {
            signature: Signature(*b"XSDT")
        })
    );

    // Entries not a whole number of 8-byte pointers.
    mem.put(ROOT_AT, &sdt(b"XSDT", &[0; 12]));
    assert_eq!(
        rsdp.root_table(&mut mem),
        Err(AcpiError::RootEntriesMisaligned {
            signature: Signature(*b"XSDT"),
            length: 48
        })
    );

    // The RSDP points at something that is not an XSDT.
    mem.put(ROOT_AT, &sdt(b"RSDT", &[]));
    assert_eq!(
        rsdp.root_table(&mut mem),
        Err(AcpiError::UnexpectedSignature {
            expected: Signature(*b"XSDT"),
            found: Signature(*b"RSDT")
        })
    );

    // A length shorter than the header.
    let mut short = sdt(b"XSDT", &[]);
    short[4..8].copy_from_slice(&20u32.to_le_bytes());
    mem.put(ROOT_AT, &short);
    assert_eq!(
        rsdp.root_table(&mut mem),
        Err(AcpiError::TableLength {
            signature: Signature(*b"XSDT"),
            length: 20
        })
    );

    // A length absurdly large.
    short[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    mem.put(ROOT_AT, &short);
    assert_eq!(
        rsdp.root_table(&mut mem),
        Err(AcpiError::TableLength {
            signature: Signature(*b"XSDT"),
            length: u32::MAX
        })
    );
}

#[test]
fn a_length_past_the_end_of_memory_is_a_read_error() {
    let mut mem = Mem::new();
    let table = sdt(b"XSDT", &[0; 8]);
    let at = BASE + 0x4000 - table.len() as u64;
    mem.put(at, &table);
    assert!(Sdt::load(&mut mem, at).is_ok());
    // Truncate: claim 64 more bytes than memory holds.
    let mut longer = table.clone();
    longer[4..8].copy_from_slice(&(table.len() as u32 + 64).to_le_bytes());
    mem.put(at, &longer);
    assert!(matches!(
        Sdt::load(&mut mem, at),
        Err(AcpiError::Read {
            fault: ReadFault::OutOfRange,
            ..
        })
    ));
}

#[test]
fn rejects_corrupt_nfit_structures() {
    let zero_len = other(4, 4);
    let mut zero = zero_len.clone();
    zero[2] = 0;
    let mut mem = machine(&[spa(1, PMEM_GUID, 0x1000, 0x1000, 56), zero]);
    // The good range before the corruption is still reported, then the error.
    let root = Rsdp::load(&mut mem, RSDP_AT)
        .unwrap()
        .root_table(&mut mem)
        .unwrap();
    let table = Nfit::new(root.find(&mut mem, nfit::SIGNATURE).unwrap().unwrap()).unwrap();
    let items: Vec<_> = table.pmem_ranges(&mut mem).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert_eq!(
        items[1],
        Err(AcpiError::NfitStructureLength {
            offset: 96,
            kind: 4,
            length: 0
        })
    );

    // A structure claiming to run past the table.
    let mut past = other(4, 16);
    past[2..4].copy_from_slice(&200u16.to_le_bytes());
    let mut mem = machine(&[past]);
    assert_eq!(
        pmem_of(&mut mem),
        Err(AcpiError::NfitStructurePastEnd {
            offset: 40,
            length: 200,
            table_length: 56
        })
    );

    // An SPA range too short for its fields.
    let mut short = spa(1, PMEM_GUID, 0x1000, 0x1000, 56);
    short.truncate(40);
    short[2..4].copy_from_slice(&40u16.to_le_bytes());
    let mut mem = machine(&[short]);
    assert_eq!(
        pmem_of(&mut mem),
        Err(AcpiError::NfitStructureLength {
            offset: 40,
            kind: 0,
            length: 40
        })
    );

    // Trailing bytes too few for a structure header.
    let mut mem = machine(&[vec![0, 0]]);
    assert!(matches!(
        pmem_of(&mut mem),
        Err(AcpiError::OutOfTable {
            offset: 40,
            len: 4,
            ..
        })
    ));

    // A range that wraps around the address space.
    let mut mem = machine(&[spa(1, PMEM_GUID, u64::MAX - 0xfff, 0x2000, 56)]);
    assert_eq!(
        pmem_of(&mut mem),
        Err(AcpiError::SpaRangeOverflow { offset: 40 })
    );
}

#[test]
fn nfit_needs_its_signature_and_fixed_part() {
    let sdt = |sig: [u8; 4], length| Sdt {
        phys: 0,
        header: SdtHeader {
            signature: Signature(sig),
            length,
            revision: 1,
            oem_id: [0; 6],
            oem_table_id: [0; 8],
            oem_revision: 0,
        },
    };
    assert!(Nfit::new(sdt(*b"NFIT", 40)).is_ok());
    assert_eq!(
        Nfit::new(sdt(*b"NFIT", 36)),
        Err(AcpiError::TableLength {
            signature: Signature(*b"NFIT"),
            length: 36
        })
    );
    assert!(matches!(
        Nfit::new(sdt(*b"APIC", 40)),
        Err(AcpiError::UnexpectedSignature { .. })
    ));
}

#[test]
fn rsdp_address_is_physical_unless_in_the_hhdm() {
    let hhdm = 0xffff_8000_0000_0000;
    assert_eq!(rsdp_physical_address(0x7fb7_e014, hhdm), 0x7fb7_e014);
    assert_eq!(rsdp_physical_address(hhdm + 0x7fb7_e014, hhdm), 0x7fb7_e014);
    assert_eq!(rsdp_physical_address(0xe_0000, 0), 0xe_0000);
}

#[test]
fn errors_read_well() {
    let e = AcpiError::TableChecksum {
        signature: Signature(*b"NF\x00T"),
    };
    assert_eq!(e.to_string(), "NF?T checksum mismatch");
    let e = AcpiError::Read {
        phys: 0x1000,
        len: 4,
        fault: ReadFault::OutOfRange,
    };
    assert_eq!(
        e.to_string(),
        "reading 4 bytes at 0x1000: not reachable memory"
    );
}

fn madt(structures: &[Vec<u8>]) -> Vec<u8> {
    let mut body = 0xfee0_0000u32.to_le_bytes().to_vec();
    body.extend_from_slice(&1u32.to_le_bytes()); // PCAT_COMPAT
    body.extend(structures.iter().flatten());
    sdt(b"APIC", &body)
}

fn madt_info(structures: &[Vec<u8>]) -> Result<madt::MadtInfo, AcpiError> {
    let mut mem = Mem::new();
    let at = mem.put_tables(&[madt(structures)])[0];
    let table = Sdt::load(&mut mem, at)?;
    madt::Madt::new(table)?.info(&mut mem)
}

#[test]
fn madt_gives_apics_and_isa_routes() {
    let lapic = |id: u8, flags: u32| [vec![0, 8, id, id], flags.to_le_bytes().to_vec()].concat();
    let ioapic = [
        vec![1, 12, 2, 0],
        0xfec0_0000u32.to_le_bytes().to_vec(),
        0u32.to_le_bytes().to_vec(),
    ]
    .concat();
    // IRQ 0 -> GSI 2 (conforming), IRQ 9 -> GSI 9 level, active high.
    let iso0 = [
        vec![2, 10, 0, 0],
        2u32.to_le_bytes().to_vec(),
        0u16.to_le_bytes().to_vec(),
    ]
    .concat();
    let iso9 = [
        vec![2, 10, 0, 9],
        9u32.to_le_bytes().to_vec(),
        0x000du16.to_le_bytes().to_vec(),
    ]
    .concat();
    let unknown = vec![0x7f, 3, 0];
    let info = madt_info(&[
        lapic(0, 1),
        lapic(1, 0),
        lapic(2, 2),
        ioapic,
        iso0,
        iso9,
        unknown,
    ])
    .unwrap();
    assert_eq!(info.local_apic, 0xfee0_0000);
    assert!(info.has_8259);
    assert_eq!(info.cpus, 2);
    assert_eq!(
        info.io_apics(),
        &[madt::IoApic {
            id: 2,
            address: 0xfec0_0000,
            gsi_base: 0
        }]
    );
    assert_eq!(info.isa_route(0).gsi, 2);
    let nine = info.isa_route(9);
    assert!(nine.level && !nine.active_low);
    let four = info.isa_route(4);
    assert_eq!((four.gsi, four.level, four.active_low), (4, false, false));
    assert_eq!(
        info.io_apic_for(4).map(|(a, pin)| (a.id, pin)),
        Some((2, 4))
    );
    assert_eq!(info.io_apic_for(300), None);
}

#[test]
fn madt_rejects_bad_structures() {
    let override64 = [vec![5, 12, 0, 0], 0xfee1_0000u64.to_le_bytes().to_vec()].concat();
    assert_eq!(madt_info(&[override64]).unwrap().local_apic, 0xfee1_0000);
    assert!(matches!(
        madt_info(&[vec![1, 8, 0, 0, 0, 0, 0, 0]]),
        Err(AcpiError::MadtStructure {
            kind: 1,
            length: 8,
            ..
        })
    ));
    assert!(matches!(
        madt_info(&[vec![0x7f, 0]]),
        Err(AcpiError::MadtStructure { length: 0, .. })
    ));
    assert!(matches!(
        madt_info(&[vec![0x7f, 9, 0]]),
        Err(AcpiError::MadtStructure { length: 9, .. })
    ));
    let mut mem = Mem::new();
    let at = mem.put_tables(&[sdt(b"APIC", &[0; 4])])[0];
    let short = Sdt::load(&mut mem, at).unwrap();
    assert!(matches!(
        madt::Madt::new(short),
        Err(AcpiError::TableLength { .. })
    ));
}
