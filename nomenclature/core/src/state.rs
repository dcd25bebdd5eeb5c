//! [`Persisted`]: a resolver's state in persistent memory, updated
//! crash-consistently with a shadow copy and an atomic commit word.
//!
//! # Layout (offsets from the start of the region; little-endian)
//!
//! ```text
//! 0     commit word: sequence number of the copy in force (0: none yet,
//!       the state is empty); the rest of the first line is zero
//! 64    copy 0 ─┐ each: 64-byte header (magic "NOMSTATE", sequence number,
//! 64+H  copy 1 ─┘ payload length, FNV-1a checksum) + postcard payload
//! ```
//!
//! `H` is half of the region past the first line, rounded down to a line.
//! Sequence number `s` lives in copy `s % 2`.
//!
//! # Crash consistency
//!
//! The only failure-atomic store is an aligned 8-byte word (the commit
//! word). A change serialises the *whole* new state into the copy **not**
//! in force, flushes and fences it, then writes the commit word `s + 1`,
//! flushes and fences: that fence is the commit point, and the call
//! returns (the change is acknowledged) only after it. A cut before it
//! leaves the commit word naming the old copy, which nothing touched; a
//! cut after it finds the new copy complete (it was fenced before the
//! commit word was written). Recovery is just [`Persisted::open`]: read the
//! commit word, check that copy's magic, sequence number, length and
//! checksum, decode it. There is nothing to replay and no torn state to
//! repair. The sequence number doubles as the resolver's **epoch**: it
//! changes with every committed change.
//!
//! Rewriting the whole state costs O(state) per change; resolver tables
//! are small, and one atomic commit covers changes to several directories
//! (a cross-directory rename) for free. A large namespace would move to a
//! redo log like the object store's (`store::log`).

use alloc::vec::Vec;

use serde::Serialize;
use serde::de::DeserializeOwned;
use store::Pmem;

use crate::checksum::fnv1a;

/// Bytes of the commit line and of each copy's header.
pub const HEADER_LEN: u64 = 64;
const MAGIC: u64 = u64::from_le_bytes(*b"NOMSTATE");
/// The smallest region worth having (a commit line and two small copies).
const MIN_LEN: u64 = 4 * HEADER_LEN;

/// Why state could not be opened or committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateError {
    /// The region is too small for the layout (its length).
    TooSmall(u64),
    /// The new state does not fit a copy.
    NoSpace {
        /// Bytes the encoded state needs.
        need: u64,
        /// Bytes a copy holds.
        have: u64,
    },
    /// The commit word names a copy with the wrong magic.
    BadMagic,
    /// The copy's sequence number is not the commit word's.
    BadSequence {
        /// The commit word.
        commit: u64,
        /// The copy's.
        copy: u64,
    },
    /// The copy's payload length runs past the copy.
    BadLength(u64),
    /// The copy's checksum does not match its bytes.
    BadChecksum,
    /// The payload does not decode as the state.
    Undecodable,
    /// The state does not encode (a serialisation bug).
    Encode,
}

impl From<StateError> for protocols::resolver::NameError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::NoSpace { .. } | StateError::TooSmall(_) => Self::NoSpace,
            _ => Self::Corrupt,
        }
    }
}

/// A state `S` kept crash-consistently in persistent memory `P`.
pub struct Persisted<S, P> {
    pmem: P,
    seq: u64,
    state: S,
}

fn copy_len(region: u64) -> u64 {
    ((region - HEADER_LEN) / 2) & !(HEADER_LEN - 1)
}

fn copy_off(region: u64, seq: u64) -> u64 {
    HEADER_LEN + (seq % 2) * copy_len(region)
}

fn header_checksum(seq: u64, payload: &[u8]) -> u64 {
    let mut b = Vec::with_capacity(payload.len() + 16);
    b.extend_from_slice(&seq.to_le_bytes());
    b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    b.extend_from_slice(payload);
    fnv1a(&b)
}

