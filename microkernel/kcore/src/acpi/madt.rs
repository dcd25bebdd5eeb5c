//! The Multiple APIC Description Table: where the local APICs and I/O APICs
//! are, and how ISA interrupts are wired to global system interrupts (GSIs).
//!
//! [`Madt::info`] walks every interrupt-controller structure by its length
//! (each checked against the table end) and keeps what the kernel routes
//! interrupts with: the local APIC address (with its 64-bit override), the
//! I/O APICs and the ISA interrupt source overrides.

use super::sdt::{Sdt, Signature};
use super::{AcpiError, PhysRead, le_u16, le_u32, le_u64};

/// The MADT's signature.
pub const SIGNATURE: Signature = Signature(*b"APIC");

/// Offset of the first interrupt-controller structure.
pub const FIRST_STRUCTURE: u32 = 44;

/// Most I/O APICs (and overrides) recorded; more are counted but dropped.
pub const MAX_RECORDS: usize = 16;

/// One I/O APIC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoApic {
    /// Its APIC id.
    pub id: u8,
    /// Physical address of its registers.
    pub address: u64,
    /// The first GSI it serves.
    pub gsi_base: u32,
}

/// How one ISA IRQ is wired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IsaRoute {
    /// The ISA IRQ (0..16).
    pub irq: u8,
    /// The GSI it arrives on.
    pub gsi: u32,
    /// Active low (else active high, the ISA default).
    pub active_low: bool,
    /// Level triggered (else edge, the ISA default).
    pub level: bool,
}

/// What the kernel needs from the MADT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MadtInfo {
    /// Physical address of the local APIC registers.
    pub local_apic: u64,
    /// Whether legacy 8259 PICs are present (and must be masked).
    pub has_8259: bool,
    /// Enabled (or online-capable) processors.
    pub cpus: u32,
    io_apics: [IoApic; MAX_RECORDS],
    io_apic_count: usize,
    overrides: [IsaRoute; MAX_RECORDS],
    override_count: usize,
}

impl MadtInfo {
    /// The I/O APICs, in table order.
    pub fn io_apics(&self) -> &[IoApic] {
        &self.io_apics[..self.io_apic_count]
    }

    /// The interrupt source overrides, in table order.
    pub fn overrides(&self) -> &[IsaRoute] {
        &self.overrides[..self.override_count]
    }

    /// How ISA `irq` is wired: its override, or identity, edge, active high.
    pub fn isa_route(&self, irq: u8) -> IsaRoute {
        self.overrides()
            .iter()
            .find(|o| o.irq == irq)
            .copied()
            .unwrap_or(IsaRoute {
                irq,
                gsi: u32::from(irq),
                active_low: false,
                level: false,
            })
    }

    /// The I/O APIC serving `gsi` and the pin it arrives on.
    pub fn io_apic_for(&self, gsi: u32) -> Option<(IoApic, u32)> {
        // Each I/O APIC has at most 240 pins; the closest base below wins.
        self.io_apics()
            .iter()
            .filter(|a| a.gsi_base <= gsi && gsi - a.gsi_base < 240)
            .max_by_key(|a| a.gsi_base)
            .map(|a| (*a, gsi - a.gsi_base))
    }
}

/// A validated MADT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Madt {
    sdt: Sdt,
}

impl Madt {
    /// Wraps a loaded table, checking its signature and fixed part.
    pub fn new(sdt: Sdt) -> Result<Madt, AcpiError> {
        if sdt.header.signature != SIGNATURE {
            return Err(AcpiError::UnexpectedSignature {
                expected: SIGNATURE,
                found: sdt.header.signature,
            });
        }
        if sdt.length() < FIRST_STRUCTURE {
            return Err(AcpiError::TableLength {
                signature: SIGNATURE,
                length: sdt.length(),
            });
        }
        Ok(Madt { sdt })
    }

    /// Walks every structure and gathers [`MadtInfo`].
    pub fn info<R: PhysRead + ?Sized>(&self, reader: &mut R) -> Result<MadtInfo, AcpiError> {
        let mut fixed = [0u8; 8];
        self.sdt.read_at(reader, 36, &mut fixed)?;
        let mut info = MadtInfo {
            local_apic: u64::from(le_u32(&fixed, 0)),
            has_8259: le_u32(&fixed, 4) & 1 != 0,
            cpus: 0,
            io_apics: [IoApic::default(); MAX_RECORDS],
            io_apic_count: 0,
            overrides: [IsaRoute::default(); MAX_RECORDS],
            override_count: 0,
        };
        let mut offset = FIRST_STRUCTURE;
        let end = self.sdt.length();
        while offset < end {
            let mut head = [0u8; 2];
            self.sdt.read_at(reader, offset, &mut head)?;
            let (kind, length) = (head[0], head[1]);
            let min = match kind {
                0 => 8,
                1 => 12,
                2 => 10,
                5 => 12,
                9 => 16,
                _ => 2,
            };
            if length < min || u64::from(offset) + u64::from(length) > u64::from(end) {
                return Err(AcpiError::MadtStructure {
                    offset,
                    kind,
                    length,
                });
            }
            let mut body = [0u8; 16];
            let want = usize::from(min).min(body.len());
            self.sdt.read_at(reader, offset, &mut body[..want])?;
            match kind {
                // Processor local APIC / local x2APIC: flags bit 0 enabled,
                // bit 1 online capable.
                0 if le_u32(&body, 4) & 3 != 0 => info.cpus += 1,
                9 if le_u32(&body, 8) & 3 != 0 => info.cpus += 1,
                1 => {
                    let apic = IoApic {
                        id: body[2],
                        address: u64::from(le_u32(&body, 4)),
                        gsi_base: le_u32(&body, 8),
                    };
                    if let Some(slot) = info.io_apics.get_mut(info.io_apic_count) {
                        *slot = apic;
                        info.io_apic_count += 1;
                    }
                }
                2 => {
                    let flags = le_u16(&body, 8);
                    // Polarity bits 0-1 (3 = active low), trigger bits 2-3
                    // (3 = level); 0 means "conforms to the bus" (ISA: high, edge).
                    let route = IsaRoute {
                        irq: body[3],
                        gsi: le_u32(&body, 4),
                        active_low: flags & 3 == 3,
                        level: (flags >> 2) & 3 == 3,
                    };
                    if let Some(slot) = info.overrides.get_mut(info.override_count) {
                        *slot = route;
                        info.override_count += 1;
                    }
                }
                5 => info.local_apic = le_u64(&body, 4),
                _ => {}
            }
            offset += u32::from(length);
        }
        Ok(info)
    }
}
