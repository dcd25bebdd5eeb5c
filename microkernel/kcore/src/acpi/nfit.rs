//! The NVDIMM Firmware Interface Table: where persistent memory lives.
//!
//! Only System Physical Address (SPA) Range structures (type 0) matter here;
//! those whose range-type GUID is the persistent-memory GUID are the pmem
//! ranges. Every other structure type is skipped by its length.

use super::sdt::{Sdt, Signature};
use super::{AcpiError, PhysRead, le_u16, le_u32, le_u64};

/// The NFIT's signature.
pub const SIGNATURE: Signature = Signature(*b"NFIT");

/// Offset of the first structure (header plus 4 reserved bytes).
pub const FIRST_STRUCTURE: u32 = 40;

/// Structure type of an SPA Range structure.
pub const SPA_RANGE_TYPE: u16 = 0;

/// Minimum length of an SPA Range structure (ACPI 6.0; 6.3 adds 8 bytes).
pub const SPA_RANGE_MIN_LEN: u16 = 56;

/// `{66F0D379-B4F3-4074-AC43-0D3318B78CDB}`, the persistent-memory range
/// type, in its on-table (mixed-endian) byte order.
pub const PMEM_GUID: [u8; 16] = [
    0x79, 0xd3, 0xf0, 0x66, 0xf3, 0xb4, 0x74, 0x40, 0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb,
];

/// A validated NFIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nfit {
    sdt: Sdt,
}

/// One SPA Range structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaRange {
    /// SPA range structure index (referenced by region mappings).
    pub index: u16,
    /// Flags.
    pub flags: u16,
    /// Proximity domain.
    pub proximity_domain: u32,
    /// Address range type GUID (on-table byte order).
    pub range_type: [u8; 16],
    /// Physical base.
    pub base: u64,
    /// Length in bytes.
    pub length: u64,
    /// Memory mapping attributes (EFI memory attribute bits).
    pub mapping_attributes: u64,
}

impl SpaRange {
    /// Whether this is byte-addressable persistent memory.
    pub fn is_persistent_memory(&self) -> bool {
        self.range_type == PMEM_GUID
    }
}

impl Nfit {
    /// Wraps a validated table, checking it is an NFIT long enough for its
    /// fixed part.
    pub fn new(sdt: Sdt) -> Result<Nfit, AcpiError> {
        let signature = sdt.header.signature;
        if signature != SIGNATURE {
            return Err(AcpiError::UnexpectedSignature {
                expected: SIGNATURE,
                found: signature,
            });
        }
        if sdt.length() < FIRST_STRUCTURE {
            return Err(AcpiError::TableLength {
                signature,
                length: sdt.length(),
            });
        }
        Ok(Nfit { sdt })
    }

    /// The table.
    pub fn sdt(&self) -> &Sdt {
        &self.sdt
    }

    /// Every SPA range, in table order. The iterator stops after the first
    /// error it yields.
    pub fn spa_ranges<'r, R: PhysRead + ?Sized>(&self, reader: &'r mut R) -> SpaRanges<'r, R> {
        SpaRanges {
            sdt: self.sdt,
            reader,
            offset: FIRST_STRUCTURE,
            failed: false,
        }
    }

    /// The persistent-memory SPA ranges, in table order (errors included).
    pub fn pmem_ranges<'r, R: PhysRead + ?Sized>(
        &self,
        reader: &'r mut R,
    ) -> impl Iterator<Item = Result<SpaRange, AcpiError>> + use<'r, R> {
        self.spa_ranges(reader)
            .filter(|r| r.as_ref().map_or(true, SpaRange::is_persistent_memory))
    }
}

/// Iterator over an NFIT's SPA Range structures.
pub struct SpaRanges<'r, R: ?Sized> {
    sdt: Sdt,
    reader: &'r mut R,
    offset: u32,
    failed: bool,
}

impl<R: PhysRead + ?Sized> SpaRanges<'_, R> {
    /// Reads structures from `self.offset` until the next SPA range.
    fn next_range(&mut self) -> Result<Option<SpaRange>, AcpiError> {
        let table_length = self.sdt.length();
        while self.offset < table_length {
            let offset = self.offset;
            let mut head = [0u8; 4];
            self.sdt.read_at(self.reader, offset, &mut head)?;
            let kind = le_u16(&head, 0);
            let length = le_u16(&head, 2);
            if length < 4 {
                return Err(AcpiError::NfitStructureLength {
                    offset,
                    kind,
                    length,
                });
            }
            let end = offset + u32::from(length);
            if end > table_length {
                return Err(AcpiError::NfitStructurePastEnd {
                    offset,
                    length,
                    table_length,
                });
            }
            self.offset = end;
            if kind != SPA_RANGE_TYPE {
                continue;
            }
            if length < SPA_RANGE_MIN_LEN {
                return Err(AcpiError::NfitStructureLength {
                    offset,
                    kind,
                    length,
                });
            }
            let mut b = [0u8; SPA_RANGE_MIN_LEN as usize];
            self.sdt.read_at(self.reader, offset, &mut b)?;
            let mut range_type = [0u8; 16];
            range_type.copy_from_slice(&b[16..32]);
            let range = SpaRange {
                index: le_u16(&b, 4),
                flags: le_u16(&b, 6),
                proximity_domain: le_u32(&b, 12),
                range_type,
                base: le_u64(&b, 32),
                length: le_u64(&b, 40),
                mapping_attributes: le_u64(&b, 48),
            };
            if range.base.checked_add(range.length).is_none() {
                return Err(AcpiError::SpaRangeOverflow { offset });
            }
            return Ok(Some(range));
        }
        Ok(None)
    }
}

impl<R: PhysRead + ?Sized> Iterator for SpaRanges<'_, R> {
    type Item = Result<SpaRange, AcpiError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.next_range();
        self.failed = result.is_err();
        result.transpose()
    }
}
