//! The store: format, open (recovery), and the operations. Each operation
//! checks everything first, without side effects, then writes free pages,
//! then commits one log transaction (see the crate docs).

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use protocols::object::{HEADER_OFFSET, ObjFlags, ObjHeader, ObjId};

use crate::bitmap::{Bitmap, merge_extents, truncate_extents};
use crate::dir::{self, DEFAULT_META_PAGES, ENTRY_SIZE, Entry, MAX_SIZE, data_pages};
use crate::fsck::{self, Report};
use crate::layout::{self, FormatOptions, Geometry, GeometryError, SB_LEN, SB_OFFSETS, Superblock};
use crate::log::{self, Txn};
use crate::{CreateSpec, LINE, ObjInfo, PAGE, Pmem, StoreError};

/// Why a region could not be formatted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The region's size and the options admit no layout.
    Geometry(GeometryError),
}

/// Why a store could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Neither superblock copy is valid: not a store (or not yet formatted).
    NotFormatted([layout::SbProblem; 2]),
    /// The log cannot be recovered.
    Log(log::LogProblem),
    /// Recovered, but the metadata breaks an invariant (the report says how).
    Corrupt(Report),
}

/// A formatted, recovered store over `P`.
pub struct Store<P: Pmem> {
    pmem: P,
    geometry: Geometry,
    sb: Superblock,
    /// Which superblock copy is in force.
    sb_copy: usize,
    /// What opening found.
    opened: Opened,
    /// Last committed transaction.
    seq: u64,
    entries: Vec<Option<Entry>>,
    index: BTreeMap<ObjId, u32>,
    bitmap: Bitmap,
}

impl<P: Pmem> Store<P> {
    /// Formats the region as an empty store (destroying what it held) and
    /// opens it.
    pub fn format(mut pmem: P, options: FormatOptions) -> Result<Store<P>, FormatError> {
        let size = pmem.len() - pmem.len() % PAGE;
        let g = Geometry::compute(size, options.dir_entries_for(size))
            .map_err(FormatError::Geometry)?;
        // Invalidate any old superblock first, so that a cut mid-format
        // leaves no valid superblock over half-written metadata.
        pmem.zero(0, PAGE);
        pmem.flush(0, PAGE);
        pmem.fence();
        pmem.zero(g.log_off, g.data_off - g.log_off);
        pmem.flush(g.log_off, g.data_off - g.log_off);
        pmem.fence();
        let sb = Superblock {
            seq: 1,
            generation: 0,
            clean: false,
            geometry: g,
        };
        pmem.write(SB_OFFSETS[0], &sb.encode());
        pmem.flush(SB_OFFSETS[0], SB_LEN as u64);
        pmem.fence();
        Ok(Store {
            pmem,
            geometry: g,
            sb,
            sb_copy: 0,
            opened: Opened {
                last_run: LastRun::Fresh,
                replayed: false,
            },
            seq: 0,
            entries: vec![None; g.dir_entries as usize],
            index: BTreeMap::new(),
            bitmap: Bitmap::new(g.data_pages),
        })
    }

    /// Opens a store: replays the log, bumps the generation, checks every
    /// invariant and loads the directory and bitmap.
    pub fn open(mut pmem: P) -> Result<Store<P>, OpenError> {
        let (sb, copy) = layout::read_superblock(&pmem).map_err(OpenError::NotFormatted)?;
        let g = sb.geometry;
        let last_run = if sb.clean {
            LastRun::ShutDown
        } else {
            LastRun::Interrupted
        };
        let replayed = log::pending(&pmem, &g).map_err(OpenError::Log)?;
        let seq = log::recover(&mut pmem, &g).map_err(OpenError::Log)?;
        let report = fsck::check(&pmem);
        if !report.is_clean() {
            return Err(OpenError::Corrupt(report));
        }
        // The new generation goes to the other copy: a torn write fails its
        // checksum and leaves the current copy in force.
        let sb = Superblock {
            seq: sb.seq + 1,
            generation: sb.generation + 1,
            clean: false,
            geometry: g,
        };
        let other = 1 - copy;
        pmem.write(SB_OFFSETS[other], &sb.encode());
        pmem.flush(SB_OFFSETS[other], SB_LEN as u64);
        pmem.fence();

        let mut entries = Vec::with_capacity(g.dir_entries as usize);
        let mut index = BTreeMap::new();
        for i in 0..g.dir_entries {
            // fsck checked every entry: these decode.
            let e = dir::read(&pmem, &g, i).unwrap_or(None);
            if let Some(e) = &e {
                index.insert(e.id, i);
            }
            entries.push(e);
        }
        let mut words = vec![0u64; g.bitmap_words()];
        for (i, w) in words.iter_mut().enumerate() {
            *w = pmem.read_u64(g.bitmap_off + i as u64 * 8);
        }
        Ok(Store {
            pmem,
            geometry: g,
            sb,
            sb_copy: other,
            opened: Opened { last_run, replayed },
            seq,
            entries,
            index,
            bitmap: Bitmap::from_words(words, g.data_pages),
        })
    }

