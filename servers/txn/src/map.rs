//! [`TxMap`]: a fixed-capacity persistent map from `u64` keys to short
//! byte values, every change of which is a durable transaction.
//!
//! # Layout (in a region's data area, little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0 | 8 | magic [`MAP_MAGIC`] |
//! | 8 | 8 | capacity (slots) |
//! | 16 | 8 | count of used slots |
//! | 64 | 128 × capacity | slots |
//!
//! A slot is `state u32` (0 empty, 1 used, 2 removed), `len u32`,
//! `key u64`, then up to [`VALUE_MAX`] value bytes. Keys hash to a home
//! slot and probe linearly; a removal leaves a *removed* marker so later
//! keys of the same probe chain stay reachable, and an insert reuses the
//! first marker on its chain.

use crate::guard::Transaction;
use crate::tx::{Tx, TxError};
use crate::{Layout, OpenError, Pmem};

/// The map header's magic (`"PRNTXMAP"`).
pub const MAP_MAGIC: u64 = u64::from_le_bytes(*b"PRNTXMAP");
/// Longest value, in bytes.
pub const VALUE_MAX: usize = 112;
/// Bytes per slot.
pub const SLOT: u64 = 128;
/// Offset of the first slot in the data area.
const SLOTS: u64 = 64;
const EMPTY: u32 = 0;
const USED: u32 = 1;
const REMOVED: u32 = 2;

/// Why a map operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The transaction failed (its log is full, or it was aborted).
    Tx(TxError),
    /// The region could not be opened.
    Open(OpenError),
    /// The value is longer than [`VALUE_MAX`].
    ValueTooLong(usize),
    /// Every slot is used.
    Full,
    /// The data area holds no map (and is not empty, so none was made).
    NotAMap,
    /// The data area cannot hold that many slots (or none).
    BadCapacity(u64),
    /// A slot holds an unknown state or an over-long value.
    BadSlot(u64),
    /// The stored count differs from the used slots ([`TxMap::check`]).
    CountMismatch {
        /// Stored count.
        stored: u64,
        /// Used slots found.
        found: u64,
    },
}

impl From<TxError> for MapError {
    fn from(e: TxError) -> MapError {
        MapError::Tx(e)
    }
}

impl From<OpenError> for MapError {
    fn from(e: OpenError) -> MapError {
        MapError::Open(e)
    }
}

/// A persistent map in the data area of a transactional region.
pub struct TxMap<P: Pmem> {
    tx: Tx<P>,
    capacity: u64,
}

/// The layout of a region holding a map of `capacity` slots at `base`,
/// with a log big enough for any single map operation (and a few more in
/// one [`MapTxn`]).
pub const fn map_layout(base: u64, capacity: u64) -> Layout {
    Layout::new(base, 4096, SLOTS + capacity * SLOT)
}

impl<P: Pmem> TxMap<P> {
    /// Opens the map in `tx`'s data area, making an empty one of
    /// `capacity` slots if the data area is all zero (a fresh region). An
    /// existing map keeps its own capacity.
    pub fn open_or_create(mut tx: Tx<P>, capacity: u64) -> Result<TxMap<P>, MapError> {
        let magic = tx.read_u64(0)?;
        if magic == 0 {
            if capacity == 0 || capacity > (tx.data_len() - SLOTS.min(tx.data_len())) / SLOT {
                return Err(MapError::BadCapacity(capacity));
            }
            let mut buf = [0u8; 256];
            let mut off = 0;
            while off < SLOTS + capacity * SLOT {
                let n = (SLOTS + capacity * SLOT - off).min(256);
                tx.read(off, &mut buf[..n as usize])?;
                if buf[..n as usize].iter().any(|&b| b != 0) {
                    return Err(MapError::NotAMap);
                }
                off += n;
            }
            let mut t = tx.begin();
            t.write_u64(8, capacity)?;
            t.write_u64(0, MAP_MAGIC)?;
            t.commit()?;
        } else if magic != MAP_MAGIC {
            return Err(MapError::NotAMap);
        }
        let capacity = tx.read_u64(8)?;
        if capacity == 0 || capacity > (tx.data_len() - SLOTS.min(tx.data_len())) / SLOT {
            return Err(MapError::BadCapacity(capacity));
        }
        Ok(TxMap { tx, capacity })
    }

