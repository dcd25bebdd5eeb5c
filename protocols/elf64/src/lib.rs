//! Decoding static ELF64 x86-64 executables, shared by the two programs that
//! load them: the boot loader (the kernel, in the higher half) and the
//! kernel (user programs, in the lower half).
//!
//! This crate reads the file header and the program headers and checks what
//! every loader needs: magic, class, byte order, version, machine, type, the
//! program-header table inside the file, and for each loadable segment that
//! its file bytes lie inside the file, that it holds no more file bytes than
//! memory bytes, and that its end does not overflow. Where a segment may go
//! (higher half, user range), whether writable code is allowed and how
//! segments may share pages are the caller's policy, checked on the
//! [`Segment`]s this crate yields. Nothing here panics on any input.

#![cfg_attr(not(test), no_std)]

use core::fmt;

/// `e_type` of a static executable.
pub const ET_EXEC: u16 = 2;
/// `e_type` of a position-independent (relocatable) image.
pub const ET_DYN: u16 = 3;
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
/// Segment flag: readable.
pub const PF_R: u32 = 4;
/// Size of the ELF64 file header.
pub const EHDR_SIZE: usize = 64;
/// Size of an ELF64 program header.
pub const PHDR_SIZE: usize = 56;

/// Why a file is not a static ELF64 x86-64 executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the ELF header.
    TooShort,
    /// No `\x7fELF` magic.
    BadMagic,
    /// Not ELFCLASS64.
    NotElf64,
    /// Not little-endian.
    NotLittleEndian,
    /// The identification or header version is not 1.
    BadVersion,
    /// `e_machine` is not x86-64.
    WrongMachine(u16),
    /// `ET_DYN`: a position-independent image, which nothing here relocates.
    Relocatable,
    /// Neither `ET_EXEC` nor `ET_DYN`.
    NotExecutable(u16),
    /// `e_phentsize` is not 56, or more headers than the caller allows.
    BadProgramHeaders,
    /// The program header table lies outside the file.
    ProgramHeadersOutsideFile,
    /// A `PT_INTERP` header: the image wants a dynamic linker.
    Interpreter,
    /// A segment holds more file bytes than memory bytes.
    FileLargerThanMemory {
        /// Its program header's index.
        index: usize,
        /// The segment's address.
        vaddr: u64,
    },
    /// A segment's file bytes extend past the end of the file.
    SegmentOutsideFile {
        /// Its program header's index.
        index: usize,
        /// The segment's address.
        vaddr: u64,
    },
    /// A segment's end wraps around the address space.
    AddressOverflow {
        /// Its program header's index.
        index: usize,
        /// The segment's address.
        vaddr: u64,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::TooShort => f.write_str("file is too short to be an ELF"),
            ElfError::BadMagic => f.write_str("not an ELF file (bad magic)"),
            ElfError::NotElf64 => f.write_str("not a 64-bit ELF"),
            ElfError::NotLittleEndian => f.write_str("not a little-endian ELF"),
            ElfError::BadVersion => f.write_str("ELF version is not 1"),
            ElfError::WrongMachine(m) => write!(f, "ELF machine {m} is not x86-64 (62)"),
            ElfError::Relocatable => f.write_str(
                "a relocatable (ET_DYN/PIE) ELF; link it as ET_EXEC at its final address",
            ),
            ElfError::NotExecutable(t) => write!(f, "ELF type {t} is not ET_EXEC"),
            ElfError::BadProgramHeaders => f.write_str("bad program header size or count"),
            ElfError::ProgramHeadersOutsideFile => {
                f.write_str("program header table lies outside the file")
            }
            ElfError::Interpreter => f.write_str("asks for a dynamic linker (PT_INTERP)"),
            ElfError::FileLargerThanMemory { vaddr, .. } => {
                write!(f, "segment at {vaddr:#x} has p_filesz > p_memsz")
            }
            ElfError::SegmentOutsideFile { vaddr, .. } => {
                write!(f, "segment at {vaddr:#x} extends past the end of the file")
            }
            ElfError::AddressOverflow { vaddr, .. } => {
                write!(f, "segment at {vaddr:#x} wraps around the address space")
            }
        }
    }
}

