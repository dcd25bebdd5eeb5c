//! Mapper tests against fake physical memory: a `Vec` of 4 KiB frames.

use super::*;
use crate::frame::EarlyFrameAllocator;

/// Physical memory of `frames` frames starting at address 0.
struct FakePhys {
    frames: Vec<[u64; ENTRIES]>,
    writes: usize,
}

impl FakePhys {
    /// Every frame starts as garbage (so new tables must be zeroed), except
    /// the root table at [`ROOT`].
    fn new(frames: usize) -> Self {
        let mut mem = FakePhys {
            frames: vec![[0xdead_beef_dead_beef; ENTRIES]; frames],
            writes: 0,
        };
        *mem.frame(ROOT) = [0; ENTRIES];
        mem
    }
    fn frame(&mut self, phys: u64) -> &mut [u64; ENTRIES] {
        assert_eq!(phys % PAGE_SIZE, 0, "table address {phys:#x} misaligned");
        &mut self.frames[(phys / PAGE_SIZE) as usize]
    }
}

// SAFETY: the fake frames are plain host memory; any access is sound.
unsafe impl TableAccess for &mut FakePhys {
    fn read_entry(&mut self, table: u64, index: usize) -> u64 {
        self.frame(table)[index]
    }
    fn write_entry(&mut self, table: u64, index: usize, value: u64) {
        self.writes += 1;
        self.frame(table)[index] = value;
    }
    fn zero_table(&mut self, table: u64) {
        *self.frame(table) = [0; ENTRIES];
    }
}

const HHDM: u64 = 0xffff_8000_0000_0000;
const ROOT: u64 = 0x1000;

/// Frames 0x10..0x20 are free for new tables.
fn frames() -> EarlyFrameAllocator {
    EarlyFrameAllocator::new(0x10 * PAGE_SIZE, 0x10 * PAGE_SIZE)
}

#[test]
fn maps_a_page_into_empty_tables_and_translates_it() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = frames();
    let virt = HHDM + 0x7fe1_4000;
    let mut mapper = Mapper::new(&mut mem, ROOT);
    assert_eq!(mapper.translate(virt), None);
    // SAFETY: fake memory; nothing runs on these tables.
    let outcome = unsafe { mapper.ensure_mapped(virt, 0x7fe1_4000, flags::NO_EXECUTE, &mut alloc) };
    assert_eq!(outcome, Ok(MapOutcome::Mapped));
    assert_eq!(mapper.translate(virt + 0x123), Some(0x7fe1_4123));
    assert_eq!(mapper.translate(virt + PAGE_SIZE), None);
    // PDPT, PD and PT were created.
    assert_eq!(alloc.used(), (0x10 * PAGE_SIZE, 3 * PAGE_SIZE));
    let [l4, ..] = indices(virt);
    let pml4e = mem.frame(ROOT)[l4];
    assert_eq!(pml4e, (0x10 * PAGE_SIZE) | flags::PRESENT | flags::WRITABLE);
}

#[test]
fn neighbouring_pages_share_tables_and_remapping_is_a_no_op() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = frames();
    let mut mapper = Mapper::new(&mut mem, ROOT);
    for page in 0..4u64 {
        let phys = 0x8000_0000 + page * PAGE_SIZE;
        // SAFETY: fake memory.
        let outcome = unsafe { mapper.ensure_mapped(HHDM + phys, phys, 0, &mut alloc) };
        assert_eq!(outcome, Ok(MapOutcome::Mapped));
    }
    assert_eq!(alloc.remaining_frames(), 13);
    // SAFETY: fake memory.
    let again = unsafe { mapper.ensure_mapped(HHDM + 0x8000_1000, 0x8000_1000, 0, &mut alloc) };
    assert_eq!(again, Ok(MapOutcome::AlreadyMapped));
    assert_eq!(alloc.remaining_frames(), 13);
}

