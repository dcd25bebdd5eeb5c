//! The KSO root: a fixed table of `(name, thread KSO)` entries in the data
//! area of a durable-transaction region ([`txn::Tx`]). Every change is one
//! transaction, so a power cut leaves the table of before the change or of
//! after it; opening the region ([`RootTable::open`]) is the recovery.
//!
//! # Layout (the region's data area, little-endian)
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0 | 8 | magic [`ROOT_MAGIC`] |
//! | 8 | 4 | version `1` |
//! | 12 | 4 | capacity (entries) = [`CAPACITY`] |
//! | 16 | 8 | next sequence number |
//! | 24 | 40 | reserved, zero |
//! | 64 | 64 × capacity | entries |
//!
//! An entry: `state u32` (0 free, 1 live, 2 quarantined), `name length
//! u32`, `seq u64` (the order entries were added in), the thread KSO's ID
//! (16 bytes), the name (32 bytes, zero-padded). A free entry is all zero.
//! Opening checks every entry; a name is non-empty UTF-8, zero after its
//! length, and a used entry names a non-nil KSO.

use protocols::ipc::Text;
use protocols::object::ObjId;
use protocols::thread_kso::THREAD_NAME_LEN;
use txn::{Layout, OpenError, Pmem, Tx, TxError};

/// The root header's magic (`"PKSOROOT"`).
pub const ROOT_MAGIC: u64 = u64::from_le_bytes(*b"PKSOROOT");
/// The root format's version.
pub const ROOT_VERSION: u32 = 1;
/// Entries in a root.
pub const CAPACITY: u32 = 64;
/// Bytes per entry.
pub const ENTRY_LEN: usize = 64;
const HEADER_LEN: u64 = 64;
const SEQ_AT: u64 = 16;
/// The region inside the root object's data area: base 0, a log with room
/// for a few entry writes, the header and the entries.
pub const LAYOUT: Layout = Layout::new(0, 4096, HEADER_LEN + CAPACITY as u64 * ENTRY_LEN as u64);
/// Bytes the root object's data area needs.
pub const ROOT_SIZE: u64 = LAYOUT.total_len();

const FREE: u32 = 0;
const LIVE: u32 = 1;
const QUARANTINED: u32 = 2;

/// A server name as the root keeps it.
pub type Name = Text<THREAD_NAME_LEN>;

/// One used root entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootEntry {
    /// Its index in the table.
    pub slot: u32,
    /// The server's name.
    pub name: Name,
    /// Its thread KSO.
    pub kso: ObjId,
    /// Whether it is quarantined.
    pub quarantined: bool,
    /// When it was added (a counter, in the root's order of additions).
    pub seq: u64,
}

/// Why the root cannot be opened or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootError {
    /// The transactional region does not open.
    Open(OpenError),
    /// A transaction failed (nothing changed).
    Tx(TxError),
    /// The data area holds something that is not a root.
    NotARoot,
    /// A root of a version this server does not read.
    UnsupportedVersion(u32),
    /// The header's capacity is not [`CAPACITY`].
    BadCapacity(u32),
    /// Header bytes that must be zero are not.
    ReservedNotZero,
    /// Entry `slot` fails its checks.
    BadEntry(u32),
    /// Every entry is used.
    Full,
    /// No entry names that KSO.
    UnknownKso,
    /// The name is empty.
    EmptyName,
}

impl From<OpenError> for RootError {
    fn from(e: OpenError) -> RootError {
        RootError::Open(e)
    }
}

impl From<TxError> for RootError {
    fn from(e: TxError) -> RootError {
        RootError::Tx(e)
    }
}

/// Encodes a used entry.
pub fn encode_entry(name: &str, kso: ObjId, quarantined: bool, seq: u64) -> [u8; ENTRY_LEN] {
    let mut b = [0u8; ENTRY_LEN];
    let state = if quarantined { QUARANTINED } else { LIVE };
    b[0..4].copy_from_slice(&state.to_le_bytes());
    b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
    b[8..16].copy_from_slice(&seq.to_le_bytes());
    b[16..32].copy_from_slice(&kso.as_u128().to_le_bytes());
    b[32..32 + name.len()].copy_from_slice(name.as_bytes());
    b
}

/// Decodes and checks entry `slot`: `None` for a free one.
pub fn decode_entry(slot: u32, b: &[u8; ENTRY_LEN]) -> Result<Option<RootEntry>, RootError> {
    let bad = RootError::BadEntry(slot);
    let word = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let quarantined = match word(0) {
        FREE if b.iter().all(|&x| x == 0) => return Ok(None),
        LIVE => false,
        QUARANTINED => true,
        _ => return Err(bad),
    };
    let len = word(4) as usize;
    if len == 0 || len > THREAD_NAME_LEN || b[32 + len..].iter().any(|&x| x != 0) {
        return Err(bad);
    }
    let name = core::str::from_utf8(&b[32..32 + len]).map_err(|_| bad)?;
    let mut id = [0u8; 16];
    id.copy_from_slice(&b[16..32]);
    let kso = ObjId::from_u128(u128::from_le_bytes(id));
    if kso.is_nil() {
        return Err(bad);
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&b[8..16]);
    Ok(Some(RootEntry {
        slot,
        name: Name::try_from(name).map_err(|_| bad)?,
        kso,
        quarantined,
        seq: u64::from_le_bytes(seq),
    }))
}

