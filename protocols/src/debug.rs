//! Records `debug_info` fills in, encoded little-endian at fixed offsets so
//! that neither side needs `unsafe` to read them.

/// `debug_info` kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum InfoKind {
    /// One [`MemStats`].
    Memory = 0,
    /// A `u64` count, then that many [`ThreadInfo`] records.
    Threads = 1,
}

impl TryFrom<u64> for InfoKind {
    type Error = crate::syscall::SysError;
    fn try_from(v: u64) -> Result<InfoKind, Self::Error> {
        match v {
            0 => Ok(InfoKind::Memory),
            1 => Ok(InfoKind::Threads),
            _ => Err(crate::syscall::SysError::InvalidArgument),
        }
    }
}

/// Physical memory and kernel heap figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemStats {
    /// Frames the allocator manages.
    pub total_frames: u64,
    /// Frames free now.
    pub free_frames: u64,
    /// Kernel heap bytes in use.
    pub heap_used: u64,
    /// Kernel heap capacity in bytes.
    pub heap_size: u64,
    /// Bytes of persistent memory found (0 without an NVDIMM).
    pub pmem_bytes: u64,
}

impl MemStats {
    /// Encoded size in bytes.
    pub const SIZE: usize = 40;

    /// Encodes into `out` (at least [`Self::SIZE`] bytes).
    pub fn encode(&self, out: &mut [u8]) -> Option<()> {
        let fields = [
            self.total_frames,
            self.free_frames,
            self.heap_used,
            self.heap_size,
            self.pmem_bytes,
        ];
        put_words(out, &fields)
    }

    /// Decodes from `bytes`.
    pub fn decode(bytes: &[u8]) -> Option<MemStats> {
        let w = words::<5>(bytes)?;
        Some(MemStats {
            total_frames: w[0],
            free_frames: w[1],
            heap_used: w[2],
            heap_size: w[3],
            pmem_bytes: w[4],
        })
    }
}

/// A thread's scheduling state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ThreadState {
    /// Running on a CPU now.
    Running = 0,
    /// Ready to run.
    Ready = 1,
    /// Sleeping until a deadline.
    Sleeping = 2,
    /// Waiting on a thread-sync word or for input.
    Blocked = 3,
    /// Ended, not yet reaped.
    Exited = 4,
}

impl ThreadState {
    /// A short name for listings.
    pub const fn name(self) -> &'static str {
        match self {
            ThreadState::Running => "running",
            ThreadState::Ready => "ready",
            ThreadState::Sleeping => "sleeping",
            ThreadState::Blocked => "blocked",
            ThreadState::Exited => "exited",
        }
    }
}

/// One thread in a `Threads` listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadInfo {
    /// Thread id.
    pub id: u64,
    /// The program it belongs to (0: the kernel).
    pub program: u64,
    /// Priority, 0 ..= MAX_PRIORITY.
    pub priority: u64,
    /// State.
    pub state: ThreadState,
    /// CPU time used, in nanoseconds.
    pub cpu_nanos: u64,
    /// The program's name, NUL-padded.
    pub name: [u8; 16],
}

impl ThreadInfo {
    /// Encoded size in bytes.
    pub const SIZE: usize = 56;

    /// Encodes into `out` (at least [`Self::SIZE`] bytes).
    pub fn encode(&self, out: &mut [u8]) -> Option<()> {
        put_words(
            out,
            &[
                self.id,
                self.program,
                self.priority,
                self.state as u64,
                self.cpu_nanos,
            ],
        )?;
        out.get_mut(40..56)?.copy_from_slice(&self.name);
        Some(())
    }

    /// Decodes from `bytes`; `None` if short or the state is unknown.
    pub fn decode(bytes: &[u8]) -> Option<ThreadInfo> {
        let w = words::<5>(bytes)?;
        let state = match w[3] {
            0 => ThreadState::Running,
            1 => ThreadState::Ready,
            2 => ThreadState::Sleeping,
            3 => ThreadState::Blocked,
            4 => ThreadState::Exited,
            _ => return None,
        };
        Some(ThreadInfo {
            id: w[0],
            program: w[1],
            priority: w[2],
            state,
            cpu_nanos: w[4],
            name: bytes.get(40..56)?.try_into().ok()?,
        })
    }

    /// The name as text (up to the first NUL).
    pub fn name_str(&self) -> &str {
        let end = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name.len());
        core::str::from_utf8(&self.name[..end]).unwrap_or("?")
    }
}

fn put_words(out: &mut [u8], words: &[u64]) -> Option<()> {
    for (i, w) in words.iter().enumerate() {
        out.get_mut(i * 8..i * 8 + 8)?
            .copy_from_slice(&w.to_le_bytes());
    }
    Some(())
}

fn words<const N: usize>(bytes: &[u8]) -> Option<[u64; N]> {
    let mut out = [0u64; N];
    for (i, w) in out.iter_mut().enumerate() {
        *w = u64::from_le_bytes(bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_reject_short_buffers() {
        let m = MemStats {
            total_frames: 1,
            free_frames: 2,
            heap_used: 3,
            heap_size: 4,
            pmem_bytes: 5,
        };
        let mut buf = [0u8; MemStats::SIZE];
        m.encode(&mut buf).unwrap();
        assert_eq!(MemStats::decode(&buf), Some(m));
        assert!(MemStats::decode(&buf[..39]).is_none());
        assert!(m.encode(&mut [0u8; 39]).is_none());

        let mut name = [0u8; 16];
        name[..4].copy_from_slice(b"init");
        let t = ThreadInfo {
            id: 7,
            program: 1,
            priority: 3,
            state: ThreadState::Sleeping,
            cpu_nanos: 99,
            name,
        };
        let mut buf = [0u8; ThreadInfo::SIZE];
        t.encode(&mut buf).unwrap();
        assert_eq!(ThreadInfo::decode(&buf), Some(t));
        assert_eq!(t.name_str(), "init");
        buf[24] = 9; // unknown state
        assert!(ThreadInfo::decode(&buf).is_none());
    }
}
