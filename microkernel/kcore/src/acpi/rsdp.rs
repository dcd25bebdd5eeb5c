//! The Root System Description Pointer, ACPI 1.0 (20 bytes) and 2.0+ (36+).

use super::root::{RootKind, RootTable};
use super::{AcpiError, PhysRead, checksum, le_u32, le_u64, read};

/// Bytes covered by the ACPI 1.0 checksum.
const V1_LEN: usize = 20;
/// Length of the ACPI 2.0 structure.
const V2_LEN: usize = 36;
/// Upper bound on the RSDP length field (it is 36 in every ACPI version).
const MAX_RSDP_LEN: u32 = 4096;

/// The physical address of the RSDP from the address the boot loader gave.
///
/// Limine base revision 3 gives a physical address; revisions 0–2 give an
/// HHDM (virtual) one. The address itself decides: anything at or above the
/// HHDM offset is virtual, whatever revision the loader claims.
pub fn rsdp_physical_address(address: u64, hhdm_offset: u64) -> u64 {
    if hhdm_offset != 0 && address >= hhdm_offset {
        address - hhdm_offset
    } else {
        address
    }
}

/// A validated RSDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rsdp {
    /// Where it is.
    pub phys: u64,
    /// 0 for ACPI 1.0, 2 for 2.0 and later.
    pub revision: u8,
    /// OEM identifier.
    pub oem_id: [u8; 6],
    /// Physical address of the RSDT (0 if none).
    pub rsdt: u32,
    /// Physical address of the XSDT (revision 2+, `None` if 0).
    pub xsdt: Option<u64>,
}

impl Rsdp {
    /// Reads and validates the RSDP at `phys`: signature, the 1.0 checksum,
    /// and for revision 2+ the length and the extended checksum.
    pub fn load<R: PhysRead + ?Sized>(reader: &mut R, phys: u64) -> Result<Rsdp, AcpiError> {
        let mut bytes = [0u8; V2_LEN];
        read(reader, phys, &mut bytes[..V1_LEN])?;
        if &bytes[..8] != b"RSD PTR " {
            return Err(AcpiError::RsdpSignature);
        }
        if bytes[..V1_LEN].iter().fold(0u8, |s, &b| s.wrapping_add(b)) != 0 {
            return Err(AcpiError::RsdpChecksum);
        }
        let revision = bytes[15];
        let mut oem_id = [0u8; 6];
        oem_id.copy_from_slice(&bytes[9..15]);
        let rsdt = le_u32(&bytes, 16);
        let mut xsdt = None;
        if revision >= 2 {
            let rest = phys
                .checked_add(V1_LEN as u64)
                .ok_or(AcpiError::AddressOverflow {
                    phys,
                    len: V2_LEN as u64,
                })?;
            read(reader, rest, &mut bytes[V1_LEN..])?;
            let length = le_u32(&bytes, 20);
            if !(V2_LEN as u32..=MAX_RSDP_LEN).contains(&length) {
                return Err(AcpiError::RsdpLength(length));
            }
            if checksum(reader, phys, length)? != 0 {
                return Err(AcpiError::RsdpExtendedChecksum);
            }
            xsdt = Some(le_u64(&bytes, 24)).filter(|&a| a != 0);
        }
        Ok(Rsdp {
            phys,
            revision,
            oem_id,
            rsdt,
            xsdt,
        })
    }

    /// Loads the root table: the XSDT if there is one, else the RSDT.
    pub fn root_table<R: PhysRead + ?Sized>(&self, reader: &mut R) -> Result<RootTable, AcpiError> {
        match (self.xsdt, self.rsdt) {
            (Some(xsdt), _) => RootTable::load(reader, xsdt, RootKind::Xsdt),
            (None, rsdt) if rsdt != 0 => RootTable::load(reader, u64::from(rsdt), RootKind::Rsdt),
            _ => Err(AcpiError::NoRootTable),
        }
    }
}
