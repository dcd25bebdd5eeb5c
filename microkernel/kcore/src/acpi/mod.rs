//! ACPI discovery: RSDP → XSDT/RSDT → tables (NFIT for persistent memory).
//!
//! Every byte is read through [`PhysRead`], one bounded read at a time, so
//! nothing here needs a heap or trusts a pointer: each length and offset is
//! checked against the table it claims to be inside, every checksum is
//! verified, and a corrupt table comes back as an [`AcpiError`].

mod error;
pub mod madt;
pub mod nfit;
mod root;
mod rsdp;
mod sdt;

#[cfg(test)]
mod tests;

pub use error::{AcpiError, ReadFault};
pub use root::{RootKind, RootTable};
pub use rsdp::{Rsdp, rsdp_physical_address};
pub use sdt::{MAX_TABLE_LEN, SDT_HEADER_LEN, Sdt, SdtHeader, Signature};

/// Reads physical memory (in the kernel: through the HHDM, mapping on demand).
pub trait PhysRead {
    /// Fills `buf` with the bytes at physical addresses `phys..phys + buf.len()`.
    fn read_phys(&mut self, phys: u64, buf: &mut [u8]) -> Result<(), ReadFault>;
}

/// Reads `buf.len()` bytes at `phys`, turning a fault into an [`AcpiError`].
fn read<R: PhysRead + ?Sized>(reader: &mut R, phys: u64, buf: &mut [u8]) -> Result<(), AcpiError> {
    reader
        .read_phys(phys, buf)
        .map_err(|fault| AcpiError::Read {
            phys,
            len: buf.len(),
            fault,
        })
}

/// The 8-bit sum of the `len` bytes at `phys` (0 for a valid ACPI checksum).
fn checksum<R: PhysRead + ?Sized>(reader: &mut R, phys: u64, len: u32) -> Result<u8, AcpiError> {
    let mut chunk = [0u8; 64];
    let mut sum = 0u8;
    let mut done = 0u32;
    while done < len {
        let n = (len - done).min(chunk.len() as u32);
        let at = phys
            .checked_add(u64::from(done))
            .ok_or(AcpiError::AddressOverflow {
                phys,
                len: u64::from(len),
            })?;
        let part = &mut chunk[..n as usize];
        read(reader, at, part)?;
        sum = part.iter().fold(sum, |s, &b| s.wrapping_add(b));
        done += n;
    }
    Ok(sum)
}

/// Little-endian field readers over fixed byte arrays.
fn le_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}
