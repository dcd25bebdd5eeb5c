//! `debug_info`: memory figures and the thread list.

use alloc::sync::Arc;
use alloc::vec::Vec;

use protocols::debug::{InfoKind, MemStats, ThreadInfo};
use protocols::layout::is_user_range;
use protocols::syscall::SysError;

use super::user_ptr::UserOut;
use crate::mm::{frames, heap};
use crate::program::Program;
use crate::sched;

/// `debug_info(kind, buf, len)`.
pub fn info(program: &Arc<Program>, kind: u64, buf: u64, len: u64) -> Result<u64, SysError> {
    let kind = InfoKind::try_from(kind)?;
    if !is_user_range(buf, len) {
        return Err(SysError::BadAddress);
    }
    let bytes = match kind {
        InfoKind::Memory => memory(),
        InfoKind::Threads => threads(),
    };
    if (bytes.len() as u64) > len {
        return Err(SysError::TooLarge);
    }
    let out = UserOut::new(program, buf, bytes.len() as u64)?;
    out.write(0, &bytes);
    Ok(bytes.len() as u64)
}

fn memory() -> Vec<u8> {
    let (total_frames, free_frames) = frames::stats();
    let (heap_used, heap_size) = heap::stats();
    let stats = MemStats {
        total_frames,
        free_frames,
        heap_used,
        heap_size,
        pmem_bytes: crate::acpi::pmem_bytes(),
    };
    let mut out = alloc::vec![0u8; MemStats::SIZE];
    let _ = stats.encode(&mut out);
    out
}

fn threads() -> Vec<u8> {
    let mut infos = Vec::new();
    sched::thread_infos(&mut infos);
    let mut out = alloc::vec![0u8; 8 + infos.len() * ThreadInfo::SIZE];
    out[..8].copy_from_slice(&(infos.len() as u64).to_le_bytes());
    for (i, t) in infos.iter().enumerate() {
        let at = 8 + i * ThreadInfo::SIZE;
        let _ = t.encode(&mut out[at..at + ThreadInfo::SIZE]);
    }
    out
}
