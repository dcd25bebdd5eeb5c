//! Moving a message between two address spaces in one copy.
//!
//! Only one address space is live at a time, so one side of every copy is
//! reached through the higher-half direct map (HHDM) instead of its user
//! address: the kernel looks up the frames behind the other program's
//! range in that program's page tables and copies between the live user
//! range and those frames. No kernel bounce buffer, no second copy.
//!
//! The frames stay the other program's: the caller holds an `Arc` of that
//! program (so its address space, and every frame mapped in it, lives),
//! and no call unmaps user memory outside the object slots, which these
//! ranges never touch (see `crate::syscall::user_ptr`).

use protocols::layout::{PAGE_SIZE, SLOT_BASE, SLOT_END, is_user_range};
use protocols::syscall::MAX_PPC_MESSAGE;

use crate::mm::phys_to_virt;
use crate::program::Program;

/// Most pages a message of at most [`MAX_PPC_MESSAGE`] bytes spans.
const MAX_PAGES: usize = MAX_PPC_MESSAGE / PAGE_SIZE as usize + 1;

/// A user range of another program, as the frames behind it: up to
/// [`MAX_PAGES`] pieces `(physical address, length)`, in order.
pub struct Frames {
    pieces: [(u64, usize); MAX_PAGES],
    count: usize,
}

impl Frames {
    /// The frames behind `[addr, addr + len)` in `program`'s space, if
    /// every page of it is user memory outside the object slots, present,
    /// and accessible (`write`: writable). Pages not present yet are not
    /// faulted in: `None` (the caller takes a slower path that does).
    pub fn of(program: &Program, addr: u64, len: usize, write: bool) -> Option<Frames> {
        let len64 = len as u64;
        if len > MAX_PPC_MESSAGE || !is_user_range(addr, len64) {
            return None;
        }
        if addr < SLOT_END && addr + len64 > SLOT_BASE {
            return None;
        }
        let mut frames = Frames {
            pieces: [(0, 0); MAX_PAGES],
            count: 0,
        };
        let mut at = addr;
        let end = addr + len64;
        while at < end {
            let leaf = program.space.lookup(at)?;
            if !leaf.user || (write && !leaf.writable) {
                return None;
            }
            let n = (PAGE_SIZE - at % PAGE_SIZE).min(end - at);
            *frames.pieces.get_mut(frames.count)? = (leaf.phys, n as usize);
            frames.count += 1;
            at += n;
        }
        Some(frames)
    }

    /// The `len` (≤ what is left of the page) bytes at physical address
    /// `phys`, a frame already found (and remembered) for a program.
    pub fn page(phys: u64, len: usize) -> Frames {
        let mut pieces = [(0, 0); MAX_PAGES];
        pieces[0] = (phys, len.min((PAGE_SIZE - phys % PAGE_SIZE) as usize));
        Frames { pieces, count: 1 }
    }

    /// The physical address of the range's first byte (`None`: empty).
    pub fn first(&self) -> Option<u64> {
        self.pieces[..self.count].first().map(|&(phys, _)| phys)
    }

    /// The pieces, as kernel addresses in the HHDM with their lengths.
    fn pieces(&self) -> impl Iterator<Item = (*mut u8, usize)> + '_ {
        self.pieces[..self.count]
            .iter()
            .map(|&(phys, n)| (phys_to_virt(phys) as *mut u8, n))
    }

    /// Calls `f` with each piece's bytes, in order, and the offset of the
    /// piece in the range.
    ///
    /// The bytes are the other program's memory: its own threads may
    /// change them meanwhile; `f` must treat them as untrusted input.
    pub fn read_each(&self, mut f: impl FnMut(usize, &[u8])) {
        let mut off = 0;
        for (p, n) in self.pieces() {
            // SAFETY: `p` is the HHDM address of a frame mapped in the
            // program `Frames::of` looked in, which the caller keeps alive
            // (and which no call unmaps); `n` bytes stay inside its page.
            // User memory is never a Rust object, so nothing else in the
            // kernel refers to it.
            f(off, unsafe { core::slice::from_raw_parts(p, n) });
            off += n;
        }
    }

    /// Calls `f` with each piece as a writable slice, in order, and the
    /// offset of the piece in the range.
    pub fn write_each(&self, mut f: impl FnMut(usize, &mut [u8])) {
        let mut off = 0;
        for (p, n) in self.pieces() {
            // SAFETY: as in `read_each`; the pages were found writable.
            f(off, unsafe { core::slice::from_raw_parts_mut(p, n) });
            off += n;
        }
    }
}