#[test]
fn follows_huge_pages() {
    let mut mem = FakePhys::new(0x20);
    *mem.frame(0x2000) = [0; ENTRIES];
    *mem.frame(0x3000) = [0; ENTRIES];
    // PML4[256] -> PDPT at 0x2000; PDPT[0] = 1 GiB page at 0; PDPT[1] -> PD at
    // 0x3000 whose entry 3 is a 2 MiB page at 0x4060_0000.
    mem.frame(ROOT)[256] = 0x2000 | flags::PRESENT;
    mem.frame(0x2000)[0] = flags::PRESENT | flags::HUGE;
    mem.frame(0x2000)[1] = 0x3000 | flags::PRESENT;
    mem.frame(0x3000)[3] = 0x4060_0000 | flags::PRESENT | flags::HUGE;
    let mut mapper = Mapper::new(&mut mem, ROOT | 0x18);
    assert_eq!(mapper.root(), ROOT);
    assert_eq!(mapper.translate(HHDM + 0x1234_5678), Some(0x1234_5678));
    assert_eq!(mapper.translate(HHDM + 0x4060_1234), Some(0x4060_1234));
    assert_eq!(mapper.translate(HHDM + 0x4080_0000), None);
    let mut alloc = frames();
    // SAFETY: fake memory.
    let inside_huge = unsafe { mapper.ensure_mapped(HHDM + 0x5000, 0x5000, 0, &mut alloc) };
    assert_eq!(inside_huge, Ok(MapOutcome::AlreadyMapped));
    // SAFETY: fake memory.
    let conflict = unsafe { mapper.ensure_mapped(HHDM + 0x5000, 0x9000, 0, &mut alloc) };
    assert_eq!(
        conflict,
        Err(MapError::MappedElsewhere {
            virt: HHDM + 0x5000,
            existing: 0x5000
        })
    );
    // A new 4 KiB page under the existing PD needs only a PT.
    // SAFETY: fake memory.
    let fresh = unsafe { mapper.ensure_mapped(HHDM + 0x4000_0000, 0xa000, 0, &mut alloc) };
    assert_eq!(fresh, Ok(MapOutcome::Mapped));
    assert_eq!(alloc.used().1, PAGE_SIZE);
    assert_eq!(mapper.translate(HHDM + 0x4000_0010), Some(0xa010));
}

#[test]
fn rejects_bad_addresses_without_writing() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = frames();
    let mut mapper = Mapper::new(&mut mem, ROOT);
    // SAFETY: fake memory (all four calls).
    let cases = unsafe {
        [
            mapper.ensure_mapped(0x0000_8000_0000_0000, 0, 0, &mut alloc),
            mapper.ensure_mapped(HHDM + 1, 0x1000, 0, &mut alloc),
            mapper.ensure_mapped(HHDM, 0x1001, 0, &mut alloc),
            mapper.ensure_mapped(HHDM, 1 << 52, 0, &mut alloc),
        ]
    };
    assert_eq!(
        cases,
        [
            Err(MapError::NotCanonical(0x0000_8000_0000_0000)),
            Err(MapError::Misaligned(HHDM + 1)),
            Err(MapError::Misaligned(0x1001)),
            Err(MapError::PhysTooLarge(1 << 52)),
        ]
    );
    assert_eq!(mapper.translate(0x0000_8000_0000_0000), None);
    assert_eq!(mem.writes, 0);
}

#[test]
fn runs_out_of_frames_cleanly() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = EarlyFrameAllocator::new(0x10 * PAGE_SIZE, 2 * PAGE_SIZE);
    let mut mapper = Mapper::new(&mut mem, ROOT);
    // SAFETY: fake memory.
    let result = unsafe { mapper.ensure_mapped(HHDM, 0x1000, 0, &mut alloc) };
    assert_eq!(result, Err(MapError::OutOfFrames));
    assert_eq!(mapper.translate(HHDM), None);
}

#[test]
fn user_leaves_get_user_tables() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = frames();
    let mut mapper = Mapper::new(&mut mem, ROOT);
    // SAFETY: fake memory.
    let result = unsafe {
        mapper.ensure_mapped(0x40_0000, 0x5000, flags::USER | flags::WRITABLE, &mut alloc)
    };
    assert_eq!(result, Ok(MapOutcome::Mapped));
    assert_eq!(mem.frame(ROOT)[0] & flags::USER, flags::USER);
}

#[test]
fn canonical_addresses() {
    assert!(is_canonical(0));
    assert!(is_canonical(0x0000_7fff_ffff_ffff));
    assert!(!is_canonical(0x0000_8000_0000_0000));
    assert!(!is_canonical(0xffff_7fff_ffff_ffff));
    assert!(is_canonical(0xffff_8000_0000_0000));
    assert!(is_canonical(0xffff_ffff_8000_0000));
}

#[test]
fn lookup_combines_access_over_every_level() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = frames();
    let mut mapper = Mapper::new(&mut mem, ROOT);
    let rw = flags::USER | flags::WRITABLE | flags::NO_EXECUTE;
    // SAFETY: fake memory.
    unsafe {
        mapper
            .ensure_mapped(0x40_0000, 0x5000, flags::USER, &mut alloc)
            .unwrap();
        mapper
            .ensure_mapped(0x40_1000, 0x6000, rw, &mut alloc)
            .unwrap();
        mapper
            .ensure_mapped(HHDM, 0x7000, flags::WRITABLE, &mut alloc)
            .unwrap();
    }
    let text = mapper.lookup(0x40_0010).unwrap();
    assert_eq!(
        (text.phys, text.user, text.writable, text.executable),
        (0x5010, true, false, true)
    );
    let data = mapper.lookup(0x40_1000).unwrap();
    assert_eq!(
        (data.user, data.writable, data.executable),
        (true, true, false)
    );
    let kernel = mapper.lookup(HHDM).unwrap();
    assert_eq!((kernel.user, kernel.writable), (false, true));
    // A non-user upper level hides a user leaf.
    let [l4, ..] = indices(0x40_0000);
    mem.frame(ROOT)[l4] &= !flags::USER;
    let mut mapper = Mapper::new(&mut mem, ROOT);
    assert!(!mapper.lookup(0x40_0000).unwrap().user);
    assert_eq!(mapper.lookup(0x40_2000), None);
    assert_eq!(mapper.lookup(0x8000_0000_0000), None);
}