    /// Opens (recovering) or formats the region at [`map_layout`]`(base,
    /// capacity)` and the map in it. Reopen with the capacity it was
    /// created with: the region's layout depends on it.
    pub fn open_pmem(pmem: P, base: u64, capacity: u64) -> Result<TxMap<P>, MapError> {
        let tx = Tx::open_or_format(pmem, map_layout(base, capacity))?;
        TxMap::open_or_create(tx, capacity)
    }

    /// Slots.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The region underneath.
    pub fn tx(&self) -> &Tx<P> {
        &self.tx
    }

    /// The region underneath, mutably.
    pub fn tx_mut(&mut self) -> &mut Tx<P> {
        &mut self.tx
    }

    /// Gives the region back.
    pub fn into_tx(self) -> Tx<P> {
        self.tx
    }

    /// Begins a transaction of several map operations.
    pub fn begin(&mut self) -> MapTxn<'_, P> {
        MapTxn {
            t: self.tx.begin(),
            capacity: self.capacity,
        }
    }

    /// Copies the value of `key` into `buf` (which should hold
    /// [`VALUE_MAX`] bytes; a shorter one gets the value's start) and
    /// returns the value's length.
    pub fn get(&self, key: u64, buf: &mut [u8]) -> Result<Option<usize>, MapError> {
        match find(&Reader::Tx(&self.tx), self.capacity, key)? {
            Probe::Found(slot) => read_value(&Reader::Tx(&self.tx), slot, buf).map(Some),
            Probe::Vacant(_) | Probe::Full => Ok(None),
        }
    }

    /// Sets `key` to `value`, durably; returns whether it replaced a value.
    pub fn insert(&mut self, key: u64, value: &[u8]) -> Result<bool, MapError> {
        let mut t = self.begin();
        let replaced = t.insert(key, value)?;
        t.commit()?;
        Ok(replaced)
    }

    /// Removes `key`, durably; returns whether it was there.
    pub fn remove(&mut self, key: u64) -> Result<bool, MapError> {
        let mut t = self.begin();
        let was = t.remove(key)?;
        t.commit()?;
        Ok(was)
    }

    /// Entries in the map.
    pub fn len(&self) -> Result<u64, MapError> {
        Ok(self.tx.read_u64(16)?)
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> Result<bool, MapError> {
        Ok(self.len()? == 0)
    }

    /// Calls `f` with each key and value, in slot order.
    pub fn for_each(&self, mut f: impl FnMut(u64, &[u8])) -> Result<(), MapError> {
        let r = Reader::Tx(&self.tx);
        let mut buf = [0u8; VALUE_MAX];
        for slot in 0..self.capacity {
            let (state, key) = slot_head(&r, slot)?;
            if state == USED {
                let n = read_value(&r, slot, &mut buf)?;
                f(key, &buf[..n]);
            }
        }
        Ok(())
    }

    /// Checks every slot is well formed and the count matches.
    pub fn check(&self) -> Result<(), MapError> {
        let mut found = 0;
        self.for_each(|_, _| found += 1)?;
        let stored = self.len()?;
        if stored != found {
            return Err(MapError::CountMismatch { stored, found });
        }
        Ok(())
    }
}

/// Several map operations in one transaction: all durable at
/// [`MapTxn::commit`], none if dropped.
pub struct MapTxn<'a, P: Pmem> {
    t: Transaction<'a, P>,
    capacity: u64,
}

impl<'a, P: Pmem> MapTxn<'a, P> {
    /// Copies the value of `key` into `buf` and returns its length (this
    /// transaction's changes included).
    pub fn get(&self, key: u64, buf: &mut [u8]) -> Result<Option<usize>, MapError> {
        let r = Reader::Txn(&self.t);
        match find(&r, self.capacity, key)? {
            Probe::Found(slot) => read_value(&r, slot, buf).map(Some),
            Probe::Vacant(_) | Probe::Full => Ok(None),
        }
    }

