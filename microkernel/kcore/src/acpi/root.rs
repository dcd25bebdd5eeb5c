//! The XSDT (64-bit entries) and RSDT (32-bit entries): the list of tables.

use core::fmt;

use super::sdt::{SDT_HEADER_LEN, Sdt, Signature};
use super::{AcpiError, PhysRead};

/// Which root table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootKind {
    /// 64-bit table pointers (ACPI 2.0+).
    Xsdt,
    /// 32-bit table pointers (ACPI 1.0).
    Rsdt,
}

impl RootKind {
    /// The table signature.
    pub const fn signature(self) -> Signature {
        match self {
            RootKind::Xsdt => Signature(*b"XSDT"),
            RootKind::Rsdt => Signature(*b"RSDT"),
        }
    }

    /// Bytes per entry.
    pub const fn entry_len(self) -> u32 {
        match self {
            RootKind::Xsdt => 8,
            RootKind::Rsdt => 4,
        }
    }
}

impl fmt::Display for RootKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.signature(), f)
    }
}

/// A validated XSDT or RSDT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RootTable {
    /// Which one.
    pub kind: RootKind,
    /// The table.
    pub sdt: Sdt,
}

impl RootTable {
    /// Loads the root table at `phys`, checking signature, checksum and that
    /// the body is a whole number of entries.
    pub fn load<R: PhysRead + ?Sized>(
        reader: &mut R,
        phys: u64,
        kind: RootKind,
    ) -> Result<RootTable, AcpiError> {
        let sdt = Sdt::load_expecting(reader, phys, kind.signature())?;
        if !(sdt.length() - SDT_HEADER_LEN).is_multiple_of(kind.entry_len()) {
            return Err(AcpiError::RootEntriesMisaligned {
                signature: kind.signature(),
                length: sdt.length(),
            });
        }
        Ok(RootTable { kind, sdt })
    }

    /// Number of table pointers.
    pub fn len(&self) -> usize {
        ((self.sdt.length() - SDT_HEADER_LEN) / self.kind.entry_len()) as usize
    }

    /// Whether there are no table pointers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The physical address in entry `index` (`index < len()`, else an error).
    pub fn entry<R: PhysRead + ?Sized>(
        &self,
        reader: &mut R,
        index: usize,
    ) -> Result<u64, AcpiError> {
        let width = self.kind.entry_len();
        let offset = u32::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(width))
            .and_then(|o| o.checked_add(SDT_HEADER_LEN))
            .unwrap_or(u32::MAX);
        let mut bytes = [0u8; 8];
        self.sdt
            .read_at(reader, offset, &mut bytes[..width as usize])?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// The signature of the table in entry `index` (header not validated).
    pub fn signature_at<R: PhysRead + ?Sized>(
        &self,
        reader: &mut R,
        index: usize,
    ) -> Result<Signature, AcpiError> {
        let phys = self.entry(reader, index)?;
        Sdt::peek_signature(reader, phys)
    }

    /// The first table with `signature`, validated; `Ok(None)` if absent.
    pub fn find<R: PhysRead + ?Sized>(
        &self,
        reader: &mut R,
        signature: Signature,
    ) -> Result<Option<Sdt>, AcpiError> {
        for index in 0..self.len() {
            let phys = self.entry(reader, index)?;
            if Sdt::peek_signature(reader, phys)? == signature {
                return Sdt::load(reader, phys).map(Some);
            }
        }
        Ok(None)
    }
}
