//! The system-call ABI: numbers, arguments, results and errors.
//!
//! # Calling convention
//!
//! `syscall` with the number in `rax` and up to six arguments in `rdi`,
//! `rsi`, `rdx`, `r10`, `r8`, `r9` (the System V order, with `r10` for `rcx`,
//! which `syscall` overwrites). `rcx` and `r11` are clobbered; every other
//! register is preserved. The result comes back in `rax`: a value below
//! 2^63 is success; anything else is the negation of a [`SysError`] code
//! (decode it with [`decode`]).
//!
//! Arguments a call does not use are *reserved* and must be zero: a call
//! with a non-zero reserved argument fails with [`SysError::InvalidArgument`].
//! This keeps every bit of the ABI meaningful and lets calls grow arguments
//! later without ambiguity.
//!
//! User pointers are checked by the kernel: the whole range must lie in the
//! user half, be mapped, and allow the access (read or write); otherwise
//! the call fails with [`SysError::BadAddress`] and nothing is changed.
//!
//! # The calls
//!
//! The table below is generated from the one declaration in this file, the
//! same one that generates [`Syscall`], its numbers and its checked
//! decoding, so the documentation cannot drift from the ABI.

/// Declares the system calls once: the enum, its numbers, its checked
/// decoding, each call's name and the reference documentation.
macro_rules! syscalls {
    ($( $(#[doc = $doc:literal])* $name:ident = $num:literal, args: $args:literal; )*) => {
        /// A system call number. Decode untrusted numbers with
        /// `Syscall::try_from(u64)`: an unknown number is an error, never a panic.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u64)]
        pub enum Syscall {
            $( $(#[doc = $doc])* $name = $num, )*
        }

        impl Syscall {
            /// Every call, in number order.
            pub const ALL: &'static [Syscall] = &[$(Syscall::$name),*];

            /// The call's name as the documentation spells it.
            pub const fn name(self) -> &'static str {
                match self { $(Syscall::$name => stringify!($name),)* }
            }

            /// How many of the six argument registers the call reads; the
            /// rest are reserved and must be zero.
            pub const fn arg_count(self) -> usize {
                match self { $(Syscall::$name => $args,)* }
            }
        }

        impl TryFrom<u64> for Syscall {
            type Error = SysError;
            fn try_from(number: u64) -> Result<Syscall, SysError> {
                match number {
                    $( $num => Ok(Syscall::$name), )*
                    _ => Err(SysError::UnknownSyscall),
                }
            }
        }
    };
}

syscalls! {
    /// `null()` → 0. Does nothing: the cost of entering and leaving the kernel.
    Null = 0, args: 0;
    /// `console_write(buf: *const u8, len: usize)` → bytes written. Writes to
    /// the serial console. `len` ≤ [`MAX_IO_LEN`].
    ConsoleWrite = 1, args: 2;
    /// `console_read(buf: *mut u8, len: usize, flags: u64)` → bytes read.
    /// Blocks until at least one byte arrives unless `flags` has
    /// [`READ_NONBLOCKING`], in which case it fails with `WouldBlock` when
    /// nothing is buffered. `len` ≤ [`MAX_IO_LEN`]; `len` 0 returns 0 at
    /// once; any other flag bit is `InvalidArgument`.
    ConsoleRead = 2, args: 3;
    /// `thread_create(entry: usize, stack_top: usize, arg: u64, priority: u64)`
    /// → thread id. Starts a thread of the calling program at `entry` with
    /// `rdi = arg` and `rsp = stack_top` (16-byte aligned, in user space).
    /// `priority` is 0 (lowest) to [`MAX_PRIORITY`] (else `InvalidArgument`);
    /// an `entry` or `stack_top` outside user space is `BadAddress`.
    ThreadCreate = 3, args: 4;
    /// `thread_exit(code: u64)` → does not return. Ends the calling thread;
    /// when it was its program's last thread, the program ends with `code`,
    /// which must be below [`EXIT_FAULT`] (larger codes are reserved for
    /// programs the kernel ended).
    ThreadExit = 4, args: 1;
    /// `thread_yield()` → 0. Gives the CPU to the next ready thread of the
    /// same or higher priority.
    ThreadYield = 5, args: 0;
    /// `thread_sleep(nanos: u64)` → 0. Sleeps at least `nanos` nanoseconds;
    /// more than [`MAX_SLEEP_NANOS`] is `InvalidArgument`.
    ThreadSleep = 6, args: 1;
    /// `thread_sync_wait(word: *const u64, expected: u64, timeout_nanos: u64)`
    /// → 0 when woken. Sleeps while the aligned 64-bit `*word` equals
    /// `expected`: fails at once with `WouldBlock` when it already differs,
    /// with `TimedOut` after `timeout_nanos` (0 means no timeout). The
    /// primitive for locks, queues, joins and condition variables. A
    /// `word` that is not 8-byte aligned is `InvalidArgument`; one outside
    /// user space or unmapped is `BadAddress`.
    ThreadSyncWait = 7, args: 3;
    /// `thread_sync_wake(word: *const u64, count: u64)` → threads woken.
    /// Wakes up to `count` threads waiting on `word` (`u64::MAX`: all).
    ThreadSyncWake = 8, args: 2;
    /// `clock_read(clock: u64)` → nanoseconds. See [`Clock`].
    ClockRead = 9, args: 1;
    /// `poweroff(status: u64)` → does not return on success. Shuts the
    /// machine down reporting `status` (a [`crate::exit::GuestExit`] code).
    Poweroff = 10, args: 1;
    /// `debug_info(kind: u64, buf: *mut u8, len: usize)` → bytes written.
    /// Fills `buf` with the [`crate::debug`] record `kind` names.
    DebugInfo = 11, args: 3;
    /// `program_spawn(name: *const u8, name_len: usize, args: *const u8, args_len: usize)`
    /// → program id. Starts the boot module `/boot/<name>` as a new program
    /// with the given argument string.
    ProgramSpawn = 12, args: 4;
    /// `program_wait(id: u64, timeout_nanos: u64)` → exit code. Waits for a
    /// program the caller spawned to end (0 timeout: wait for ever); an id
    /// the caller did not spawn (or already waited for) is `NotFound`. A
    /// program the kernel ended because of a fault reports
    /// `EXIT_FAULT | vector` (see [`fault_vector`]).
    ProgramWait = 13, args: 2;
    /// `program_exit(code: u64)` → does not return. Ends every thread of the
    /// calling program at once; the program ends with `code` (below
    /// [`EXIT_FAULT`], else `InvalidArgument`).
    ProgramExit = 14, args: 1;
    /// `obj_create(size: u64, flags: u64, default_perms: u64, key_lo: u64, key_hi: u64, id_out: *mut [u8; 16])`
    /// → 0. Creates an object in DRAM whose data area holds `size` bytes
    /// (1 ..= `object::DATA_END - BASE_OFFSET`; pages are backed on first
    /// touch), with [`crate::object::ObjFlags`] `flags`, default
    /// [`crate::object::Perms`] and public-key object `key` (nil: none).
    /// The kernel picks the nonce, derives the ID, writes the header and
    /// stores the ID (16 bytes, little-endian) at `id_out`. An undefined
    /// bit is `InvalidArgument`; a `key` that names no public-key object is
    /// `NotFound`.
    ObjCreate = 15, args: 6;
    /// `obj_delete(id_lo: u64, id_hi: u64)` → 0. Removes the object from
    /// the object table: nothing can map it any more; mappings that exist
    /// keep its memory until they go. Needs DELETE in the active context.
    ObjDelete = 16, args: 2;
    /// `obj_map(slot: u64, id_lo: u64, id_hi: u64, prot: u64)` → the slot's
    /// base address. Puts the object in slot `slot` (< `layout::SLOT_COUNT`)
    /// of the caller's view with protections `prot` (READ/WRITE/EXEC);
    /// what the program can do there is `prot` AND its active security
    /// context's permissions, enforced by the MMU. A slot in use is `Busy`.
    ObjMap = 17, args: 4;
    /// `obj_unmap(slot: u64)` → 0. Empties a slot of the caller's view.
    ObjUnmap = 18, args: 1;
    /// `obj_info(id_lo: u64, id_hi: u64, buf: *mut u8, len: usize)` → bytes
    /// written: the [`crate::object::ObjInfo`] record.
    ObjInfo = 19, args: 4;
    /// `kso_invalidate(id_lo: u64, id_hi: u64)` → 0. The program changed
    /// the view or security-context object `id`: the kernel re-reads it,
    /// checks every field ([`crate::kso`]), and replaces its cache
    /// (dropping cached capability verdicts, and for a context emptying
    /// every program's slot entries built from it, so lost permissions are
    /// lost everywhere at once). A record that does not
    /// decode is `InvalidArgument` and the old cache stays; an object the
    /// kernel does not use as a KSO is `NotFound`.
    KsoInvalidate = 20, args: 2;
    /// `ctx_attach(id_lo: u64, id_hi: u64)` → 0. Attaches security context
    /// `id` (a KSO holding a valid [`crate::kso`] context record, USE in
    /// the active context) to the calling thread's program. Already
    /// attached: `Exists`.
    CtxAttach = 21, args: 2;
    /// `ctx_detach(id_lo: u64, id_hi: u64)` → 0. Detaches a context (the
    /// active one: the default context becomes active).
    CtxDetach = 22, args: 2;
    /// `ctx_activate(id_lo: u64, id_hi: u64)` → 0. Makes attached context
    /// `id` (nil: the program's default context, which grants objects'
    /// default permissions) the active one: one CR3 load, no remapping.
    CtxActivate = 23, args: 2;
    /// `ctx_current(id_out: *mut [u8; 16])` → 0. Stores the active
    /// context's ID (nil: the default context).
    CtxCurrent = 24, args: 1;
    /// `ctx_check(ctx_lo: u64, ctx_hi: u64, target_lo: u64, target_hi: u64)`
    /// → permission bits. What context `ctx` (attached, or nil for the
    /// default) grants on object `target`: default permissions, plus
    /// verified capabilities, AND the context's mask. Verdicts are cached
    /// per context until it is invalidated.
    CtxCheck = 25, args: 4;
    /// `view_attach(id_lo: u64, id_hi: u64)` → 0. Makes object `id` (a KSO
    /// holding a valid [`crate::kso`] view record) the caller's view: its
    /// slot table replaces the current one, and later `obj_map`/`obj_unmap`
    /// calls write through to it. A record that does not decode is
    /// `InvalidArgument`; an entry naming an unknown object is `NotFound`.
    ViewAttach = 26, args: 2;
    /// `ppc_register(obj_lo: u64, obj_hi: u64, gates: u64, entry: usize, stacks: usize, count: u64)`
    /// → generation. Makes the calling program the server behind gate
    /// object `obj` (WRITE in the active context needed): gate numbers
    /// whose bit is set in `gates` (bit 0 must be clear) enter at `entry`
    /// on one of `count` (1 ..= [`MAX_PPC_STACKS`]) stacks of
    /// [`PPC_STACK_SIZE`] bytes at `stacks` (16-byte aligned). Replaces an
    /// earlier registration on `obj`: the new incarnation gets a new,
    /// larger generation and calls bound to the old one fail with
    /// `ServerRestarted`. The handler starts with `rdi` = the message (in
    /// the top [`MAX_PPC_MESSAGE`] bytes of its stack), `rsi` = its length,
    /// `rdx` = the gate number, `r8` = the calling program's id as the
    /// kernel knows it (0: the kernel itself, for the pager), interrupts on
    /// and every other register zero; it ends with `ppc_return`.
    PpcRegister = 27, args: 6;
    /// `ppc_bind(obj_lo: u64, obj_hi: u64)` → generation of the live server
    /// behind gate object `obj` (`NotFound`: none).
    PpcBind = 28, args: 2;
    /// `ppc_call(obj_lo: u64, obj_hi: u64, generation: u64, gate: u64, buf: *mut u8, len: usize)`
    /// → reply length. Calls `gate` of the server behind `obj`: the
    /// calling thread migrates into the server's program (its default
    /// security context and its address space) on a server stack, with a
    /// kernel copy of the `len` (≤ [`MAX_PPC_MESSAGE`]) bytes at `buf`; the
    /// reply is copied back into `buf`, which must be [`MAX_PPC_MESSAGE`]
    /// bytes writable. Refused (`PermissionDenied`) unless the active
    /// context grants EXEC on `obj` with a capability whose gate mask
    /// allows entry point `gate` (or `obj`'s default permissions include
    /// EXEC); a gate the server did not register is `InvalidArgument`;
    /// another generation than the live one is `ServerRestarted`; every
    /// server stack in use is `Busy`; a handler that faults or exits is
    /// `ServerFaulted` (the caller goes on).
    PpcCall = 29, args: 6;
    /// `ppc_return(buf: *const u8, len: usize)` → does not return on
    /// success. Ends the handler of the innermost call: `len` (≤
    /// [`MAX_PPC_MESSAGE`]) bytes at `buf` become the caller's reply.
    /// Outside a call: `InvalidArgument`.
    PpcReturn = 30, args: 2;
    /// `pmem_map()` → bytes mapped. Maps the first persistent-memory range
    /// the NFIT describes at [`crate::layout::PMEM_BASE`] in the caller,
    /// read/write, not executable (the object store's region). One program
    /// owns it at a time: while another owner runs, `Busy`; without an
    /// NVDIMM, `NotFound`.
    PmemMap = 31, args: 0;
    /// `service_publish(name: *const u8, len: usize, obj_lo: u64, obj_hi: u64)`
    /// → 0. Publishes gate object `obj` under `name` (1 ..= [`MAX_SERVICE_NAME`]
    /// bytes); the caller must be the live server registered on `obj`. A
    /// name another live server published is `Exists`.
    ServicePublish = 32, args: 4;
    /// `service_lookup(name: *const u8, len: usize, id_out: *mut [u8; 16])`
    /// → 0. The gate object published under `name` (`NotFound`: none).
    ServiceLookup = 33, args: 3;
    /// `obj_pmem_attach(record: *const u8, len: usize)` → 0. The owner of
    /// the persistent memory describes a persistent object
    /// ([`crate::pmem`] record); the kernel maps the runs' persistent-memory
    /// frames directly into the object's page directory (no copies) and
    /// makes it mappable like any object. Pages no run names are asked of
    /// the store's pager (the gate object published as `pager`) on first
    /// touch. Replaces an earlier attachment of the same ID; a DRAM object
    /// with that ID is `Exists`. Not the owner: `PermissionDenied`.
    ObjPmemAttach = 34, args: 2;
    /// `obj_pmem_detach(id_lo: u64, id_hi: u64)` → 0. The owner of the
    /// persistent memory removes a persistent object from the object table.
    ObjPmemDetach = 35, args: 2;
    /// `program_kill(id: u64)` → 0. Ends program `id`, which the caller
    /// spawned and which still runs (else `NotFound`), with exit code
    /// [`EXIT_KILLED`]: its threads end when they next leave the kernel,
    /// and calls other programs' threads are making into it return
    /// `ServerFaulted`. How a supervisor stops a server (`server kill`).
    ProgramKill = 36, args: 1;
    /// `program_start_kso(id_lo: u64, id_hi: u64)` → program id. Starts
    /// the program thread KSO `id` describes ([`crate::thread_kso`]): the
    /// kernel reads and checks the record (a corrupt one is quarantined
    /// with a log line: `InvalidArgument`), attaches the contexts and view
    /// it lists (a corrupt one is quarantined and left out), starts its
    /// module with its arguments as a child of the caller, and from then
    /// on keeps the record's live fields. The record's state decides how
    /// it starts ([`crate::thread_kso::StartKind`]). Only `init`, the
    /// supervisor, may call it (else `PermissionDenied`). A KSO already
    /// running is `Busy`; an object that is no persistent KSO is
    /// `InvalidArgument`.
    ProgramStartKso = 37, args: 2;
    /// `kso_self(buf: *mut u8, len: usize)` → bytes written. What the
    /// kernel knows of the caller's thread KSO
    /// ([`crate::thread_kso::KsoSelf`]), the power-resume notice among it.
    /// A program started without one: `NotFound`.
    KsoSelf = 38, args: 2;
    /// `kso_resume_register()` → 0. Registers the caller for power-resume:
    /// after a power cut it is started with a notice (`Resumed`) instead
    /// of being reset. Without a thread KSO: `NotFound`.
    KsoResumeRegister = 39, args: 0;
    /// `ppc_caller_perms(id_lo: u64, id_hi: u64)` → permission bits. Inside
    /// a PPC handler: what the active security context of the program that
    /// made the call grants on object `id` (its default permissions and
    /// verified capabilities, under the context's mask), exactly as the
    /// kernel would judge that program's own access. How a server that
    /// acts on objects for its callers (the object store) enforces the
    /// capability system. Not in a call from a program: `InvalidArgument`;
    /// no such object: `NotFound`.
    PpcCallerPerms = 40, args: 2;
}

/// Longest service name.
pub const MAX_SERVICE_NAME: usize = 16;

/// Bytes of one PPC server stack (the message sits at its top).
pub const PPC_STACK_SIZE: u64 = 64 * 1024;
/// Most stacks (so most calls in flight) one registration may give.
pub const MAX_PPC_STACKS: u64 = 64;
/// Largest PPC message or reply.
pub const MAX_PPC_MESSAGE: usize = 4096;
/// Deepest nesting of calls (a handler calling another server).
pub const MAX_PPC_DEPTH: usize = 8;

/// Exit code of a program the kernel ended for a security fault: an access
/// neither its active security context nor any other attached context
/// allows (the log line names object, offset, access and context).
pub const EXIT_SECURITY_FAULT: u64 = EXIT_FAULT | 14;

/// Exit codes at or above this are the kernel's: `EXIT_FAULT | vector` for a
/// program ended by CPU exception `vector`.
pub const EXIT_FAULT: u64 = 0x8000_0000;

/// Exit code of a program its spawner ended with `program_kill`.
pub const EXIT_KILLED: u64 = EXIT_FAULT + 0x100;

/// The exception vector that ended a program, if its exit code says so.
pub const fn fault_vector(code: u64) -> Option<u8> {
    if code >= EXIT_FAULT && code < EXIT_FAULT + 256 {
        Some((code - EXIT_FAULT) as u8)
    } else {
        None
    }
}

/// Largest buffer one console call moves.
pub const MAX_IO_LEN: usize = 64 * 1024;
/// `console_read` flag: fail with `WouldBlock` instead of sleeping.
pub const READ_NONBLOCKING: u64 = 1;
/// Highest thread priority.
pub const MAX_PRIORITY: u64 = 7;
/// Longest single sleep: one hour.
pub const MAX_SLEEP_NANOS: u64 = 3_600_000_000_000;

/// Clocks `clock_read` can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Clock {
    /// Nanoseconds since boot; never goes backwards.
    Monotonic = 0,
    /// Nanoseconds since 1970-01-01 UTC (boot time from the firmware's clock
    /// plus the monotonic clock).
    Realtime = 1,
    /// The raw time-stamp counter (cycles, not nanoseconds).
    Cycles = 2,
}

impl TryFrom<u64> for Clock {
    type Error = SysError;
    fn try_from(v: u64) -> Result<Clock, SysError> {
        match v {
            0 => Ok(Clock::Monotonic),
            1 => Ok(Clock::Realtime),
            2 => Ok(Clock::Cycles),
            _ => Err(SysError::InvalidArgument),
        }
    }
}

/// Why a system call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum SysError {
    /// No system call has that number.
    UnknownSyscall = 1,
    /// An argument is out of range, or a reserved argument is not zero.
    InvalidArgument = 2,
    /// A pointer argument is outside user space, unmapped, or not accessible
    /// the way the call needs.
    BadAddress = 3,
    /// A length or count is larger than the call allows.
    TooLarge = 4,
    /// The named thing does not exist.
    NotFound = 5,
    /// The call would have to block and was asked not to (or the value it
    /// would wait on already changed).
    WouldBlock = 6,
    /// The timeout ran out.
    TimedOut = 7,
    /// The kernel is out of memory for this request.
    NoMemory = 8,
    /// The caller may not do this.
    PermissionDenied = 9,
    /// The thing already exists.
    Exists = 10,
    /// The resource is in use.
    Busy = 11,
    /// The program image is not a valid program.
    BadProgram = 12,
    /// The server restarted since the caller bound to it; the call did not
    /// run. Rebind and retry.
    ServerRestarted = 13,
    /// The server's handler faulted (or exited) during the call.
    ServerFaulted = 14,
}

impl SysError {
    /// Every error, for tables and tests.
    pub const ALL: [SysError; 14] = [
        SysError::UnknownSyscall,
        SysError::InvalidArgument,
        SysError::BadAddress,
        SysError::TooLarge,
        SysError::NotFound,
        SysError::WouldBlock,
        SysError::TimedOut,
        SysError::NoMemory,
        SysError::PermissionDenied,
        SysError::Exists,
        SysError::Busy,
        SysError::BadProgram,
        SysError::ServerRestarted,
        SysError::ServerFaulted,
    ];

    /// What `rax` holds when a call fails with this error.
    pub const fn to_raw(self) -> u64 {
        (self as u64).wrapping_neg()
    }

    /// A short description for people.
    pub const fn describe(self) -> &'static str {
        match self {
            SysError::UnknownSyscall => "unknown system call",
            SysError::InvalidArgument => "invalid argument",
            SysError::BadAddress => "bad address",
            SysError::TooLarge => "too large",
            SysError::NotFound => "not found",
            SysError::WouldBlock => "would block",
            SysError::TimedOut => "timed out",
            SysError::NoMemory => "out of memory",
            SysError::PermissionDenied => "permission denied",
            SysError::Exists => "already exists",
            SysError::Busy => "busy",
            SysError::BadProgram => "not a valid program",
            SysError::ServerRestarted => "server restarted",
            SysError::ServerFaulted => "server faulted",
        }
    }
}

