//! The thread KSO (`b"PTHR"`): what a supervised program's thread is, kept
//! in a persistent object so the system can restart it after a power cut.
//!
//! The KSO persistence server (`ksod`) creates the record (name, module,
//! arguments) and lists it in the KSO root. From then on the **kernel**
//! keeps the live fields: `program_start_kso` reads and checks the whole
//! record, starts the program it describes and marks it running; every
//! system call the program's first thread makes stores its number on entry
//! and clears it on return; the end of the program stores `Exited` and the
//! exit code; a clean power-off stores `ShutDown`. Each of those is one
//! aligned word, flushed and fenced, so a power cut leaves every field
//! either old or new. A record found `Running` at boot was running when
//! the power went.
//!
//! Like every KSO the record holds no pointers: contexts and view are
//! object IDs, and the decoder checks every field before the kernel uses
//! any of it.
//!
//! | off | len | field |
//! |----:|----:|-------|
//! | 0   | 4   | magic `b"PTHR"` |
//! | 4   | 2   | version `1` |
//! | 6   | 2   | header size [`THREAD_RECORD_SIZE`] |
//! | 8   | 4   | state ([`ThreadState`]) |
//! | 12  | 4   | flags ([`ThreadFlags`]) |
//! | 16  | 4   | system call in progress: number + 1, or 0 for none |
//! | 20  | 4   | attached-context count ≤ [`MAX_THREAD_CTXS`] |
//! | 24  | 8   | generation: how many times the kernel started it |
//! | 32  | 8   | exit code of its last incarnation (state `Exited`) |
//! | 40  | 4   | how its current incarnation started ([`StartKind`]) |
//! | 44  | 4   | the call its previous incarnation was in when the power went: number + 1, or 0 |
//! | 48  | 16  | view object ID (nil: the program's own view) |
//! | 64  | 64  | context object IDs, `count` of them, the rest zero |
//! | 128 | 32  | server name (UTF-8, zero-padded) |
//! | 160 | 32  | boot module (UTF-8, zero-padded) |
//! | 192 | 256 | argument string (UTF-8, zero-padded) |
//! | 448 | 2   | name length |
//! | 450 | 2   | module length |
//! | 452 | 2   | argument length |
//! | 454 | 58  | reserved, zero |

use heapless::{String, Vec};

use crate::kso::{KSO_VERSION, KsoError};
use crate::le::{
    first_nonzero, put_u16, put_u32, put_u64, put_u128, u16_at, u32_at, u64_at, u128_at,
};
use crate::object::ObjId;

/// `b"PTHR"` as a little-endian `u32`.
pub const THREAD_MAGIC: u32 = u32::from_le_bytes(*b"PTHR");
/// Size of a thread record (it starts at the object's `BASE_OFFSET`).
pub const THREAD_RECORD_SIZE: usize = 512;
/// Most contexts a thread KSO lists.
pub const MAX_THREAD_CTXS: usize = 4;
/// Longest server name.
pub const THREAD_NAME_LEN: usize = 32;
/// Longest module name.
pub const THREAD_MODULE_LEN: usize = 32;
/// Longest argument string.
pub const THREAD_ARGS_LEN: usize = 256;

/// Offset of the state word.
pub const STATE_AT: usize = 8;
/// Offset of the flags word.
pub const FLAGS_AT: usize = 12;
/// Offset of the system-call word.
pub const SYSCALL_AT: usize = 16;
/// Offset of the context count.
pub const CTX_COUNT_AT: usize = 20;
/// Offset of the generation.
pub const GENERATION_AT: usize = 24;
/// Offset of the exit code.
pub const EXIT_AT: usize = 32;
/// Offset of the start kind.
pub const START_AT: usize = 40;
/// Offset of the interrupted call.
pub const INTERRUPTED_AT: usize = 44;
/// Offset of the view ID.
pub const VIEW_AT: usize = 48;
/// Offset of context ID 0.
pub const CTXS_AT: usize = 64;
const NAME_AT: usize = 128;
const MODULE_AT: usize = 160;
const ARGS_AT: usize = 192;
const LENS_AT: usize = 448;
const RESERVED_AT: usize = 454;

