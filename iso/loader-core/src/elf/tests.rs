//! Tests of ELF planning, with a tiny ELF writer as the fixture.

use super::*;
use alloc::vec;
use elf64::{EM_X86_64, ET_DYN, ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD};

/// One program header for the fixture writer.
#[derive(Clone, Copy)]
pub(crate) struct Ph {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

pub(crate) const KBASE: u64 = 0xffff_ffff_8000_0000;
const RX: u32 = PF_R | PF_X;
const R: u32 = PF_R;
const RW: u32 = PF_R | PF_W;

/// Writes an ELF64 header and program headers at offset 64; the file is
/// `len` bytes long, filled with a byte pattern so copies can be checked.
pub(crate) fn build_elf(e_type: u16, machine: u16, entry: u64, phs: &[Ph], len: usize) -> Vec<u8> {
    let mut f: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    f[..64].fill(0);
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[20..24].copy_from_slice(&1u32.to_le_bytes()); // e_version
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&machine.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
    for (i, ph) in phs.iter().enumerate() {
        let at = 64 + i * 56;
        let h = &mut f[at..at + 56];
        h.fill(0);
        h[0..4].copy_from_slice(&ph.kind.to_le_bytes());
        h[4..8].copy_from_slice(&ph.flags.to_le_bytes());
        h[8..16].copy_from_slice(&ph.offset.to_le_bytes());
        h[16..24].copy_from_slice(&ph.vaddr.to_le_bytes());
        h[24..32].copy_from_slice(&ph.vaddr.to_le_bytes());
        h[32..40].copy_from_slice(&ph.filesz.to_le_bytes());
        h[40..48].copy_from_slice(&ph.memsz.to_le_bytes());
        h[48..56].copy_from_slice(&4096u64.to_le_bytes());
    }
    f
}

pub(crate) fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
    Ph {
        kind: PT_LOAD,
        flags,
        offset,
        vaddr,
        filesz,
        memsz,
    }
}

/// A typical kernel: text, rodata, data+bss.
pub(crate) fn typical() -> Vec<u8> {
    build_elf(
        ET_EXEC,
        EM_X86_64,
        KBASE + 0x10,
        &[
            load(RX, 0x1000, KBASE, 0x1800, 0x1800),
            load(R, 0x3000, KBASE + 0x2000, 0x100, 0x100),
            load(RW, 0x4000, KBASE + 0x3000, 0x80, 0x3000),
            Ph {
                kind: 4,
                flags: R,
                offset: 0,
                vaddr: 0,
                filesz: 0,
                memsz: 0,
            }, // PT_NOTE
        ],
        0x5000,
    )
}

#[test]
fn plans_a_typical_kernel() {
    let file = typical();
    let plan = plan(&file).unwrap();
    assert_eq!(plan.virt_base, KBASE);
    assert_eq!(plan.span, 0x6000);
    assert_eq!(plan.entry, KBASE + 0x10);
    assert_eq!(plan.segments.len(), 3);
    assert!(plan.segments[0].rights.execute && !plan.segments[0].rights.write);
    assert!(plan.segments[2].rights.write && !plan.segments[2].rights.execute);

    let mut image = vec![0xaau8; 0x6000];
    plan.load_into(&file, &mut image).unwrap();
    assert_eq!(&image[..0x1800], &file[0x1000..0x2800]);
    assert!(image[0x1800..0x2000].iter().all(|&b| b == 0), "gap zeroed");
    assert_eq!(&image[0x2000..0x2100], &file[0x3000..0x3100]);
    assert_eq!(&image[0x3000..0x3080], &file[0x4000..0x4080]);
    assert!(image[0x3080..].iter().all(|&b| b == 0), "bss zeroed");
    assert_eq!(
        plan.load_into(&file, &mut [0u8; 0x1000]),
        Err(ElfError::DestinationTooSmall)
    );
}

#[test]
fn page_runs_carry_rights_and_merge() {
    let plan = plan(&typical()).unwrap();
    let runs = plan.page_runs();
    assert_eq!(runs.len(), 3);
    assert_eq!(
        (runs[0].virt, runs[0].pages, runs[0].image_offset),
        (KBASE, 2, 0)
    );
    assert!(runs[0].rights.execute);
    assert_eq!((runs[1].virt, runs[1].pages), (KBASE + 0x2000, 1));
    assert_eq!((runs[2].virt, runs[2].pages), (KBASE + 0x3000, 3));
    assert!(runs[2].rights.write && !runs[2].rights.execute);
}

#[test]
fn a_shared_page_gets_the_union_of_rights() {
    let file = build_elf(
        ET_EXEC,
        EM_X86_64,
        KBASE,
        &[
            load(RX, 0x1000, KBASE, 0x1800, 0x1800),
            load(RW, 0x2800, KBASE + 0x1800, 0x10, 0x1000),
        ],
        0x3000,
    );
    let runs = plan(&file).unwrap().page_runs();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!((runs[0].pages, runs[0].rights.write), (1, false));
    assert_eq!(runs[1].virt, KBASE + 0x1000);
    assert!(runs[1].rights.write && runs[1].rights.execute);
    assert_eq!(runs[2].virt, KBASE + 0x2000);
    assert!(runs[2].rights.write && !runs[2].rights.execute);
}

fn reject(file: &[u8]) -> ElfError {
    plan(file).expect_err("ELF should be rejected")
}

