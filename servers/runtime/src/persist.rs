//! Persistence primitives: make your own stores to persistent memory
//! durable.
//!
//! A store to a mapped persistent object reaches the NVDIMM only when its
//! cache line is written back. [`flush`] writes back every 64-byte line a
//! range touches — with `clwb` when the CPU has it (the line stays cached),
//! else `clflushopt`, else `clflush` — and [`fence`] (`sfence`) orders those
//! write-backs before any later store. The durable-write recipe is:
//!
//! ```text
//! write the bytes; flush(range); fence();   // now durable
//! ```
//!
//! Which instruction to use is read from CPUID once and cached. `clflush`
//! is itself ordered, so `fence` is then redundant but harmless; the recipe
//! stays the same on every CPU.

use core::sync::atomic::{AtomicU8, Ordering};

/// Size of a cache line: the unit of write-back.
pub const LINE: usize = 64;

/// The write-back instruction this CPU offers, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushKind {
    /// `clwb`: write back, keep the line cached.
    Clwb,
    /// `clflushopt`: write back and evict, weakly ordered.
    Clflushopt,
    /// `clflush`: write back and evict, ordered (every x86-64 CPU).
    Clflush,
}

/// The range of line addresses `[first, end)` that `[addr, addr + len)`
/// touches: `first` rounded down and `end` rounded up to [`LINE`]. An empty
/// range touches no line (`first == end`). Saturates at the top of the
/// address space instead of wrapping.
pub const fn line_range(addr: usize, len: usize) -> (usize, usize) {
    if len == 0 {
        let a = addr & !(LINE - 1);
        return (a, a);
    }
    let first = addr & !(LINE - 1);
    let last = addr.saturating_add(len - 1) & !(LINE - 1);
    (first, last.saturating_add(LINE))
}

/// How many lines `[addr, addr + len)` touches.
pub const fn line_count(addr: usize, len: usize) -> usize {
    let (first, end) = line_range(addr, len);
    (end - first) / LINE
}

/// 0: not probed yet; otherwise `1 + FlushKind as u8`.
static KIND: AtomicU8 = AtomicU8::new(0);

/// The write-back instruction in use (probed once with CPUID).
pub fn flush_kind() -> FlushKind {
    match KIND.load(Ordering::Relaxed) {
        1 => FlushKind::Clwb,
        2 => FlushKind::Clflushopt,
        3 => FlushKind::Clflush,
        _ => {
            let k = probe();
            KIND.store(
                match k {
                    FlushKind::Clwb => 1,
                    FlushKind::Clflushopt => 2,
                    FlushKind::Clflush => 3,
                },
                Ordering::Relaxed,
            );
            k
        }
    }
}

/// Reads CPUID: leaf 7 EBX bit 24 is CLWB, bit 23 CLFLUSHOPT.
fn probe() -> FlushKind {
    use core::arch::x86_64::__cpuid_count;
    let max_leaf = __cpuid_count(0, 0).eax;
    if max_leaf >= 7 {
        let ebx = __cpuid_count(7, 0).ebx;
        if ebx & (1 << 24) != 0 {
            return FlushKind::Clwb;
        }
        if ebx & (1 << 23) != 0 {
            return FlushKind::Clflushopt;
        }
    }
    FlushKind::Clflush
}

/// Writes back every cache line `[ptr, ptr + len)` touches. Follow with
/// [`fence`] before relying on durability.
///
/// # Safety
///
/// The range must be mapped (the instructions fault on an unmapped page,
/// like a load would); the caller need not own the bytes — a write-back
/// changes no value.
pub unsafe fn flush(ptr: *const u8, len: usize) {
    let (first, end) = line_range(ptr as usize, len);
    let kind = flush_kind();
    let mut line = first;
    while line < end {
        let p = line as *const u8;
        // SAFETY: `p` is in a line the caller's mapped range touches (a
        // line never crosses a page, so its page is mapped); write-back
        // instructions read no value and change none, and CPUID said the
        // chosen one exists.
        unsafe {
            match kind {
                FlushKind::Clwb => {
                    core::arch::asm!("clwb [{0}]", in(reg) p, options(nostack, preserves_flags))
                }
                FlushKind::Clflushopt => {
                    core::arch::asm!("clflushopt [{0}]", in(reg) p, options(nostack, preserves_flags))
                }
                FlushKind::Clflush => {
                    core::arch::asm!("clflush [{0}]", in(reg) p, options(nostack, preserves_flags))
                }
            }
        }
        line += LINE;
    }
}

/// Writes back the lines holding `bytes` (the safe form of [`flush`]).
pub fn flush_slice(bytes: &[u8]) {
    // SAFETY: a live shared slice is mapped and readable.
    unsafe { flush(bytes.as_ptr(), bytes.len()) }
}

/// Orders every earlier write-back (and store) before every later store:
/// after `flush` + `fence`, the flushed lines are durable.
pub fn fence() {
    // SAFETY: `sfence` only orders stores; it touches no memory and no
    // register.
    unsafe { core::arch::asm!("sfence", options(nostack, preserves_flags)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ranges_cover_exactly_the_touched_lines() {
        assert_eq!(line_range(0, 0), (0, 0));
        assert_eq!(line_range(100, 0), (64, 64));
        assert_eq!(line_range(0, 1), (0, 64));
        assert_eq!(line_range(0, 64), (0, 64));
        assert_eq!(line_range(0, 65), (0, 128));
        assert_eq!(line_range(63, 2), (0, 128));
        assert_eq!(line_range(64, 64), (64, 128));
        assert_eq!(line_range(65, 63), (64, 128));
        assert_eq!(line_range(65, 64), (64, 192));
        assert_eq!(line_count(4095, 2), 2);
        assert_eq!(line_count(4096, 4096), 64);
        assert_eq!(line_count(10, 0), 0);
        let top = usize::MAX - 10;
        assert_eq!(line_range(top, 5).0, top & !63);
        assert_eq!(line_range(top, 100).1, usize::MAX, "saturates, never wraps");
    }

    #[test]
    fn every_byte_lies_in_exactly_one_flushed_line() {
        for addr in 0..200usize {
            for len in 0..200usize {
                let (first, end) = line_range(addr, len);
                assert_eq!(first % LINE, 0);
                assert_eq!(end % LINE, 0);
                for b in addr..addr + len {
                    assert!(first <= b && b < end);
                }
                if len > 0 {
                    assert!(first + LINE > addr, "no line before the range");
                    assert!(end - LINE < addr + len, "no line after the range");
                }
            }
        }
    }

    #[test]
    fn flushing_host_memory_works_and_keeps_the_bytes() {
        let mut buf = [0u8; 300];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
        let kind = flush_kind();
        assert_eq!(flush_kind(), kind, "cached");
        flush_slice(&buf[3..290]);
        fence();
        assert!(buf.iter().enumerate().all(|(i, &b)| b == i as u8));
    }
}