    /// What opening found: how the last run ended, and whether a
    /// transaction was replayed.
    pub fn opened(&self) -> Opened {
        self.opened
    }

    /// Marks the store shut down cleanly: the next open will know the run
    /// ended on purpose. Any change after this clears the mark again
    /// first, so the flag never claims more than is true.
    pub fn shutdown(&mut self) {
        self.write_superblock(true);
    }

    /// Clears the clean mark before a change (once per run after a
    /// [`Store::shutdown`]; a no-op otherwise).
    fn mark_dirty(&mut self) {
        if self.sb.clean {
            self.write_superblock(false);
        }
    }

    /// Writes the next superblock (clean flag `clean`) to the copy not in
    /// force, flushed and fenced: a torn write fails its checksum and the
    /// copy in force stays.
    fn write_superblock(&mut self, clean: bool) {
        let sb = Superblock {
            seq: self.sb.seq + 1,
            clean,
            ..self.sb
        };
        let other = 1 - self.sb_copy;
        self.pmem.write(SB_OFFSETS[other], &sb.encode());
        self.pmem.flush(SB_OFFSETS[other], SB_LEN as u64);
        self.pmem.fence();
        self.sb = sb;
        self.sb_copy = other;
    }

    /// The geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// How many times the store has been opened.
    pub fn generation(&self) -> u64 {
        self.sb.generation
    }

    /// Which superblock copy is in force (0 or 1).
    pub fn superblock_copy(&self) -> usize {
        self.sb_copy
    }

    /// Free data pages.
    pub fn free_pages(&self) -> u32 {
        self.bitmap.free()
    }

    /// The persistent memory.
    pub fn pmem(&self) -> &P {
        &self.pmem
    }

    /// The persistent memory, mutably (tests: crash-simulator controls).
    pub fn pmem_mut(&mut self) -> &mut P {
        &mut self.pmem
    }

    /// Gives the persistent memory back.
    pub fn into_pmem(self) -> P {
        self.pmem
    }

    /// Runs the checker over the store's persistent memory.
    pub fn check(&self) -> Report {
        fsck::check(&self.pmem)
    }

    fn info(e: &Entry) -> ObjInfo {
        ObjInfo {
            id: e.id,
            size: e.size,
            flags: e.flags,
            default_perms: e.perms,
            key: e.key,
            pages: e.pages() as u32,
        }
    }

    fn find(&self, id: ObjId) -> Result<(u32, &Entry), StoreError> {
        if id.is_nil() {
            return Err(StoreError::NilId);
        }
        let i = *self.index.get(&id).ok_or(StoreError::NotFound)?;
        match &self.entries[i as usize] {
            Some(e) => Ok((i, e)),
            None => Err(StoreError::NotFound),
        }
    }

    /// Commits a new directory entry `index` and the bitmap words
    /// `words`, then updates the in-memory directory.
    fn commit(&mut self, index: u32, entry: Option<Entry>, words: core::ops::Range<usize>) {
        self.mark_dirty();
        let g = self.geometry;
        let mut txn = Txn::new();
        let bytes = entry
            .as_ref()
            .map_or([0u8; ENTRY_SIZE as usize], Entry::encode);
        txn.write(g.entry_off(index), &bytes);
        if !words.is_empty() {
            let raw: Vec<u8> = self.bitmap.words()[words.clone()]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            txn.write(g.bitmap_off + words.start as u64 * 8, &raw);
        }
        self.seq += 1;
        log::commit(&mut self.pmem, &g, self.seq, txn);
        match &entry {
            Some(e) => self.index.insert(e.id, index),
            None => self.entries[index as usize]
                .as_ref()
                .and_then(|old| self.index.remove(&old.id)),
        };
        self.entries[index as usize] = entry;
    }