/// Where a thread is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Recorded, never started.
    Created = 0,
    /// Started and not ended: at boot, the power went while it ran.
    Running = 1,
    /// Its last incarnation ended (the exit code says how).
    Exited = 2,
    /// The machine was powered off cleanly while it ran.
    ShutDown = 3,
}

impl ThreadState {
    /// The state a raw state word names, if any.
    pub fn from_raw(v: u32) -> Option<ThreadState> {
        Some(match v {
            0 => ThreadState::Created,
            1 => ThreadState::Running,
            2 => ThreadState::Exited,
            3 => ThreadState::ShutDown,
            _ => return None,
        })
    }
}

bitset! {
    /// Flags of a thread KSO.
    pub struct ThreadFlags(u32) {
        /// The program registered for power-resume: after a power cut it is
        /// started with a notice saying so, instead of being reset.
        RESUMABLE = 1 << 0,
    }
}

/// How the kernel started a thread's current incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartKind {
    /// The first start, or after a clean power-off.
    Fresh = 0,
    /// Again after its last incarnation ended (a crash or a kill).
    Restarted = 1,
    /// After a power cut, registered for power-resume: it gets the notice.
    Resumed = 2,
    /// After a power cut, not registered: started from scratch.
    Reset = 3,
}

impl StartKind {
    fn from_raw(v: u32) -> Option<StartKind> {
        Some(match v {
            0 => StartKind::Fresh,
            1 => StartKind::Restarted,
            2 => StartKind::Resumed,
            3 => StartKind::Reset,
            _ => return None,
        })
    }

    /// How a thread found in `state` with `flags` starts now.
    pub fn after(state: ThreadState, flags: ThreadFlags) -> StartKind {
        match state {
            ThreadState::Created | ThreadState::ShutDown => StartKind::Fresh,
            ThreadState::Exited => StartKind::Restarted,
            ThreadState::Running if flags.contains(ThreadFlags::RESUMABLE) => StartKind::Resumed,
            ThreadState::Running => StartKind::Reset,
        }
    }

    /// A word for logs.
    pub const fn describe(self) -> &'static str {
        match self {
            StartKind::Fresh => "fresh",
            StartKind::Restarted => "restarted",
            StartKind::Resumed => "resumed",
            StartKind::Reset => "reset",
        }
    }
}

/// A decoded thread KSO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadRecord {
    /// Where it is in its life.
    pub state: ThreadState,
    /// Its flags.
    pub flags: ThreadFlags,
    /// The system call its first thread is in, if any.
    pub syscall: Option<u32>,
    /// How many times the kernel started it.
    pub generation: u64,
    /// Exit code of its last incarnation.
    pub exit_code: u64,
    /// How its current (or last) incarnation started.
    pub start: StartKind,
    /// The call its previous incarnation was in when the power went.
    pub interrupted: Option<u32>,
    /// Its view (nil: the program's own).
    pub view: ObjId,
    /// Its attached security contexts.
    pub contexts: Vec<ObjId, MAX_THREAD_CTXS>,
    /// The server's name.
    pub name: String<THREAD_NAME_LEN>,
    /// The boot module it runs.
    pub module: String<THREAD_MODULE_LEN>,
    /// Its argument string.
    pub args: String<THREAD_ARGS_LEN>,
}

/// Encodes `Option<u32>` as number + 1 (0: none).
fn opt_call(v: Option<u32>) -> u32 {
    v.map_or(0, |n| n.saturating_add(1))
}

impl ThreadRecord {
    /// A record for a server not yet started.
    pub fn new(
        name: String<THREAD_NAME_LEN>,
        module: String<THREAD_MODULE_LEN>,
        args: String<THREAD_ARGS_LEN>,
    ) -> ThreadRecord {
        ThreadRecord {
            state: ThreadState::Created,
            flags: ThreadFlags::EMPTY,
            syscall: None,
            generation: 0,
            exit_code: 0,
            start: StartKind::Fresh,
            interrupted: None,
            view: ObjId::NIL,
            contexts: Vec::new(),
            name,
            module,
            args,
        }
    }

