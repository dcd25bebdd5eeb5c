//! [`Tx`], a transactional region: formatting, opening with recovery,
//! and the write, commit and rollback steps its transactions
//! ([`crate::Transaction`]) drive (protocol in the crate docs).

use crate::Pmem;
use crate::guard::Transaction;
use crate::layout::{Layout, OpenError, STATE_OFF};
use crate::log::{self, entry_len};

/// Why a transactional operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxError {
    /// The write does not fit in what is left of the log. Nothing was
    /// written; the transaction is still open (commit what it has, or
    /// drop it to roll back).
    LogFull {
        /// Log bytes the write needs.
        needed: u64,
        /// Log bytes left.
        free: u64,
    },
    /// `[off, off + len)` is not inside the data area.
    OutOfRange {
        /// Offset asked for.
        off: u64,
        /// Length asked for.
        len: u64,
    },
    /// A nested transaction aborted, which rolled the whole transaction
    /// back: its writes are gone and it accepts no more.
    Aborted,
}

/// What recovery did when the region was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// Sequence number of the unfinished transaction.
    pub seq: u64,
    /// Log entries rolled back (0: the cut came before its first write).
    pub entries: u64,
}

/// A transactional region of persistent memory `P`.
pub struct Tx<P: Pmem> {
    pmem: P,
    pub(crate) layout: Layout,
    /// Sequence number of the current transaction, or of the last one.
    seq: u64,
    /// The current transaction has written (its state word says active).
    live: bool,
    /// Log offset of the current transaction's next entry.
    pub(crate) tail: u64,
    /// Log offset of its newest entry.
    last: Option<u64>,
    /// Its log entries.
    entries: u64,
    /// Open guards (1: only the outermost).
    pub(crate) depth: u32,
    /// A nested abort rolled the current transaction back.
    pub(crate) doomed: bool,
    recovery: Option<Recovery>,
}

impl<P: Pmem> Tx<P> {
    /// Formats a region at `layout` in `pmem`: zeroes its log and data
    /// area, writes its header, and returns it open. Whatever was there
    /// is lost.
    pub fn format(mut pmem: P, layout: Layout) -> Result<Tx<P>, OpenError> {
        layout.check(pmem.len())?;
        let header = layout.header();
        // The old magic goes first and the new one last, each behind a
        // fence: a cut between them leaves a region with no magic.
        pmem.write(layout.base, &[0; 8]);
        pmem.flush(layout.base, 8);
        pmem.fence();
        pmem.write(layout.base + 8, &header[8..]);
        pmem.write(layout.base + STATE_OFF, &[0; 8]);
        pmem.zero(layout.log_off(), layout.log_len + layout.data_len);
        pmem.flush(layout.base, layout.total_len());
        pmem.fence();
        pmem.write(layout.base, &header[..8]);
        pmem.flush(layout.base, 8);
        pmem.fence();
        Ok(Tx::new(pmem, layout, 0))
    }

    /// Opens the region at `layout`: checks its header, and if a
    /// transaction was unfinished (a power cut, or a program that died
    /// mid-transaction) rolls it back first ([`Tx::recovery`] says so).
    pub fn open(mut pmem: P, layout: Layout) -> Result<Tx<P>, OpenError> {
        layout.check(pmem.len())?;
        let mut header = [0u8; 64];
        pmem.read(layout.base, &mut header);
        layout.verify_header(&header)?;
        let state = pmem.read_u64(layout.base + STATE_OFF);
        let seq = state >> 1;
        let mut recovery = None;
        if state & 1 == 1 {
            let scan = log::scan(&pmem, &layout, seq)?;
            log::undo(&mut pmem, &layout, scan.last);
            pmem.fence();
            pmem.write(layout.base + STATE_OFF, &(seq << 1).to_le_bytes());
            pmem.flush(layout.base + STATE_OFF, 8);
            pmem.fence();
            recovery = Some(Recovery {
                seq,
                entries: scan.count,
            });
        }
        let mut tx = Tx::new(pmem, layout, seq);
        tx.recovery = recovery;
        Ok(tx)
    }

    /// Opens the region at `layout`, formatting it first if it was never
    /// formatted (no magic). Any other problem is an error: a damaged
    /// region is not silently wiped.
    pub fn open_or_format(pmem: P, layout: Layout) -> Result<Tx<P>, OpenError> {
        layout.check(pmem.len())?;
        let mut magic = [0u8; 8];
        pmem.read(layout.base, &mut magic);
        if magic == [0; 8] {
            Tx::format(pmem, layout)
        } else {
            Tx::open(pmem, layout)
        }
    }