impl core::fmt::Display for SysError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Encodes a call's outcome into `rax`.
pub fn encode(result: Result<u64, SysError>) -> u64 {
    match result {
        Ok(value) if value < 1 << 63 => value,
        Ok(_) => SysError::TooLarge.to_raw(),
        Err(err) => err.to_raw(),
    }
}

/// Decodes `rax` after a call. A negative value that is no known error
/// (which a correct kernel never returns) decodes as `InvalidArgument`.
pub fn decode(raw: u64) -> Result<u64, SysError> {
    if raw < 1 << 63 {
        return Ok(raw);
    }
    let code = raw.wrapping_neg();
    Err(SysError::ALL
        .into_iter()
        .find(|e| *e as u64 == code)
        .unwrap_or(SysError::InvalidArgument))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_round_trips_and_unknown_numbers_are_errors() {
        for (i, call) in Syscall::ALL.iter().enumerate() {
            assert_eq!(*call as u64, i as u64, "numbers are dense and ordered");
            assert_eq!(Syscall::try_from(*call as u64), Ok(*call));
            assert!(call.arg_count() <= 6);
            assert!(!call.name().is_empty());
        }
        for bad in [Syscall::ALL.len() as u64, 999, u64::MAX, 1 << 63] {
            assert_eq!(Syscall::try_from(bad), Err(SysError::UnknownSyscall));
        }
    }

    #[test]
    fn results_round_trip_through_rax() {
        for value in [0, 1, 4096, (1 << 63) - 1] {
            assert_eq!(decode(encode(Ok(value))), Ok(value));
        }
        for err in SysError::ALL {
            assert_eq!(decode(encode(Err(err))), Err(err));
        }
        assert_eq!(decode(encode(Ok(1 << 63))), Err(SysError::TooLarge));
        assert_eq!(decode(u64::MAX - 500), Err(SysError::InvalidArgument));
    }

    #[test]
    fn clocks_decode_checked() {
        assert_eq!(Clock::try_from(0), Ok(Clock::Monotonic));
        assert_eq!(Clock::try_from(3), Err(SysError::InvalidArgument));
    }
}