    /// Encodes the record.
    pub fn encode(&self) -> [u8; THREAD_RECORD_SIZE] {
        let mut b = [0u8; THREAD_RECORD_SIZE];
        put_u32(&mut b, 0, THREAD_MAGIC);
        put_u16(&mut b, 4, KSO_VERSION);
        put_u16(&mut b, 6, THREAD_RECORD_SIZE as u16);
        put_u32(&mut b, STATE_AT, self.state as u32);
        put_u32(&mut b, FLAGS_AT, self.flags.bits());
        put_u32(&mut b, SYSCALL_AT, opt_call(self.syscall));
        put_u32(&mut b, CTX_COUNT_AT, self.contexts.len() as u32);
        put_u64(&mut b, GENERATION_AT, self.generation);
        put_u64(&mut b, EXIT_AT, self.exit_code);
        put_u32(&mut b, START_AT, self.start as u32);
        put_u32(&mut b, INTERRUPTED_AT, opt_call(self.interrupted));
        put_u128(&mut b, VIEW_AT, self.view.as_u128());
        for (i, c) in self.contexts.iter().enumerate() {
            put_u128(&mut b, CTXS_AT + 16 * i, c.as_u128());
        }
        let texts = [
            (NAME_AT, self.name.as_bytes()),
            (MODULE_AT, self.module.as_bytes()),
            (ARGS_AT, self.args.as_bytes()),
        ];
        for (i, (at, text)) in texts.into_iter().enumerate() {
            b[at..at + text.len()].copy_from_slice(text);
            put_u16(&mut b, LENS_AT + 2 * i, text.len() as u16);
        }
        b
    }

    /// Decodes and checks a record: every field, every reserved byte.
    pub fn decode(b: &[u8]) -> Result<ThreadRecord, KsoError> {
        if b.len() < THREAD_RECORD_SIZE {
            return Err(KsoError::Truncated(b.len()));
        }
        let b = &b[..THREAD_RECORD_SIZE];
        let m = u32_at(b, 0);
        if m != THREAD_MAGIC {
            return Err(KsoError::BadMagic(m));
        }
        let v = u16_at(b, 4);
        if v != KSO_VERSION {
            return Err(KsoError::UnsupportedVersion(v));
        }
        let h = u16_at(b, 6);
        if usize::from(h) != THREAD_RECORD_SIZE {
            return Err(KsoError::BadHeaderSize(h));
        }
        let raw = u32_at(b, STATE_AT);
        let state = ThreadState::from_raw(raw).ok_or(KsoError::BadFlags {
            at: STATE_AT,
            bits: raw,
        })?;
        let raw = u32_at(b, FLAGS_AT);
        let flags = ThreadFlags::from_bits(raw).ok_or(KsoError::BadFlags {
            at: FLAGS_AT,
            bits: raw,
        })?;
        let call = |at: usize| match u32_at(b, at) {
            0 => Ok(None),
            n if n <= MAX_CALL_NUMBER + 1 => Ok(Some(n - 1)),
            n => Err(KsoError::BadFlags { at, bits: n }),
        };
        let syscall = call(SYSCALL_AT)?;
        let interrupted = call(INTERRUPTED_AT)?;
        let n = u32_at(b, CTX_COUNT_AT);
        if n as usize > MAX_THREAD_CTXS {
            return Err(KsoError::TooMany(n));
        }
        let raw = u32_at(b, START_AT);
        let start = StartKind::from_raw(raw).ok_or(KsoError::BadFlags {
            at: START_AT,
            bits: raw,
        })?;
        let mut contexts = Vec::new();
        for i in 0..n as usize {
            let id = ObjId::from_u128(u128_at(b, CTXS_AT + 16 * i));
            if id.is_nil() {
                return Err(KsoError::ReservedNotZero(CTXS_AT + 16 * i));
            }
            // Cannot fail: `n` is at most the capacity.
            let _ = contexts.push(id);
        }
        if let Some(off) = first_nonzero(b, CTXS_AT + 16 * n as usize, NAME_AT) {
            return Err(KsoError::ReservedNotZero(off));
        }
        let name = text::<THREAD_NAME_LEN>(b, NAME_AT, 0)?;
        let module = text::<THREAD_MODULE_LEN>(b, MODULE_AT, 1)?;
        let args = text::<THREAD_ARGS_LEN>(b, ARGS_AT, 2)?;
        if name.is_empty() || module.is_empty() || module.contains('/') {
            return Err(KsoError::ReservedNotZero(if name.is_empty() {
                NAME_AT
            } else {
                MODULE_AT
            }));
        }
        if let Some(off) = first_nonzero(b, RESERVED_AT, THREAD_RECORD_SIZE) {
            return Err(KsoError::ReservedNotZero(off));
        }
        Ok(ThreadRecord {
            state,
            flags,
            syscall,
            generation: u64_at(b, GENERATION_AT),
            exit_code: u64_at(b, EXIT_AT),
            start,
            interrupted,
            view: ObjId::from_u128(u128_at(b, VIEW_AT)),
            contexts,
            name,
            module,
            args,
        })
    }
}

