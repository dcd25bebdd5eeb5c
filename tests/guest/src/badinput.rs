//! The bad-input table: garbage arguments for every system-call number
//! (and numbers past the last), each with the answer the ABI requires.
//!
//! Every case must fail. Where the ABI names the error (unknown number,
//! non-zero reserved argument, a pointer outside user space or unmapped, an
//! invalid clock or record kind, a word that already changed, a timeout) the
//! case expects exactly that error; where two checks could each fire first
//! it accepts either. No case may have an effect if the kernel wrongly
//! accepted it: `thread_exit` and `poweroff` always get an invalid argument,
//! `console_read` never gets a usable buffer (it would steal the shell's
//! input), `program_spawn` never names a real module, and `thread_create`
//! only ever names a harmless entry and a spare stack.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::layout::MAX_ARGS_LEN;
use protocols::syscall::{
    EXIT_FAULT, MAX_IO_LEN, MAX_PRIORITY, MAX_SLEEP_NANOS, READ_NONBLOCKING, SysError, Syscall,
};

/// A canonical kernel address.
pub const KERNEL: u64 = 0xffff_8000_0000_0000;
/// The kernel image's base.
pub const KERNEL_IMAGE: u64 = 0xffff_ffff_8000_0000;
/// A user address nothing maps.
pub const UNMAPPED: u64 = 0x7000_0000_0000;
/// A non-canonical address.
pub const NON_CANONICAL: u64 = 0x8000_0000_0000;
/// A value for reserved arguments and other junk.
pub const JUNK: u64 = 0xdead_beef_cafe_f00d;

/// Addresses in the calling program the table needs.
#[derive(Clone, Copy, Debug)]
pub struct Addrs {
    /// Readable, not writable memory (the program's `.rodata`), ≥ 64 bytes.
    pub readonly: u64,
    /// Writable, mapped memory, ≥ 64 bytes.
    pub writable: u64,
    /// Readable memory of at least `MAX_ARGS_LEN + 1` bytes.
    pub big: u64,
    /// An 8-byte aligned word holding [`Addrs::word_value`].
    pub word: u64,
    /// What `word` holds.
    pub word_value: u64,
    /// A function that ends its thread at once (for `thread_create`).
    pub entry: u64,
    /// The 16-byte aligned top of a spare stack nobody uses.
    pub stack_top: u64,
}

/// The answer a case must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// This error.
    Exactly(SysError),
    /// One of these errors.
    AnyOf(&'static [SysError]),
}

/// A pointer and a length that are both wrong: either check may fire.
const BAD_RANGE: &[SysError] = &[
    SysError::BadAddress,
    SysError::TooLarge,
    SysError::InvalidArgument,
];

impl Expect {
    /// Whether `result` is what the case needs; if not, why.
    pub fn check(self, result: Result<u64, SysError>) -> Result<(), String> {
        match (self, result) {
            (_, Ok(value)) => Err(format!("succeeded with {value}")),
            (Expect::Exactly(want), Err(got)) if got == want => Ok(()),
            (Expect::AnyOf(wants), Err(got)) if wants.contains(&got) => Ok(()),
            (Expect::Exactly(want), Err(got)) => Err(format!("{got:?}, expected {want:?}")),
            (Expect::AnyOf(wants), Err(got)) => Err(format!("{got:?}, expected one of {wants:?}")),
        }
    }
}

/// One call with garbage.
#[derive(Clone, Debug)]
pub struct Case {
    /// The number in `rax`.
    pub number: u64,
    /// The six argument registers.
    pub args: [u64; 6],
    /// The answer it must get.
    pub expect: Expect,
    /// What is wrong with it, for failure messages.
    pub what: &'static str,
}

/// A short name for a call number, for reports.
pub fn call_name(number: u64) -> String {
    match Syscall::try_from(number) {
        Ok(call) => String::from(call.name()),
        Err(_) => format!("number {number:#x}"),
    }
}

