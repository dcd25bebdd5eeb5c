//! How the checker's findings read: one line each, naming the entry, page
//! or field and what was expected (the shell's `fsck` and `pmem-fsck`
//! print these).

use core::fmt;

use crate::dir::EntryProblem;
use crate::fsck::{Finding, HeaderProblem, Report};
use crate::layout::SbProblem;
use crate::log::LogProblem;

impl fmt::Display for SbProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SbProblem::RegionTooSmall(n) => write!(f, "region of {n} bytes is too small"),
            SbProblem::BadMagic(m) => write!(f, "magic is {m:#018x}, expected \"PRNSTORE\""),
            SbProblem::BadVersion(v) => write!(f, "version {v}, expected 1"),
            SbProblem::BadPageSize(p) => write!(f, "page size {p}, expected 4096"),
            SbProblem::BadChecksum { stored, computed } => {
                write!(f, "checksum {stored:#018x}, bytes sum to {computed:#018x}")
            }
            SbProblem::ReservedNotZero(off) => write!(f, "reserved byte {off} is not zero"),
            SbProblem::LargerThanRegion { recorded, region } => {
                write!(f, "size {recorded} is larger than the region ({region})")
            }
            SbProblem::NoGeometry(e) => write!(f, "size and directory admit no layout: {e:?}"),
            SbProblem::Geometry {
                field,
                found,
                expected,
            } => write!(f, "{field:?} is {found:#x}, the size implies {expected:#x}"),
        }
    }
}

impl fmt::Display for LogProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogProblem::Words { commit, applied } => {
                write!(
                    f,
                    "commit word {commit} and applied word {applied} are not n+1/n or n/n"
                )
            }
            LogProblem::WrongSeq { commit, header } => {
                write!(f, "transaction {commit} committed, header holds {header}")
            }
            LogProblem::BodyTooLong(n) => write!(f, "body of {n} bytes does not fit the log"),
            LogProblem::BadChecksum { stored, computed } => {
                write!(
                    f,
                    "checksum {stored:#018x}, header and body sum to {computed:#018x}"
                )
            }
            LogProblem::BadRecord { index, target, len } => write!(
                f,
                "record {index} ({len} bytes at {target:#x}) is outside the body or the metadata"
            ),
        }
    }
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryProblem::BadState(s) => write!(f, "state {s:#010x}, expected 0 or \"PRDE\""),
            EntryProblem::FreeNotZero(off) => write!(f, "free, but byte {off} is not zero"),
            EntryProblem::BadChecksum { stored, computed } => {
                write!(f, "checksum {stored:#018x}, bytes sum to {computed:#018x}")
            }
            EntryProblem::ExtentCount(n) => write!(f, "extent count {n}, expected 1..=24"),
            EntryProblem::MetaPages(n) => write!(f, "metadata pages {n}, expected 1..=4096"),
            EntryProblem::NilId => write!(f, "nil object ID"),
            EntryProblem::UnknownPerms(p) => write!(f, "permissions {p:#x} have undefined bits"),
            EntryProblem::BadFlags(x) => {
                write!(f, "flags {x:#x}: undefined bits or PERSISTENT missing")
            }
            EntryProblem::SizeTooLarge(s) => write!(f, "size {s} is past the data area"),
            EntryProblem::EmptyExtent(i) => write!(f, "extent {i} is empty"),
            EntryProblem::ExtentOutOfRange { extent, start, len } => {
                write!(
                    f,
                    "extent {extent} (pages {start}+{len}) is past the data pages"
                )
            }
            EntryProblem::UnusedExtentNotZero(i) => write!(f, "unused extent slot {i} is not zero"),
            EntryProblem::PageCount { expected, found } => {
                write!(
                    f,
                    "extents hold {found} pages, size and metadata need {expected}"
                )
            }
        }
    }
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderProblem::Decode(e) => write!(f, "does not decode: {e:?}"),
            HeaderProblem::Key { entry, header } => write!(f, "key {header}, entry says {entry}"),
            HeaderProblem::Perms { entry, header } => {
                write!(f, "permissions {header:?}, entry says {entry:?}")
            }
            HeaderProblem::Flags { entry, header } => {
                write!(f, "flags {header:?}, entry says {entry:?}")
            }
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::NoSuperblock([a, b]) => {
                write!(f, "superblock: no valid copy (A: {a}; B: {b})")
            }
            Finding::Log(p) => write!(f, "log: {p}"),
            Finding::Entry { index, problem } => write!(f, "directory entry {index}: {problem}"),
            Finding::DuplicateId { id, first, second } => {
                write!(
                    f,
                    "directory entries {first} and {second} both hold object {id}"
                )
            }
            Finding::SharedPage {
                page,
                first,
                second,
            } => write!(f, "data page {page} is in entries {first} and {second}"),
            Finding::Leaked { first, count } => {
                write!(
                    f,
                    "data pages {first}..{} are marked used but owned by no entry",
                    first + count
                )
            }
            Finding::Unmarked { page, entry } => {
                write!(f, "data page {page} of entry {entry} is marked free")
            }
            Finding::BitmapTail { word, bits } => {
                write!(
                    f,
                    "bitmap word {word} has bits {bits:#x} past the last data page"
                )
            }
            Finding::Header { index, id, problem } => {
                write!(f, "object {id} (entry {index}) header: {problem}")
            }
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        if self.omitted > 0 {
            writeln!(f, "... and {} more", self.omitted)?;
        }
        if let Some(g) = self.generation {
            write!(f, "generation {g}, ")?;
        }
        if let Some(seq) = self.pending {
            write!(f, "transaction {seq} pending (recovery replays it), ")?;
        }
        write!(
            f,
            "{} objects, {}/{} data pages used: {}",
            self.objects,
            self.used_pages,
            self.data_pages,
            if self.is_clean() {
                "clean"
            } else {
                "NOT CLEAN"
            }
        )
    }
}
