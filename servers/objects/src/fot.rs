//! FOT manipulation in place, in an object's bytes.
//!
//! Entries follow the claim-word protocol of `protocols::fot::claim`:
//! claiming, rebinding and reference counting are compare-and-swaps on the
//! entry's first word, so several writers of one object never tear an
//! entry. Deduplication is exact with one writer; two writers adding the
//! same target at the same instant may each add an entry (harmless: both
//! resolve to the same object).

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use protocols::fot::{FotEntry, FotError, FotFlags, FotTarget, claim};
use protocols::object::{MAX_FOT_ENTRIES, ObjFlags};

use crate::error::ObjError;
use crate::mem::ObjMem;

/// How many FOT entries the object may be using (the high-water mark).
pub fn count(mem: &ObjMem) -> u32 {
    mem.fot_count().load(Acquire).min(MAX_FOT_ENTRIES)
}

/// Reads entry `index` (1..=count).
pub fn entry(mem: &ObjMem, index: u32) -> Result<FotEntry, ObjError> {
    if index == 0 || index > count(mem) {
        return Err(ObjError::BadIndex(index));
    }
    mem.fot_entry(index)
}

/// Adds a reference to `target` with protections `flags`: reuses (and
/// counts) an equal entry if there is one, else claims a free entry or grows
/// the FOT. Returns the entry's index.
pub fn add(mem: &ObjMem, target: FotTarget, flags: FotFlags) -> Result<u32, ObjError> {
    let flags = flags.difference(FotFlags::NAME);
    mem.check_writable()?;
    if mem.header()?.flags.contains(ObjFlags::KSO) {
        return Err(ObjError::KsoHoldsNoPointers);
    }
    'retry: loop {
        let n = count(mem);
        let mut free = None;
        for i in 1..=n {
            let word = mem.claim_word(i).ok_or(ObjError::BadIndex(i))?;
            let w = word.load(Acquire);
            if w & claim::CLAIMED == 0 {
                free = free.or(Some((i, w)));
                continue;
            }
            if !claim::is_ready(w) {
                continue;
            }
            let Ok(e) = mem.fot_entry(i) else { continue };
            if e.target == target && e.flags == flags {
                if claim::refs(w) == u32::MAX {
                    continue;
                }
                if word.compare_exchange(w, w + 1, Acquire, Relaxed).is_ok() {
                    return Ok(i);
                }
                continue 'retry;
            }
        }
        let (index, w) = match free {
            Some(f) => f,
            None => {
                if n >= MAX_FOT_ENTRIES {
                    return Err(ObjError::FotFull);
                }
                if mem
                    .fot_count()
                    .compare_exchange(n, n + 1, Acquire, Relaxed)
                    .is_err()
                {
                    continue 'retry;
                }
                let word = mem.claim_word(n + 1).ok_or(ObjError::FotFull)?;
                (n + 1, word.load(Acquire))
            }
        };
        let word = mem.claim_word(index).ok_or(ObjError::BadIndex(index))?;
        let generation = claim::generation(w).wrapping_add(1);
        if w & claim::CLAIMED != 0
            || word
                .compare_exchange(w, claim::make(true, true, generation, 0), Acquire, Relaxed)
                .is_err()
        {
            continue 'retry;
        }
        let e = FotEntry {
            claim: 0,
            flags,
            target,
        };
        mem.write_fot_fields(index, &e)?;
        word.store(claim::make(true, false, generation, 1), Release);
        return Ok(index);
    }
}

/// Counts one more pointer using entry `index`.
pub fn retain(mem: &ObjMem, index: u32) -> Result<u32, ObjError> {
    update(mem, index, |w| {
        if claim::refs(w) == u32::MAX {
            Err(ObjError::TooManyRefs(index))
        } else {
            Ok(w + 1)
        }
    })
    .map(|w| claim::refs(w) + 1)
}

/// Counts one pointer fewer using entry `index`; at zero the entry is freed
/// (its generation kept) and may be reused. Returns the references left.
pub fn release(mem: &ObjMem, index: u32) -> Result<u32, ObjError> {
    let w = update(mem, index, |w| match claim::refs(w) {
        0 => Err(ObjError::NotReferenced(index)),
        1 => Ok(claim::make(false, false, claim::generation(w), 0)),
        _ => Ok(w - 1),
    })?;
    Ok(claim::refs(w) - 1)
}

/// Retargets entry `index`, and so every pointer that uses it, at `target`.
/// The entry's generation changes, its references stay.
pub fn rebind(mem: &ObjMem, index: u32, target: FotTarget) -> Result<(), ObjError> {
    mem.check_writable()?;
    let mut e = entry(mem, index)?;
    let word = mem.claim_word(index).ok_or(ObjError::BadIndex(index))?;
    loop {
        let w = word.load(Acquire);
        if !claim::is_ready(w) {
            return Err(ObjError::Entry(if w & claim::CLAIMED == 0 {
                FotError::Free
            } else {
                FotError::Busy
            }));
        }
        if word
            .compare_exchange(w, w | claim::BUSY, Acquire, Relaxed)
            .is_err()
        {
            continue;
        }
        e.target = target;
        mem.write_fot_fields(index, &e)?;
        let generation = claim::generation(w).wrapping_add(1);
        word.store(
            claim::make(true, false, generation, claim::refs(w)),
            Release,
        );
        return Ok(());
    }
}

/// Applies `f` to a ready entry's claim word with compare-and-swap (`f`
/// may refuse with an error). Returns the word as it was.
fn update(
    mem: &ObjMem,
    index: u32,
    f: impl Fn(u64) -> Result<u64, ObjError>,
) -> Result<u64, ObjError> {
    mem.check_writable()?;
    if index == 0 || index > count(mem) {
        return Err(ObjError::BadIndex(index));
    }
    let word = mem.claim_word(index).ok_or(ObjError::BadIndex(index))?;
    loop {
        let w = word.load(Acquire);
        if !claim::is_ready(w) {
            return Err(ObjError::Entry(if w & claim::CLAIMED == 0 {
                FotError::Free
            } else {
                FotError::Busy
            }));
        }
        let new = f(w)?;
        if word.compare_exchange(w, new, Release, Relaxed).is_ok() {
            return Ok(w);
        }
    }
}
