//! User pointers as validated, typed wrappers. A system call handler never
//! sees a raw user address: it gets a [`UserSlice`] or [`UserWord`] only
//! after the whole range was checked to be user space and mapped with the
//! access needed (demand-zero pages are faulted in), and it reads or writes
//! only through them (stac/clac in `arch::usercopy`).
//!
//! Checked pages stay valid: no call unmaps user memory, and every thread
//! that could run in this address space shares the same mappings. So a
//! buffer a program passes again and again (a PPC caller's message buffer)
//! need not be walked again: [`UserOut::new_remembered`].

use alloc::sync::Arc;

use protocols::layout::{PAGE_SIZE, SLOT_BASE, SLOT_END, is_user_range};
use protocols::syscall::SysError;

use crate::arch::usercopy;
use crate::program::Program;
use crate::sync::IrqMutex;

/// Checks that `[addr, addr + len)` is user space that `program` may read
/// (or write).
fn check(program: &Program, addr: u64, len: u64, write: bool) -> Result<(), SysError> {
    match pages(addr, len)? {
        Some((first, last)) if !program.space.check_pages(first, last, write) => {
            Err(SysError::BadAddress)
        }
        _ => Ok(()),
    }
}

/// The first and last page of `[addr, addr + len)` (`None`: empty), if
/// the range is user space outside the object slots.
fn pages(addr: u64, len: u64) -> Result<Option<(u64, u64)>, SysError> {
    if !is_user_range(addr, len) {
        return Err(SysError::BadAddress);
    }
    // Object slots are checked against the active security context by the
    // MMU only; system calls do not take buffers there (yet).
    if addr < SLOT_END && addr + len > SLOT_BASE {
        return Err(SysError::BadAddress);
    }
    if len == 0 {
        return Ok(None);
    }
    let first = addr / PAGE_SIZE * PAGE_SIZE;
    let last = (addr + len - 1) / PAGE_SIZE * PAGE_SIZE;
    Ok(Some((first, last)))
}

/// How many writable ranges [`UserOut::new_remembered`] remembers.
const REMEMBERED: usize = 8;

/// Ranges of pages found writable, the oldest replaced first.
struct Remembered {
    /// `(program id, first page, last page)`; program id 0: empty.
    /// Program ids are never reused, so an entry of an ended program
    /// matches nothing.
    seen: [(u64, u64, u64); REMEMBERED],
    /// The entry replaced next.
    next: usize,
}

static WRITABLE: IrqMutex<Remembered> = IrqMutex::new(Remembered {
    seen: [(0, 0, 0); REMEMBERED],
    next: 0,
});

/// A checked user buffer; `WRITE` says whether it was checked writable.
pub struct UserSlice<const WRITE: bool> {
    addr: u64,
    len: usize,
    // Keeps the address space alive while the slice exists.
    _program: Arc<Program>,
}

/// A buffer the kernel reads.
pub type UserIn = UserSlice<false>;
/// A buffer the kernel writes.
pub type UserOut = UserSlice<true>;

impl<const WRITE: bool> UserSlice<WRITE> {
    /// Checks `[addr, addr + len)` in `program`'s (the current) space.
    pub fn new(program: &Arc<Program>, addr: u64, len: u64) -> Result<Self, SysError> {
        check(program, addr, len, WRITE)?;
        let len = usize::try_from(len).map_err(|_| SysError::TooLarge)?;
        Ok(UserSlice {
            addr,
            len,
            _program: program.clone(),
        })
    }

    /// Its length.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl<const WRITE: bool> UserSlice<WRITE> {
    /// Copies `out.len()` bytes from offset `offset` (clipped to the slice).
    pub fn read(&self, offset: usize, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len.saturating_sub(offset));
        // SAFETY: `[addr, addr + len)` was checked readable in the current
        // space (every checked slice is at least readable: user pages are
        // always readable) and stays mapped; `offset + n <= len`.
        unsafe { usercopy::copy_from_user(&mut out[..n], self.addr + offset as u64) };
        n
    }
}

impl UserOut {
    /// Like [`UserSlice::new`], but the pages are walked only if this
    /// range is not one of the last few found writable here: checked pages
    /// stay valid (module docs), so a range found writable once is
    /// writable for the program's life.
    pub fn new_remembered(program: &Arc<Program>, addr: u64, len: u64) -> Result<Self, SysError> {
        if let Some((first, last)) = pages(addr, len)? {
            let seen = (program.id, first, last);
            if !WRITABLE.lock().seen.contains(&seen) {
                if !program.space.check_pages(first, last, true) {
                    return Err(SysError::BadAddress);
                }
                let mut w = WRITABLE.lock();
                let at = w.next;
                w.seen[at] = seen;
                w.next = (at + 1) % REMEMBERED;
            }
        }
        let len = usize::try_from(len).map_err(|_| SysError::TooLarge)?;
        Ok(UserSlice {
            addr,
            len,
            _program: program.clone(),
        })
    }

    /// Copies `data` to offset `offset` (clipped to the slice).
    pub fn write(&self, offset: usize, data: &[u8]) -> usize {
        let n = data.len().min(self.len.saturating_sub(offset));
        // SAFETY: the range was checked writable in the current space and
        // stays mapped; `offset + n <= len`.
        unsafe { usercopy::copy_to_user(self.addr + offset as u64, &data[..n]) };
        n
    }
}

/// A checked, 8-byte aligned user word (thread-sync).
pub struct UserWord {
    addr: u64,
    _program: Arc<Program>,
}

impl UserWord {
    /// Checks the aligned word at `addr` readable; a misaligned address is
    /// `InvalidArgument`.
    pub fn new(program: &Arc<Program>, addr: u64) -> Result<UserWord, SysError> {
        if !addr.is_multiple_of(8) {
            return Err(SysError::InvalidArgument);
        }
        check(program, addr, 8, false)?;
        Ok(UserWord {
            addr,
            _program: program.clone(),
        })
    }

    /// Its user address.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Reads it (one atomic 8-byte load).
    pub fn read(&self) -> u64 {
        // SAFETY: aligned, checked readable, stays mapped.
        unsafe { usercopy::read_user_u64(self.addr) }
    }
}