#[test]
fn rejects_bad_headers() {
    assert_eq!(
        reject(&[0x7f, b'E']),
        ElfError::Format(elf64::ElfError::TooShort)
    );
    let good = typical();
    let mut f = good.clone();
    f[1] = b'X';
    assert_eq!(reject(&f), ElfError::Format(elf64::ElfError::BadMagic));
    let mut f = good.clone();
    f[4] = 1;
    assert_eq!(reject(&f), ElfError::Format(elf64::ElfError::NotElf64));
    let mut f = good.clone();
    f[5] = 2;
    assert_eq!(
        reject(&f),
        ElfError::Format(elf64::ElfError::NotLittleEndian)
    );
    let f = build_elf(
        ET_EXEC,
        183,
        KBASE,
        &[load(RX, 0x1000, KBASE, 16, 16)],
        0x2000,
    );
    assert_eq!(
        reject(&f),
        ElfError::Format(elf64::ElfError::WrongMachine(183))
    );
    let f = build_elf(
        ET_DYN,
        EM_X86_64,
        KBASE,
        &[load(RX, 0x1000, KBASE, 16, 16)],
        0x2000,
    );
    assert_eq!(reject(&f), ElfError::Format(elf64::ElfError::Relocatable));
    assert!(reject(&f).to_string().contains("relocatable"));
    let f = build_elf(
        1,
        EM_X86_64,
        KBASE,
        &[load(RX, 0x1000, KBASE, 16, 16)],
        0x2000,
    );
    assert_eq!(
        reject(&f),
        ElfError::Format(elf64::ElfError::NotExecutable(1))
    );
    let mut f = good.clone();
    f[54] = 32;
    assert_eq!(
        reject(&f),
        ElfError::Format(elf64::ElfError::BadProgramHeaders)
    );
    let mut f = good.clone();
    f[32..40].copy_from_slice(&0x4ff0u64.to_le_bytes());
    assert_eq!(
        reject(&f),
        ElfError::Format(elf64::ElfError::ProgramHeadersOutsideFile)
    );
    let mut f = good;
    f[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        reject(&f),
        ElfError::Format(elf64::ElfError::ProgramHeadersOutsideFile)
    );
}

#[test]
fn rejects_a_lower_half_kernel_with_the_documented_message() {
    let f = build_elf(
        ET_EXEC,
        EM_X86_64,
        0x20_0000,
        &[load(RX, 0x1000, 0x20_0000, 16, 16)],
        0x2000,
    );
    assert_eq!(reject(&f), ElfError::NotHigherHalf { vaddr: 0x20_0000 });
    assert_eq!(
        reject(&f).to_string(),
        "kernel is not a higher-half ELF: segment at 0x200000 below 0xffffffff80000000"
    );
}

#[test]
fn rejects_bad_segments() {
    let one = |ph: Ph, entry: u64| build_elf(ET_EXEC, EM_X86_64, entry, &[ph], 0x3000);
    assert_eq!(
        reject(&one(load(RX, 0x1000, KBASE, 0x20, 0x10), KBASE)),
        ElfError::Format(elf64::ElfError::FileLargerThanMemory {
            index: 0,
            vaddr: KBASE
        })
    );
    assert_eq!(
        reject(&one(load(RX, 0x1000, KBASE, 0x2001, 0x3000), KBASE)),
        ElfError::Format(elf64::ElfError::SegmentOutsideFile {
            index: 0,
            vaddr: KBASE
        })
    );
    assert_eq!(
        reject(&one(load(RX, u64::MAX, KBASE, 2, 2), KBASE)),
        ElfError::Format(elf64::ElfError::SegmentOutsideFile {
            index: 0,
            vaddr: KBASE
        })
    );
    assert_eq!(
        reject(&one(load(RX, 0x1008, KBASE, 0x10, 0x10), KBASE)),
        ElfError::MisalignedSegment {
            vaddr: KBASE,
            offset: 0x1008
        }
    );
    assert_eq!(
        reject(&one(
            load(RX, 0x1000, u64::MAX - 0xfff, 0x10, 0x2000),
            u64::MAX - 0xfff
        )),
        ElfError::Format(elf64::ElfError::AddressOverflow {
            index: 0,
            vaddr: u64::MAX - 0xfff
        })
    );
    assert_eq!(
        reject(&one(load(RX, 0x1000, KBASE, 0x10, MAX_SPAN + 1), KBASE)),
        ElfError::SpanTooLarge {
            span: MAX_SPAN + 0x1000
        }
    );
    assert_eq!(
        reject(&one(load(RW, 0x1000, KBASE, 0x10, 0x10), KBASE)),
        ElfError::EntryNotExecutable { entry: KBASE }
    );
    assert_eq!(
        reject(&one(load(RX, 0x1000, KBASE, 0x10, 0x10), KBASE + 0x10)),
        ElfError::EntryNotExecutable {
            entry: KBASE + 0x10
        }
    );
    let empty = build_elf(
        ET_EXEC,
        EM_X86_64,
        KBASE,
        &[load(RX, 0x1000, KBASE, 0, 0)],
        0x2000,
    );
    assert_eq!(reject(&empty), ElfError::NoLoadableSegments);
}

#[test]
fn rejects_overlapping_segments() {
    let f = build_elf(
        ET_EXEC,
        EM_X86_64,
        KBASE,
        &[
            load(RW, 0x2000, KBASE + 0x1000, 0x10, 0x10),
            load(RX, 0x1000, KBASE, 0x10, 0x1001),
        ],
        0x3000,
    );
    assert_eq!(
        reject(&f),
        ElfError::OverlappingSegments {
            first: KBASE,
            second: KBASE + 0x1000
        }
    );
}
