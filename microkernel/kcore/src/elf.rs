//! Checking a program image: a static ELF64 x86-64 executable whose
//! loadable segments fit a given address range.
//!
//! [`ElfImage::parse`] reads only the bytes it is given and checks every
//! header field the loader relies on (sizes and offsets in the file, no
//! overflow, segments inside the allowed range and not sharing pages, never
//! writable and executable at once, the entry point in an executable
//! segment). The kernel then copies each segment page by page following
//! [`Segment::pages`]; nothing here touches memory.

use core::fmt;
use core::ops::Range;

use crate::paging::PAGE_SIZE;

/// `e_type` of an executable.
pub const ET_EXEC: u16 = 2;
/// `e_machine` of x86-64.
pub const EM_X86_64: u16 = 62;
/// Program header type of a loadable segment.
pub const PT_LOAD: u32 = 1;
/// Program header type naming a dynamic linker.
pub const PT_INTERP: u32 = 3;
/// Segment flag: executable.
pub const PF_X: u32 = 1;
/// Segment flag: writable.
pub const PF_W: u32 = 2;
/// Size of the ELF64 file header.
pub const EHDR_SIZE: usize = 64;
/// Size of an ELF64 program header.
pub const PHDR_SIZE: usize = 56;
/// Most loadable segments a program may have.
pub const MAX_SEGMENTS: usize = 16;
/// Most program headers the parser reads.
pub const MAX_PHDRS: usize = 64;

/// Why an image is not a valid program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the ELF header.
    TooShort,
    /// No `\x7fELF` magic.
    BadMagic,
    /// Not 64-bit, little-endian, version 1.
    WrongClass,
    /// Not `ET_EXEC` (position-independent or relocatable images are not
    /// loaded).
    NotExecutable,
    /// Not x86-64.
    WrongMachine,
    /// Program header size or count is wrong, or the table is outside the
    /// file.
    BadProgramHeaders,
    /// A `PT_INTERP` segment: the program wants a dynamic linker.
    Interpreter,
    /// No loadable segment.
    NoSegments,
    /// More than [`MAX_SEGMENTS`] loadable segments.
    TooManySegments,
    /// Segment `index`'s file bytes are outside the file, or larger than its
    /// memory size.
    SegmentOutOfFile {
        /// Program header index.
        index: usize,
    },
    /// Segment `index` is outside the allowed address range.
    SegmentOutOfRange {
        /// Program header index.
        index: usize,
    },
    /// Segment `index` is writable and executable.
    WriteAndExecute {
        /// Program header index.
        index: usize,
    },
    /// Segment `index` shares a page with an earlier segment.
    Overlap {
        /// Program header index.
        index: usize,
    },
    /// The entry point is not in an executable segment.
    BadEntry(u64),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::TooShort => f.write_str("shorter than an ELF header"),
            ElfError::BadMagic => f.write_str("not an ELF file"),
            ElfError::WrongClass => f.write_str("not ELF64 little-endian version 1"),
            ElfError::NotExecutable => f.write_str("not a static executable (ET_EXEC)"),
            ElfError::WrongMachine => f.write_str("not an x86-64 program"),
            ElfError::BadProgramHeaders => f.write_str("bad program header table"),
            ElfError::Interpreter => f.write_str("asks for a dynamic linker"),
            ElfError::NoSegments => f.write_str("no loadable segment"),
            ElfError::TooManySegments => f.write_str("too many loadable segments"),
            ElfError::SegmentOutOfFile { index } => {
                write!(f, "segment {index}: file bytes outside the image")
            }
            ElfError::SegmentOutOfRange { index } => {
                write!(f, "segment {index}: outside the program range")
            }
            ElfError::WriteAndExecute { index } => {
                write!(f, "segment {index}: writable and executable")
            }
            ElfError::Overlap { index } => write!(f, "segment {index}: shares a page"),
            ElfError::BadEntry(e) => write!(f, "entry {e:#x} is not in an executable segment"),
        }
    }
}

/// One loadable segment, checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Bytes in memory (the tail past `filesz` is zero).
    pub memsz: u64,
    /// Offset of the file bytes in the image.
    pub offset: u64,
    /// Bytes taken from the file.
    pub filesz: u64,
    /// `PF_W`.
    pub writable: bool,
    /// `PF_X`.
    pub executable: bool,
}

/// What goes into one page of a segment: the file bytes
/// `file[src..src + len]` land at `dst` bytes into the page; the rest of the
/// page is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFill {
    /// The page's virtual address.
    pub page: u64,
    /// Offset in the page of the first file byte.
    pub dst: usize,
    /// Offset in the image of the first file byte.
    pub src: usize,
    /// How many file bytes (0: an all-zero page).
    pub len: usize,
}

impl Segment {
    /// The pages the segment covers, page-aligned.
    pub fn page_range(&self) -> Range<u64> {
        let start = self.vaddr / PAGE_SIZE * PAGE_SIZE;
        let end = (self.vaddr + self.memsz).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        start..end
    }

