//! `fault <kind>`: make one CPU fault. The kernel must end the program
//! (`program_wait` reports `EXIT_FAULT | vector`); if the fault instruction
//! ever returns, the test failed.

use runtime::println;

/// Read-only data the `write-readonly` test writes to (lives in `.rodata`).
static READ_ONLY: [u8; 16] = [0x5a; 16];

/// The kinds, with the vector the kernel should report.
pub const KINDS: &[(&str, u8)] = &[
    ("null-read", 14),
    ("write-readonly", 14),
    ("kernel-address", 14),
    ("invalid-opcode", 6),
    ("divide-by-zero", 0),
];

/// Makes fault `kind`; returns only if it did not fault.
pub fn run(kind: &str) -> u64 {
    let Some(&(_, vector)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        println!("utest: unknown fault kind {kind:?}");
        return crate::USAGE;
    };
    println!("utest: fault {kind}: expecting vector {vector}");
    match kind {
        "null-read" => read(0),
        "write-readonly" => write(READ_ONLY.as_ptr() as u64),
        "kernel-address" => read(0xffff_ffff_8000_0000),
        // SAFETY: `ud2` raises #UD and nothing else.
        "invalid-opcode" => unsafe { core::arch::asm!("ud2", options(nomem, nostack)) },
        "divide-by-zero" => divide_by_zero(),
        _ => {}
    }
    println!("utest: fault {kind} ... FAILED: the program kept running");
    1
}

/// Reads 8 bytes at `addr` (in assembly: the compiler must not reason
/// about the access).
fn read(addr: u64) {
    // SAFETY: the access is meant to fault; if it does not, it only reads
    // into a scratch register.
    unsafe {
        core::arch::asm!("mov {tmp}, qword ptr [{addr}]", addr = in(reg) addr, tmp = out(reg) _, options(nostack, readonly))
    };
}

/// Writes one byte at `addr`.
fn write(addr: u64) {
    // SAFETY: the access is meant to fault on a read-only page; the compiler
    // is told memory may change (no `nomem`/`readonly`).
    unsafe { core::arch::asm!("mov byte ptr [{addr}], 0", addr = in(reg) addr, options(nostack)) };
}

fn divide_by_zero() {
    // SAFETY: `div` by zero raises #DE; the registers it would write are
    // declared clobbered.
    unsafe {
        core::arch::asm!(
            "div {zero}",
            zero = in(reg) 0u64,
            inout("rax") 1u64 => _,
            inout("rdx") 0u64 => _,
            options(nomem, nostack),
        )
    };
}
