use super::*;

/// An ELF with the given program headers (type, flags, offset, vaddr,
/// filesz, memsz) at offset 64, `len` bytes long.
fn build(e_type: u16, phs: &[(u32, u32, u64, u64, u64, u64)], len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
    f[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
    for (i, &(kind, flags, offset, vaddr, filesz, memsz)) in phs.iter().enumerate() {
        let h = &mut f[64 + i * PHDR_SIZE..64 + (i + 1) * PHDR_SIZE];
        h[0..4].copy_from_slice(&kind.to_le_bytes());
        h[4..8].copy_from_slice(&flags.to_le_bytes());
        h[8..16].copy_from_slice(&offset.to_le_bytes());
        h[16..24].copy_from_slice(&vaddr.to_le_bytes());
        h[32..40].copy_from_slice(&filesz.to_le_bytes());
        h[40..48].copy_from_slice(&memsz.to_le_bytes());
    }
    f
}

fn good() -> Vec<u8> {
    build(
        ET_EXEC,
        &[
            (PT_LOAD, PF_R | PF_X, 0x1000, 0x40_1000, 0x100, 0x100),
            (6, PF_R, 0, 0, 0, 0x10), // PT_PHDR: not loadable, skipped
            (PT_LOAD, PF_R | PF_W, 0x1100, 0x40_2100, 0x10, 0x2000),
            (PT_LOAD, PF_R, 0x1110, 0x40_5000, 0, 0), // empty: skipped
        ],
        0x1200,
    )
}

fn segments(file: &[u8]) -> Result<Vec<Segment>, ElfError> {
    Elf::parse(file, 16)?.segments().collect()
}

#[test]
fn yields_the_loadable_segments_with_their_rights() {
    let file = good();
    let elf = Elf::parse(&file, 16).unwrap();
    assert_eq!(elf.entry, 0x40_1000);
    let segs = segments(&file).unwrap();
    assert_eq!(segs.len(), 2);
    assert_eq!(
        (segs[0].index, segs[0].vaddr, segs[0].end()),
        (0, 0x40_1000, 0x40_1100)
    );
    assert!(segs[0].executable() && !segs[0].writable() && segs[0].readable());
    assert_eq!(
        (segs[1].index, segs[1].filesz, segs[1].memsz),
        (2, 0x10, 0x2000)
    );
    assert!(segs[1].writable() && !segs[1].executable());
}

#[test]
fn every_header_field_is_checked() {
    let cases: [(usize, u8, ElfError); 6] = [
        (0, 0, ElfError::BadMagic),
        (4, 1, ElfError::NotElf64),
        (5, 2, ElfError::NotLittleEndian),
        (6, 0, ElfError::BadVersion),
        (20, 0, ElfError::BadVersion),
        (54, 55, ElfError::BadProgramHeaders),
    ];
    for (at, value, want) in cases {
        let mut f = good();
        f[at] = value;
        assert_eq!(Elf::parse(&f, 16).unwrap_err(), want, "byte {at}");
    }
    let mut f = good();
    f[18] = 3;
    assert_eq!(Elf::parse(&f, 16).unwrap_err(), ElfError::WrongMachine(3));
    assert_eq!(
        Elf::parse(&build(ET_DYN, &[], 64), 16).unwrap_err(),
        ElfError::Relocatable
    );
    assert_eq!(
        Elf::parse(&build(1, &[], 64), 16).unwrap_err(),
        ElfError::NotExecutable(1)
    );
    assert_eq!(
        Elf::parse(&good(), 3).unwrap_err(),
        ElfError::BadProgramHeaders
    );
    assert_eq!(
        Elf::parse(&good()[..63], 16).unwrap_err(),
        ElfError::TooShort
    );
    let mut f = good();
    f[32..40].copy_from_slice(&0x11f0u64.to_le_bytes());
    assert_eq!(
        Elf::parse(&f, 16).unwrap_err(),
        ElfError::ProgramHeadersOutsideFile
    );
    f[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        Elf::parse(&f, 16).unwrap_err(),
        ElfError::ProgramHeadersOutsideFile
    );
}

#[test]
fn segment_numbers_must_agree_with_the_file() {
    let one = |ph| segments(&build(ET_EXEC, &[ph], 0x2000));
    assert_eq!(
        one((PT_LOAD, PF_R, 0x1000, 0x40_0000, 0x20, 0x10)),
        Err(ElfError::FileLargerThanMemory {
            index: 0,
            vaddr: 0x40_0000
        })
    );
    assert_eq!(
        one((PT_LOAD, PF_R, 0x1f00, 0x40_0000, 0x200, 0x200)),
        Err(ElfError::SegmentOutsideFile {
            index: 0,
            vaddr: 0x40_0000
        })
    );
    assert_eq!(
        one((PT_LOAD, PF_R, u64::MAX, 0x40_0000, 2, 2)),
        Err(ElfError::SegmentOutsideFile {
            index: 0,
            vaddr: 0x40_0000
        })
    );
    assert_eq!(
        one((PT_LOAD, PF_R, 0, u64::MAX - 8, 0, 0x100)),
        Err(ElfError::AddressOverflow {
            index: 0,
            vaddr: u64::MAX - 8
        })
    );
    assert_eq!(
        one((PT_INTERP, PF_R, 0, 0, 0, 0)),
        Err(ElfError::Interpreter)
    );
}

#[test]
fn no_input_makes_it_panic() {
    let file = good();
    for cut in 0..file.len() {
        let _ = segments(&file[..cut]);
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        let mut f = file.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % f.len() as u64) as usize;
            f[at] = (state >> 32) as u8;
        }
        let _ = segments(&f);
    }
}
