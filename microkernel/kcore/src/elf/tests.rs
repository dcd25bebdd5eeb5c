//! ELF checks against images built byte by byte.

use super::*;
use elf64::{EHDR_SIZE, EM_X86_64, ET_EXEC, PHDR_SIZE};

const RANGE: Range<u64> = 0x40_0000..0x4000_0000;

/// (type, flags, offset, vaddr, filesz, memsz)
type Ph = (u32, u32, u64, u64, u64, u64);

fn image(entry: u64, phdrs: &[Ph], file_len: usize) -> Vec<u8> {
    let mut b = vec![0u8; file_len.max(EHDR_SIZE + phdrs.len() * PHDR_SIZE)];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    b[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
    b[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[24..32].copy_from_slice(&entry.to_le_bytes());
    b[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes());
    b[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
    b[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
    for (i, &(kind, flags, offset, vaddr, filesz, memsz)) in phdrs.iter().enumerate() {
        let at = EHDR_SIZE + i * PHDR_SIZE;
        b[at..at + 4].copy_from_slice(&kind.to_le_bytes());
        b[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
        b[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        b[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
        b[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
        b[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
    }
    b
}

const R: u32 = 4;
const RX: u32 = 4 | PF_X;
const RW: u32 = 4 | PF_W;

fn typical() -> Vec<u8> {
    image(
        0x40_1010,
        &[
            (PT_LOAD, R, 0x1000, 0x40_0000, 0x100, 0x100),
            (PT_LOAD, RX, 0x2000, 0x40_1000, 0x800, 0x800),
            (6, 0, 0, 0, 0, 0), // PT_PHDR: ignored
            (PT_LOAD, RW, 0x3000, 0x40_2000, 0x10, 0x2100),
        ],
        0x3010,
    )
}

#[test]
fn accepts_a_typical_program() {
    let img = ElfImage::parse(&typical(), RANGE).unwrap();
    assert_eq!(img.entry, 0x40_1010);
    assert_eq!(img.segments().len(), 3);
    let data = img.segments()[2];
    assert!(data.writable && !data.executable);
    assert_eq!(data.page_range(), 0x40_2000..0x40_5000);
}

#[test]
fn pages_say_where_file_bytes_go() {
    let seg = Segment {
        vaddr: 0x40_0ff0,
        memsz: 0x2000,
        offset: 0x10,
        filesz: 0x1020,
        writable: true,
        executable: false,
    };
    let pages: Vec<PageFill> = seg.pages().collect();
    assert_eq!(
        pages,
        vec![
            PageFill {
                page: 0x40_0000,
                dst: 0xff0,
                src: 0x10,
                len: 0x10
            },
            PageFill {
                page: 0x40_1000,
                dst: 0,
                src: 0x20,
                len: 0x1000
            },
            PageFill {
                page: 0x40_2000,
                dst: 0,
                src: 0x1020,
                len: 0x10
            },
        ]
    );
    let bss = Segment {
        vaddr: 0x40_0000,
        memsz: 0x1001,
        offset: 0,
        filesz: 0,
        writable: true,
        executable: false,
    };
    assert!(bss.pages().all(|p| p.len == 0));
    assert_eq!(bss.pages().count(), 2);
}

#[test]
fn rejects_bad_headers() {
    let good = typical();
    assert_eq!(ElfImage::parse(&good[..63], RANGE), Err(ElfError::TooShort));
    let cases: [(usize, u8, ElfError); 6] = [
        (0, 0x7e, ElfError::BadMagic),
        (4, 1, ElfError::WrongClass),
        (5, 2, ElfError::WrongClass),
        (16, 3, ElfError::NotExecutable), // ET_DYN
        (18, 3, ElfError::WrongMachine),
        (54, 55, ElfError::BadProgramHeaders),
    ];
    for (at, value, want) in cases {
        let mut bad = good.clone();
        bad[at] = value;
        assert_eq!(
            ElfImage::parse(&bad, RANGE),
            Err(want),
            "byte {at} = {value}"
        );
    }
    let mut far = good.clone();
    far[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        ElfImage::parse(&far, RANGE),
        Err(ElfError::BadProgramHeaders)
    );
    let mut none = good.clone();
    none[56] = 0;
    assert_eq!(ElfImage::parse(&none, RANGE), Err(ElfError::NoSegments));
}

#[test]
fn rejects_bad_segments() {
    let one = |ph: Ph, entry: u64| ElfImage::parse(&image(entry, &[ph], 0x2000), RANGE);
    let e = 0x40_0000;
    assert_eq!(
        one((PT_LOAD, RX, 0x1000, e, 0x1001, 0x2000), e),
        Err(ElfError::SegmentOutOfFile { index: 0 })
    );
    assert_eq!(
        one((PT_LOAD, RX, u64::MAX, e, 2, 0x2000), e),
        Err(ElfError::SegmentOutOfFile { index: 0 })
    );
    assert_eq!(
        one((PT_LOAD, RX, 0, e, 0x200, 0x100), e),
        Err(ElfError::SegmentOutOfFile { index: 0 })
    );
    assert_eq!(
        one((PT_LOAD, RX, 0, 0x3f_f000, 0, 0x1000), 0x3f_f000),
        Err(ElfError::SegmentOutOfRange { index: 0 })
    );
    assert_eq!(
        one((PT_LOAD, RX, 0, 0x3fff_f000, 0, 0x1001), 0x3fff_f000),
        Err(ElfError::SegmentOutOfRange { index: 0 })
    );
    assert_eq!(
        one((PT_LOAD, RX, 0, u64::MAX - 10, 0, 100), e),
        Err(ElfError::SegmentOutOfRange { index: 0 })
    );
    assert_eq!(
        one((PT_LOAD, RX | PF_W, 0, e, 0, 0x100), e),
        Err(ElfError::WriteAndExecute { index: 0 })
    );
    assert_eq!(
        one((PT_INTERP, R, 0, 0, 0, 0), e),
        Err(ElfError::Interpreter)
    );
    assert_eq!(one((6, R, 0, 0, 0, 0), e), Err(ElfError::NoSegments));
    // Entry outside any executable segment.
    assert_eq!(
        one((PT_LOAD, R, 0, e, 0, 0x100), e),
        Err(ElfError::BadEntry(e))
    );
    assert_eq!(
        one((PT_LOAD, RX, 0, e, 0, 0x100), e + 0x100),
        Err(ElfError::BadEntry(e + 0x100))
    );
    assert!(one((PT_LOAD, RX, 0, e, 0x100, 0x100), e + 0xff).is_ok());
}

#[test]
fn rejects_segments_sharing_a_page_and_too_many() {
    let shared = image(
        0x40_0000,
        &[
            (PT_LOAD, RX, 0, 0x40_0000, 0, 0x800),
            (PT_LOAD, RW, 0, 0x40_0800, 0, 0x800),
        ],
        0x1000,
    );
    assert_eq!(
        ElfImage::parse(&shared, RANGE),
        Err(ElfError::Overlap { index: 1 })
    );
    let many: Vec<Ph> = (0..17)
        .map(|i| (PT_LOAD, RX, 0, 0x40_0000 + i * 0x1000, 0, 0x10))
        .collect();
    assert_eq!(
        ElfImage::parse(&image(0x40_0000, &many, 0), RANGE),
        Err(ElfError::TooManySegments)
    );
}
