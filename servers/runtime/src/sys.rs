//! One typed wrapper per system call (the reference for each is in
//! [`protocols::syscall`]). Each returns `Result<_, SysError>`; calls that
//! do not return on success return the error they failed with.

use core::sync::atomic::AtomicU64;

use protocols::debug::InfoKind;
use protocols::exit::GuestExit;
use protocols::syscall::{Clock, READ_NONBLOCKING, SysError, Syscall, decode};

use crate::raw;

/// Makes `call` with `args` (the rest zero) and decodes the result.
///
/// # Safety
///
/// As [`raw::syscall`].
unsafe fn call(call: Syscall, args: &[u64]) -> Result<u64, SysError> {
    let mut all = [0u64; 6];
    all[..args.len()].copy_from_slice(args);
    // SAFETY: forwarded contract.
    decode(unsafe { raw::syscall(call as u64, all) })
}

/// `null()`: enters and leaves the kernel.
pub fn null() -> Result<(), SysError> {
    // SAFETY: no pointers, no side effects.
    unsafe { call(Syscall::Null, &[]) }.map(drop)
}

/// `console_write`: writes (a prefix of) `bytes` to the serial console and
/// returns how many bytes went out. At most `MAX_IO_LEN` bytes per call;
/// [`crate::console::write_all`] loops.
pub fn console_write(bytes: &[u8]) -> Result<usize, SysError> {
    // SAFETY: the kernel only reads `bytes`, which is borrowed for the call.
    let n = unsafe {
        call(
            Syscall::ConsoleWrite,
            &[bytes.as_ptr() as u64, bytes.len() as u64],
        )
    }?;
    Ok(n as usize)
}

/// Whether [`console_read`] may sleep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// Sleep until at least one byte arrives.
    Blocking,
    /// Fail with `WouldBlock` when nothing is buffered.
    NonBlocking,
}

/// `console_read`: reads console input into `buf`, returning the count.
pub fn console_read(buf: &mut [u8], mode: ReadMode) -> Result<usize, SysError> {
    let flags = match mode {
        ReadMode::Blocking => 0,
        ReadMode::NonBlocking => READ_NONBLOCKING,
    };
    // SAFETY: `buf` is exclusively borrowed for the call; the kernel writes
    // at most `buf.len()` bytes into it.
    let n = unsafe {
        call(
            Syscall::ConsoleRead,
            &[buf.as_mut_ptr() as u64, buf.len() as u64, flags],
        )
    }?;
    Ok(n as usize)
}

/// `thread_create`: starts a thread of this program at `entry` with
/// `rdi = arg`, `rsp = stack_top`, and returns its id. Use
/// [`crate::thread::spawn`] instead.
///
/// # Safety
///
/// `entry` is code that runs correctly on a fresh stack with only `rdi`
/// set (it never returns), and `[.., stack_top)` is memory that nothing
/// else uses for as long as the thread runs.
pub unsafe fn thread_create(
    entry: usize,
    stack_top: usize,
    arg: u64,
    priority: u64,
) -> Result<u64, SysError> {
    // SAFETY: forwarded contract; no pointers the kernel writes.
    unsafe {
        call(
            Syscall::ThreadCreate,
            &[entry as u64, stack_top as u64, arg, priority],
        )
    }
}

/// `thread_exit`: ends the calling thread (the program, when it is the last
/// one) with `code`. Codes at or above `EXIT_FAULT` are the kernel's; they
/// are replaced by `EXIT_FAULT - 1`.
pub fn thread_exit(code: u64) -> ! {
    let code = code.min(protocols::syscall::EXIT_FAULT - 1);
    loop {
        // SAFETY: ending the thread is sound: nothing in this frame or any
        // caller's runs again, and the runtime frees thread stacks only
        // after the thread said it finished (see `thread`).
        let _ = unsafe { call(Syscall::ThreadExit, &[code]) };
    }
}

