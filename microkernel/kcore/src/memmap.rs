//! The boot memory map: per-kind totals and the Limine protocol's promises.
//!
//! The kernel copies each Limine entry into an [`Entry`] and asks for a
//! [`Summary`] (the `memory:` console line) and a [`check`] of the protocol's
//! invariants. A broken invariant is reported as a [`MemmapError`]; the kernel
//! warns and goes on, but the frame allocator must not trust the map blindly.

use core::fmt;

use crate::paging::PAGE_SIZE;

/// What a memory-map entry describes (Limine's entry types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Free RAM.
    Usable,
    /// Reserved by the firmware or hardware.
    Reserved,
    /// ACPI tables; reclaimable once they have been read.
    AcpiReclaimable,
    /// ACPI non-volatile storage; never reclaimable.
    AcpiNvs,
    /// Faulty RAM.
    Bad,
    /// Used by the boot loader (responses, page tables, the boot stack).
    BootloaderReclaimable,
    /// The kernel image and the modules.
    KernelAndModules,
    /// The framebuffer.
    Framebuffer,
    /// A type this kernel does not know; treated as reserved.
    Unknown(u64),
}

impl Kind {
    /// Decodes Limine's numeric entry type.
    pub const fn from_limine(raw: u64) -> Kind {
        match raw {
            0 => Kind::Usable,
            1 => Kind::Reserved,
            2 => Kind::AcpiReclaimable,
            3 => Kind::AcpiNvs,
            4 => Kind::Bad,
            5 => Kind::BootloaderReclaimable,
            6 => Kind::KernelAndModules,
            7 => Kind::Framebuffer,
            other => Kind::Unknown(other),
        }
    }

    /// Usable and bootloader-reclaimable entries carry the strong guarantees
    /// (page aligned, overlapping nothing).
    pub const fn is_allocatable(self) -> bool {
        matches!(self, Kind::Usable | Kind::BootloaderReclaimable)
    }
}

/// One memory-map entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Physical base address.
    pub base: u64,
    /// Length in bytes.
    pub length: u64,
    /// What the range is.
    pub kind: Kind,
}

impl Entry {
    /// The first address past the entry, or `None` if that overflows.
    pub const fn end(&self) -> Option<u64> {
        self.base.checked_add(self.length)
    }
}

/// Bytes per kind, and the number of entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// [`Kind::Usable`].
    pub usable: u64,
    /// [`Kind::BootloaderReclaimable`].
    pub bootloader_reclaimable: u64,
    /// [`Kind::KernelAndModules`].
    pub kernel_and_modules: u64,
    /// [`Kind::AcpiReclaimable`] plus [`Kind::AcpiNvs`].
    pub acpi: u64,
    /// [`Kind::Reserved`] plus unknown kinds.
    pub reserved: u64,
    /// [`Kind::Bad`].
    pub bad: u64,
    /// [`Kind::Framebuffer`].
    pub framebuffer: u64,
    /// Number of entries.
    pub entries: usize,
}

impl Summary {
    /// Totals the entries by kind (saturating, so a corrupt map cannot
    /// overflow).
    pub fn of(entries: impl IntoIterator<Item = Entry>) -> Summary {
        let mut sum = Summary::default();
        for entry in entries {
            sum.entries += 1;
            let total = match entry.kind {
                Kind::Usable => &mut sum.usable,
                Kind::BootloaderReclaimable => &mut sum.bootloader_reclaimable,
                Kind::KernelAndModules => &mut sum.kernel_and_modules,
                Kind::AcpiReclaimable | Kind::AcpiNvs => &mut sum.acpi,
                Kind::Reserved | Kind::Unknown(_) => &mut sum.reserved,
                Kind::Bad => &mut sum.bad,
                Kind::Framebuffer => &mut sum.framebuffer,
            };
            *total = total.saturating_add(entry.length);
        }
        sum
    }
}

/// A broken memory-map invariant; `index` is the offending entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemmapError {
    /// `base + length` overflows.
    LengthOverflow {
        /// Entry index.
        index: usize,
    },
    /// The entry starts below the one before it.
    NotSorted {
        /// Entry index.
        index: usize,
    },
    /// A usable or bootloader-reclaimable entry overlaps another entry.
    Overlap {
        /// Entry index.
        index: usize,
    },
    /// A usable or bootloader-reclaimable entry is not 4 KiB aligned.
    Misaligned {
        /// Entry index.
        index: usize,
    },
    /// A usable entry covers the first page, which Limine never hands out.
    UsableZeroPage {
        /// Entry index.
        index: usize,
    },
}

