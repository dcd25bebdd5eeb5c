//! Object-ID nonces: RDRAND when CPUID offers it, else a generator mixing
//! the TSC into a SplitMix64 state (IDs must not be guessable, not secret:
//! the ID is a hash over the nonce, and access still needs permissions).

use core::arch::x86_64::__cpuid;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::cpu;

static STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

fn has_rdrand() -> bool {
    __cpuid(1).ecx & (1 << 30) != 0
}

fn rdrand() -> Option<u64> {
    for _ in 0..10 {
        let v: u64;
        let ok: u8;
        // SAFETY: CPUID said RDRAND exists; it only writes the two registers
        // and the flags.
        unsafe {
            core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack));
        }
        if ok == 1 {
            return Some(v);
        }
    }
    None
}

fn mixed() -> u64 {
    let tsc = cpu::rdtsc();
    let s = STATE
        .fetch_add(
            0x9e37_79b9_7f4a_7c15 ^ tsc.rotate_left(29),
            Ordering::Relaxed,
        )
        .wrapping_add(tsc);
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn word() -> u64 {
    if has_rdrand()
        && let Some(v) = rdrand()
    {
        return v ^ mixed();
    }
    mixed()
}

/// A fresh 128-bit nonce.
pub fn nonce() -> u128 {
    (u128::from(word()) << 64) | u128::from(word())
}