/// `program_exit`: ends every thread of the program at once with `code`
/// (clamped below `EXIT_FAULT` like [`thread_exit`]).
pub fn program_exit(code: u64) -> ! {
    let code = code.min(protocols::syscall::EXIT_FAULT - 1);
    loop {
        // SAFETY: ending the program is sound for the same reason ending a
        // thread is: no frame of any of its threads runs again.
        let _ = unsafe { call(Syscall::ProgramExit, &[code]) };
    }
}

/// `thread_yield`: lets another ready thread run.
pub fn thread_yield() -> Result<(), SysError> {
    // SAFETY: no pointers, no side effects on memory.
    unsafe { call(Syscall::ThreadYield, &[]) }.map(drop)
}

/// `thread_sleep`: sleeps at least `nanos` (≤ `MAX_SLEEP_NANOS`).
pub fn thread_sleep(nanos: u64) -> Result<(), SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::ThreadSleep, &[nanos]) }.map(drop)
}

/// `thread_sync_wait`: sleeps while `word` holds `expected`; `WouldBlock`
/// if it already differs, `TimedOut` after `timeout_nanos` (0: none).
/// Wake-ups may be spurious: callers re-check their condition.
pub fn thread_sync_wait(
    word: &AtomicU64,
    expected: u64,
    timeout_nanos: u64,
) -> Result<(), SysError> {
    // SAFETY: the kernel only reads the word, which the reference keeps alive.
    unsafe {
        call(
            Syscall::ThreadSyncWait,
            &[word.as_ptr() as u64, expected, timeout_nanos],
        )
    }
    .map(drop)
}

/// `thread_sync_wake`: wakes up to `count` waiters on `word` (`u64::MAX`:
/// all) and returns how many woke.
pub fn thread_sync_wake(word: &AtomicU64, count: u64) -> Result<u64, SysError> {
    // SAFETY: the kernel only uses the word's address.
    unsafe { call(Syscall::ThreadSyncWake, &[word.as_ptr() as u64, count]) }
}

/// `clock_read`: reads `clock` (nanoseconds, or cycles for `Cycles`).
pub fn clock_read(clock: Clock) -> Result<u64, SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::ClockRead, &[clock as u64]) }
}

/// `poweroff`: shuts the machine down reporting `status`. Returns only if
/// the kernel refused, with the reason.
pub fn poweroff(status: GuestExit) -> SysError {
    // SAFETY: powering off ends everything; nothing runs afterwards.
    match unsafe { call(Syscall::Poweroff, &[status as u32 as u64]) } {
        Ok(_) => SysError::InvalidArgument,
        Err(e) => e,
    }
}

/// `debug_info`: fills `buf` with record `kind` and returns the byte count.
/// [`crate::debug`] decodes the records.
pub fn debug_info(kind: InfoKind, buf: &mut [u8]) -> Result<usize, SysError> {
    // SAFETY: `buf` is exclusively borrowed; the kernel writes at most
    // `buf.len()` bytes.
    let n = unsafe {
        call(
            Syscall::DebugInfo,
            &[kind as u64, buf.as_mut_ptr() as u64, buf.len() as u64],
        )
    }?;
    Ok(n as usize)
}

/// `program_spawn`: starts boot module `name` as a program with argument
/// string `args`; returns its program id.
pub fn program_spawn(name: &str, args: &str) -> Result<u64, SysError> {
    // SAFETY: the kernel only reads the two strings, borrowed for the call.
    unsafe {
        call(
            Syscall::ProgramSpawn,
            &[
                name.as_ptr() as u64,
                name.len() as u64,
                args.as_ptr() as u64,
                args.len() as u64,
            ],
        )
    }
}

/// `program_wait`: waits for program `id` (spawned by this program) to end
/// and returns its exit code (`EXIT_FAULT | vector` when a fault ended it).
/// `timeout_nanos` 0 waits for ever.
pub fn program_wait(id: u64, timeout_nanos: u64) -> Result<u64, SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::ProgramWait, &[id, timeout_nanos]) }
}

/// `program_kill`: ends program `id`, which this program spawned; it ends
/// with [`protocols::syscall::EXIT_KILLED`].
pub fn program_kill(id: u64) -> Result<(), SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::ProgramKill, &[id]) }.map(drop)
}