    /// Zeroes `[off, off + len)` of pages the acknowledged state does not
    /// use, and flushes (the commit's first fence makes it durable).
    fn scrub(&mut self, off: u64, len: u64) {
        self.pmem.zero(off, len);
        self.pmem.flush(off, len);
    }

    /// Creates object `id`, zeroed, with its header written. Durable on
    /// return. The caller derives `id` from `nonce`, `spec.key`,
    /// `spec.flags | PERSISTENT` and `spec.default_perms` (the header's
    /// fields; see `protocols::object::id_hash_input`).
    pub fn create(
        &mut self,
        id: ObjId,
        nonce: u128,
        spec: &CreateSpec,
    ) -> Result<ObjInfo, StoreError> {
        if id.is_nil() {
            return Err(StoreError::NilId);
        }
        if self.index.contains_key(&id) {
            return Err(StoreError::Exists);
        }
        if spec.size > MAX_SIZE {
            return Err(StoreError::TooLarge);
        }
        let slot = self
            .entries
            .iter()
            .position(Option::is_none)
            .ok_or(StoreError::DirectoryFull)?;
        let pages = u64::from(DEFAULT_META_PAGES) + data_pages(spec.size);
        let pages = u32::try_from(pages).map_err(|_| StoreError::NoSpace)?;
        let extents = self.bitmap.plan(pages, 0, None)?;
        let mut entry = Entry {
            id,
            key: spec.key,
            perms: spec.default_perms,
            flags: spec.flags.union(ObjFlags::PERSISTENT),
            size: spec.size,
            meta_pages: DEFAULT_META_PAGES,
            extents: Vec::new(),
        };
        merge_extents(&mut entry.extents, &extents);
        // Free pages: zero them and write the header, durably, first.
        for e in &extents {
            self.scrub(self.geometry.page_off(e.start), u64::from(e.len) * PAGE);
        }
        let top = entry
            .backing(u64::from(DEFAULT_META_PAGES) - 1)
            .unwrap_or(0);
        let header = ObjHeader::new(nonce, entry.key, entry.perms, entry.flags).encode();
        let at = self.geometry.page_off(top) + HEADER_OFFSET % PAGE;
        self.pmem.write(at, &header);
        self.pmem.flush(at, LINE);
        // `commit` fences before its commit point, so these are durable
        // before the object exists.
        let words = self.bitmap.set(&extents, true);
        let info = Self::info(&entry);
        self.commit(slot as u32, Some(entry), words);
        Ok(info)
    }

    /// Deletes object `id`; its pages are free for the next allocation.
    pub fn delete(&mut self, id: ObjId) -> Result<(), StoreError> {
        let (i, e) = self.find(id)?;
        let extents = e.extents.clone();
        let words = self.bitmap.set(&extents, false);
        self.commit(i, None, words);
        Ok(())
    }

    /// Grows (new bytes read as zero) or shrinks object `id` to `size`.
    pub fn resize(&mut self, id: ObjId, size: u64) -> Result<ObjInfo, StoreError> {
        if size > MAX_SIZE {
            return Err(StoreError::TooLarge);
        }
        let (i, e) = self.find(id)?;
        let mut entry = e.clone();
        let old_pages = data_pages(entry.size);
        let new_pages = data_pages(size);
        // Plan first: a refused resize changes nothing.
        let added = if new_pages > old_pages {
            let more = u32::try_from(new_pages - old_pages).map_err(|_| StoreError::NoSpace)?;
            let tail = entry.extents.last().map(|x| x.end() as u32);
            self.bitmap.plan(more, entry.extents.len(), tail)?
        } else {
            Vec::new()
        };
        let tail_page = if size > entry.size && entry.size < old_pages * PAGE {
            let logical = u64::from(entry.meta_pages) + old_pages - 1;
            Some(entry.backing(logical).ok_or(StoreError::Corrupt)?)
        } else {
            None
        };
        // Bytes past the old size in its last page (left there by an
        // earlier shrink) and the new pages must read as zero: none of
        // them is part of the acknowledged state, so zero them before the
        // commit (whose first fence makes them durable).
        if let Some(page) = tail_page {
            let from = entry.size % PAGE;
            self.scrub(self.geometry.page_off(page) + from, PAGE - from);
        }
        for x in &added {
            self.scrub(self.geometry.page_off(x.start), u64::from(x.len) * PAGE);
        }
        let words = if new_pages > old_pages {
            merge_extents(&mut entry.extents, &added);
            self.bitmap.set(&added, true)
        } else {
            let freed = truncate_extents(&mut entry.extents, old_pages - new_pages);
            self.bitmap.set(&freed, false)
        };
        entry.size = size;
        let info = Self::info(&entry);
        self.commit(i, Some(entry), words);
        Ok(info)
    }