/// One loadable segment whose numbers are consistent with the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Index of its program header.
    pub index: usize,
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Bytes in memory (the tail past `filesz` is zero).
    pub memsz: u64,
    /// Offset of the file bytes in the file.
    pub offset: u64,
    /// Bytes taken from the file.
    pub filesz: u64,
    /// `PF_*` flags.
    pub flags: u32,
}

impl Segment {
    /// First address past the segment (checked not to overflow).
    pub const fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }

    /// `PF_R`.
    pub const fn readable(&self) -> bool {
        self.flags & PF_R != 0
    }

    /// `PF_W`.
    pub const fn writable(&self) -> bool {
        self.flags & PF_W != 0
    }

    /// `PF_X`.
    pub const fn executable(&self) -> bool {
        self.flags & PF_X != 0
    }
}

/// A checked file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elf<'a> {
    file: &'a [u8],
    /// The entry point.
    pub entry: u64,
    table: usize,
    count: usize,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | u64::from(u32_at(b, at + 4)) << 32
}

impl<'a> Elf<'a> {
    /// Checks `file`'s header and program-header table (at most
    /// `max_phdrs` entries).
    pub fn parse(file: &'a [u8], max_phdrs: usize) -> Result<Elf<'a>, ElfError> {
        let h = file.get(..EHDR_SIZE).ok_or(ElfError::TooShort)?;
        if h[..4] != *b"\x7fELF" {
            return Err(ElfError::BadMagic);
        }
        if h[4] != 2 {
            return Err(ElfError::NotElf64);
        }
        if h[5] != 1 {
            return Err(ElfError::NotLittleEndian);
        }
        if h[6] != 1 || u32_at(h, 20) != 1 {
            return Err(ElfError::BadVersion);
        }
        let machine = u16_at(h, 18);
        if machine != EM_X86_64 {
            return Err(ElfError::WrongMachine(machine));
        }
        match u16_at(h, 16) {
            ET_EXEC => {}
            ET_DYN => return Err(ElfError::Relocatable),
            other => return Err(ElfError::NotExecutable(other)),
        }
        let count = usize::from(u16_at(h, 56));
        if usize::from(u16_at(h, 54)) != PHDR_SIZE || count > max_phdrs {
            return Err(ElfError::BadProgramHeaders);
        }
        let table = usize::try_from(u64_at(h, 32))
            .ok()
            .filter(|&start| {
                start
                    .checked_add(count * PHDR_SIZE)
                    .is_some_and(|end| end <= file.len())
            })
            .ok_or(ElfError::ProgramHeadersOutsideFile)?;
        Ok(Elf {
            file,
            entry: u64_at(h, 24),
            table,
            count,
        })
    }

    /// The loadable segments with a non-zero memory size, in header order,
    /// each checked against the file; a `PT_INTERP` header is an error.
    pub fn segments(&self) -> impl Iterator<Item = Result<Segment, ElfError>> + 'a {
        let (file, table) = (self.file, self.table);
        (0..self.count).filter_map(move |index| {
            let ph = &file[table + index * PHDR_SIZE..table + (index + 1) * PHDR_SIZE];
            match u32_at(ph, 0) {
                PT_LOAD => {}
                PT_INTERP => return Some(Err(ElfError::Interpreter)),
                _ => return None,
            }
            let s = Segment {
                index,
                flags: u32_at(ph, 4),
                offset: u64_at(ph, 8),
                vaddr: u64_at(ph, 16),
                filesz: u64_at(ph, 32),
                memsz: u64_at(ph, 40),
            };
            (s.memsz != 0).then(|| check(s, file.len() as u64))
        })
    }
}

fn check(s: Segment, file_len: u64) -> Result<Segment, ElfError> {
    let vaddr = s.vaddr;
    if s.filesz > s.memsz {
        return Err(ElfError::FileLargerThanMemory {
            index: s.index,
            vaddr,
        });
    }
    if vaddr
        .checked_add(s.memsz)
        .is_none_or(|end| end > u64::MAX - 4096)
    {
        return Err(ElfError::AddressOverflow {
            index: s.index,
            vaddr,
        });
    }
    if s.offset
        .checked_add(s.filesz)
        .is_none_or(|end| end > file_len)
    {
        return Err(ElfError::SegmentOutsideFile {
            index: s.index,
            vaddr,
        });
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