impl fmt::Display for MemmapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemmapError::LengthOverflow { index } => {
                write!(f, "entry {index}: base+length overflows")
            }
            MemmapError::NotSorted { index } => write!(f, "entry {index}: not sorted by base"),
            MemmapError::Overlap { index } => write!(f, "entry {index}: overlaps a neighbour"),
            MemmapError::Misaligned { index } => {
                write!(f, "entry {index}: usable range not 4 KiB aligned")
            }
            MemmapError::UsableZeroPage { index } => {
                write!(f, "entry {index}: usable range below 0x1000")
            }
        }
    }
}

/// Checks the protocol's promises: entries sorted by base, usable and
/// bootloader-reclaimable entries 4 KiB aligned and overlapping nothing, and
/// nothing usable below 0x1000. Returns the first violation.
pub fn check(entries: impl IntoIterator<Item = Entry>) -> Result<(), MemmapError> {
    let mut prev_base = 0u64;
    // Highest end of any earlier entry, and of any earlier allocatable entry.
    let mut max_end = 0u64;
    let mut max_allocatable_end = 0u64;
    for (index, entry) in entries.into_iter().enumerate() {
        let end = entry.end().ok_or(MemmapError::LengthOverflow { index })?;
        if entry.base < prev_base {
            return Err(MemmapError::NotSorted { index });
        }
        let allocatable = entry.kind.is_allocatable();
        if allocatable && (entry.base % PAGE_SIZE != 0 || entry.length % PAGE_SIZE != 0) {
            return Err(MemmapError::Misaligned { index });
        }
        if entry.kind == Kind::Usable && entry.length != 0 && entry.base < PAGE_SIZE {
            return Err(MemmapError::UsableZeroPage { index });
        }
        let hits_earlier = if allocatable {
            max_end
        } else {
            max_allocatable_end
        };
        if entry.length != 0 && hits_earlier > entry.base {
            return Err(MemmapError::Overlap { index });
        }
        prev_base = entry.base;
        max_end = max_end.max(end);
        if allocatable {
            max_allocatable_end = max_allocatable_end.max(end);
        }
    }
    Ok(())
}

/// The largest usable entry, page-aligned inwards: where the early frame
/// allocator takes its frames. Ties go to the lower address.
pub fn largest_usable(entries: impl IntoIterator<Item = Entry>) -> Option<(u64, u64)> {
    entries
        .into_iter()
        .filter(|e| e.kind == Kind::Usable)
        .filter_map(|e| {
            let start = e.base.checked_next_multiple_of(PAGE_SIZE)?.max(PAGE_SIZE);
            let end = e.end()? / PAGE_SIZE * PAGE_SIZE;
            (end > start).then_some((start, end - start))
        })
        .fold(None, |best: Option<(u64, u64)>, cand| match best {
            Some(b) if b.1 >= cand.1 => Some(b),
            _ => Some(cand),
        })
}

