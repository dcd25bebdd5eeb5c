//! The x86-64 machine state the Limine protocol promises at kernel entry,
//! as data: the GDT, the selectors, the PAT value and the entry stack.

/// GDT: null, 16-bit code, 16-bit data, 32-bit code, 32-bit data, 64-bit
/// code, 64-bit data. Base 0; 16/32-bit limits as Limine sets them; the
/// accessed bits are preset so the CPU never writes the table.
pub const GDT: [u64; 7] = [
    0,
    0x0000_9b00_0000_ffff, // 16-bit code: P, DPL0, code, readable; limit 0xffff
    0x0000_9300_0000_ffff, // 16-bit data: P, DPL0, data, writable; limit 0xffff
    0x00cf_9b00_0000_ffff, // 32-bit code: G, D; limit 4 GiB
    0x00cf_9300_0000_ffff, // 32-bit data: G, B; limit 4 GiB
    0x00a0_9b00_0000_0000, // 64-bit code: L (G set, ignored)
    0x0000_9300_0000_0000, // 64-bit data (L must be clear)
];

/// Kernel code selector (GDT entry 5).
pub const KERNEL_CS: u16 = 0x28;
/// Kernel data selector (GDT entry 6), loaded into DS, ES, SS, FS and GS.
pub const KERNEL_DS: u16 = 0x30;

/// IA32_PAT: PAT0 WB, PAT1 WT, PAT2 UC-, PAT3 UC, PAT4 WP, PAT5 WC (PAT6
/// and PAT7 UC), the value Limine writes.
pub const PAT_VALUE: u64 = 0x0000_0105_0007_0406;
/// The IA32_PAT MSR.
pub const IA32_PAT: u32 = 0x277;
/// The IA32_EFER MSR.
pub const IA32_EFER: u32 = 0xc000_0080;
/// EFER.NXE.
pub const EFER_NXE: u64 = 1 << 11;

/// The initial `rsp` for a stack of `size` bytes at kernel address `base`:
/// 16-byte aligned top, minus the pushed return address 0, so `rsp + 8` is
/// 16-byte aligned as right after a `call`.
pub const fn entry_rsp(base: u64, size: u64) -> u64 {
    ((base + size) & !0xf) - 8
}

/// Decoded fields of a code/data descriptor, for checks and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// Present.
    pub present: bool,
    /// Code (true) or data (false).
    pub code: bool,
    /// Long-mode code (L bit).
    pub long: bool,
    /// Default operand size 32 (D/B bit).
    pub big: bool,
    /// Descriptor privilege level.
    pub dpl: u8,
}

/// Decodes a GDT entry.
pub const fn decode(entry: u64) -> Descriptor {
    let access = (entry >> 40) as u8;
    let flags = (entry >> 52) as u8;
    Descriptor {
        present: access & 0x80 != 0,
        code: access & 0x08 != 0,
        long: flags & 0x2 != 0,
        big: flags & 0x4 != 0,
        dpl: (access >> 5) & 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_are_in_limine_order() {
        assert_eq!(GDT[0], 0);
        let d: [Descriptor; 6] = core::array::from_fn(|i| decode(GDT[i + 1]));
        assert!(d.iter().all(|d| d.present && d.dpl == 0));
        assert_eq!(d.map(|d| d.code), [true, false, true, false, true, false]);
        assert_eq!(d.map(|d| d.big), [false, false, true, true, false, false]);
        assert!(d[4].long && !d[5].long && !d[2].long);
        assert_eq!(usize::from(KERNEL_CS) / 8, 5);
        assert_eq!(usize::from(KERNEL_DS) / 8, 6);
    }

    #[test]
    fn pat_layout() {
        let types: [u8; 8] = PAT_VALUE.to_le_bytes();
        // WB, WT, UC-, UC, WP, WC.
        assert_eq!(&types[..6], &[6, 4, 7, 0, 5, 1]);
    }

    #[test]
    fn entry_stack_alignment() {
        let rsp = entry_rsp(0xffff_8000_0010_0000, 0x1_0000);
        assert_eq!((rsp + 8) % 16, 0);
        assert_eq!(rsp, 0xffff_8000_0010_fff8);
        assert_eq!((entry_rsp(0x1000, 0x1009) + 8) % 16, 0);
    }
}
