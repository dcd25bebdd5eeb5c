//! Names of the x86 exception vectors. A program a fault ended exits with
//! `EXIT_FAULT | vector` (see [`crate::syscall::fault_vector`]); the kernel's
//! fault log and the shell's `run` report name the vector with these words.

/// The name of CPU exception `vector` (Intel SDM vol. 3, table 6-1).
pub const fn name(vector: u8) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug exception",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        9 => "coprocessor segment overrun",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point exception",
        20 => "virtualization exception",
        21 => "control protection exception",
        28 => "hypervisor injection exception",
        29 => "VMM communication exception",
        30 => "security exception",
        _ => "unknown exception",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn named_vectors_and_reserved_ones() {
        assert_eq!(super::name(14), "page fault");
        assert_eq!(super::name(0), "divide error");
        assert_eq!(super::name(15), "unknown exception");
        assert_eq!(super::name(255), "unknown exception");
    }
}
