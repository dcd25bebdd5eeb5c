//! The checker: verifies every invariant of the crate docs over a region
//! and reports precisely what is wrong — which superblock copy, log word,
//! directory entry, page or header, which field, what was expected.
//!
//! It reads only; a committed but unapplied log transaction is replayed in
//! a private copy of the metadata first, so the checker judges the state
//! the next recovery will produce (and reports that a transaction is
//! pending).

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use protocols::object::{
    HEADER_OFFSET, HEADER_SIZE, HeaderError, ObjFlags, ObjHeader, ObjId, Perms,
};

use crate::dir::{self, Entry, EntryProblem};
use crate::layout::{Geometry, SbProblem, read_superblock};
use crate::log::{self, LogProblem};
use crate::{PAGE, Pmem, VecPmem};

/// Most findings a report lists; the rest are only counted.
pub const MAX_FINDINGS: usize = 256;

/// One broken invariant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// S1: no valid superblock copy; why each copy is invalid.
    NoSuperblock([SbProblem; 2]),
    /// L1: the log cannot be recovered.
    Log(LogProblem),
    /// D1/D2: a malformed directory entry.
    Entry {
        /// Entry index.
        index: u32,
        /// What is wrong.
        problem: EntryProblem,
    },
    /// D3: two entries with one ID.
    DuplicateId {
        /// The ID.
        id: ObjId,
        /// The first entry holding it.
        first: u32,
        /// The later one.
        second: u32,
    },
    /// B1: a data page in two extents.
    SharedPage {
        /// Data page.
        page: u32,
        /// First owner (entry index).
        first: u32,
        /// Second owner.
        second: u32,
    },
    /// B1: pages marked used that no entry owns (a leak).
    Leaked {
        /// First page of the run.
        first: u32,
        /// Pages in the run.
        count: u32,
    },
    /// B1: a page an entry owns that the bitmap calls free.
    Unmarked {
        /// Data page.
        page: u32,
        /// Its owner.
        entry: u32,
    },
    /// B1: bits set past the last data page, in this bitmap word.
    BitmapTail {
        /// Word index.
        word: u32,
        /// The stray bits.
        bits: u64,
    },
    /// H1: an object's header is invalid or disagrees with its entry.
    Header {
        /// Entry index.
        index: u32,
        /// The object.
        id: ObjId,
        /// What is wrong.
        problem: HeaderProblem,
    },
}

/// What is wrong with an object's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// It does not decode.
    Decode(HeaderError),
    /// The key differs from the entry's.
    Key {
        /// In the entry.
        entry: ObjId,
        /// In the header.
        header: ObjId,
    },
    /// The default permissions differ from the entry's.
    Perms {
        /// In the entry.
        entry: Perms,
        /// In the header.
        header: Perms,
    },
    /// The flags differ from the entry's.
    Flags {
        /// In the entry.
        entry: ObjFlags,
        /// In the header.
        header: ObjFlags,
    },
}

/// The checker's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Broken invariants (at most [`MAX_FINDINGS`]).
    pub findings: Vec<Finding>,
    /// Findings past [`MAX_FINDINGS`], not listed.
    pub omitted: u32,
    /// The superblock in force's generation.
    pub generation: Option<u64>,
    /// A committed, unapplied transaction recovery will replay.
    pub pending: Option<u64>,
    /// Used directory entries.
    pub objects: u32,
    /// Data pages.
    pub data_pages: u32,
    /// Data pages marked used.
    pub used_pages: u32,
}

impl Report {
    /// Whether every invariant holds.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.omitted == 0
    }

    fn add(&mut self, f: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        } else {
            self.omitted += 1;
        }
    }
}

/// Checks the region.
pub fn check<P: Pmem + ?Sized>(pmem: &P) -> Report {
    let mut report = Report::default();
    let sb = match read_superblock(pmem) {
        Ok((sb, _)) => sb,
        Err(problems) => {
            report.add(Finding::NoSuperblock(problems));
            return report;
        }
    };
    let g = sb.geometry;
    report.generation = Some(sb.generation);
    report.data_pages = g.data_pages;
    let state = match log::read(pmem, &g) {
        Ok(s) => s,
        Err(p) => {
            report.add(Finding::Log(p));
            return report;
        }
    };
    // The metadata as recovery will leave it: directory and bitmap, with
    // the pending records (which only ever target them) applied.
    let mut meta = VecPmem::new((g.data_off - g.dir_off) as usize);
    pmem.read(g.dir_off, &mut meta.0);
    if let Some(records) = &state.pending {
        report.pending = Some(state.commit);
        for (target, data) in records {
            meta.write(target - g.dir_off, data);
        }
    }
    let local = Geometry {
        dir_off: 0,
        bitmap_off: g.bitmap_off - g.dir_off,
        ..g
    };
    let entries = check_entries(&meta, &local, &mut report);
    check_pages(&meta, &local, &entries, &mut report);
    check_headers(pmem, &g, &entries, &mut report);
    report
}

