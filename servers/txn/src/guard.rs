//! [`Transaction`], the guard of a running transaction (or of a nested
//! scope of one), and [`Begin`], what a transaction begins on.

use crate::Pmem;
use crate::tx::{Tx, TxError};

/// Something a transaction can begin on: a region ([`Tx`]) or a running
/// transaction ([`Transaction`], which the new one joins). Code that
/// should run standalone or inside its caller's transaction takes
/// `&mut impl Begin<P>`.
pub trait Begin<P: Pmem> {
    /// Begins a transaction, or a nested scope of the running one.
    fn begin(&mut self) -> Transaction<'_, P>;
}

impl<P: Pmem> Begin<P> for Tx<P> {
    fn begin(&mut self) -> Transaction<'_, P> {
        Tx::begin(self)
    }
}

impl<P: Pmem> Begin<P> for Transaction<'_, P> {
    fn begin(&mut self) -> Transaction<'_, P> {
        Transaction::begin(self)
    }
}

/// A running transaction (or a nested scope of one). Dropping it without
/// [`Transaction::commit`] aborts: see the crate docs on nesting.
#[must_use = "dropping a transaction aborts it"]
pub struct Transaction<'a, P: Pmem> {
    tx: &'a mut Tx<P>,
    /// Nesting level: 1 for the outermost scope. (Kept per guard, so a
    /// leaked inner guard cannot make the outermost commit a nested one.)
    level: u32,
    done: bool,
}

impl<'a, P: Pmem> Transaction<'a, P> {
    /// The guard of scope `level` (1: outermost) on `tx`.
    pub(crate) fn new(tx: &'a mut Tx<P>, level: u32) -> Transaction<'a, P> {
        tx.depth = level;
        Transaction {
            tx,
            level,
            done: false,
        }
    }

    /// Begins a nested scope that joins this transaction.
    pub fn begin(&mut self) -> Transaction<'_, P> {
        Transaction::new(self.tx, self.level + 1)
    }

    /// Whether this is a nested scope.
    pub fn is_nested(&self) -> bool {
        self.level > 1
    }

    /// Writes `bytes` at data offset `off`, logging the old bytes first.
    /// Later reads in the transaction see the new bytes.
    pub fn write(&mut self, off: u64, bytes: &[u8]) -> Result<(), TxError> {
        self.tx.write(off, bytes)
    }

    /// Writes `v` little-endian at data offset `off`.
    pub fn write_u64(&mut self, off: u64, v: u64) -> Result<(), TxError> {
        self.write(off, &v.to_le_bytes())
    }

    /// Writes `v` little-endian at data offset `off`.
    pub fn write_u32(&mut self, off: u64, v: u32) -> Result<(), TxError> {
        self.write(off, &v.to_le_bytes())
    }

    /// Reads data bytes at `off` (this transaction's writes included).
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), TxError> {
        self.tx.read(off, buf)
    }

    /// Reads the little-endian `u64` at data offset `off`.
    pub fn read_u64(&self, off: u64) -> Result<u64, TxError> {
        self.tx.read_u64(off)
    }

    /// Reads the little-endian `u32` at data offset `off`.
    pub fn read_u32(&self, off: u64) -> Result<u32, TxError> {
        let mut b = [0u8; 4];
        self.tx.read(off, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Log bytes left for this transaction's writes.
    pub fn log_free(&self) -> u64 {
        self.tx.layout.log_len - self.tx.tail
    }

    /// Commits: the outermost commit makes every write durable before it
    /// returns; a nested one ends its scope only. Fails with
    /// [`TxError::Aborted`] (and nothing written) if a nested scope
    /// aborted.
    pub fn commit(mut self) -> Result<(), TxError> {
        self.done = true;
        let tx = &mut *self.tx;
        if tx.doomed {
            if self.level == 1 {
                tx.finish();
            } else {
                tx.depth = self.level - 1;
            }
            return Err(TxError::Aborted);
        }
        if self.level == 1 {
            tx.commit();
            tx.finish();
        } else {
            tx.depth = self.level - 1;
        }
        Ok(())
    }

    /// Aborts: rolls the whole transaction back, durably, even from a
    /// nested scope (whose outer scopes then refuse writes and fail to
    /// commit).
    pub fn abort(mut self) {
        self.done = true;
        self.abort_now();
    }

    fn abort_now(&mut self) {
        let tx = &mut *self.tx;
        if !tx.doomed {
            tx.rollback();
        }
        if self.level == 1 {
            tx.finish();
        } else {
            tx.doomed = true;
            tx.depth = self.level - 1;
        }
    }
}

impl<P: Pmem> Drop for Transaction<'_, P> {
    fn drop(&mut self) {
        if !self.done {
            self.abort_now();
        }
    }
}

/// Runs `f` in a transaction begun on `on` (joining it if `on` is one).
pub fn atomically<P: Pmem, T, E: From<TxError>>(
    on: &mut impl Begin<P>,
    f: impl FnOnce(&mut Transaction<'_, P>) -> Result<T, E>,
) -> Result<T, E> {
    let mut t = on.begin();
    let v = f(&mut t)?;
    t.commit()?;
    Ok(v)
}