    /// Describes object `id`.
    pub fn stat(&self, id: ObjId) -> Result<ObjInfo, StoreError> {
        self.find(id).map(|(_, e)| Self::info(e))
    }

    /// Up to `max` objects from directory slot `cursor` on, and the cursor
    /// of the next page (`None`: no more).
    pub fn list(&self, cursor: u64, max: usize) -> (Vec<ObjInfo>, Option<u64>) {
        let mut out = Vec::new();
        let start = usize::try_from(cursor).unwrap_or(usize::MAX);
        for (i, e) in self.entries.iter().enumerate().skip(start) {
            if let Some(e) = e {
                if out.len() == max {
                    return (out, Some(i as u64));
                }
                out.push(Self::info(e));
            }
        }
        (out, None)
    }

    /// The persistent-memory offset of slot page `slot_page` of object
    /// `id`: what the kernel maps.
    pub fn page(&self, id: ObjId, slot_page: u64) -> Result<u64, StoreError> {
        let (_, e) = self.find(id)?;
        let logical = e.logical_of_slot_page(slot_page)?;
        let page = e.backing(logical).ok_or(StoreError::Corrupt)?;
        Ok(self.geometry.page_off(page))
    }

    /// Calls `f(pmem offset, range in the buffer)` for each page-sized
    /// piece of `[offset, offset + len)` of `id`'s data area.
    fn pieces(
        &self,
        id: ObjId,
        offset: u64,
        len: usize,
    ) -> Result<Vec<(u64, core::ops::Range<usize>)>, StoreError> {
        let (_, e) = self.find(id)?;
        let end = offset
            .checked_add(len as u64)
            .ok_or(StoreError::OutOfRange)?;
        if end > e.size {
            return Err(StoreError::OutOfRange);
        }
        let mut out = Vec::new();
        let mut at = offset;
        while at < end {
            let n = (PAGE - at % PAGE).min(end - at);
            let page = e
                .backing(u64::from(e.meta_pages) + at / PAGE)
                .ok_or(StoreError::Corrupt)?;
            let b = (at - offset) as usize;
            out.push((self.geometry.page_off(page) + at % PAGE, b..b + n as usize));
            at += n;
        }
        Ok(out)
    }

    /// Reads `buf.len()` bytes of `id`'s data area at `offset`.
    pub fn read(&self, id: ObjId, offset: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        for (off, r) in self.pieces(id, offset, buf.len())? {
            self.pmem.read(off, &mut buf[r]);
        }
        Ok(())
    }

    /// Writes `bytes` into `id`'s data area at `offset`. Durable on return
    /// (but not atomic: a cut mid-way may leave part of it written).
    pub fn write(&mut self, id: ObjId, offset: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let pieces = self.pieces(id, offset, bytes.len())?;
        self.mark_dirty();
        for (off, r) in pieces {
            self.pmem.write(off, &bytes[r.clone()]);
            self.pmem.flush(off, r.len() as u64);
        }
        self.pmem.fence();
        Ok(())
    }
}

/// How the run before this one ended, as the superblock's clean flag says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastRun {
    /// The store was just formatted: there was none.
    Fresh,
    /// It was shut down cleanly ([`Store::shutdown`]) and nothing changed
    /// after.
    ShutDown,
    /// It ended without a shutdown: a power cut, or a crash.
    Interrupted,
}

/// What opening the store found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// How the last run ended.
    pub last_run: LastRun,
    /// Whether a committed transaction the last run had not applied was
    /// replayed.
    pub replayed: bool,
}