/// D1–D3: decodes every entry; returns the valid ones.
fn check_entries(meta: &VecPmem, g: &Geometry, report: &mut Report) -> Vec<(u32, Entry)> {
    let mut entries = Vec::new();
    let mut ids = BTreeMap::new();
    for index in 0..g.dir_entries {
        match dir::read(meta, g, index) {
            Ok(None) => {}
            Ok(Some(e)) => {
                if let Some(&first) = ids.get(&e.id) {
                    report.add(Finding::DuplicateId {
                        id: e.id,
                        first,
                        second: index,
                    });
                } else {
                    ids.insert(e.id, index);
                }
                entries.push((index, e));
            }
            Err(problem) => report.add(Finding::Entry { index, problem }),
        }
    }
    report.objects = entries.len() as u32;
    entries
}

/// B1: ownership of every data page against the bitmap.
fn check_pages(meta: &VecPmem, g: &Geometry, entries: &[(u32, Entry)], report: &mut Report) {
    const NONE: u32 = u32::MAX;
    let mut owner = vec![NONE; g.data_pages as usize];
    for (index, e) in entries {
        for x in &e.extents {
            for p in x.start..x.start + x.len {
                let o = &mut owner[p as usize];
                if *o == NONE {
                    *o = *index;
                } else {
                    report.add(Finding::SharedPage {
                        page: p,
                        first: *o,
                        second: *index,
                    });
                }
            }
        }
    }
    let words = (g.bitmap_len / 8) as usize;
    let mut leak: Option<(u32, u32)> = None;
    for w in 0..words {
        let word = meta.read_u64(g.bitmap_off + w as u64 * 8);
        report.used_pages += word.count_ones();
        for bit in 0..64u32 {
            let p = w as u64 * 64 + u64::from(bit);
            let set = word & (1 << bit) != 0;
            if p >= u64::from(g.data_pages) {
                if word >> bit != 0 {
                    report.add(Finding::BitmapTail {
                        word: w as u32,
                        bits: word & (u64::MAX << bit),
                    });
                }
                break;
            }
            let p = p as u32;
            let o = owner[p as usize];
            if set && o == NONE {
                leak = match leak {
                    Some((first, count)) if first + count == p => Some((first, count + 1)),
                    other => {
                        if let Some((first, count)) = other {
                            report.add(Finding::Leaked { first, count });
                        }
                        Some((p, 1))
                    }
                };
            } else if !set && o != NONE {
                report.add(Finding::Unmarked { page: p, entry: o });
            }
        }
    }
    if let Some((first, count)) = leak {
        report.add(Finding::Leaked { first, count });
    }
}

/// H1: each object's header against its entry.
fn check_headers<P: Pmem + ?Sized>(
    pmem: &P,
    g: &Geometry,
    entries: &[(u32, Entry)],
    report: &mut Report,
) {
    for (index, e) in entries {
        let Some(top) = e.backing(u64::from(e.meta_pages) - 1) else {
            continue;
        };
        let mut b = [0u8; HEADER_SIZE as usize];
        pmem.read(g.page_off(top) + HEADER_OFFSET % PAGE, &mut b);
        let problem = match ObjHeader::decode(&b) {
            Err(h) => Some(HeaderProblem::Decode(h)),
            Ok(h) if h.key_id != e.key => Some(HeaderProblem::Key {
                entry: e.key,
                header: h.key_id,
            }),
            Ok(h) if h.default_perms != e.perms => Some(HeaderProblem::Perms {
                entry: e.perms,
                header: h.default_perms,
            }),
            Ok(h) if h.flags != e.flags => Some(HeaderProblem::Flags {
                entry: e.flags,
                header: h.flags,
            }),
            Ok(_) => None,
        };
        if let Some(problem) = problem {
            report.add(Finding::Header {
                index: *index,
                id: e.id,
                problem,
            });
        }
    }
}
