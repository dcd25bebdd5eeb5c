//! Hand-made ELF files for the loader's error paths.
//!
//! Writing the few dozen header bytes here, instead of linking a second
//! kernel, keeps the fixture exact: the test knows precisely which rule the
//! file breaks.

/// A well-formed ELF64 x86-64 executable whose single `PT_LOAD` segment sits
/// at `vaddr` — with `vaddr` in the lower half, a kernel the loader must
/// refuse.
pub fn executable_at(vaddr: u64) -> Vec<u8> {
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    let code_offset = 0x1000u64;
    let code: [u8; 4] = [0xf4, 0xeb, 0xfd, 0x90]; // hlt; jmp back
    let mut elf = vec![0u8; code_offset as usize + code.len()];

    elf[0..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf[6] = 1; // ELF version
    put16(&mut elf, 16, 2); // ET_EXEC
    put16(&mut elf, 18, 62); // EM_X86_64
    put32(&mut elf, 20, 1);
    put64(&mut elf, 24, vaddr); // entry
    put64(&mut elf, 32, EHDR as u64); // phoff
    put16(&mut elf, 52, EHDR as u16);
    put16(&mut elf, 54, PHDR as u16);
    put16(&mut elf, 56, 1); // phnum

    let ph = EHDR;
    put32(&mut elf, ph, 1); // PT_LOAD
    put32(&mut elf, ph + 4, 5); // R + X
    put64(&mut elf, ph + 8, code_offset);
    put64(&mut elf, ph + 16, vaddr);
    put64(&mut elf, ph + 24, vaddr);
    put64(&mut elf, ph + 32, code.len() as u64);
    put64(&mut elf, ph + 40, code.len() as u64);
    put64(&mut elf, ph + 48, 0x1000);

    elf[code_offset as usize..].copy_from_slice(&code);
    elf
}

fn put16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_land_where_elf_puts_them() {
        let elf = executable_at(0x40_0000);
        assert_eq!(&elf[..4], b"\x7fELF");
        assert_eq!(u16::from_le_bytes([elf[16], elf[17]]), 2);
        assert_eq!(
            u64::from_le_bytes(elf[24..32].try_into().unwrap()),
            0x40_0000
        );
        // p_vaddr of the one program header
        assert_eq!(
            u64::from_le_bytes(elf[80..88].try_into().unwrap()),
            0x40_0000
        );
        assert_eq!(elf.len(), 0x1004);
    }
}