    fn new(pmem: P, layout: Layout, seq: u64) -> Tx<P> {
        Tx {
            pmem,
            layout,
            seq,
            live: false,
            tail: 0,
            last: None,
            entries: 0,
            depth: 0,
            doomed: false,
            recovery: None,
        }
    }

    /// Begins a transaction. (A transaction left open by a leaked guard —
    /// `mem::forget` — is rolled back first.)
    pub fn begin(&mut self) -> Transaction<'_, P> {
        if self.depth != 0 {
            self.rollback();
            self.finish();
        }
        self.depth = 1;
        Transaction::new(self, 1)
    }

    /// What recovery did when the region was opened, if it had to.
    pub fn recovery(&self) -> Option<Recovery> {
        self.recovery
    }

    /// The region's layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Bytes in the data area.
    pub fn data_len(&self) -> u64 {
        self.layout.data_len
    }

    /// Sequence number of the last transaction that wrote.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Reads data bytes at `off` (outside a transaction: the committed
    /// state).
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), TxError> {
        self.check(off, buf.len() as u64)?;
        self.pmem.read(self.layout.data_off() + off, buf);
        Ok(())
    }

    /// Reads the little-endian `u64` at data offset `off`.
    pub fn read_u64(&self, off: u64) -> Result<u64, TxError> {
        let mut b = [0u8; 8];
        self.read(off, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// The persistent memory (for its owner's other uses; writing the
    /// region directly bypasses the transactions).
    pub fn pmem(&self) -> &P {
        &self.pmem
    }

    /// The persistent memory, mutably (see [`Tx::pmem`]).
    pub fn pmem_mut(&mut self) -> &mut P {
        &mut self.pmem
    }

    /// Gives the persistent memory back.
    pub fn into_pmem(self) -> P {
        self.pmem
    }

    fn check(&self, off: u64, len: u64) -> Result<(), TxError> {
        match off.checked_add(len) {
            Some(end) if end <= self.layout.data_len => Ok(()),
            _ => Err(TxError::OutOfRange { off, len }),
        }
    }

    /// Logs the old bytes of `[off, off + len)`, then writes `bytes` there.
    pub(crate) fn write(&mut self, off: u64, bytes: &[u8]) -> Result<(), TxError> {
        if self.doomed {
            return Err(TxError::Aborted);
        }
        let len = bytes.len() as u64;
        self.check(off, len)?;
        if len == 0 {
            return Ok(());
        }
        let needed = entry_len(len);
        let free = self.layout.log_len - self.tail;
        if needed > free || len > u64::from(u32::MAX) {
            return Err(TxError::LogFull { needed, free });
        }
        let l = self.layout;
        if !self.live {
            self.seq += 1;
        }
        log::append(
            &mut self.pmem,
            &l,
            self.tail,
            self.seq,
            off,
            len as u32,
            self.last,
        );
        if !self.live {
            let state = (self.seq << 1) | 1;
            self.pmem.write(l.base + STATE_OFF, &state.to_le_bytes());
            self.pmem.flush(l.base + STATE_OFF, 8);
            self.live = true;
        }
        // The entry (and state word) are durable before any new byte.
        self.pmem.fence();
        self.pmem.write(l.data_off() + off, bytes);
        self.pmem.flush(l.data_off() + off, len);
        self.last = Some(self.tail);
        self.tail += needed;
        self.entries += 1;
        Ok(())
    }

    /// Makes the current transaction durable.
    pub(crate) fn commit(&mut self) {
        if self.live {
            // Every in-place write (flushed as it was made) is durable …
            self.pmem.fence();
            // … before the state word says the transaction is over.
            let l = self.layout;
            self.pmem
                .write(l.base + STATE_OFF, &(self.seq << 1).to_le_bytes());
            self.pmem.flush(l.base + STATE_OFF, 8);
            self.pmem.fence();
        }
    }

    /// Rolls the current transaction back (durably).
    pub(crate) fn rollback(&mut self) {
        if self.live {
            let l = self.layout;
            log::undo(&mut self.pmem, &l, self.last);
            self.pmem.fence();
            self.pmem
                .write(l.base + STATE_OFF, &(self.seq << 1).to_le_bytes());
            self.pmem.flush(l.base + STATE_OFF, 8);
            self.pmem.fence();
        }
        self.live = false;
        self.tail = 0;
        self.last = None;
        self.entries = 0;
    }

    /// Ends the outermost scope.
    pub(crate) fn finish(&mut self) {
        self.live = false;
        self.tail = 0;
        self.last = None;
        self.entries = 0;
        self.depth = 0;
        self.doomed = false;
    }
}
