//! Checking a program image: a static ELF64 x86-64 executable whose
//! loadable segments fit a given address range.
//!
//! [`ElfImage::parse`] decodes the file with the `elf64` crate (shared with
//! the boot loader: header fields, the program-header table, each segment's
//! bytes inside the file, no overflow) and adds the kernel's policy for
//! programs: segments inside the allowed range and not sharing pages, never
//! writable and executable at once, the entry point in an executable
//! segment. The kernel then copies each segment page by page following
//! [`Segment::pages`]; nothing here touches memory.

use core::fmt;
use core::ops::Range;

use crate::paging::PAGE_SIZE;

pub use elf64::{PF_W, PF_X, PT_INTERP, PT_LOAD};

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

impl From<elf64::ElfError> for ElfError {
    fn from(e: elf64::ElfError) -> ElfError {
        use elf64::ElfError as E;
        match e {
            E::TooShort => ElfError::TooShort,
            E::BadMagic => ElfError::BadMagic,
            E::NotElf64 | E::NotLittleEndian | E::BadVersion => ElfError::WrongClass,
            E::WrongMachine(_) => ElfError::WrongMachine,
            E::Relocatable | E::NotExecutable(_) => ElfError::NotExecutable,
            E::BadProgramHeaders | E::ProgramHeadersOutsideFile => ElfError::BadProgramHeaders,
            E::Interpreter => ElfError::Interpreter,
            E::FileLargerThanMemory { index, .. } | E::SegmentOutsideFile { index, .. } => {
                ElfError::SegmentOutOfFile { index }
            }
            E::AddressOverflow { index, .. } => ElfError::SegmentOutOfRange { index },
        }
    }
}

impl ElfImage {
    /// Checks `image` as a program whose segments must lie in `allowed`.
    pub fn parse(image: &[u8], allowed: Range<u64>) -> Result<ElfImage, ElfError> {
        let elf = elf64::Elf::parse(image, MAX_PHDRS)?;
        let mut out = ElfImage {
            entry: elf.entry,
            segments: [Segment::default(); MAX_SEGMENTS],
            count: 0,
        };
        for seg in elf.segments() {
            let seg = seg?;
            let segment = Segment {
                offset: seg.offset,
                vaddr: seg.vaddr,
                filesz: seg.filesz,
                memsz: seg.memsz,
                writable: seg.writable(),
                executable: seg.executable(),
            };
            out.push_checked(seg.index, segment, &allowed)?;
        }
        if out.count == 0 {
            return Err(ElfError::NoSegments);
        }
        let entry = elf.entry;
        let entry_ok = out
            .segments()
            .iter()
            .any(|s| s.executable && (s.vaddr..s.vaddr + s.memsz).contains(&entry));
        if !entry_ok {
            return Err(ElfError::BadEntry(entry));
        }
        Ok(out)
    }

    /// Adds a segment `elf64` found consistent with the file, after the
    /// kernel's own checks.
    fn push_checked(
        &mut self,
        index: usize,
        seg: Segment,
        allowed: &Range<u64>,
    ) -> Result<(), ElfError> {
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
