//! Trap entry: one stub per vector saves the full register frame
//! ([`TrapFrame`]) and calls [`dispatch`], which decodes CPU exceptions and
//! hands everything else to the kernel's interrupt handlers.
//!
//! A kernel-mode exception is a kernel bug: it panics with the decoded
//! cause. A user-mode exception goes to `crate::fault`, which either
//! resolves it (a demand-zero page) or ends the program.

use core::fmt;

use super::gdt::USER_CS;

/// RFLAGS.IF.
pub const IF: u64 = 1 << 9;

/// Bytes between consecutive entry stubs.
pub const STUB_SIZE: usize = 16;

/// The pseudo-vector the system-call entry stores in its frame.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// The registers a trap or system call saved, lowest address first.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
#[allow(missing_docs)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// The vector (or [`SYSCALL_VECTOR`]).
    pub vector: u64,
    /// The CPU's error code (0 where it pushes none).
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Bytes in a [`TrapFrame`] (a multiple of 16, which keeps the stack aligned).
pub const FRAME_SIZE: usize = core::mem::size_of::<TrapFrame>();
const _: () = assert!(FRAME_SIZE == 22 * 8 && FRAME_SIZE.is_multiple_of(16));

impl TrapFrame {
    /// Whether the trap came from user mode.
    pub fn came_from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// A frame that enters user mode at `rip` with stack `rsp`, interrupts
    /// on, every register zero but `rdi` and `rsi`.
    pub fn user_entry(rip: u64, rsp: u64, rdi: u64, rsi: u64) -> TrapFrame {
        TrapFrame {
            rip,
            rsp,
            rdi,
            rsi,
            cs: u64::from(USER_CS),
            ss: u64::from(super::gdt::USER_DS),
            rflags: 0x202,
            ..TrapFrame::default()
        }
    }
}

// The entry stubs. Vectors that push no error code get a 0, so every frame
// has the same shape. The common path clears AC (a user's `stac` must not
// switch SMAP off in the kernel), calls `dispatch`, and returns with iretq.
core::arch::global_asm!(
    ".pushsection .text.perennial_traps, \"ax\"",
    ".balign 16",
    ".global perennial_isr_stubs",
    "perennial_isr_stubs:",
    ".set vec, 0",
    ".rept 256",
    ".balign 16",
    ".if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)",
    ".else",
    "pushq $0",
    ".endif",
    "pushq $vec",
    "jmp perennial_isr_common",
    ".set vec, vec + 1",
    ".endr",
    "",
    "perennial_isr_common:",
    "pushq %rax", "pushq %rbx", "pushq %rcx", "pushq %rdx", "pushq %rsi", "pushq %rdi",
    "pushq %rbp", "pushq %r8", "pushq %r9", "pushq %r10", "pushq %r11", "pushq %r12",
    "pushq %r13", "pushq %r14", "pushq %r15",
    "cld",
    "cmpb $0, {smap}(%rip)",
    "je 1f",
    "clac",
    "1:",
    "movq %rsp, %rdi",
    "call {dispatch}",
    ".global perennial_trap_return",
    "perennial_trap_return:",
    "popq %r15", "popq %r14", "popq %r13", "popq %r12", "popq %r11", "popq %r10",
    "popq %r9", "popq %r8", "popq %rbp", "popq %rdi", "popq %rsi", "popq %rdx",
    "popq %rcx", "popq %rbx", "popq %rax",
    "addq $16, %rsp",
    "iretq",
    ".popsection",
    smap = sym super::cpu::SMAP_ON,
    dispatch = sym dispatch,
    options(att_syntax),
);

unsafe extern "C" {
    /// The first entry stub (vector `n` is at `+ n * STUB_SIZE`).
    static perennial_isr_stubs: u8;
    /// The trap exit path: pops a [`TrapFrame`] at `rsp` and `iretq`s.
    static perennial_trap_return: u8;
}

/// The address of vector 0's stub.
pub fn stub_table() -> u64 {
    &raw const perennial_isr_stubs as u64
}

/// The address of the trap exit path (a new thread's first return).
pub fn trap_return() -> u64 {
    &raw const perennial_trap_return as u64
}

/// What a CPU exception was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A page fault, with its error code decoded.
    PageFault {
        /// The access was a write.
        write: bool,
        /// The access was an instruction fetch.
        fetch: bool,
        /// The page was present (a protection violation), not missing.
        protection: bool,
        /// Reserved bits were set in a page-table entry.
        reserved: bool,
    },
    /// Any other exception, by vector.
    Exception(u8),
}

impl Cause {
    /// Decodes vector `vector` with its error code.
    pub fn decode(vector: u8, error: u64) -> Cause {
        if vector == 14 {
            Cause::PageFault {
                write: error & 2 != 0,
                fetch: error & 16 != 0,
                protection: error & 1 != 0,
                reserved: error & 8 != 0,
            }
        } else {
            Cause::Exception(vector)
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Cause::PageFault {
                write,
                fetch,
                protection,
                reserved,
            } => {
                let access = match (fetch, write) {
                    (true, _) => "execute",
                    (false, true) => "write",
                    (false, false) => "read",
                };
                let kind = match (reserved, protection) {
                    (true, _) => "reserved bit",
                    (false, true) => "protection",
                    (false, false) => "not present",
                };
                write!(f, "page fault ({access}, {kind})")
            }
            Cause::Exception(v) => f.write_str(protocols::exception::name(v)),
        }
    }
}

/// A decoded exception: cause, faulting address (CR2 for page faults, else
/// the instruction) and instruction pointer.
#[derive(Clone, Copy, Debug)]
pub struct Exception {
    /// The vector.
    pub vector: u8,
    /// What happened.
    pub cause: Cause,
    /// The address involved.
    pub addr: u64,
    /// Where.
    pub rip: u64,
}

/// Called by the entry stubs with the saved frame.
extern "C" fn dispatch(frame: &mut TrapFrame) {
    let vector = frame.vector as u8;
    if frame.vector >= 32 {
        crate::irq::handle(vector);
        crate::sched::before_return(frame.came_from_user(), frame.rflags & IF != 0);
        return;
    }
    if vector == 2 {
        // An NMI is nobody's fault; report it without locks and go on.
        crate::irq::nmi(frame.rip);
        return;
    }
    let addr = if vector == 14 {
        ::x86_64::registers::control::Cr2::read_raw()
    } else {
        frame.rip
    };
    let exception = Exception {
        vector,
        cause: Cause::decode(vector, frame.error),
        addr,
        rip: frame.rip,
    };
    // A double fault or machine check is never the program's doing.
    if frame.came_from_user() && vector != 8 && vector != 18 {
        crate::fault::user_exception(exception, frame);
        crate::sched::before_return(true, true);
    } else {
        panic!(
            "kernel {} at {:#x} (rip {:#x}, error {:#x}, rsp {:#x})",
            exception.cause, exception.addr, exception.rip, frame.error, frame.rsp
        );
    }
}
