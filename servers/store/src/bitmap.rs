//! Free space: one bit per data page (set = used), in little-endian `u64`
//! words at the geometry's bitmap offset; bit `p % 64` of word `p / 64` is
//! data page `p`. The store keeps a copy in memory, plans allocations on it
//! without changing it, and logs the words an operation changes.

use alloc::vec;
use alloc::vec::Vec;

use crate::StoreError;
use crate::dir::{Extent, MAX_EXTENTS};

/// The in-memory bitmap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
    pages: u32,
    used: u32,
}

impl Bitmap {
    /// All `pages` free.
    pub fn new(pages: u32) -> Bitmap {
        Bitmap {
            words: vec![0; (pages as usize).div_ceil(64)],
            pages,
            used: 0,
        }
    }

    /// From its words (the caller has checked that no bit past `pages` is set).
    pub fn from_words(words: Vec<u64>, pages: u32) -> Bitmap {
        let used = words.iter().map(|w| w.count_ones()).sum();
        Bitmap { words, pages, used }
    }

    /// The words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Whether page `p` is used.
    pub fn is_used(&self, p: u32) -> bool {
        self.words[(p / 64) as usize] & (1 << (p % 64)) != 0
    }

    /// Pages used.
    pub fn used(&self) -> u32 {
        self.used
    }

    /// Pages free.
    pub fn free(&self) -> u32 {
        self.pages - self.used
    }

    /// Sets (`used`) or clears every page of `extents`, returning the range
    /// of words changed (`start..end`, empty if none).
    pub fn set(&mut self, extents: &[Extent], used: bool) -> core::ops::Range<usize> {
        let (mut lo, mut hi) = (usize::MAX, 0);
        for e in extents {
            for p in e.start..e.start + e.len {
                let w = (p / 64) as usize;
                let bit = 1u64 << (p % 64);
                debug_assert_eq!(
                    self.words[w] & bit != 0,
                    !used,
                    "page {p} already in that state"
                );
                if used {
                    self.words[w] |= bit;
                    self.used += 1;
                } else {
                    self.words[w] &= !bit;
                    self.used -= 1;
                }
                lo = lo.min(w);
                hi = hi.max(w + 1);
            }
        }
        if lo > hi { 0..0 } else { lo..hi }
    }

    /// The free run starting at `p` (0 pages if `p` is used or past the end).
    fn run_at(&self, p: u32) -> u32 {
        let mut q = p;
        while q < self.pages && !self.is_used(q) {
            // Whole free words at a time.
            q += if q.is_multiple_of(64) && self.words[(q / 64) as usize] == 0 {
                64
            } else {
                1
            };
        }
        q.min(self.pages) - p
    }

    /// Plans `n` more pages for a list of `have` extents whose last one
    /// ends at `tail` (if any): extends the last extent in place if the
    /// pages after it are free, then prefers one run that holds the rest,
    /// then takes runs first-fit. Changes nothing; the caller sets the
    /// pages once the whole operation is planned. Returns the new extents
    /// (the first may continue the last existing one: see
    /// [`merge_extents`]).
    pub fn plan(&self, n: u32, have: usize, tail: Option<u32>) -> Result<Vec<Extent>, StoreError> {
        if n > self.free() {
            return Err(StoreError::NoSpace);
        }
        let mut out = Vec::new();
        let mut left = n;
        if let Some(t) = tail {
            let take = self.run_at(t).min(left);
            if take > 0 {
                out.push(Extent {
                    start: t,
                    len: take,
                });
                left -= take;
            }
        }
        if left == 0 {
            return Ok(out);
        }
        // Runs in page order.
        let mut runs = Vec::new();
        let mut p = 0;
        while p < self.pages {
            let len = self.run_at(p);
            if len == 0 {
                // Whole used words at a time.
                p += if p.is_multiple_of(64) && self.words[(p / 64) as usize] == u64::MAX {
                    64
                } else {
                    1
                };
                continue;
            }
            runs.push(Extent { start: p, len });
            p += len;
        }
        // Runs already taken for the tail do not count again.
        if let Some(first) = out.first() {
            runs.retain(|r| r.end() <= u64::from(first.start) || u64::from(r.start) >= first.end());
        }
        if let Some(r) = runs.iter().find(|r| r.len >= left) {
            out.push(Extent {
                start: r.start,
                len: left,
            });
        } else {
            for r in runs {
                let take = r.len.min(left);
                out.push(Extent {
                    start: r.start,
                    len: take,
                });
                left -= take;
                if left == 0 {
                    break;
                }
            }
            if left > 0 {
                return Err(StoreError::NoSpace);
            }
        }
        let merged_first = tail.is_some() && out.first().map(|e| Some(e.start)) == Some(tail);
        let total = have + out.len() - usize::from(merged_first);
        if total > MAX_EXTENTS {
            return Err(StoreError::TooFragmented);
        }
        Ok(out)
    }
}