/// `program_start_kso`: starts the program thread KSO `kso` describes as
/// this program's child (see `protocols::thread_kso`); its id.
pub fn program_start_kso(kso: protocols::object::ObjId) -> Result<u64, SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::ProgramStartKso, &split(kso)) }
}

/// `kso_self`: what the kernel knows of this program's thread KSO (the
/// power-resume notice among it); `NotFound` without one.
pub fn kso_self() -> Result<protocols::thread_kso::KsoSelf, SysError> {
    let mut out = [0u8; protocols::thread_kso::KSO_SELF_SIZE];
    // SAFETY: the kernel writes at most `out.len()` bytes into `out`.
    unsafe {
        call(
            Syscall::KsoSelf,
            &[out.as_mut_ptr() as u64, out.len() as u64],
        )
    }?;
    protocols::thread_kso::KsoSelf::decode(&out).ok_or(SysError::InvalidArgument)
}

/// `kso_resume_register`: after a power cut, start this program with a
/// power-resume notice instead of resetting it.
pub fn kso_resume_register() -> Result<(), SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::KsoResumeRegister, &[]) }.map(drop)
}

/// `ppc_caller_perms`: inside a PPC handler, what the calling program's
/// active security context grants on object `id` (how a server acting on
/// objects for its callers enforces their rights).
pub fn ppc_caller_perms(
    id: protocols::object::ObjId,
) -> Result<protocols::object::Perms, SysError> {
    // SAFETY: no pointers.
    let bits = unsafe { call(Syscall::PpcCallerPerms, &split(id)) }?;
    u32::try_from(bits)
        .ok()
        .and_then(protocols::object::Perms::from_bits)
        .ok_or(SysError::InvalidArgument)
}

fn split(id: protocols::object::ObjId) -> [u64; 2] {
    let v = id.as_u128();
    [v as u64, (v >> 64) as u64]
}

/// `obj_create`: a new DRAM object with `size` data bytes; returns its ID.
pub fn obj_create(
    size: u64,
    flags: protocols::object::ObjFlags,
    default_perms: protocols::object::Perms,
    key: protocols::object::ObjId,
) -> Result<protocols::object::ObjId, SysError> {
    let mut out = [0u8; 16];
    let [klo, khi] = split(key);
    // SAFETY: the kernel writes 16 bytes into `out`, borrowed for the call.
    unsafe {
        call(
            Syscall::ObjCreate,
            &[
                size,
                u64::from(flags.bits()),
                u64::from(default_perms.bits()),
                klo,
                khi,
                out.as_mut_ptr() as u64,
            ],
        )
    }?;
    Ok(protocols::object::ObjId::from_le_bytes(out))
}

/// `obj_delete`.
pub fn obj_delete(id: protocols::object::ObjId) -> Result<(), SysError> {
    // SAFETY: no pointers; unmapping is not part of this call.
    unsafe { call(Syscall::ObjDelete, &split(id)) }.map(drop)
}

/// `obj_map`: maps `id` into view slot `slot` with protections `prot`;
/// returns the slot's base address. Access through it is checked by the
/// MMU (a forbidden access is a security fault, not an error).
pub fn obj_map(
    slot: u64,
    id: protocols::object::ObjId,
    prot: protocols::object::Perms,
) -> Result<u64, SysError> {
    let [lo, hi] = split(id);
    // SAFETY: mapping into an empty slot changes no memory Rust code uses.
    unsafe { call(Syscall::ObjMap, &[slot, lo, hi, u64::from(prot.bits())]) }
}

/// `obj_unmap`.
///
/// # Safety
///
/// No reference into the slot may be used afterwards.
pub unsafe fn obj_unmap(slot: u64) -> Result<(), SysError> {
    // SAFETY: forwarded contract.
    unsafe { call(Syscall::ObjUnmap, &[slot]) }.map(drop)
}