impl<S: Serialize + DeserializeOwned + Default, P: Pmem> Persisted<S, P> {
    /// Opens (recovers) the state in `pmem`. An all-zero region is the
    /// empty (default) state.
    pub fn open(pmem: P) -> Result<Persisted<S, P>, StateError> {
        let region = pmem.len();
        if region < MIN_LEN {
            return Err(StateError::TooSmall(region));
        }
        let seq = pmem.read_u64(0);
        if seq == 0 {
            return Ok(Persisted {
                pmem,
                seq,
                state: S::default(),
            });
        }
        let off = copy_off(region, seq);
        let mut h = [0u8; HEADER_LEN as usize];
        pmem.read(off, &mut h);
        let word = |i: usize| u64::from_le_bytes(h[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        if word(0) != MAGIC {
            return Err(StateError::BadMagic);
        }
        if word(1) != seq {
            return Err(StateError::BadSequence {
                commit: seq,
                copy: word(1),
            });
        }
        let len = word(2);
        if len > copy_len(region) - HEADER_LEN {
            return Err(StateError::BadLength(len));
        }
        let mut payload = alloc::vec![0u8; len as usize];
        pmem.read(off + HEADER_LEN, &mut payload);
        if header_checksum(seq, &payload) != word(3) {
            return Err(StateError::BadChecksum);
        }
        let state = postcard::from_bytes(&payload).map_err(|_| StateError::Undecodable)?;
        Ok(Persisted { pmem, seq, state })
    }

    /// The state in force.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The sequence number of the state in force: changes with every
    /// committed change (0: never changed).
    pub fn epoch(&self) -> u64 {
        self.seq
    }

    /// Bytes an encoded state may take.
    pub fn capacity(&self) -> u64 {
        copy_len(self.pmem.len()) - HEADER_LEN
    }

    /// Makes `new` the state durably (see the module docs); on error the
    /// old state stays in force, in memory and in `pmem`.
    pub fn commit(&mut self, new: S) -> Result<(), StateError> {
        let payload = postcard::to_allocvec(&new).map_err(|_| StateError::Encode)?;
        let have = self.capacity();
        if payload.len() as u64 > have {
            return Err(StateError::NoSpace {
                need: payload.len() as u64,
                have,
            });
        }
        let seq = self.seq + 1;
        let off = copy_off(self.pmem.len(), seq);
        let mut h = [0u8; HEADER_LEN as usize];
        h[0..8].copy_from_slice(&MAGIC.to_le_bytes());
        h[8..16].copy_from_slice(&seq.to_le_bytes());
        h[16..24].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        h[24..32].copy_from_slice(&header_checksum(seq, &payload).to_le_bytes());
        self.pmem.write(off, &h);
        self.pmem.write(off + HEADER_LEN, &payload);
        self.pmem.flush(off, HEADER_LEN + payload.len() as u64);
        self.pmem.fence();
        // The commit point: one aligned 8-byte store.
        self.pmem.write(0, &seq.to_le_bytes());
        self.pmem.flush(0, 8);
        self.pmem.fence();
        self.seq = seq;
        self.state = new;
        Ok(())
    }

    /// Runs `change` on a copy of the state and commits the copy if it
    /// succeeds; nothing changes if it fails or the commit fails.
    pub fn update<T, E: From<StateError>>(
        &mut self,
        change: impl FnOnce(&mut S) -> Result<T, E>,
    ) -> Result<T, E>
    where
        S: Clone,
    {
        self.apply(change, false)
    }

    /// Like [`update`](Self::update), but when `change` leaves the state
    /// as it was (its encoding unchanged: a query) nothing is written and
    /// the epoch stays, so a read neither costs a commit nor makes late
    /// binders think the names moved.
    pub fn update_if_changed<T, E: From<StateError>>(
        &mut self,
        change: impl FnOnce(&mut S) -> Result<T, E>,
    ) -> Result<T, E>
    where
        S: Clone,
    {
        self.apply(change, true)
    }

    /// Runs `change` on a copy and commits it — unless `unless_same` and
    /// the copy encodes as the state in force does.
    fn apply<T, E: From<StateError>>(
        &mut self,
        change: impl FnOnce(&mut S) -> Result<T, E>,
        unless_same: bool,
    ) -> Result<T, E>
    where
        S: Clone,
    {
        let mut next = self.state.clone();
        let out = change(&mut next)?;
        let encode = |s: &S| postcard::to_allocvec(s).map_err(|_| StateError::Encode);
        if !unless_same || encode(&next)? != encode(&self.state)? {
            self.commit(next)?;
        }
        Ok(out)
    }

    /// The persistent memory.
    pub fn pmem(&self) -> &P {
        &self.pmem
    }

    /// The persistent memory, mutably (tests: set a cut policy).
    pub fn pmem_mut(&mut self) -> &mut P {
        &mut self.pmem
    }

    /// Gives the persistent memory back.
    pub fn into_pmem(self) -> P {
        self.pmem
    }
}