    /// Each page of the segment with the file bytes it holds.
    pub fn pages(&self) -> impl Iterator<Item = PageFill> + '_ {
        let file = self.vaddr..self.vaddr + self.filesz;
        self.page_range()
            .step_by(PAGE_SIZE as usize)
            .map(move |page| {
                let lo = file.start.max(page);
                let hi = file.end.min(page + PAGE_SIZE);
                if hi <= lo {
                    return PageFill {
                        page,
                        dst: 0,
                        src: 0,
                        len: 0,
                    };
                }
                PageFill {
                    page,
                    dst: (lo - page) as usize,
                    src: (self.offset + (lo - self.vaddr)) as usize,
                    len: (hi - lo) as usize,
                }
            })
    }
}

/// A checked program image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage {
    /// The entry point.
    pub entry: u64,
    segments: [Segment; MAX_SEGMENTS],
    count: usize,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

impl ElfImage {
    /// Checks `image` as a program whose segments must lie in `allowed`.
    pub fn parse(image: &[u8], allowed: Range<u64>) -> Result<ElfImage, ElfError> {
        let header = image.get(..EHDR_SIZE).ok_or(ElfError::TooShort)?;
        if header[..4] != *b"\x7fELF" {
            return Err(ElfError::BadMagic);
        }
        // EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian), EI_VERSION 1.
        if header[4] != 2 || header[5] != 1 || header[6] != 1 || u32_at(header, 20) != 1 {
            return Err(ElfError::WrongClass);
        }
        if u16_at(header, 16) != ET_EXEC {
            return Err(ElfError::NotExecutable);
        }
        if u16_at(header, 18) != EM_X86_64 {
            return Err(ElfError::WrongMachine);
        }
        let entry = u64_at(header, 24);
        let phoff = u64_at(header, 32);
        let phentsize = usize::from(u16_at(header, 54));
        let phnum = usize::from(u16_at(header, 56));
        if phentsize != PHDR_SIZE || phnum == 0 || phnum > MAX_PHDRS {
            return Err(ElfError::BadProgramHeaders);
        }
        let table = usize::try_from(phoff)
            .ok()
            .and_then(|start| image.get(start..start.checked_add(phnum * PHDR_SIZE)?))
            .ok_or(ElfError::BadProgramHeaders)?;

        let mut out = ElfImage {
            entry,
            segments: [Segment::default(); MAX_SEGMENTS],
            count: 0,
        };
        for (index, ph) in table.chunks_exact(PHDR_SIZE).enumerate() {
            match u32_at(ph, 0) {
                PT_LOAD => {}
                PT_INTERP => return Err(ElfError::Interpreter),
                _ => continue,
            }
            let flags = u32_at(ph, 4);
            let seg = Segment {
                offset: u64_at(ph, 8),
                vaddr: u64_at(ph, 16),
                filesz: u64_at(ph, 32),
                memsz: u64_at(ph, 40),
                writable: flags & PF_W != 0,
                executable: flags & PF_X != 0,
            };
            if seg.memsz == 0 {
                continue;
            }
            out.push_checked(index, seg, image.len() as u64, &allowed)?;
        }
        if out.count == 0 {
            return Err(ElfError::NoSegments);
        }
        let entry_ok = out
            .segments()
            .iter()
            .any(|s| s.executable && (s.vaddr..s.vaddr + s.memsz).contains(&entry));
        if !entry_ok {
            return Err(ElfError::BadEntry(entry));
        }
        Ok(out)
    }

    fn push_checked(
        &mut self,
        index: usize,
        seg: Segment,
        file_len: u64,
        allowed: &Range<u64>,
    ) -> Result<(), ElfError> {
        let in_file = seg.filesz <= seg.memsz
            && seg
                .offset
                .checked_add(seg.filesz)
                .is_some_and(|end| end <= file_len);
        if !in_file {
            return Err(ElfError::SegmentOutOfFile { index });
        }
        let in_range = seg.vaddr >= allowed.start
            && seg
                .vaddr
                .checked_add(seg.memsz)
                .is_some_and(|end| end <= allowed.end);
        if !in_range {
            return Err(ElfError::SegmentOutOfRange { index });
        }
        if seg.writable && seg.executable {
            return Err(ElfError::WriteAndExecute { index });
        }
        let pages = seg.page_range();
        if self
            .segments()
            .iter()
            .any(|s| s.page_range().start < pages.end && pages.start < s.page_range().end)
        {
            return Err(ElfError::Overlap { index });
        }
        let slot = self
            .segments
            .get_mut(self.count)
            .ok_or(ElfError::TooManySegments)?;
        *slot = seg;
        self.count += 1;
        Ok(())
    }

    /// The loadable segments, in header order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.count]
    }
}

#[cfg(test)]
mod tests;
