//! Tests of page table construction, checked by walking the tables.

use super::*;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Frames on the heap, at made-up physical addresses.
pub(crate) struct HeapFrames {
    tables: Vec<Box<[u64; 512]>>,
    limit: usize,
}

const FAKE_BASE: u64 = 0x4000_0000;

impl HeapFrames {
    pub(crate) fn new(limit: usize) -> HeapFrames {
        HeapFrames {
            tables: Vec::new(),
            limit,
        }
    }
    fn used(&self) -> usize {
        self.tables.len()
    }
}

impl FrameSource for HeapFrames {
    fn allocate_zeroed(&mut self) -> Result<u64, PagingError> {
        if self.tables.len() == self.limit {
            return Err(PagingError::OutOfFrames);
        }
        self.tables.push(Box::new([0; 512]));
        Ok(FAKE_BASE + (self.tables.len() as u64 - 1) * SIZE_4K)
    }
    fn table(&mut self, phys: u64) -> &mut [u64; 512] {
        &mut self.tables[((phys - FAKE_BASE) / SIZE_4K) as usize]
    }
}

const HHDM: u64 = 0xffff_8000_0000_0000;
const KERNEL: u64 = 0xffff_ffff_8000_0000;
const RO: Rights = Rights {
    write: false,
    execute: false,
};
const RX: Rights = Rights {
    write: false,
    execute: true,
};
const RW: Rights = Rights {
    write: true,
    execute: false,
};

#[test]
fn hhdm_of_4g_uses_2m_pages() {
    let mut pt = PageTables::new(HeapFrames::new(16)).unwrap();
    pt.map_range(HHDM, 0, 1 << 32, Rights::RWX).unwrap();
    // PML4 + PDPT + 4 page directories.
    assert_eq!(pt.frames().used(), 6);
    assert_eq!(
        pt.translate(HHDM + 0x1234_5678),
        Some((0x1234_5678, Rights::RWX, SIZE_2M))
    );
    assert_eq!(
        pt.translate(HHDM + 0xffff_ffff),
        Some((0xffff_ffff, Rights::RWX, SIZE_2M))
    );
    assert_eq!(pt.translate(HHDM + (1 << 32)), None);
    assert_eq!(pt.translate(0x1000), None, "no identity map");
    assert_eq!(pt.pml4_entry(0), 0);
}

#[test]
fn unaligned_ranges_fall_back_to_4k_pages() {
    let mut pt = PageTables::new(HeapFrames::new(16)).unwrap();
    // Starts 4 KiB below a 2 MiB boundary and ends 4 KiB after the next.
    let base = (5 << 30) + SIZE_2M - SIZE_4K;
    pt.map_range(HHDM + base, base, SIZE_2M + 2 * SIZE_4K, Rights::RWX)
        .unwrap();
    assert_eq!(pt.translate(HHDM + base).unwrap().2, SIZE_4K);
    assert_eq!(
        pt.translate(HHDM + base + SIZE_4K).unwrap(),
        (base + SIZE_4K, Rights::RWX, SIZE_2M)
    );
    let last = base + SIZE_4K + SIZE_2M;
    assert_eq!(
        pt.translate(HHDM + last).unwrap(),
        (last, Rights::RWX, SIZE_4K)
    );
    assert_eq!(pt.translate(HHDM + last + SIZE_4K), None);
}

#[test]
fn kernel_pages_carry_their_rights() {
    let mut pt = PageTables::new(HeapFrames::new(16)).unwrap();
    let phys = 0x20_0000;
    pt.map_range(KERNEL, phys, 0x2000, RX).unwrap();
    pt.map_range(KERNEL + 0x2000, phys + 0x2000, 0x1000, RO)
        .unwrap();
    pt.map_range(KERNEL + 0x3000, phys + 0x3000, 0x3000, RW)
        .unwrap();
    assert_eq!(
        pt.translate(KERNEL + 0x10),
        Some((phys + 0x10, RX, SIZE_4K))
    );
    assert_eq!(
        pt.translate(KERNEL + 0x2fff),
        Some((phys + 0x2fff, RO, SIZE_4K))
    );
    assert_eq!(
        pt.translate(KERNEL + 0x5000),
        Some((phys + 0x5000, RW, SIZE_4K))
    );
    assert_eq!(pt.translate(KERNEL + 0x6000), None);
    let entry = pt.pml4_entry(511);
    assert_eq!(
        entry & (PRESENT | WRITABLE | NO_EXECUTE),
        PRESENT | WRITABLE
    );
}

#[test]
fn double_mapping_and_bad_input_are_errors() {
    let mut pt = PageTables::new(HeapFrames::new(16)).unwrap();
    pt.map_range(HHDM, 0, SIZE_2M, Rights::RWX).unwrap();
    assert_eq!(
        pt.map_page(HHDM + SIZE_4K, SIZE_4K, RW, false),
        Err(PagingError::AlreadyMapped {
            virt: HHDM + SIZE_4K
        })
    );
    assert_eq!(
        pt.map_page(HHDM, 0, RW, true),
        Err(PagingError::AlreadyMapped { virt: HHDM })
    );
    assert_eq!(
        pt.map_range(KERNEL + 1, 0, SIZE_4K, RW),
        Err(PagingError::Misaligned { virt: KERNEL + 1 })
    );
    assert_eq!(
        pt.map_page(KERNEL, 0x1000, RW, true),
        Err(PagingError::Misaligned { virt: KERNEL })
    );
    let bad = 0x0000_8000_0000_0000;
    assert_eq!(
        pt.map_page(bad, 0, RW, false),
        Err(PagingError::NonCanonical { virt: bad })
    );
}

#[test]
fn running_out_of_frames_is_an_error() {
    let mut pt = PageTables::new(HeapFrames::new(3)).unwrap();
    assert_eq!(
        pt.map_page(KERNEL, 0, RW, false),
        Err(PagingError::OutOfFrames)
    );
}

#[test]
fn identity_entry_for_a_trampoline_lives_in_pml4_slot_0() {
    let mut pt = PageTables::new(HeapFrames::new(16)).unwrap();
    pt.map_range(0x7e5_3000, 0x7e5_3000, 2 * SIZE_4K, RX)
        .unwrap();
    assert_ne!(pt.pml4_entry(0), 0);
    assert_eq!(pt.translate(0x7e5_3abc), Some((0x7e5_3abc, RX, SIZE_4K)));
}