/// `obj_info`.
pub fn obj_info(id: protocols::object::ObjId) -> Result<protocols::object::ObjInfo, SysError> {
    let mut buf = [0u8; protocols::object::OBJ_INFO_LEN];
    let [lo, hi] = split(id);
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    unsafe {
        call(
            Syscall::ObjInfo,
            &[lo, hi, buf.as_mut_ptr() as u64, buf.len() as u64],
        )
    }?;
    protocols::object::ObjInfo::decode(&buf).ok_or(SysError::InvalidArgument)
}

/// `kso_invalidate`: the kernel re-reads view or context object `id`.
pub fn kso_invalidate(id: protocols::object::ObjId) -> Result<(), SysError> {
    // SAFETY: permissions may shrink, which only makes later accesses fault.
    unsafe { call(Syscall::KsoInvalidate, &split(id)) }.map(drop)
}

/// `ctx_attach`.
pub fn ctx_attach(id: protocols::object::ObjId) -> Result<(), SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::CtxAttach, &split(id)) }.map(drop)
}

/// `ctx_detach`.
pub fn ctx_detach(id: protocols::object::ObjId) -> Result<(), SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::CtxDetach, &split(id)) }.map(drop)
}

/// `ctx_activate` (nil: the default context).
pub fn ctx_activate(id: protocols::object::ObjId) -> Result<(), SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::CtxActivate, &split(id)) }.map(drop)
}

/// `ctx_current`: the active security context (nil: the default one).
pub fn ctx_current() -> Result<protocols::object::ObjId, SysError> {
    let mut out = [0u8; 16];
    // SAFETY: the kernel writes 16 bytes into `out`.
    unsafe { call(Syscall::CtxCurrent, &[out.as_mut_ptr() as u64]) }?;
    Ok(protocols::object::ObjId::from_le_bytes(out))
}

/// `ctx_check`: what attached context `ctx` grants on `target`.
pub fn ctx_check(
    ctx: protocols::object::ObjId,
    target: protocols::object::ObjId,
) -> Result<protocols::object::Perms, SysError> {
    let [clo, chi] = split(ctx);
    let [tlo, thi] = split(target);
    // SAFETY: no pointers.
    let bits = unsafe { call(Syscall::CtxCheck, &[clo, chi, tlo, thi]) }?;
    Ok(protocols::object::Perms::from_bits_truncate(bits as u32))
}

/// `view_attach`: makes view object `id` this program's view.
///
/// # Safety
///
/// Slots whose object changes must not be referenced afterwards.
pub unsafe fn view_attach(id: protocols::object::ObjId) -> Result<(), SysError> {
    // SAFETY: forwarded contract.
    unsafe { call(Syscall::ViewAttach, &split(id)) }.map(drop)
}

/// `ppc_register`: makes this program the server behind gate object
/// `gate_obj` for the gates in `gates` (bit `n`: gate `n`), entering at
/// `entry` on the `count` stacks of `PPC_STACK_SIZE` bytes at `stacks`;
/// returns the new incarnation's generation. Use [`crate::ppc::serve`].
///
/// # Safety
///
/// `entry` is code that runs correctly on a fresh server stack with `rdi`,
/// `rsi`, `rdx` set as `ppc_register` documents and ends with
/// [`ppc_return`]; the stacks are memory nothing else uses while this
/// program serves.
pub unsafe fn ppc_register(
    gate_obj: protocols::object::ObjId,
    gates: u64,
    entry: usize,
    stacks: usize,
    count: u64,
) -> Result<u64, SysError> {
    let [lo, hi] = split(gate_obj);
    // SAFETY: forwarded contract.
    unsafe {
        call(
            Syscall::PpcRegister,
            &[lo, hi, gates, entry as u64, stacks as u64, count],
        )
    }
}

/// `ppc_bind`: the generation of the live server behind `gate_obj`.
pub fn ppc_bind(gate_obj: protocols::object::ObjId) -> Result<u64, SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::PpcBind, &split(gate_obj)) }
}

