//! ELF64 load planning for the kernel: validate the file and describe where
//! each `PT_LOAD` segment goes.
//!
//! A small hand-written parser: the loader needs only the file header and
//! the program headers, and every rejection gets its own typed error with the
//! numbers a developer needs (a general ELF crate would report
//! `&'static str` errors and parse far more than is used).

use alloc::vec::Vec;
use core::fmt;

use crate::protocol::KERNEL_MIN_VADDR;

/// Page size used for alignment checks.
pub const PAGE_SIZE: u64 = 4096;
/// Largest virtual span a kernel may occupy.
pub const MAX_SPAN: u64 = 1 << 30;
/// Most program headers accepted.
const MAX_PHDRS: usize = 256;

const PT_LOAD: u32 = 1;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;

/// Access rights of a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rights {
    /// Readable (always mapped readable on x86-64).
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

/// One `PT_LOAD` segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Size in memory (file bytes followed by zeroes).
    pub memsz: u64,
    /// Offset of the file bytes.
    pub file_offset: u64,
    /// Number of file bytes.
    pub filesz: u64,
    /// Access rights.
    pub rights: Rights,
}

/// Where the kernel goes and how it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// Lowest segment address rounded down to a page: the image's first byte.
    pub virt_base: u64,
    /// Bytes from `virt_base` to the end of the highest segment, page-rounded.
    pub span: u64,
    /// Entry point.
    pub entry: u64,
    /// Loadable segments sorted by address.
    pub segments: Vec<Segment>,
}