/// Appends `more` to `extents`, merging an extent that continues the last.
pub fn merge_extents(extents: &mut Vec<Extent>, more: &[Extent]) {
    for m in more {
        match extents.last_mut() {
            Some(last) if last.end() == u64::from(m.start) => last.len += m.len,
            _ => extents.push(*m),
        }
    }
}

/// Removes the last `n` pages from `extents`, returning the removed runs.
pub fn truncate_extents(extents: &mut Vec<Extent>, mut n: u64) -> Vec<Extent> {
    let mut freed = Vec::new();
    while n > 0 {
        let Some(last) = extents.last_mut() else {
            break;
        };
        if u64::from(last.len) <= n {
            n -= u64::from(last.len);
            freed.push(*last);
            extents.pop();
        } else {
            let keep = last.len - n as u32;
            freed.push(Extent {
                start: last.start + keep,
                len: n as u32,
            });
            last.len = keep;
            n = 0;
        }
    }
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_extend_in_place_then_fit_then_fragment() {
        let mut b = Bitmap::new(100);
        b.set(
            &[Extent { start: 0, len: 10 }, Extent { start: 12, len: 3 }],
            true,
        );
        // Extend an extent ending at 10 by 2: in place.
        assert_eq!(
            b.plan(2, 1, Some(10)),
            Ok(vec![Extent { start: 10, len: 2 }])
        );
        // 5 pages from an extent ending at 10: 2 in place, 3 from the
        // first run that holds 3 (15..).
        assert_eq!(
            b.plan(5, 1, Some(10)),
            Ok(vec![
                Extent { start: 10, len: 2 },
                Extent { start: 15, len: 3 }
            ])
        );
        assert_eq!(b.plan(4, 0, None), Ok(vec![Extent { start: 15, len: 4 }]));
        assert_eq!(b.plan(88, 0, None), Err(StoreError::NoSpace));
        assert_eq!(b.plan(87, 0, None).map(|v| v.len()), Ok(2));
        assert_eq!(
            b.plan(87, MAX_EXTENTS - 1, None),
            Err(StoreError::TooFragmented)
        );
        assert_eq!(b.free(), 87, "planning changes nothing");
    }

    #[test]
    fn set_reports_the_changed_words_and_counts() {
        let mut b = Bitmap::new(200);
        assert_eq!(b.set(&[Extent { start: 63, len: 2 }], true), 0..2);
        assert_eq!(b.set(&[Extent { start: 130, len: 1 }], true), 2..3);
        assert_eq!(b.used(), 3);
        assert_eq!(b.set(&[], true), 0..0);
        assert_eq!(b.set(&[Extent { start: 63, len: 2 }], false), 0..2);
        assert_eq!(b.free(), 199);
    }

    #[test]
    fn extents_merge_and_truncate() {
        let mut v = vec![Extent { start: 5, len: 2 }];
        merge_extents(
            &mut v,
            &[Extent { start: 7, len: 3 }, Extent { start: 20, len: 1 }],
        );
        assert_eq!(
            v,
            vec![Extent { start: 5, len: 5 }, Extent { start: 20, len: 1 }]
        );
        let freed = truncate_extents(&mut v, 3);
        assert_eq!(v, vec![Extent { start: 5, len: 3 }]);
        assert_eq!(
            freed,
            vec![Extent { start: 20, len: 1 }, Extent { start: 8, len: 2 }]
        );
    }
}
