//! The POSIX worker: appends fixed-size records to [`RECORDS`] through
//! the POSIX client library, each made durable with `fsync` before it
//! counts as acknowledged, and reads the file back to check them.
//!
//! Record `K` is written at offset `K × RECORD_LEN` (with `pwrite`), so
//! the file grows one record at a time and a retried append — whose first
//! try may have landed before the server died — rewrites the same bytes
//! instead of adding a second copy.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use posix::{Client, Errno, OpenFlags};
use utest::loadrec::{RECORD_LEN, check_posix, posix_record};

use crate::retry::{Attempt, Failure, Shared, retry};
use crate::worker::Worker;

/// The directory of the POSIX worker's file and of the stop file.
pub const DIR: &str = "/loadgen";
/// The record file.
pub const RECORDS: &str = "/loadgen/records";
/// How long one attempt waits for the POSIX server to be published.
const CONNECT_MS: u64 = 200;

/// The POSIX worker's connection (`None` after a failure: reconnect).
#[derive(Default)]
pub struct Files {
    client: Option<Client>,
}

/// An error a server restart can cause: try again on a fresh connection.
fn transient<T>(files: &mut Option<Client>, what: &str, e: Errno) -> Attempt<T> {
    *files = None;
    Attempt::Transient(format!("{what}: {e:?}"))
}

impl Files {
    /// The connection, made if there is none.
    fn client(&mut self) -> Result<&mut Client, String> {
        if self.client.is_none() {
            let c = posix::connect(CONNECT_MS).map_err(|e| format!("connect: {e}"))?;
            self.client = Some(c);
        }
        self.client.as_mut().ok_or_else(String::new)
    }

    /// Runs `call` on the connection (made if there is none).
    pub fn with_client<R>(&mut self, call: impl FnOnce(&mut Client) -> R) -> Result<R, String> {
        self.client().map(call)
    }

    /// Drops the connection: the next call makes a new one.
    pub fn reset(&mut self) {
        self.client = None;
    }

    /// Whether [`crate::STOP_FILE`] exists (no answer counts as no).
    pub fn stop_file_exists(&mut self) -> bool {
        match self.with_client(|c| c.stat(crate::STOP_FILE)) {
            Ok(Ok(_)) => true,
            Ok(Err(Errno::ENOENT)) | Err(_) => false,
            Ok(Err(_)) => {
                self.reset();
                false
            }
        }
    }

    /// One try at appending record `seq` durably.
    fn append(&mut self, seq: u64) -> Attempt<()> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return Attempt::Transient(e),
        };
        let flags = OpenFlags::O_WRONLY.union(OpenFlags::O_CREAT);
        let fd = match c.open(RECORDS, flags, 0o644) {
            Ok(fd) => fd,
            Err(e) => return transient(&mut self.client, "open", e),
        };
        let rec = posix_record(seq);
        let written = c
            .pwrite(fd, &rec, seq * RECORD_LEN as u64)
            .and_then(|n| {
                if n == RECORD_LEN {
                    Ok(())
                } else {
                    Err(Errno::EIO)
                }
            })
            .and_then(|()| c.fsync(fd));
        let closed = c.close(fd);
        match written.and(closed) {
            Ok(()) => Attempt::Done(()),
            Err(e) => transient(&mut self.client, "pwrite/fsync/close", e),
        }
    }

    /// One try at reading the whole record file.
    fn read_all(&mut self) -> Attempt<Vec<u8>> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return Attempt::Transient(e),
        };
        let fd = match c.open(RECORDS, OpenFlags::O_RDONLY, 0) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Attempt::Lost(format!("{RECORDS} is gone (ENOENT)")),
            Err(e) => return transient(&mut self.client, "open for reading", e),
        };
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        let read = loop {
            match c.read(fd, &mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => break Err(e),
            }
        };
        let closed = c.close(fd);
        match read.and(closed) {
            Ok(()) => Attempt::Done(out),
            Err(e) => transient(&mut self.client, "read", e),
        }
    }
}

impl Worker for Files {
    const KIND: &'static str = "posix records";
    const CAP: u64 = 3000;
    const SLOT: usize = 0;
    const PACE_MS: u64 = 20;

    fn setup(&mut self, shared: &Shared) -> Result<(), Failure> {
        retry(
            &shared.retries[Self::SLOT],
            &|| format!("mkdir {DIR}"),
            || {
                let c = match self.client() {
                    Ok(c) => c,
                    Err(e) => return Attempt::Transient(e),
                };
                match c.mkdir(DIR, 0o755) {
                    Ok(()) | Err(Errno::EEXIST) => Attempt::Done(()),
                    Err(e) => transient(&mut self.client, "mkdir", e),
                }
            },
        )
    }

    fn write(&mut self, shared: &Shared, seq: u64) -> Result<(), Failure> {
        retry(
            &shared.retries[Self::SLOT],
            &|| format!("posix append {seq}"),
            || self.append(seq),
        )
    }

    fn verify(&mut self, shared: &Shared, acked: u64) -> Result<(), Failure> {
        retry(
            &shared.retries[Self::SLOT],
            &|| format!("posix read-back of {acked} records"),
            || {
                let data = match self.read_all() {
                    Attempt::Done(d) => d,
                    Attempt::Transient(e) => return Attempt::Transient(e),
                    Attempt::Lost(e) => return Attempt::Lost(e),
                };
                match check_posix(&data, acked) {
                    Ok(()) => Attempt::Done(()),
                    Err(why) => Attempt::Lost(format!("{why} ({RECORDS})")),
                }
            },
        )
    }
}