/// Why a kernel ELF is rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the ELF header.
    TooShort,
    /// No `\x7fELF` magic.
    BadMagic,
    /// Not ELFCLASS64.
    NotElf64,
    /// Not little-endian.
    NotLittleEndian,
    /// Machine is not x86-64 (`e_machine`).
    WrongMachine(u16),
    /// `ET_DYN`: a relocatable (PIE) kernel, which this loader does not relocate.
    Relocatable,
    /// Neither `ET_EXEC` nor `ET_DYN`.
    NotExecutable(u16),
    /// `e_phentsize` is not 56 or there are too many headers.
    BadProgramHeaders,
    /// The program header table lies outside the file.
    ProgramHeadersOutsideFile,
    /// No `PT_LOAD` segment with a non-zero size.
    NoLoadableSegments,
    /// A segment below the higher half.
    NotHigherHalf {
        /// The segment's address.
        vaddr: u64,
    },
    /// `p_filesz > p_memsz`.
    FileLargerThanMemory {
        /// The segment's address.
        vaddr: u64,
    },
    /// The segment's file bytes extend past the end of the file.
    SegmentOutsideFile {
        /// The segment's address.
        vaddr: u64,
    },
    /// `p_vaddr % 4096 != p_offset % 4096`.
    MisalignedSegment {
        /// The segment's address.
        vaddr: u64,
        /// The segment's file offset.
        offset: u64,
    },
    /// The segment's end overflows the address space.
    AddressOverflow {
        /// The segment's address.
        vaddr: u64,
    },
    /// Two segments share virtual bytes.
    OverlappingSegments {
        /// Address of the lower segment.
        first: u64,
        /// Address of the higher segment.
        second: u64,
    },
    /// The segments span more than [`MAX_SPAN`].
    SpanTooLarge {
        /// The span in bytes.
        span: u64,
    },
    /// The entry point is not inside an executable segment.
    EntryNotExecutable {
        /// The entry point.
        entry: u64,
    },
    /// The destination buffer is smaller than the plan's span.
    DestinationTooSmall,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::TooShort => f.write_str("file is too short to be an ELF"),
            ElfError::BadMagic => f.write_str("not an ELF file (bad magic)"),
            ElfError::NotElf64 => f.write_str("not a 64-bit ELF"),
            ElfError::NotLittleEndian => f.write_str("not a little-endian ELF"),
            ElfError::WrongMachine(m) => write!(f, "ELF machine {m} is not x86-64 (62)"),
            ElfError::Relocatable => f.write_str(
                "kernel is a relocatable (ET_DYN/PIE) ELF; link it as ET_EXEC at its final address",
            ),
            ElfError::NotExecutable(t) => write!(f, "ELF type {t} is not ET_EXEC"),
            ElfError::BadProgramHeaders => f.write_str("bad program header size or count"),
            ElfError::ProgramHeadersOutsideFile => {
                f.write_str("program header table lies outside the file")
            }
            ElfError::NoLoadableSegments => f.write_str("no loadable (PT_LOAD) segments"),
            ElfError::NotHigherHalf { vaddr } => write!(
                f,
                "kernel is not a higher-half ELF: segment at {vaddr:#x} below {KERNEL_MIN_VADDR:#x}"
            ),
            ElfError::FileLargerThanMemory { vaddr } => {
                write!(f, "segment at {vaddr:#x} has p_filesz > p_memsz")
            }
            ElfError::SegmentOutsideFile { vaddr } => {
                write!(f, "segment at {vaddr:#x} extends past the end of the file")
            }
            ElfError::MisalignedSegment { vaddr, offset } => write!(
                f,
                "segment at {vaddr:#x} has file offset {offset:#x} with a different page offset"
            ),
            ElfError::AddressOverflow { vaddr } => {
                write!(f, "segment at {vaddr:#x} wraps around the address space")
            }
            ElfError::OverlappingSegments { first, second } => {
                write!(f, "segments at {first:#x} and {second:#x} overlap")
            }
            ElfError::SpanTooLarge { span } => {
                write!(f, "segments span {span:#x} bytes, more than {MAX_SPAN:#x}")
            }
            ElfError::EntryNotExecutable { entry } => {
                write!(f, "entry point {entry:#x} is not in an executable segment")
            }
            ElfError::DestinationTooSmall => f.write_str("destination smaller than the image"),
        }
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Validates `file` as a higher-half x86-64 kernel and plans its loading.
pub fn plan(file: &[u8]) -> Result<LoadPlan, ElfError> {
    if file.len() < EHDR_SIZE {
        return Err(ElfError::TooShort);
    }
    if file[..4] != *b"\x7fELF" {
        return Err(ElfError::BadMagic);
    }
    if file[4] != 2 {
        return Err(ElfError::NotElf64);
    }
    if file[5] != 1 {
        return Err(ElfError::NotLittleEndian);
    }
    let machine = u16_at(file, 18);
    if machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(machine));
    }
    match u16_at(file, 16) {
        ET_EXEC => {}
        ET_DYN => return Err(ElfError::Relocatable),
        other => return Err(ElfError::NotExecutable(other)),
    }
    let entry = u64_at(file, 24);
    let phoff = u64_at(file, 32);
    let phentsize = usize::from(u16_at(file, 54));
    let phnum = usize::from(u16_at(file, 56));
    if phentsize != PHDR_SIZE || phnum > MAX_PHDRS {
        return Err(ElfError::BadProgramHeaders);
    }
    let table_end = usize::try_from(phoff)
        .ok()
        .and_then(|start| start.checked_add(phnum * PHDR_SIZE))
        .filter(|&end| end <= file.len())
        .ok_or(ElfError::ProgramHeadersOutsideFile)?;
    let table_start = table_end - phnum * PHDR_SIZE;

    let mut segments = Vec::new();
    for i in 0..phnum {
        let ph = &file[table_start + i * PHDR_SIZE..table_start + (i + 1) * PHDR_SIZE];
        if u32_at(ph, 0) != PT_LOAD {
            continue;
        }
        let flags = u32_at(ph, 4);
        let segment = Segment {
            file_offset: u64_at(ph, 8),
            vaddr: u64_at(ph, 16),
            filesz: u64_at(ph, 32),
            memsz: u64_at(ph, 40),
            rights: Rights {
                read: flags & PF_R != 0,
                write: flags & PF_W != 0,
                execute: flags & PF_X != 0,
            },
        };
        if segment.memsz == 0 {
            continue;
        }
        check_segment(&segment, file.len() as u64)?;
        segments.push(segment);
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadableSegments);
    }
    segments.sort_by_key(|s| s.vaddr);
    for pair in segments.windows(2) {
        if pair[0].vaddr + pair[0].memsz > pair[1].vaddr {
            return Err(ElfError::OverlappingSegments {
                first: pair[0].vaddr,
                second: pair[1].vaddr,
            });
        }
    }
    let virt_base = page_down(segments[0].vaddr);
    let last = segments[segments.len() - 1];
    // Cannot overflow: check_segment bounded every end below 2^64 - PAGE_SIZE.
    let end = page_down(last.vaddr + last.memsz + PAGE_SIZE - 1);
    let span = end - virt_base;
    if span > MAX_SPAN {
        return Err(ElfError::SpanTooLarge { span });
    }
    let entry_ok = segments
        .iter()
        .any(|s| s.rights.execute && entry >= s.vaddr && entry < s.vaddr + s.memsz);
    if !entry_ok {
        return Err(ElfError::EntryNotExecutable { entry });
    }
    Ok(LoadPlan {
        virt_base,
        span,
        entry,
        segments,
    })
}

