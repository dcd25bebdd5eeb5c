//! ELF64 load planning for the kernel: validate the file and describe where
//! each `PT_LOAD` segment goes.
//!
//! The file is decoded by the `elf64` crate, which the kernel also uses for
//! programs (header fields, the program-header table, each segment's bytes
//! inside the file); this module adds the boot protocol's policy — a
//! higher-half kernel, page-congruent file offsets, no overlap, a bounded
//! span — and turns the segments into a load plan. Every rejection is a
//! typed error with the numbers a developer needs.

use alloc::vec::Vec;
use core::fmt;

use crate::protocol::KERNEL_MIN_VADDR;

/// Page size used for alignment checks.
pub const PAGE_SIZE: u64 = 4096;
/// Largest virtual span a kernel may occupy.
pub const MAX_SPAN: u64 = 1 << 30;
/// Most program headers accepted.
const MAX_PHDRS: usize = 256;

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
    /// Not a well-formed static ELF64 x86-64 file (see `elf64`).
    Format(elf64::ElfError),
    /// No `PT_LOAD` segment with a non-zero size.
    NoLoadableSegments,
    /// A segment below the higher half.
    NotHigherHalf {
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
            ElfError::Format(e) => write!(f, "kernel: {e}"),
            ElfError::NoLoadableSegments => f.write_str("no loadable (PT_LOAD) segments"),
            ElfError::NotHigherHalf { vaddr } => write!(
                f,
                "kernel is not a higher-half ELF: segment at {vaddr:#x} below {KERNEL_MIN_VADDR:#x}"
            ),
            ElfError::MisalignedSegment { vaddr, offset } => write!(
                f,
                "segment at {vaddr:#x} has file offset {offset:#x} with a different page offset"
            ),
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

impl From<elf64::ElfError> for ElfError {
    fn from(e: elf64::ElfError) -> ElfError {
        ElfError::Format(e)
    }
}

const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Validates `file` as a higher-half x86-64 kernel and plans its loading.
pub fn plan(file: &[u8]) -> Result<LoadPlan, ElfError> {
    let elf = elf64::Elf::parse(file, MAX_PHDRS)?;
    let entry = elf.entry;
    let mut segments = Vec::new();
    for seg in elf.segments() {
        let seg = seg?;
        let segment = Segment {
            file_offset: seg.offset,
            vaddr: seg.vaddr,
            filesz: seg.filesz,
            memsz: seg.memsz,
            rights: Rights {
                read: seg.readable(),
                write: seg.writable(),
                execute: seg.executable(),
            },
        };
        check_segment(&segment)?;
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

/// The boot protocol's rules for one segment (`elf64` has already checked
/// it against the file and for overflow).
fn check_segment(s: &Segment) -> Result<(), ElfError> {
    let vaddr = s.vaddr;
    if vaddr < KERNEL_MIN_VADDR {
        return Err(ElfError::NotHigherHalf { vaddr });
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
