//! The allocator's logic over one address range, independent of where the
//! range comes from (the program heap, or a `Vec` in host tests).
//!
//! - **Small blocks** (≤ [`SMALL_MAX`] bytes after rounding size and
//!   alignment up to a power of two ≥ 16) come from size classes. Each class
//!   has an intrusive free list; an empty class takes one page and cuts it
//!   into blocks. A block of class `s` lies at a multiple of `s` within its
//!   page, so it is aligned to `s`. Freed small blocks go back to their
//!   class (pages are not returned to the page pool).
//! - **Large blocks** are whole pages: a first-fit, address-ordered free
//!   list of page runs (each run's first 16 bytes hold its size and the
//!   next run), coalesced on free; when no run fits, the range's untouched
//!   top (`brk`) grows. A run that ends at `brk` gives its pages back to it.
//!
//! `dealloc` gets the layout back from Rust, so blocks carry no header.
//! Fresh memory above `brk` is never touched until handed out, which suits
//! the demand-zero heap: untouched pages cost no frames.

use core::alloc::Layout;
use core::ptr;

/// Smallest block.
pub const MIN_BLOCK: usize = 16;
/// Largest small block; bigger requests take whole pages.
pub const SMALL_MAX: usize = 2048;
/// Page size: the unit of large blocks.
pub const PAGE: usize = 4096;
/// Number of small size classes (16, 32, … 2048).
const CLASSES: usize = (SMALL_MAX.trailing_zeros() - MIN_BLOCK.trailing_zeros() + 1) as usize;

/// A free page run's header, stored in the run itself.
#[repr(C)]
struct Run {
    size: usize,
    next: usize,
}

/// An allocator over `[base, end)`.
pub struct Arena {
    base: usize,
    end: usize,
    brk: usize,
    small: [usize; CLASSES],
    runs: usize,
}

/// The class index and block size for `layout`, if it is small.
fn class_of(layout: Layout) -> Option<(usize, usize)> {
    let size = layout
        .size()
        .max(layout.align())
        .max(MIN_BLOCK)
        .checked_next_power_of_two()?;
    (size <= SMALL_MAX).then(|| {
        (
            (size.trailing_zeros() - MIN_BLOCK.trailing_zeros()) as usize,
            size,
        )
    })
}

/// Bytes and alignment of the page run for a large `layout`.
fn pages_of(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(1).checked_next_multiple_of(PAGE)?;
    Some((size, layout.align().max(PAGE)))
}

impl Arena {
    /// An allocator over `[base, base + size)`. `base` is rounded up and
    /// the end down to whole pages.
    ///
    /// # Safety
    ///
    /// The range is readable and writable (or demand-zero) memory that
    /// nothing else uses for as long as the arena or any block it handed
    /// out lives, and `base + size` does not overflow.
    pub const unsafe fn new(base: usize, size: usize) -> Arena {
        let start = base.next_multiple_of(PAGE);
        let end = (base + size) / PAGE * PAGE;
        let start = if start > end { end } else { start };
        Arena {
            base: start,
            end,
            brk: start,
            small: [0; CLASSES],
            runs: 0,
        }
    }

    /// Bytes between the start of the range and the untouched top: the high
    /// water mark, for tests and statistics.
    pub const fn touched(&self) -> usize {
        self.brk - self.base
    }

