//! The header every ACPI system description table starts with, and a
//! bounds-checked handle to a whole table.

use core::fmt;

use super::{AcpiError, PhysRead, checksum, le_u32, read};

/// Length of the common SDT header.
pub const SDT_HEADER_LEN: u32 = 36;

/// The largest table this kernel will checksum (a sanity bound on the
/// length field; real tables, even a large DSDT, are far smaller).
pub const MAX_TABLE_LEN: u32 = 16 << 20;

/// A four-byte table signature such as `NFIT`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 4]);

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            let c = if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            };
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

/// The common SDT header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdtHeader {
    /// Which table this is.
    pub signature: Signature,
    /// Length of the whole table, header included.
    pub length: u32,
    /// Table revision.
    pub revision: u8,
    /// OEM identifier.
    pub oem_id: [u8; 6],
    /// OEM table identifier.
    pub oem_table_id: [u8; 8],
    /// OEM revision.
    pub oem_revision: u32,
}

impl SdtHeader {
    /// Decodes the header bytes.
    pub fn parse(bytes: &[u8; SDT_HEADER_LEN as usize]) -> SdtHeader {
        let mut signature = [0u8; 4];
        signature.copy_from_slice(&bytes[0..4]);
        let mut oem_id = [0u8; 6];
        oem_id.copy_from_slice(&bytes[10..16]);
        let mut oem_table_id = [0u8; 8];
        oem_table_id.copy_from_slice(&bytes[16..24]);
        SdtHeader {
            signature: Signature(signature),
            length: le_u32(bytes, 4),
            revision: bytes[8],
            oem_id,
            oem_table_id,
            oem_revision: le_u32(bytes, 24),
        }
    }
}

/// A table whose length is plausible and whose checksum is right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sdt {
    /// Physical address of the header.
    pub phys: u64,
    /// The header.
    pub header: SdtHeader,
}

impl Sdt {
    /// Reads just the signature of the table at `phys` (no validation).
    pub fn peek_signature<R: PhysRead + ?Sized>(
        reader: &mut R,
        phys: u64,
    ) -> Result<Signature, AcpiError> {
        let mut sig = [0u8; 4];
        read(reader, phys, &mut sig)?;
        Ok(Signature(sig))
    }

    /// Loads and validates the table at `phys`: length within
    /// [`SDT_HEADER_LEN`]..=[`MAX_TABLE_LEN`], no address wrap-around, checksum.
    pub fn load<R: PhysRead + ?Sized>(reader: &mut R, phys: u64) -> Result<Sdt, AcpiError> {
        let mut bytes = [0u8; SDT_HEADER_LEN as usize];
        read(reader, phys, &mut bytes)?;
        let header = SdtHeader::parse(&bytes);
        let signature = header.signature;
        if !(SDT_HEADER_LEN..=MAX_TABLE_LEN).contains(&header.length) {
            return Err(AcpiError::TableLength {
                signature,
                length: header.length,
            });
        }
        if phys.checked_add(u64::from(header.length)).is_none() {
            return Err(AcpiError::AddressOverflow {
                phys,
                len: u64::from(header.length),
            });
        }
        if checksum(reader, phys, header.length)? != 0 {
            return Err(AcpiError::TableChecksum { signature });
        }
        Ok(Sdt { phys, header })
    }

    /// [`Sdt::load`], insisting on `expected` as the signature.
    pub fn load_expecting<R: PhysRead + ?Sized>(
        reader: &mut R,
        phys: u64,
        expected: Signature,
    ) -> Result<Sdt, AcpiError> {
        let found = Self::peek_signature(reader, phys)?;
        if found != expected {
            return Err(AcpiError::UnexpectedSignature { expected, found });
        }
        Self::load(reader, phys)
    }

    /// The table's length, header included.
    pub fn length(&self) -> u32 {
        self.header.length
    }

    /// Reads `buf.len()` bytes at `offset` from the table start; fails
    /// instead of reading past the table's end.
    pub fn read_at<R: PhysRead + ?Sized>(
        &self,
        reader: &mut R,
        offset: u32,
        buf: &mut [u8],
    ) -> Result<(), AcpiError> {
        let fits = u64::from(offset) + buf.len() as u64 <= u64::from(self.length());
        if !fits {
            return Err(AcpiError::OutOfTable {
                signature: self.header.signature,
                offset,
                len: buf.len(),
                length: self.length(),
            });
        }
        read(reader, self.phys + u64::from(offset), buf)
    }
}