#[test]
fn maps_2m_pages_and_refuses_conflicts() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = frames();
    let mut mapper = Mapper::new(&mut mem, ROOT);
    let two = 2 << 20;
    // SAFETY: fake memory (every call in this test).
    unsafe {
        assert_eq!(
            mapper.ensure_mapped_2m(HHDM + two, two, 0, &mut alloc),
            Ok(MapOutcome::Mapped)
        );
        assert_eq!(
            mapper.ensure_mapped_2m(HHDM + two, two, 0, &mut alloc),
            Ok(MapOutcome::AlreadyMapped)
        );
        assert_eq!(
            mapper.ensure_mapped_2m(HHDM + two, 2 * two, 0, &mut alloc),
            Err(MapError::MappedElsewhere {
                virt: HHDM + two,
                existing: two
            })
        );
        assert_eq!(
            mapper.ensure_mapped_2m(HHDM + 0x1000, 0, 0, &mut alloc),
            Err(MapError::Misaligned(HHDM + 0x1000))
        );
        // A 4 KiB page in the same PD, then a 2 MiB page over its table: refused.
        mapper.ensure_mapped(HHDM, 0x3000, 0, &mut alloc).unwrap();
        assert!(matches!(
            mapper.ensure_mapped_2m(HHDM, 0, 0, &mut alloc),
            Err(MapError::MappedElsewhere { .. })
        ));
    }
    assert_eq!(mapper.translate(HHDM + two + 0x1234), Some(two + 0x1234));
    // PDPT and PD for the huge page, then one PT for the small one.
    assert_eq!(alloc.used().1, 3 * PAGE_SIZE);
}

#[test]
fn unmap_returns_the_frame_once() {
    let mut mem = FakePhys::new(0x20);
    let mut alloc = frames();
    let mut mapper = Mapper::new(&mut mem, ROOT);
    // SAFETY: fake memory (every call in this test).
    unsafe {
        mapper
            .ensure_mapped(0x40_0000, 0x5000, flags::USER, &mut alloc)
            .unwrap();
        assert_eq!(mapper.unmap(0x40_0000), Some(0x5000));
        assert_eq!(mapper.unmap(0x40_0000), None);
        assert_eq!(mapper.unmap(0x9000_0000), None);
        assert_eq!(mapper.unmap(u64::MAX / 2), None);
    }
    assert_eq!(mapper.translate(0x40_0000), None);
}

#[test]
fn teardown_releases_every_frame_once_and_spares_other_slots() {
    let mut mem = FakePhys::new(0x40);
    let mut alloc = EarlyFrameAllocator::new(0x10 * PAGE_SIZE, 0x30 * PAGE_SIZE);
    let mut mapper = Mapper::new(&mut mem, ROOT);
    // SAFETY: fake memory (every call in this test).
    unsafe {
        for (virt, phys) in [
            (0x40_0000, 0x5000),
            (0x40_1000, 0x6000),
            (0x7fff_fff0_0000, 0x7000),
        ] {
            mapper
                .ensure_mapped(virt, phys, flags::USER, &mut alloc)
                .unwrap();
        }
        mapper.ensure_mapped(HHDM, 0x8000, 0, &mut alloc).unwrap();
    }
    let tables_used = alloc.used().1 / PAGE_SIZE;
    let mut released = Vec::new();
    // SAFETY: fake memory.
    unsafe { mapper.teardown(0..256, &mut |f| released.push(f)) };
    released.sort();
    let leaves = [0x5000, 0x6000, 0x7000];
    assert!(leaves.iter().all(|l| released.contains(l)));
    // Two user subtrees of three tables each; the kernel's three stay.
    assert_eq!(released.len(), 3 + 6);
    assert_eq!(tables_used, 9);
    let mut dedup = released.clone();
    dedup.dedup();
    assert_eq!(dedup, released);
    assert_eq!(mapper.translate(0x40_0000), None);
    assert_eq!(mapper.translate(HHDM), Some(0x8000));
}