    /// A block for `layout`, or null when the range is exhausted.
    pub fn alloc(&mut self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            Some((class, size)) => self.alloc_small(class, size),
            None => match pages_of(layout) {
                Some((size, align)) => self.alloc_pages(size, align),
                None => ptr::null_mut(),
            },
        }
    }

    /// Returns a block.
    ///
    /// # Safety
    ///
    /// `block` came from [`Arena::alloc`] on this arena with this `layout`
    /// and is not used afterwards.
    pub unsafe fn dealloc(&mut self, block: *mut u8, layout: Layout) {
        match class_of(layout) {
            // SAFETY: a block of this class, now unused: it may hold the link.
            Some((class, _)) => unsafe { self.push_small(class, block as usize) },
            None => {
                if let Some((size, _)) = pages_of(layout) {
                    // SAFETY: a run of `size` bytes we handed out, now unused.
                    unsafe { self.free_pages(block as usize, size) }
                }
            }
        }
    }

    /// Whether a block allocated for `old` also serves `new` (same class,
    /// or the same number of pages at a sufficient alignment), so
    /// `realloc` can keep it in place.
    pub fn fits_in_place(old: Layout, new: Layout) -> bool {
        match (class_of(old), class_of(new)) {
            (Some((a, _)), Some((b, _))) => a == b,
            (None, None) => match (pages_of(old), pages_of(new)) {
                (Some((a, align_a)), Some((b, align_b))) => a == b && align_b <= align_a,
                _ => false,
            },
            _ => false,
        }
    }

    fn alloc_small(&mut self, class: usize, size: usize) -> *mut u8 {
        if self.small[class] == 0 {
            let page = self.alloc_pages(PAGE, PAGE);
            if page.is_null() {
                return page;
            }
            // Push in reverse so blocks go out in address order.
            for block in (0..PAGE / size).rev() {
                // SAFETY: a fresh page of ours, cut into `size`-byte blocks.
                unsafe { self.push_small(class, page as usize + block * size) };
            }
        }
        let block = self.small[class];
        // SAFETY: a free block of ours; its first word is the link.
        self.small[class] = unsafe { (block as *const usize).read() };
        block as *mut u8
    }

    /// # Safety
    ///
    /// `block` is an unused, `MIN_BLOCK`-aligned block of class `class`.
    unsafe fn push_small(&mut self, class: usize, block: usize) {
        // SAFETY: per the contract the block is ours and unused.
        unsafe { (block as *mut usize).write(self.small[class]) };
        self.small[class] = block;
    }

    fn alloc_pages(&mut self, size: usize, align: usize) -> *mut u8 {
        // First fit in the free runs.
        let mut prev = 0usize;
        let mut cur = self.runs;
        while cur != 0 {
            // SAFETY: `cur` is a free run of ours; its header is valid.
            let Run {
                size: run_size,
                next,
            } = unsafe { (cur as *const Run).read() };
            let at = cur.next_multiple_of(align);
            if at.checked_add(size).is_some_and(|e| e <= cur + run_size) {
                self.set_next(prev, next);
                // SAFETY: the pieces before and after the block are free
                // parts of the run we just took off the list.
                unsafe {
                    self.free_pages(cur, at - cur);
                    self.free_pages(at + size, cur + run_size - at - size);
                }
                return at as *mut u8;
            }
            prev = cur;
            cur = next;
        }
        // Grow into the untouched top.
        let at = self.brk.next_multiple_of(align);
        match at.checked_add(size) {
            Some(top) if top <= self.end => {
                let gap = at - self.brk;
                let old = self.brk;
                self.brk = top;
                // SAFETY: the alignment gap is ours and unused.
                unsafe { self.free_pages(old, gap) };
                at as *mut u8
            }
            _ => ptr::null_mut(),
        }
    }

    /// Links run `prev` (0: the list head) to `next`.
    fn set_next(&mut self, prev: usize, next: usize) {
        if prev == 0 {
            self.runs = next;
        } else {
            // SAFETY: `prev` is a free run of ours.
            unsafe { (*(prev as *mut Run)).next = next };
        }
    }

    /// Puts `[at, at + size)` on the run list, merging with neighbours, and
    /// gives a run that reaches `brk` back to it. Size 0 is a no-op.
    ///
    /// # Safety
    ///
    /// The pages are ours, unused and not on the list.
    unsafe fn free_pages(&mut self, mut at: usize, mut size: usize) {
        if size == 0 {
            return;
        }
        let mut prev = 0usize;
        let mut cur = self.runs;
        while cur != 0 && cur < at {
            prev = cur;
            // SAFETY: a free run of ours.
            cur = unsafe { (*(cur as *const Run)).next };
        }
        // Merge with the following run.
        if cur != 0 && at + size == cur {
            // SAFETY: a free run of ours.
            let Run { size: s, next } = unsafe { (cur as *const Run).read() };
            size += s;
            cur = next;
        }
        // Merge with the preceding run.
        if prev != 0 {
            // SAFETY: a free run of ours.
            let prev_size = unsafe { (*(prev as *const Run)).size };
            if prev + prev_size == at {
                at = prev;
                size += prev_size;
                // `prev` is replaced by the merged run: find its predecessor.
                prev = self.predecessor(prev);
            }
        }
        if at + size == self.brk {
            self.brk = at;
            self.set_next(prev, cur);
            return;
        }
        // SAFETY: the run's pages are ours and unused; a page holds a header.
        unsafe { (at as *mut Run).write(Run { size, next: cur }) };
        self.set_next(prev, at);
    }

    /// The run before `run` on the list (0: it is the head).
    fn predecessor(&self, run: usize) -> usize {
        let mut prev = 0usize;
        let mut cur = self.runs;
        while cur != run && cur != 0 {
            prev = cur;
            // SAFETY: a free run of ours.
            cur = unsafe { (*(cur as *const Run)).next };
        }
        prev
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A page-aligned test region of `pages` pages.
    struct Region {
        _mem: Vec<u8>,
        arena: Arena,
    }

    fn region(pages: usize) -> Region {
        let mut mem = vec![0u8; (pages + 1) * PAGE];
        let base = mem.as_mut_ptr() as usize;
        // SAFETY: the Vec is ours, lives as long as the Region, and is
        // only used through the arena.
        let arena = unsafe { Arena::new(base, mem.len()) };
        Region { _mem: mem, arena }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_and_page_runs_round_as_documented() {
        assert_eq!(class_of(layout(1, 1)), Some((0, 16)));
        assert_eq!(class_of(layout(17, 8)), Some((1, 32)));
        assert_eq!(class_of(layout(8, 256)), Some((4, 256)));
        assert_eq!(class_of(layout(2048, 8)), Some((CLASSES - 1, 2048)));
        assert_eq!(class_of(layout(2049, 8)), None);
        assert_eq!(pages_of(layout(2049, 8)), Some((4096, 4096)));
        assert_eq!(pages_of(layout(5000, 65536)), Some((8192, 65536)));
    }

    #[test]
    fn freed_blocks_are_reused() {
        let mut r = region(64);
        let a = r.arena.alloc(layout(24, 8));
        // SAFETY: from this arena with this layout.
        unsafe { r.arena.dealloc(a, layout(24, 8)) };
        assert_eq!(r.arena.alloc(layout(30, 8)), a, "same class, same block");
        let big = r.arena.alloc(layout(10_000, 8));
        let touched = r.arena.touched();
        // SAFETY: from this arena with this layout.
        unsafe { r.arena.dealloc(big, layout(10_000, 8)) };
        assert!(
            r.arena.touched() < touched,
            "a run at the top goes back to brk"
        );
        assert_eq!(r.arena.alloc(layout(12_000, 8)), big);
    }

    #[test]
    fn page_runs_coalesce_and_honour_alignment() {
        let mut r = region(64);
        let l = layout(PAGE, 8);
        let [a, b, c, _guard] = [0; 4].map(|_| r.arena.alloc(l));
        // SAFETY: each from this arena with this layout.
        unsafe {
            r.arena.dealloc(a, l);
            r.arena.dealloc(c, l);
            r.arena.dealloc(b, l);
        }
        assert_eq!(
            r.arena.alloc(layout(3 * PAGE, 8)),
            a,
            "three freed neighbours merge"
        );
        let aligned = r.arena.alloc(layout(100, 8 * PAGE));
        assert_eq!(aligned as usize % (8 * PAGE), 0);
    }

    #[test]
    fn exhaustion_returns_null_and_recovers() {
        let mut r = region(8);
        let l = layout(2 * PAGE, 8);
        let blocks: Vec<_> = (0..4).map(|_| r.arena.alloc(l)).collect();
        assert!(blocks.iter().all(|b| !b.is_null()));
        assert!(r.arena.alloc(l).is_null());
        assert!(
            r.arena.alloc(layout(16, 8)).is_null(),
            "no page left for a slab"
        );
        // SAFETY: from this arena with this layout.
        unsafe { r.arena.dealloc(blocks[1], l) };
        assert_eq!(r.arena.alloc(layout(16, 8)), blocks[1]);
    }

    /// Random allocations and frees: blocks never overlap, keep their
    /// contents, are aligned, and the same workload run again does not
    /// grow the touched region (everything freed is reused).
    #[test]
    fn random_workload_keeps_blocks_disjoint_and_reuses_memory() {
        let mut r = region(2048);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut high = 0;
        for round in 0..3 {
            let mut live: BTreeMap<usize, (Layout, u8)> = BTreeMap::new();
            for step in 0..4000u32 {
                if live.is_empty() || next() % 3 != 0 {
                    let size = match next() % 10 {
                        0 => 1 + (next() % 40_000) as usize,
                        _ => 1 + (next() % 600) as usize,
                    };
                    let align = 1 << (next() % 8);
                    let l = layout(size, align);
                    let p = r.arena.alloc(l) as usize;
                    assert_ne!(p, 0);
                    assert_eq!(p % align, 0);
                    if let Some((&q, &(ql, _))) = live.range(..=p).next_back() {
                        assert!(q + ql.size() <= p, "overlaps the block below");
                    }
                    if let Some((&q, _)) = live.range(p..).next() {
                        assert!(p + size <= q, "overlaps the block above");
                    }
                    let fill = step as u8;
                    // SAFETY: a fresh block of `size` bytes.
                    unsafe { ptr::write_bytes(p as *mut u8, fill, size) };
                    live.insert(p, (l, fill));
                } else {
                    let nth = (next() as usize) % live.len();
                    let (&p, &(l, fill)) = live.iter().nth(nth).unwrap();
                    // SAFETY: a live block of `l.size()` bytes.
                    let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, l.size()) };
                    assert!(bytes.iter().all(|&b| b == fill), "contents kept");
                    live.remove(&p);
                    // SAFETY: from this arena with this layout.
                    unsafe { r.arena.dealloc(p as *mut u8, l) };
                }
            }
            for (p, (l, _)) in live {
                // SAFETY: from this arena with this layout.
                unsafe { r.arena.dealloc(p as *mut u8, l) };
            }
            if round == 0 {
                high = r.arena.touched();
            } else {
                assert!(
                    r.arena.touched() <= high * 3 / 2,
                    "round {round} grew the heap"
                );
            }
        }
    }
}
