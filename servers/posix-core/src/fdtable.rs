//! [`FdTable`]: one program's descriptors, handed out by the
//! lowest-free-number rule, each naming a shared open-file description.

use alloc::vec::Vec;

use protocols::posix::{Errno, Fd};

/// Most descriptors one program may hold (`EMFILE` past it).
pub const MAX_FDS: usize = 1024;

/// A program's descriptor table: fd → description number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FdTable {
    slots: Vec<Option<u64>>,
}

impl FdTable {
    /// Puts `desc` in the lowest free slot and returns its number.
    pub fn insert(&mut self, desc: u64) -> Result<Fd, Errno> {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(desc);
            return Ok(i as Fd);
        }
        if self.slots.len() >= MAX_FDS {
            return Err(Errno::EMFILE);
        }
        self.slots.push(Some(desc));
        Ok((self.slots.len() - 1) as Fd)
    }

    /// The description `fd` names.
    pub fn get(&self, fd: Fd) -> Result<u64, Errno> {
        self.slots
            .get(fd as usize)
            .copied()
            .flatten()
            .ok_or(Errno::EBADF)
    }

    /// Frees `fd` and returns the description it named.
    pub fn remove(&mut self, fd: Fd) -> Result<u64, Errno> {
        let d = self.get(fd)?;
        self.slots[fd as usize] = None;
        while self.slots.last() == Some(&None) {
            self.slots.pop();
        }
        Ok(d)
    }

    /// Every open descriptor, lowest first.
    pub fn fds(&self) -> impl Iterator<Item = Fd> + '_ {
        (self.slots.iter().enumerate()).filter_map(|(i, s)| s.map(|_| i as Fd))
    }

    /// Every open descriptor's description.
    pub fn descriptions(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().flatten().copied()
    }
}