    /// Sets `key` to `value`; returns whether it replaced a value.
    /// [`MapError::ValueTooLong`] and [`MapError::Full`] change nothing
    /// and leave the batch open; a transaction error (the log is full)
    /// aborts the whole batch.
    pub fn insert(&mut self, key: u64, value: &[u8]) -> Result<bool, MapError> {
        if value.len() > VALUE_MAX {
            return Err(MapError::ValueTooLong(value.len()));
        }
        // Refusals come before the nested scope: they leave the batch
        // usable. A failed write drops the scope, which aborts the batch.
        let (slot, replaced) = match find(&Reader::Txn(&self.t), self.capacity, key)? {
            Probe::Found(slot) => (slot, true),
            Probe::Vacant(slot) => (slot, false),
            Probe::Full => return Err(MapError::Full),
        };
        let mut t = self.t.begin();
        let at = SLOTS + slot * SLOT;
        t.write(at + 16, value)?;
        let mut head = [0u8; 16];
        head[0..4].copy_from_slice(&USED.to_le_bytes());
        head[4..8].copy_from_slice(&(value.len() as u32).to_le_bytes());
        head[8..16].copy_from_slice(&key.to_le_bytes());
        t.write(at, &head)?;
        if !replaced {
            let count = t.read_u64(16)?;
            t.write_u64(16, count + 1)?;
        }
        t.commit()?;
        Ok(replaced)
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, key: u64) -> Result<bool, MapError> {
        let Probe::Found(slot) = find(&Reader::Txn(&self.t), self.capacity, key)? else {
            return Ok(false);
        };
        let mut t = self.t.begin();
        t.write_u32(SLOTS + slot * SLOT, REMOVED)?;
        let count = t.read_u64(16)?;
        t.write_u64(16, count.saturating_sub(1))?;
        t.commit()?;
        Ok(true)
    }

    /// The transaction underneath, to change other data of the region in
    /// the same transaction: the map uses data bytes `[0, 64 + 128 ×
    /// capacity)`, and the rest of the data area is the caller's.
    pub fn txn(&mut self) -> &mut Transaction<'a, P> {
        &mut self.t
    }

    /// Makes every operation durable.
    pub fn commit(self) -> Result<(), MapError> {
        Ok(self.t.commit()?)
    }
}

/// Read access to a map's data, in or out of a transaction.
enum Reader<'r, 'a, P: Pmem> {
    Tx(&'r Tx<P>),
    Txn(&'r Transaction<'a, P>),
}

impl<P: Pmem> Reader<'_, '_, P> {
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), TxError> {
        match self {
            Reader::Tx(t) => t.read(off, buf),
            Reader::Txn(t) => t.read(off, buf),
        }
    }
}

enum Probe {
    Found(u64),
    /// Absent; the slot an insert would take.
    Vacant(u64),
    /// Absent, and no slot free.
    Full,
}

fn hash(key: u64) -> u64 {
    let mut h = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A slot's state and key, checked.
fn slot_head<P: Pmem>(r: &Reader<'_, '_, P>, slot: u64) -> Result<(u32, u64), MapError> {
    let mut h = [0u8; 16];
    r.read(SLOTS + slot * SLOT, &mut h)?;
    let state = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    let mut key = [0u8; 8];
    key.copy_from_slice(&h[8..16]);
    if state > REMOVED || len as usize > VALUE_MAX {
        return Err(MapError::BadSlot(slot));
    }
    Ok((state, u64::from_le_bytes(key)))
}

fn read_value<P: Pmem>(
    r: &Reader<'_, '_, P>,
    slot: u64,
    buf: &mut [u8],
) -> Result<usize, MapError> {
    let mut h = [0u8; 4];
    r.read(SLOTS + slot * SLOT + 4, &mut h)?;
    let len = u32::from_le_bytes(h) as usize;
    if len > VALUE_MAX {
        return Err(MapError::BadSlot(slot));
    }
    let n = len.min(buf.len());
    r.read(SLOTS + slot * SLOT + 16, &mut buf[..n])?;
    Ok(len)
}

fn find<P: Pmem>(r: &Reader<'_, '_, P>, capacity: u64, key: u64) -> Result<Probe, MapError> {
    let home = hash(key) % capacity;
    let mut reuse = None;
    for i in 0..capacity {
        let slot = (home + i) % capacity;
        match slot_head(r, slot)? {
            (EMPTY, _) => return Ok(Probe::Vacant(reuse.unwrap_or(slot))),
            (USED, k) if k == key => return Ok(Probe::Found(slot)),
            (REMOVED, _) if reuse.is_none() => reuse = Some(slot),
            _ => {}
        }
    }
    Ok(reuse.map_or(Probe::Full, Probe::Vacant))
}