/// `ppc_call`: calls `gate` of incarnation `generation` behind `gate_obj`
/// with the first `len` bytes of `buf`; the reply replaces them and its
/// length is returned.
pub fn ppc_call(
    gate_obj: protocols::object::ObjId,
    generation: u64,
    gate: u16,
    buf: &mut [u8; protocols::syscall::MAX_PPC_MESSAGE],
    len: usize,
) -> Result<usize, SysError> {
    let [lo, hi] = split(gate_obj);
    // SAFETY: `buf` is exclusively borrowed and `MAX_PPC_MESSAGE` bytes
    // long, as the kernel requires; it reads `len` and writes the reply.
    let n = unsafe {
        call(
            Syscall::PpcCall,
            &[
                lo,
                hi,
                generation,
                u64::from(gate),
                buf.as_mut_ptr() as u64,
                len as u64,
            ],
        )
    }?;
    Ok(n as usize)
}

/// `ppc_return`: ends the current handler with `reply`. Returns only on
/// error (outside a call, or a bad buffer).
pub fn ppc_return(reply: &[u8]) -> SysError {
    // SAFETY: the kernel only reads `reply`.
    match unsafe {
        call(
            Syscall::PpcReturn,
            &[reply.as_ptr() as u64, reply.len() as u64],
        )
    } {
        Ok(_) => SysError::InvalidArgument,
        Err(e) => e,
    }
}

/// `pmem_map`: maps the persistent memory at `layout::PMEM_BASE`;
/// returns its length.
pub fn pmem_map() -> Result<u64, SysError> {
    // SAFETY: the kernel maps new memory at a fixed address nothing else
    // of this program uses.
    unsafe { call(Syscall::PmemMap, &[]) }
}

/// `service_publish`: publishes gate object `obj` as `name`.
pub fn service_publish(name: &str, obj: protocols::object::ObjId) -> Result<(), SysError> {
    let [lo, hi] = split(obj);
    // SAFETY: the kernel only reads `name`.
    unsafe {
        call(
            Syscall::ServicePublish,
            &[name.as_ptr() as u64, name.len() as u64, lo, hi],
        )
    }
    .map(drop)
}

/// `service_lookup`: the gate object published as `name`.
pub fn service_lookup(name: &str) -> Result<protocols::object::ObjId, SysError> {
    let mut out = [0u8; 16];
    // SAFETY: the kernel reads `name` and writes 16 bytes into `out`.
    unsafe {
        call(
            Syscall::ServiceLookup,
            &[
                name.as_ptr() as u64,
                name.len() as u64,
                out.as_mut_ptr() as u64,
            ],
        )
    }?;
    Ok(protocols::object::ObjId::from_le_bytes(out))
}

/// `obj_pmem_attach`: enters the persistent object `record` describes.
pub fn obj_pmem_attach(record: &[u8]) -> Result<(), SysError> {
    // SAFETY: the kernel only reads `record`.
    unsafe {
        call(
            Syscall::ObjPmemAttach,
            &[record.as_ptr() as u64, record.len() as u64],
        )
    }
    .map(drop)
}

/// `obj_pmem_detach`: removes persistent object `id` from the table.
pub fn obj_pmem_detach(id: protocols::object::ObjId) -> Result<(), SysError> {
    // SAFETY: no pointers.
    unsafe { call(Syscall::ObjPmemDetach, &split(id)) }.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_pass_arguments_and_decode_results() {
        assert_eq!(null(), Ok(()));
        assert_eq!(console_write(b"hi"), Ok(2));
        assert_eq!(crate::raw::host::take_console(), b"hi");
        assert_eq!(
            thread_sleep(protocols::syscall::MAX_SLEEP_NANOS + 1),
            Err(SysError::InvalidArgument)
        );
        let word = AtomicU64::new(5);
        assert_eq!(thread_sync_wait(&word, 4, 0), Err(SysError::WouldBlock));
        assert_eq!(
            thread_sync_wait(&word, 5, 1_000_000),
            Err(SysError::TimedOut)
        );
        assert_eq!(thread_sync_wake(&word, u64::MAX), Ok(0));
        let a = clock_read(Clock::Monotonic).unwrap();
        let b = clock_read(Clock::Monotonic).unwrap();
        assert!(b >= a);
    }
}