/// The span `(base, end)` from the lowest to the highest allocatable
/// (usable or bootloader-reclaimable) byte: what the frame allocator's
/// bitmap covers. `None` if there is no such memory.
pub fn allocatable_span(entries: impl IntoIterator<Item = Entry>) -> Option<(u64, u64)> {
    entries
        .into_iter()
        .filter(|e| e.kind.is_allocatable() && e.length != 0)
        .filter_map(|e| Some((e.base, e.end()?)))
        .fold(None, |span, (base, end)| match span {
            None => Some((base, end)),
            Some((lo, hi)) => Some((lo.min(base), hi.max(end))),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(base: u64, length: u64, kind: Kind) -> Entry {
        Entry { base, length, kind }
    }

    fn typical() -> Vec<Entry> {
        vec![
            e(0x1000, 0x9e000, Kind::Usable),
            e(0x9f000, 0x1000, Kind::Reserved),
            e(0x100000, 0x700000, Kind::Usable),
            e(0x800000, 0x8000, Kind::AcpiNvs),
            e(0x808000, 0x100000, Kind::KernelAndModules),
            e(0x908000, 0x200000, Kind::BootloaderReclaimable),
            e(0xb08000, 0x1000_0000, Kind::Usable),
            e(0x1_0000_0000, 0x1000, Kind::AcpiReclaimable),
            e(0x1_0000_1000, 0x1000, Kind::Bad),
            e(0x1_0000_2000, 0x10_0000, Kind::Framebuffer),
            e(0xf_d000_0000, 0x1000, Kind::Unknown(99)),
        ]
    }

    #[test]
    fn totals_by_kind() {
        let sum = Summary::of(typical());
        assert_eq!(sum.usable, 0x9e000 + 0x700000 + 0x1000_0000);
        assert_eq!(sum.bootloader_reclaimable, 0x200000);
        assert_eq!(sum.kernel_and_modules, 0x100000);
        assert_eq!(sum.acpi, 0x8000 + 0x1000);
        assert_eq!(sum.reserved, 0x1000 + 0x1000);
        assert_eq!(sum.bad, 0x1000);
        assert_eq!(sum.framebuffer, 0x10_0000);
        assert_eq!(sum.entries, 11);
        assert_eq!(Summary::of([]), Summary::default());
    }

    #[test]
    fn totals_saturate() {
        let sum = Summary::of([e(0, u64::MAX, Kind::Usable), e(0, u64::MAX, Kind::Usable)]);
        assert_eq!(sum.usable, u64::MAX);
    }

    #[test]
    fn a_good_map_passes() {
        assert_eq!(check(typical()), Ok(()));
        assert_eq!(check([]), Ok(()));
    }

    #[test]
    fn decodes_limine_types() {
        assert_eq!(Kind::from_limine(0), Kind::Usable);
        assert_eq!(Kind::from_limine(5), Kind::BootloaderReclaimable);
        assert_eq!(Kind::from_limine(7), Kind::Framebuffer);
        assert_eq!(Kind::from_limine(8), Kind::Unknown(8));
    }

    #[test]
    fn reports_violations() {
        let unsorted = [
            e(0x2000, 0x1000, Kind::Reserved),
            e(0x1000, 0x1000, Kind::Reserved),
        ];
        assert_eq!(check(unsorted), Err(MemmapError::NotSorted { index: 1 }));

        let misaligned = [e(0x1000, 0x1800, Kind::Usable)];
        assert_eq!(check(misaligned), Err(MemmapError::Misaligned { index: 0 }));
        let misaligned = [e(0x1800, 0x1000, Kind::BootloaderReclaimable)];
        assert_eq!(check(misaligned), Err(MemmapError::Misaligned { index: 0 }));

        let usable_over_reserved = [
            e(0x1000, 0x3000, Kind::Reserved),
            e(0x2000, 0x1000, Kind::Usable),
        ];
        assert_eq!(
            check(usable_over_reserved),
            Err(MemmapError::Overlap { index: 1 })
        );
        let reserved_over_usable = [
            e(0x1000, 0x3000, Kind::Usable),
            e(0x2000, 0x100, Kind::Reserved),
        ];
        assert_eq!(
            check(reserved_over_usable),
            Err(MemmapError::Overlap { index: 1 })
        );
        // A big reserved range overlapping a later usable one, not adjacent.
        let far = [
            e(0x1000, 0x10000, Kind::Reserved),
            e(0x2000, 0x10, Kind::AcpiNvs),
            e(0x3000, 0x1000, Kind::Usable),
        ];
        assert_eq!(check(far), Err(MemmapError::Overlap { index: 2 }));

        let overflow = [e(u64::MAX - 10, 0x1000, Kind::Reserved)];
        assert_eq!(
            check(overflow),
            Err(MemmapError::LengthOverflow { index: 0 })
        );

        let zero_page = [e(0, 0x2000, Kind::Usable)];
        assert_eq!(
            check(zero_page),
            Err(MemmapError::UsableZeroPage { index: 0 })
        );
    }

    #[test]
    fn reserved_ranges_may_overlap_each_other() {
        let map = [
            e(0x1000, 0x3000, Kind::Reserved),
            e(0x2000, 0x1000, Kind::AcpiNvs),
        ];
        assert_eq!(check(map), Ok(()));
    }

    #[test]
    fn allocatable_span_covers_usable_and_reclaimable() {
        assert_eq!(
            allocatable_span(typical()),
            Some((0x1000, 0xb08000 + 0x1000_0000))
        );
        assert_eq!(allocatable_span([e(0x1000, 0x1000, Kind::Reserved)]), None);
        let two = [
            e(0x5000, 0x1000, Kind::BootloaderReclaimable),
            e(0x2000, 0x1000, Kind::Usable),
        ];
        assert_eq!(allocatable_span(two), Some((0x2000, 0x6000)));
    }

    #[test]
    fn picks_the_largest_usable_range() {
        assert_eq!(largest_usable(typical()), Some((0xb08000, 0x1000_0000)));
        assert_eq!(largest_usable([e(0x1000, 0x1000, Kind::Reserved)]), None);
        // Unaligned ranges shrink inwards; page 0 is never handed out.
        assert_eq!(
            largest_usable([e(0x10, 0x3000, Kind::Usable)]),
            Some((0x1000, 0x2000))
        );
        assert_eq!(largest_usable([e(0x1800, 0x1000, Kind::Usable)]), None);
    }
}
