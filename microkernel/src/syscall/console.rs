//! `console_write`, `console_read`.

use alloc::sync::Arc;

use protocols::syscall::{MAX_IO_LEN, READ_NONBLOCKING, SysError};

use super::user_ptr::{UserIn, UserOut};
use crate::program::Program;
use crate::sched::{self, WaitKey, Wake};
use crate::{console, serial};

/// Bytes moved per chunk through a kernel buffer.
const CHUNK: usize = 256;

/// `console_write(buf, len)`.
pub fn write(program: &Arc<Program>, buf: u64, len: u64) -> Result<u64, SysError> {
    if len > MAX_IO_LEN as u64 {
        return Err(SysError::TooLarge);
    }
    let src = UserIn::new(program, buf, len)?;
    let mut chunk = [0u8; CHUNK];
    let mut done = 0;
    while done < src.len() {
        let n = src.read(done, &mut chunk);
        serial::write_bytes(&chunk[..n]);
        done += n;
    }
    Ok(len)
}

/// `console_read(buf, len, flags)`.
pub fn read(program: &Arc<Program>, buf: u64, len: u64, flags: u64) -> Result<u64, SysError> {
    if flags & !READ_NONBLOCKING != 0 {
        return Err(SysError::InvalidArgument);
    }
    if len == 0 {
        return Ok(0);
    }
    if len > MAX_IO_LEN as u64 {
        return Err(SysError::TooLarge);
    }
    let dst = UserOut::new(program, buf, len)?;
    loop {
        let mut chunk = [0u8; CHUNK];
        let want = dst.len().min(CHUNK);
        let n = console::take(&mut chunk[..want]);
        if n > 0 {
            dst.write(0, &chunk[..n]);
            return Ok(n as u64);
        }
        if flags & READ_NONBLOCKING != 0 {
            return Err(SysError::WouldBlock);
        }
        match sched::block(Some(WaitKey::Console), None, |_| !console::has_input()) {
            Some(Wake::Killed) => return Err(SysError::Busy),
            _ => continue,
        }
    }
}