/// Highest system-call number a record may hold (numbers are small; the
/// bound only rejects garbage).
pub const MAX_CALL_NUMBER: u32 = 255;

/// Text field `i` at `at` of capacity `N`: its length within the field,
/// valid UTF-8, zero after its end.
fn text<const N: usize>(b: &[u8], at: usize, i: usize) -> Result<String<N>, KsoError> {
    let len = usize::from(u16_at(b, LENS_AT + 2 * i));
    if len > N {
        return Err(KsoError::TooMany(len as u32));
    }
    if let Some(off) = first_nonzero(b, at + len, at + N) {
        return Err(KsoError::ReservedNotZero(off));
    }
    let s = core::str::from_utf8(&b[at..at + len]).map_err(|_| KsoError::ReservedNotZero(at))?;
    let mut out = String::new();
    // Cannot fail: `len <= N`.
    let _ = out.push_str(s);
    Ok(out)
}

/// What `kso_self` tells a program about its thread KSO: the power-resume
/// notice, among other things.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KsoSelf {
    /// Its thread KSO.
    pub kso: ObjId,
    /// How many times the kernel started it (this start included).
    pub generation: u64,
    /// How this incarnation started.
    pub start: StartKind,
    /// Whether it is registered for power-resume.
    pub resumable: bool,
    /// The call its previous incarnation was in when the power went.
    pub interrupted: Option<u32>,
    /// Contexts its KSO listed that the kernel quarantined at this start.
    pub quarantined: u32,
}

/// Size of an encoded [`KsoSelf`].
pub const KSO_SELF_SIZE: usize = 40;

impl KsoSelf {
    /// Encodes it.
    pub fn encode(&self) -> [u8; KSO_SELF_SIZE] {
        let mut b = [0u8; KSO_SELF_SIZE];
        put_u128(&mut b, 0, self.kso.as_u128());
        put_u64(&mut b, 16, self.generation);
        put_u32(&mut b, 24, self.start as u32);
        put_u32(&mut b, 28, self.resumable as u32);
        put_u32(&mut b, 32, opt_call(self.interrupted));
        put_u32(&mut b, 36, self.quarantined);
        b
    }

    /// Decodes what the kernel wrote (`None`: not a valid encoding).
    pub fn decode(b: &[u8]) -> Option<KsoSelf> {
        if b.len() < KSO_SELF_SIZE {
            return None;
        }
        Some(KsoSelf {
            kso: ObjId::from_u128(u128_at(b, 0)),
            generation: u64_at(b, 16),
            start: StartKind::from_raw(u32_at(b, 24))?,
            resumable: match u32_at(b, 28) {
                0 => false,
                1 => true,
                _ => return None,
            },
            interrupted: match u32_at(b, 32) {
                0 => None,
                n => Some(n - 1),
            },
            quarantined: u32_at(b, 36),
        })
    }
}

#[cfg(test)]
mod tests;
