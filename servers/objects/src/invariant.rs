//! Which types may live in an object.

use protocols::object::ObjId;

/// A type that may be stored in an object and read back in any address
/// space, after any reboot.
///
/// # Safety
///
/// Implement this only for `Copy` types that
/// - accept **every** bit pattern as a valid value (an object's bytes may be
///   anything: zero-filled, written by another program, left by a crash);
/// - hold **no virtual address** or reference, directly or inside (they
///   would be meaningless in another address space); cross-object links
///   are [`crate::InvPtr`]s.
///
/// `#[repr(C)]` structs of `Invariant` fields qualify.
pub unsafe trait Invariant: Copy + 'static {}

macro_rules! invariant {
    ($($t:ty),*) => { $(
        // SAFETY: every bit pattern is a valid value and the type holds no address.
        unsafe impl Invariant for $t {}
    )* };
}

invariant!(
    u8,
    u16,
    u32,
    u64,
    u128,
    i8,
    i16,
    i32,
    i64,
    i128,
    f32,
    f64,
    ()
);

// SAFETY: an array of `Invariant` values has no other bits than theirs.
unsafe impl<T: Invariant, const N: usize> Invariant for [T; N] {}
// SAFETY: a transparent `u128`: every bit pattern is some (possibly nil) ID.
unsafe impl Invariant for ObjId {}