/// Checks one segment on its own.
fn check_segment(s: &Segment, file_len: u64) -> Result<(), ElfError> {
    let vaddr = s.vaddr;
    if vaddr < KERNEL_MIN_VADDR {
        return Err(ElfError::NotHigherHalf { vaddr });
    }
    if s.filesz > s.memsz {
        return Err(ElfError::FileLargerThanMemory { vaddr });
    }
    if vaddr
        .checked_add(s.memsz)
        .is_none_or(|end| end > u64::MAX - PAGE_SIZE)
    {
        return Err(ElfError::AddressOverflow { vaddr });
    }
    if s.file_offset
        .checked_add(s.filesz)
        .is_none_or(|end| end > file_len)
    {
        return Err(ElfError::SegmentOutsideFile { vaddr });
    }
    if vaddr % PAGE_SIZE != s.file_offset % PAGE_SIZE {
        return Err(ElfError::MisalignedSegment {
            vaddr,
            offset: s.file_offset,
        });
    }
    Ok(())
}

/// A run of consecutive kernel pages with the same rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRun {
    /// Virtual address of the first page.
    pub virt: u64,
    /// Offset of the first page from the image's start (`virt_base`).
    pub image_offset: u64,
    /// Number of 4 KiB pages.
    pub pages: u64,
    /// Rights: the union over segments sharing a page.
    pub rights: Rights,
}

impl LoadPlan {
    /// Copies every segment from `file` into `image` (the image's first byte
    /// is `virt_base`) and zeroes everything else, including `.bss`.
    pub fn load_into(&self, file: &[u8], image: &mut [u8]) -> Result<(), ElfError> {
        let span = usize::try_from(self.span).map_err(|_| ElfError::DestinationTooSmall)?;
        if image.len() < span {
            return Err(ElfError::DestinationTooSmall);
        }
        image[..span].fill(0);
        for s in &self.segments {
            // In range: plan() checked both against the file and the span.
            let dst = (s.vaddr - self.virt_base) as usize;
            let src = s.file_offset as usize;
            let len = s.filesz as usize;
            image[dst..dst + len].copy_from_slice(&file[src..src + len]);
        }
        Ok(())
    }

    /// The pages to map for the kernel, with rights per page: a page shared
    /// by two segments gets the union of their rights. Pages of the span
    /// that no segment touches are left out.
    pub fn page_runs(&self) -> Vec<PageRun> {
        let mut runs: Vec<PageRun> = Vec::new();
        for s in &self.segments {
            let first = page_down(s.vaddr);
            let end = page_down(s.vaddr + s.memsz + PAGE_SIZE - 1);
            let mut page = first;
            while page < end {
                match runs.last_mut() {
                    // The previous segment already covers this page.
                    Some(last) if last.virt + last.pages * PAGE_SIZE > page => {
                        if last.pages == 1 {
                            last.rights = union(last.rights, s.rights);
                        } else {
                            last.pages -= 1;
                            let shared = PageRun {
                                virt: page,
                                image_offset: page - self.virt_base,
                                pages: 1,
                                rights: union(last.rights, s.rights),
                            };
                            runs.push(shared);
                        }
                    }
                    Some(last)
                        if last.virt + last.pages * PAGE_SIZE == page
                            && last.rights == s.rights =>
                    {
                        last.pages += 1;
                    }
                    _ => runs.push(PageRun {
                        virt: page,
                        image_offset: page - self.virt_base,
                        pages: 1,
                        rights: s.rights,
                    }),
                }
                page += PAGE_SIZE;
            }
        }
        runs
    }
}

fn union(a: Rights, b: Rights) -> Rights {
    Rights {
        read: a.read || b.read,
        write: a.write || b.write,
        execute: a.execute || b.execute,
    }
}

#[cfg(test)]
pub(crate) mod tests;
