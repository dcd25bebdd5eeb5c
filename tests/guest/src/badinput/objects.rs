//! Garbage for the object, view and security-context calls. No case can
//! have an effect if wrongly accepted: every ID is one no object has, every
//! slot is out of range or empty, and every output buffer is read-only or
//! the call fails before writing.

use protocols::syscall::{SysError, Syscall};

use super::{Addrs, Expect, JUNK, KERNEL};

/// Adds the cases through `add(call, args, expect, what)`.
pub fn cases(a: &Addrs, add: &mut impl FnMut(Syscall, &[u64], Expect, &'static str)) {
    use Expect::{AnyOf, Exactly};
    use SysError::*;
    let (lo, hi) = (JUNK, JUNK ^ 0x5555);
    let oc = Syscall::ObjCreate;
    add(
        oc,
        &[0, 0, 3, 0, 0, a.writable],
        Exactly(InvalidArgument),
        "size 0",
    );
    add(
        oc,
        &[u64::MAX, 0, 3, 0, 0, a.writable],
        Exactly(InvalidArgument),
        "size too large",
    );
    add(
        oc,
        &[4096, 1 << 20, 3, 0, 0, a.writable],
        Exactly(InvalidArgument),
        "undefined flag",
    );
    add(
        oc,
        &[4096, 0, 1 << 20, 0, 0, a.writable],
        Exactly(InvalidArgument),
        "undefined permission",
    );
    add(
        oc,
        &[4096, 0, JUNK, 0, 0, a.writable],
        Exactly(InvalidArgument),
        "permissions above 32 bits",
    );
    add(
        oc,
        &[4096, 0, 3, 0, 0, a.readonly],
        Exactly(BadAddress),
        "read-only ID buffer",
    );
    add(
        oc,
        &[4096, 0, 3, 0, 0, KERNEL],
        Exactly(BadAddress),
        "kernel ID buffer",
    );
    add(
        oc,
        &[4096, 0, 3, lo, hi, a.writable],
        Exactly(NotFound),
        "no such key object",
    );
    add(
        Syscall::ObjDelete,
        &[lo, hi],
        Exactly(NotFound),
        "no such object",
    );
    let om = Syscall::ObjMap;
    add(om, &[512, lo, hi, 1], Exactly(InvalidArgument), "slot 512");
    add(
        om,
        &[u64::MAX, lo, hi, 1],
        Exactly(InvalidArgument),
        "slot u64::MAX",
    );
    add(
        om,
        &[5, lo, hi, 1 << 4],
        Exactly(InvalidArgument),
        "DELETE is no protection",
    );
    add(om, &[5, lo, hi, 1], Exactly(NotFound), "no such object");
    add(
        Syscall::ObjUnmap,
        &[512],
        Exactly(InvalidArgument),
        "slot 512",
    );
    add(Syscall::ObjUnmap, &[511], Exactly(NotFound), "empty slot");
    let oi = Syscall::ObjInfo;
    add(
        oi,
        &[lo, hi, a.writable, 64],
        Exactly(NotFound),
        "no such object",
    );
    add(
        oi,
        &[lo, hi, a.writable, 8],
        Exactly(InvalidArgument),
        "buffer too short",
    );
    add(
        oi,
        &[lo, hi, a.readonly, 64],
        AnyOf(&[BadAddress, NotFound]),
        "read-only buffer",
    );
    add(
        Syscall::KsoInvalidate,
        &[lo, hi],
        Exactly(NotFound),
        "no such KSO",
    );
    add(
        Syscall::CtxAttach,
        &[lo, hi],
        Exactly(NotFound),
        "no such context",
    );
    add(
        Syscall::CtxDetach,
        &[lo, hi],
        Exactly(NotFound),
        "not attached",
    );
    add(
        Syscall::CtxDetach,
        &[0, 0],
        Exactly(NotFound),
        "the default context",
    );
    add(
        Syscall::CtxActivate,
        &[lo, hi],
        Exactly(NotFound),
        "not attached",
    );
    add(
        Syscall::CtxCurrent,
        &[a.readonly],
        Exactly(BadAddress),
        "read-only buffer",
    );
    add(
        Syscall::CtxCurrent,
        &[KERNEL],
        Exactly(BadAddress),
        "kernel buffer",
    );
    add(
        Syscall::CtxCheck,
        &[lo, hi, lo, hi],
        Exactly(NotFound),
        "no such target",
    );
    add(
        Syscall::ViewAttach,
        &[lo, hi],
        Exactly(NotFound),
        "no such view",
    );

    // Protected procedure calls: junk gate objects, bad registrations,
    // bad message buffers, a return outside any call.
    let pr = Syscall::PpcRegister;
    add(
        pr,
        &[lo, hi, 0b10, a.entry, 0, 1],
        AnyOf(&[BadAddress, NotFound]),
        "null stacks, no such gate object",
    );
    add(
        pr,
        &[lo, hi, 0b11, a.entry, 0x1000, 1],
        Exactly(InvalidArgument),
        "gate 0",
    );
    add(
        pr,
        &[lo, hi, 0b10, a.entry, 0x1000, 0],
        Exactly(InvalidArgument),
        "no stacks",
    );
    add(
        pr,
        &[lo, hi, 0b10, a.entry, 0x1000, 65],
        Exactly(InvalidArgument),
        "too many stacks",
    );
    add(
        pr,
        &[lo, hi, 0b10, KERNEL, 0x1_0000_0000, 1],
        Exactly(BadAddress),
        "kernel entry",
    );
    add(
        pr,
        &[lo, hi, 0b10, a.entry, KERNEL, 1],
        Exactly(BadAddress),
        "kernel stacks",
    );
    add(
        pr,
        &[lo, hi, 0b10, a.entry, 0x1_0000_0000, 1],
        Exactly(NotFound),
        "no such gate object",
    );
    add(
        Syscall::PpcBind,
        &[lo, hi],
        Exactly(NotFound),
        "no such gate object",
    );
    let pc = Syscall::PpcCall;
    add(
        pc,
        &[lo, hi, 1, 1, a.writable, 4097],
        Exactly(TooLarge),
        "message too long",
    );
    add(
        pc,
        &[lo, hi, 1, 1, KERNEL, 8],
        Exactly(BadAddress),
        "kernel buffer",
    );
    add(
        pc,
        &[lo, hi, 1, 1, a.readonly, 8],
        Exactly(BadAddress),
        "read-only buffer",
    );
    add(
        pc,
        &[lo, hi, 1, 1, a.writable, 8],
        AnyOf(&[BadAddress, NotFound]),
        "no such gate object",
    );
    let pt = Syscall::PpcReturn;
    add(
        pt,
        &[a.readonly, 8],
        Exactly(InvalidArgument),
        "outside a call",
    );
    add(
        pt,
        &[KERNEL, 8],
        Exactly(InvalidArgument),
        "outside a call, kernel buffer",
    );
}