/// Every case, grouped by call number in ascending order.
pub fn cases(a: &Addrs) -> Vec<Case> {
    let mut out = Vec::new();
    let mut add = |call: Syscall, args: &[u64], expect: Expect, what: &'static str| {
        let mut all = [0u64; 6];
        all[..args.len()].copy_from_slice(args);
        out.push(Case {
            number: call as u64,
            args: all,
            expect,
            what,
        });
    };
    use Expect::{AnyOf, Exactly};
    use SysError::*;
    let big_len = MAX_IO_LEN as u64 + 1;

    for &call in Syscall::ALL {
        // A non-zero reserved argument, in each reserved position, on top
        // of otherwise harmless arguments.
        let base: [u64; 6] = match call {
            Syscall::ConsoleWrite => [a.readonly, 0, 0, 0, 0, 0],
            Syscall::ConsoleRead => [a.writable, 0, READ_NONBLOCKING, 0, 0, 0],
            Syscall::ThreadCreate => [a.entry, a.stack_top, 0, 0, 0, 0],
            Syscall::ThreadExit => [EXIT_FAULT, 0, 0, 0, 0, 0],
            Syscall::ThreadSleep => [1, 0, 0, 0, 0, 0],
            Syscall::ThreadSyncWait => [a.word, a.word_value.wrapping_add(1), 0, 0, 0, 0],
            Syscall::ThreadSyncWake => [a.word, 1, 0, 0, 0, 0],
            Syscall::Poweroff => [0, 0, 0, 0, 0, 0],
            Syscall::DebugInfo => [0, a.writable, 0, 0, 0, 0],
            Syscall::ProgramSpawn => [a.readonly, 0, 0, 0, 0, 0],
            Syscall::ProgramWait => [u64::MAX - 1, 1, 0, 0, 0, 0],
            _ => [0; 6],
        };
        for slot in call.arg_count()..6 {
            let mut args = base;
            args[slot] = JUNK;
            add(
                call,
                &args,
                Exactly(InvalidArgument),
                "non-zero reserved argument",
            );
        }
    }

    // Console.
    let cw = Syscall::ConsoleWrite;
    add(cw, &[KERNEL, 8], Exactly(BadAddress), "kernel buffer");
    add(
        cw,
        &[KERNEL_IMAGE, 8],
        Exactly(BadAddress),
        "kernel image buffer",
    );
    add(cw, &[UNMAPPED, 8], Exactly(BadAddress), "unmapped buffer");
    add(
        cw,
        &[NON_CANONICAL - 4, 8],
        Exactly(BadAddress),
        "buffer across the canonical hole",
    );
    add(cw, &[0, 8], Exactly(BadAddress), "null buffer");
    add(
        cw,
        &[a.readonly, big_len],
        AnyOf(BAD_RANGE),
        "longer than MAX_IO_LEN",
    );
    add(
        cw,
        &[a.readonly, u64::MAX],
        AnyOf(BAD_RANGE),
        "length u64::MAX",
    );
    add(
        cw,
        &[u64::MAX - 3, 8],
        AnyOf(BAD_RANGE),
        "range wraps around",
    );
    let cr = Syscall::ConsoleRead;
    add(
        cr,
        &[KERNEL, 8, READ_NONBLOCKING],
        Exactly(BadAddress),
        "kernel buffer",
    );
    add(
        cr,
        &[UNMAPPED, 8, READ_NONBLOCKING],
        Exactly(BadAddress),
        "unmapped buffer",
    );
    add(
        cr,
        &[a.readonly, 8, READ_NONBLOCKING],
        Exactly(BadAddress),
        "read-only buffer",
    );
    add(
        cr,
        &[0, 8, READ_NONBLOCKING],
        Exactly(BadAddress),
        "null buffer",
    );
    add(
        cr,
        &[KERNEL, 8, 0],
        Exactly(BadAddress),
        "kernel buffer, blocking",
    );
    add(
        cr,
        &[UNMAPPED, big_len, READ_NONBLOCKING],
        AnyOf(BAD_RANGE),
        "longer than MAX_IO_LEN",
    );
    add(
        cr,
        &[KERNEL, 8, JUNK],
        AnyOf(&[BadAddress, InvalidArgument]),
        "unknown flags",
    );

    // Threads.
    let tc = Syscall::ThreadCreate;
    add(
        tc,
        &[a.entry, a.stack_top, 0, MAX_PRIORITY + 1],
        Exactly(InvalidArgument),
        "priority too high",
    );
    add(
        tc,
        &[a.entry, a.stack_top, 0, u64::MAX],
        Exactly(InvalidArgument),
        "priority u64::MAX",
    );
    add(
        tc,
        &[a.entry, KERNEL, 0, 0],
        AnyOf(&[BadAddress, InvalidArgument]),
        "kernel stack",
    );
    add(
        tc,
        &[a.entry, NON_CANONICAL + 0x1000, 0, 0],
        AnyOf(&[BadAddress, InvalidArgument]),
        "non-canonical stack",
    );
    add(
        tc,
        &[a.entry, a.stack_top - 8, 0, 0],
        AnyOf(&[BadAddress, InvalidArgument]),
        "misaligned stack",
    );
    add(
        tc,
        &[KERNEL_IMAGE, a.stack_top, 0, 0],
        AnyOf(&[BadAddress, InvalidArgument]),
        "kernel entry",
    );
    add(
        tc,
        &[NON_CANONICAL, a.stack_top, 0, 0],
        AnyOf(&[BadAddress, InvalidArgument]),
        "non-canonical entry",
    );
    let te = Syscall::ThreadExit;
    add(
        te,
        &[EXIT_FAULT],
        Exactly(InvalidArgument),
        "exit code EXIT_FAULT",
    );
    add(
        te,
        &[EXIT_FAULT | 14],
        Exactly(InvalidArgument),
        "exit code of a fault",
    );
    add(
        te,
        &[u64::MAX],
        Exactly(InvalidArgument),
        "exit code u64::MAX",
    );
    let ts = Syscall::ThreadSleep;
    add(
        ts,
        &[MAX_SLEEP_NANOS + 1],
        AnyOf(&[InvalidArgument, TooLarge]),
        "longer than MAX_SLEEP_NANOS",
    );
    add(
        ts,
        &[u64::MAX],
        AnyOf(&[InvalidArgument, TooLarge]),
        "u64::MAX nanoseconds",
    );

    // Thread-sync.
    let sw = Syscall::ThreadSyncWait;
    let wrong = a.word_value.wrapping_add(1);
    add(
        sw,
        &[a.word, wrong, 0],
        Exactly(WouldBlock),
        "word already differs",
    );
    add(
        sw,
        &[a.word, a.word_value, 1_000_000],
        Exactly(TimedOut),
        "1 ms timeout",
    );
    add(
        sw,
        &[a.word + 1, a.word_value, 0],
        AnyOf(&[InvalidArgument, BadAddress]),
        "misaligned word",
    );
    add(
        sw,
        &[a.word + 4, a.word_value, 0],
        AnyOf(&[InvalidArgument, BadAddress]),
        "half-aligned word",
    );
    add(sw, &[KERNEL, 0, 0], Exactly(BadAddress), "kernel word");
    add(sw, &[UNMAPPED, 0, 0], Exactly(BadAddress), "unmapped word");
    add(sw, &[0, 0, 0], Exactly(BadAddress), "null word");
    add(
        sw,
        &[NON_CANONICAL - 4, 0, 0],
        AnyOf(&[InvalidArgument, BadAddress]),
        "word across the canonical hole",
    );
    let sk = Syscall::ThreadSyncWake;
    add(
        sk,
        &[a.word + 1, 1],
        AnyOf(&[InvalidArgument, BadAddress]),
        "misaligned word",
    );
    add(sk, &[KERNEL, u64::MAX], Exactly(BadAddress), "kernel word");
    add(sk, &[UNMAPPED, 1], Exactly(BadAddress), "unmapped word");
    add(sk, &[0, 1], Exactly(BadAddress), "null word");

    // Clock and power.
    let cl = Syscall::ClockRead;
    add(cl, &[3], Exactly(InvalidArgument), "clock 3");
    add(cl, &[u64::MAX], Exactly(InvalidArgument), "clock u64::MAX");
    let po = Syscall::Poweroff;
    add(po, &[0], Exactly(InvalidArgument), "status 0");
    add(po, &[0x15], Exactly(InvalidArgument), "status 0x15");
    add(po, &[u64::MAX], Exactly(InvalidArgument), "status u64::MAX");
    add(
        po,
        &[1 << 32 | 0x10],
        Exactly(InvalidArgument),
        "status with high bits",
    );

    // Debug info.
    let di = Syscall::DebugInfo;
    add(di, &[2, a.writable, 64], Exactly(InvalidArgument), "kind 2");
    add(
        di,
        &[u64::MAX, a.writable, 64],
        Exactly(InvalidArgument),
        "kind u64::MAX",
    );
    add(di, &[0, KERNEL, 64], Exactly(BadAddress), "kernel buffer");
    add(
        di,
        &[1, UNMAPPED, 4096],
        Exactly(BadAddress),
        "unmapped buffer",
    );
    add(
        di,
        &[0, a.readonly, 64],
        Exactly(BadAddress),
        "read-only buffer",
    );
    add(di, &[0, 0, 64], Exactly(BadAddress), "null buffer");
    add(
        di,
        &[1, a.writable, u64::MAX],
        AnyOf(BAD_RANGE),
        "length u64::MAX",
    );

    // Programs.
    let ps = Syscall::ProgramSpawn;
    let (name, name_len) = (a.readonly, 0);
    add(ps, &[KERNEL, 5, 0, 0], Exactly(BadAddress), "kernel name");
    add(
        ps,
        &[UNMAPPED, 5, 0, 0],
        Exactly(BadAddress),
        "unmapped name",
    );
    add(ps, &[0, 5, 0, 0], Exactly(BadAddress), "null name");
    add(
        ps,
        &[a.big, u64::MAX, 0, 0],
        AnyOf(BAD_RANGE),
        "name length u64::MAX",
    );
    add(
        ps,
        &[a.big, MAX_ARGS_LEN + 1, 0, 0],
        AnyOf(&[TooLarge, NotFound, InvalidArgument]),
        "huge name",
    );
    add(
        ps,
        &[name, name_len, KERNEL, 5],
        AnyOf(&[BadAddress, NotFound, InvalidArgument]),
        "kernel arguments",
    );
    add(
        ps,
        &[name, name_len, UNMAPPED, 5],
        AnyOf(&[BadAddress, NotFound, InvalidArgument]),
        "unmapped arguments",
    );
    add(
        ps,
        &[name, name_len, a.big, MAX_ARGS_LEN + 1],
        AnyOf(&[TooLarge, NotFound, InvalidArgument]),
        "arguments longer than MAX_ARGS_LEN",
    );
    add(
        ps,
        &[a.big, 5, 0, 0],
        AnyOf(&[NotFound, InvalidArgument]),
        "no such module (zero bytes)",
    );
    let pw = Syscall::ProgramWait;
    add(
        pw,
        &[u64::MAX, 0],
        AnyOf(&[NotFound, InvalidArgument, PermissionDenied]),
        "program u64::MAX",
    );
    add(
        pw,
        &[0, 1],
        AnyOf(&[NotFound, InvalidArgument, PermissionDenied]),
        "program 0",
    );
    add(
        pw,
        &[0x1234_5678, 1],
        AnyOf(&[NotFound, InvalidArgument, PermissionDenied]),
        "program never spawned",
    );

    // Objects, views and security contexts.
    objects::cases(a, &mut add);

    // Ending a program: only one the caller spawned and that still runs.
    let pk = Syscall::ProgramKill;
    add(pk, &[0], Exactly(NotFound), "program 0");
    add(pk, &[u64::MAX], Exactly(NotFound), "program u64::MAX");
    add(
        pk,
        &[1],
        Exactly(NotFound),
        "init, which the caller did not spawn",
    );

    // Thread KSOs: this program was started without one.
    let sk = Syscall::ProgramStartKso;
    add(sk, &[0, 0], Exactly(PermissionDenied), "not init (nil KSO)");
    add(sk, &[JUNK, JUNK], Exactly(PermissionDenied), "not init");
    let me = Syscall::KsoSelf;
    add(me, &[a.writable, 40], Exactly(NotFound), "no thread KSO");
    add(
        me,
        &[KERNEL, 40],
        AnyOf(&[NotFound, BadAddress]),
        "kernel buffer",
    );
    add(
        me,
        &[a.writable, 1],
        AnyOf(&[NotFound, TooLarge]),
        "short buffer",
    );
    let rr = Syscall::KsoResumeRegister;
    add(rr, &[], Exactly(NotFound), "no thread KSO to register");
    // Only a handler, inside a call a program made, has a caller to ask
    // about.
    let cp = Syscall::PpcCallerPerms;
    add(cp, &[0, 0], Exactly(InvalidArgument), "not in a call (nil)");
    add(cp, &[JUNK, JUNK], Exactly(InvalidArgument), "not in a call");

    // Numbers past the last call.
    let last = Syscall::ALL.len() as u64;
    for number in (last..=last + 4).chain([1 << 63, u64::MAX - 1, u64::MAX]) {
        out.push(Case {
            number,
            args: [JUNK; 6],
            expect: Exactly(UnknownSyscall),
            what: "no such call",
        });
    }
    out.sort_by_key(|c| c.number);
    out
}

mod objects;
#[cfg(test)]
mod tests;
