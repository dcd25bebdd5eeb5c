//! What can go wrong while reading ACPI tables.

use core::fmt;

use super::sdt::Signature;
use crate::paging::MapError;

/// Why physical memory could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFault {
    /// The range is not memory this reader can reach.
    OutOfRange,
    /// The range could not be mapped.
    Map(MapError),
}

impl fmt::Display for ReadFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFault::OutOfRange => f.write_str("not reachable memory"),
            ReadFault::Map(err) => write!(f, "cannot map: {err}"),
        }
    }
}

/// A corrupt or unreachable ACPI structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// Reading `len` bytes at `phys` failed.
    Read {
        /// Physical address.
        phys: u64,
        /// Bytes asked for.
        len: usize,
        /// Why.
        fault: ReadFault,
    },
    /// A range wraps around the physical address space.
    AddressOverflow {
        /// Start.
        phys: u64,
        /// Length.
        len: u64,
    },
    /// The RSDP does not start with `"RSD PTR "`.
    RsdpSignature,
    /// The RSDP's ACPI 1.0 checksum (first 20 bytes) is wrong.
    RsdpChecksum,
    /// The RSDP's extended checksum (the whole structure) is wrong.
    RsdpExtendedChecksum,
    /// The RSDP's length field is impossible.
    RsdpLength(u32),
    /// The RSDP names neither an XSDT nor an RSDT.
    NoRootTable,
    /// A table's length is shorter than its header or implausibly large.
    TableLength {
        /// The table.
        signature: Signature,
        /// Its length field.
        length: u32,
    },
    /// A table's checksum is wrong.
    TableChecksum {
        /// The table.
        signature: Signature,
    },
    /// A table was not the one its pointer promised.
    UnexpectedSignature {
        /// What the pointer promised.
        expected: Signature,
        /// What was there.
        found: Signature,
    },
    /// The XSDT/RSDT body is not a whole number of entries.
    RootEntriesMisaligned {
        /// XSDT or RSDT.
        signature: Signature,
        /// Its length field.
        length: u32,
    },
    /// A read inside a table would pass its end.
    OutOfTable {
        /// The table.
        signature: Signature,
        /// Offset of the read.
        offset: u32,
        /// Bytes asked for.
        len: usize,
        /// The table's length.
        length: u32,
    },
    /// An NFIT structure's length is too short for its header or its type.
    NfitStructureLength {
        /// Offset in the NFIT.
        offset: u32,
        /// Structure type.
        kind: u16,
        /// Its length field.
        length: u16,
    },
    /// An NFIT structure runs past the end of the table.
    NfitStructurePastEnd {
        /// Offset in the NFIT.
        offset: u32,
        /// Its length field.
        length: u16,
        /// The NFIT's length.
        table_length: u32,
    },
    /// An SPA range's base + length wraps around.
    SpaRangeOverflow {
        /// Offset in the NFIT.
        offset: u32,
    },
    /// A MADT structure's length is too short for its type or runs past
    /// the table end.
    MadtStructure {
        /// Offset in the MADT.
        offset: u32,
        /// Structure type.
        kind: u8,
        /// Its length field.
        length: u8,
    },
}

impl fmt::Display for AcpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AcpiError::Read { phys, len, fault } => {
                write!(f, "reading {len} bytes at {phys:#x}: {fault}")
            }
            AcpiError::AddressOverflow { phys, len } => {
                write!(f, "range {phys:#x}+{len:#x} wraps around")
            }
            AcpiError::RsdpSignature => f.write_str("RSDP signature is not \"RSD PTR \""),
            AcpiError::RsdpChecksum => f.write_str("RSDP checksum mismatch"),
            AcpiError::RsdpExtendedChecksum => f.write_str("RSDP extended checksum mismatch"),
            AcpiError::RsdpLength(len) => write!(f, "RSDP length {len} is invalid"),
            AcpiError::NoRootTable => f.write_str("RSDP names neither XSDT nor RSDT"),
            AcpiError::TableLength { signature, length } => {
                write!(f, "{signature} length {length} is invalid")
            }
            AcpiError::TableChecksum { signature } => write!(f, "{signature} checksum mismatch"),
            AcpiError::UnexpectedSignature { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            AcpiError::RootEntriesMisaligned { signature, length } => {
                write!(
                    f,
                    "{signature} length {length} is not a whole number of entries"
                )
            }
            AcpiError::OutOfTable {
                signature,
                offset,
                len,
                length,
            } => write!(
                f,
                "{signature}: {len} bytes at offset {offset} pass its end ({length})"
            ),
            AcpiError::NfitStructureLength {
                offset,
                kind,
                length,
            } => write!(
                f,
                "NFIT structure type {kind} at offset {offset} has bad length {length}"
            ),
            AcpiError::NfitStructurePastEnd {
                offset,
                length,
                table_length,
            } => write!(
                f,
                "NFIT structure at offset {offset} (length {length}) passes the table end ({table_length})"
            ),
            AcpiError::SpaRangeOverflow { offset } => {
                write!(f, "NFIT SPA range at offset {offset} wraps around")
            }
            AcpiError::MadtStructure {
                offset,
                kind,
                length,
            } => write!(
                f,
                "MADT structure type {kind} at offset {offset} has bad length {length}"
            ),
        }
    }
}