fn entry_at(slot: u32) -> u64 {
    HEADER_LEN + u64::from(slot) * ENTRY_LEN as u64
}

/// The KSO root, open.
pub struct RootTable<P: Pmem> {
    tx: Tx<P>,
}

impl<P: Pmem> RootTable<P> {
    /// Opens the root in `pmem` (the root object's data area), recovering
    /// an unfinished change, or makes an empty one if `pmem` is all zero
    /// (a new object). Checks the header and every entry.
    pub fn open(pmem: P) -> Result<RootTable<P>, RootError> {
        let mut tx = Tx::open_or_format(pmem, LAYOUT)?;
        let magic = tx.read_u64(0)?;
        if magic == 0 {
            let mut h = [0u8; HEADER_LEN as usize];
            tx.read(0, &mut h)?;
            if h.iter().any(|&x| x != 0) {
                return Err(RootError::NotARoot);
            }
            let mut t = tx.begin();
            t.write_u32(8, ROOT_VERSION)?;
            t.write_u32(12, CAPACITY)?;
            t.write_u64(0, ROOT_MAGIC)?;
            t.commit()?;
        } else if magic != ROOT_MAGIC {
            return Err(RootError::NotARoot);
        }
        let mut h = [0u8; HEADER_LEN as usize];
        tx.read(0, &mut h)?;
        let word = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
        if word(8) != ROOT_VERSION {
            return Err(RootError::UnsupportedVersion(word(8)));
        }
        if word(12) != CAPACITY {
            return Err(RootError::BadCapacity(word(12)));
        }
        if h[24..].iter().any(|&x| x != 0) {
            return Err(RootError::ReservedNotZero);
        }
        let root = RootTable { tx };
        for slot in 0..CAPACITY {
            root.get(slot)?;
        }
        Ok(root)
    }

    /// Whether opening rolled back an unfinished change.
    pub fn recovered(&self) -> bool {
        self.tx.recovery().is_some()
    }

    /// Entry `slot` (`None`: free or past the end).
    pub fn get(&self, slot: u32) -> Result<Option<RootEntry>, RootError> {
        if slot >= CAPACITY {
            return Ok(None);
        }
        let mut b = [0u8; ENTRY_LEN];
        self.tx.read(entry_at(slot), &mut b)?;
        decode_entry(slot, &b)
    }

    /// Every used entry, in slot order. (Opening checked them all, so a
    /// failing entry is skipped, never met.)
    pub fn entries(&self) -> impl Iterator<Item = RootEntry> + '_ {
        (0..CAPACITY).filter_map(|s| self.get(s).ok().flatten())
    }

    /// The live entry of `name`, if any.
    pub fn live(&self, name: &str) -> Option<RootEntry> {
        self.entries().find(|e| !e.quarantined && e.name == name)
    }

    /// The entry naming `kso`, if any.
    pub fn by_kso(&self, kso: ObjId) -> Option<RootEntry> {
        self.entries().find(|e| e.kso == kso)
    }

    /// Adds a live entry for `name` → `kso` in one transaction; returns it.
    pub fn add(&mut self, name: &str, kso: ObjId) -> Result<RootEntry, RootError> {
        if name.is_empty() {
            return Err(RootError::EmptyName);
        }
        let name = Name::try_from(name).map_err(|_| RootError::EmptyName)?;
        let slot = (0..CAPACITY)
            .find(|&s| matches!(self.get(s), Ok(None)))
            .ok_or(RootError::Full)?;
        let seq = self.tx.read_u64(SEQ_AT)?;
        let mut t = self.tx.begin();
        t.write(entry_at(slot), &encode_entry(&name, kso, false, seq))?;
        t.write_u64(SEQ_AT, seq + 1)?;
        t.commit()?;
        Ok(RootEntry {
            slot,
            name,
            kso,
            quarantined: false,
            seq,
        })
    }

    /// Marks the entry of `kso` quarantined in one transaction; returns
    /// it, and whether it changed (`false`: it already was).
    pub fn quarantine(&mut self, kso: ObjId) -> Result<(RootEntry, bool), RootError> {
        let mut e = self.by_kso(kso).ok_or(RootError::UnknownKso)?;
        if e.quarantined {
            return Ok((e, false));
        }
        let mut t = self.tx.begin();
        t.write_u32(entry_at(e.slot), QUARANTINED)?;
        t.commit()?;
        e.quarantined = true;
        Ok((e, true))
    }

    /// Frees the entry of `kso` in one transaction (its slot reads all
    /// zero again).
    pub fn remove(&mut self, kso: ObjId) -> Result<RootEntry, RootError> {
        let e = self.by_kso(kso).ok_or(RootError::UnknownKso)?;
        let mut t = self.tx.begin();
        t.write(entry_at(e.slot), &[0u8; ENTRY_LEN])?;
        t.commit()?;
        Ok(e)
    }

    /// The persistent memory underneath.
    pub fn into_pmem(self) -> P {
        self.tx.into_pmem()
    }
}
