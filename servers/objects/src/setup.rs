//! Guest building blocks over the object system calls: DRAM objects
//! mapped into scratch slots, key pairs in key objects, security-context
//! objects and signed capabilities written into them (the shell's `key`,
//! `ctx` and `cap` commands, the guest tests and benchmarks use them).
//! Everything goes through the system calls and the `protocols` formats.

use core::sync::atomic::{AtomicU64, Ordering};

use protocols::cap::{CapFlags, GateMask, Grant, KEY_LEN, NEVER};
use protocols::kso::{
    CTX_CAP_AT, CtxFlags, CtxHeader, KeyKind, ctx_entry_offset, encode_ctx_entry_head, encode_key,
};
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::syscall::SysError;
use runtime::sys;

/// Read and write.
pub const RW: Perms = Perms::READ.union(Perms::WRITE);
/// Size of the scratch objects made here.
pub const SMALL: u64 = 64 * 1024;

static NEXT_SLOT: AtomicU64 = AtomicU64::new(300);

/// A slot no other helper handed out (from 300 up; tests pick their own
/// slots below that).
pub fn scratch_slot() -> u64 {
    NEXT_SLOT.fetch_add(1, Ordering::Relaxed)
}

/// Maps `id` into a fresh scratch slot with `prot`; returns the base.
pub fn map(id: ObjId, prot: Perms) -> Result<*mut u8, SysError> {
    sys::obj_map(scratch_slot(), id, prot).map(|b| b as *mut u8)
}

/// Copies `bytes` into the mapped object at `base + offset`.
///
/// # Safety
///
/// `base` came from [`map`] with WRITE (and the active context allows
/// writing), `offset + bytes.len()` lies in the object, and no Rust
/// reference covers those bytes.
pub unsafe fn put(base: *mut u8, offset: u64, bytes: &[u8]) {
    // SAFETY: per the contract.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(offset as usize), bytes.len())
    };
}

/// A 32-byte secret seed: RDRAND where the CPU has it, mixed with the TSC.
pub fn seed() -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    let mut x = clock() ^ 0x9e37_79b9_7f4a_7c15;
    for chunk in out.chunks_mut(8) {
        let r = rdrand().unwrap_or(0);
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15) ^ clock().rotate_left(17);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31) ^ r).to_le_bytes());
    }
    out
}

fn clock() -> u64 {
    sys::clock_read(protocols::syscall::Clock::Cycles).unwrap_or(0)
}

/// 64 random bits for unique (not secret) values — object-ID nonces,
/// per-program tags: RDRAND where the CPU has it (a few tries), else the
/// time-stamp counter mixed.
pub fn random_u64() -> u64 {
    if let Some(v) = (0..10).find_map(|_| rdrand()) {
        return v;
    }
    let t = clock();
    t.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29) ^ t
}

fn rdrand() -> Option<u64> {
    if core::arch::x86_64::__cpuid(1).ecx & (1 << 30) == 0 {
        return None;
    }
    let v: u64;
    let ok: u8;
    // SAFETY: CPUID said RDRAND exists; it writes two registers and flags.
    unsafe {
        core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack));
    }
    (ok == 1).then_some(v)
}

/// A key pair: the public-key object (readable by all) and the secret.
pub struct Keys {
    /// The object holding the public key: name it as an object's key.
    pub public: ObjId,
    /// The private key object (readable in the default context here).
    pub private: ObjId,
    /// The private key (kept by the test; also in `private`).
    pub secret: [u8; KEY_LEN],
}

/// Makes a key pair and its two key objects.
pub fn new_keys() -> Result<Keys, SysError> {
    let secret = seed();
    let public_key = caps::public_key(&secret);
    let public = sys::obj_create(
        4096,
        ObjFlags::EMPTY,
        Perms::READ | Perms::WRITE,
        ObjId::NIL,
    )?;
    let private = sys::obj_create(4096, ObjFlags::EMPTY, RW, ObjId::NIL)?;
    for (id, kind, key) in [
        (public, KeyKind::Public, public_key),
        (private, KeyKind::Private, secret),
    ] {
        let base = map(id, RW)?;
        // SAFETY: a fresh RW mapping of a 4 KiB object the default context
        // may write; the record fits the data area.
        unsafe { put(base, BASE_OFFSET, &encode_key(kind, &key)) };
    }
    Ok(Keys {
        public,
        private,
        secret,
    })
}

/// A security-context object with `flags` and `mask`, no capabilities
/// yet, mapped RW; returns its ID and base.
pub fn new_ctx(flags: CtxFlags, mask: Perms) -> Result<(ObjId, *mut u8), SysError> {
    let id = sys::obj_create(SMALL, ObjFlags::KSO, RW | Perms::USE, ObjId::NIL)?;
    let base = map(id, RW)?;
    let h = CtxHeader {
        flags,
        mask,
        cap_count: 0,
    };
    // SAFETY: a fresh RW mapping of a 64 KiB KSO; the header fits.
    unsafe { put(base, BASE_OFFSET, &h.encode()) };
    Ok((id, base))
}

/// The grant of `perms` on `target` to context `accessor`.
pub fn grant(target: ObjId, accessor: ObjId, perms: Perms) -> Grant {
    Grant {
        target,
        accessor,
        perms,
        flags: CapFlags::EMPTY,
        expiry: NEVER,
        gates: GateMask::NONE,
        holder_key: [0; KEY_LEN],
    }
}

/// The private key held by key object `id`, read through a fresh mapping
/// (so the active context must allow reading it).
pub fn read_private_key(id: ObjId) -> Result<[u8; KEY_LEN], SysError> {
    let base = map(id, Perms::READ)?;
    let mut b = [0u8; protocols::kso::KEY_RECORD_SIZE];
    // SAFETY: a fresh READ mapping; the key record lies in the data area.
    // An access the context forbids faults (a security fault), it does not
    // read stale memory.
    unsafe {
        core::ptr::copy_nonoverlapping(base.add(BASE_OFFSET as usize), b.as_mut_ptr(), b.len())
    };
    match protocols::kso::decode_key(&b) {
        Ok((KeyKind::Private, key)) => Ok(key),
        _ => Err(SysError::InvalidArgument),
    }
}

/// Signs `grant` with `keys` and appends it to the context mapped at
/// `ctx_base` (entry `index`, then the count): no invalidation needed.
///
/// # Safety
///
/// `ctx_base` came from [`new_ctx`] and is still mapped writable.
pub unsafe fn add_cap(
    ctx_base: *mut u8,
    index: u32,
    keys: &Keys,
    g: &Grant,
) -> Result<(), SysError> {
    // SAFETY: forwarded contract.
    unsafe { add_cap_with(ctx_base, index, &keys.secret, g) }
}

/// Like [`add_cap`], with the private key itself.
///
/// # Safety
///
/// As [`add_cap`].
pub unsafe fn add_cap_with(
    ctx_base: *mut u8,
    index: u32,
    secret: &[u8; KEY_LEN],
    g: &Grant,
) -> Result<(), SysError> {
    let cap = caps::sign_cap(secret, g).map_err(|_| SysError::InvalidArgument)?;
    let at = ctx_entry_offset(index);
    // SAFETY: per the contract; entries lie inside the 64 KiB object.
    unsafe {
        put(ctx_base, at, &encode_ctx_entry_head(0));
        put(ctx_base, at + CTX_CAP_AT as u64, &cap);
        // The count last, so the kernel never sees a half-written entry.
        put(ctx_base, BASE_OFFSET + 16, &(index + 1).to_le_bytes());
    }
    Ok(())
}

/// Creates a server's gate object — public (every context may call its
/// gates), signed by a fresh key — and activates a context holding a
/// capability to write it, which registering as its server needs: no other
/// program can take the server's place behind it.
pub fn server_gate() -> Result<ObjId, SysError> {
    let keys = new_keys()?;
    let gate = sys::obj_create(
        4096,
        ObjFlags::EMPTY,
        Perms::READ | Perms::EXEC,
        keys.public,
    )?;
    let (ctx, base) = new_ctx(CtxFlags::EMPTY, Perms::ALL)?;
    // SAFETY: `base` is the fresh context's writable mapping.
    unsafe { add_cap(base, 0, &keys, &grant(gate, ctx, RW)) }?;
    sys::ctx_attach(ctx)?;
    sys::ctx_activate(ctx)?;
    Ok(gate)
}

/// A server's state, handed to the runtime's PPC entry, which may run its
/// dispatch on any caller's thread (one call at a time, under the
/// runtime's lock).
pub struct Serialized<S>(S);

impl<S> Serialized<S> {
    /// Wraps `state`.
    ///
    /// # Safety
    ///
    /// Whatever in `state` is not `Send` must be only pointers into memory
    /// mapped for the program's whole life (a mapped persistent object, the
    /// persistent memory), used by nothing outside `state`.
    pub unsafe fn new(state: S) -> Serialized<S> {
        Serialized(state)
    }

    /// The state (a method, so closures capture the whole wrapper).
    pub fn get(&mut self) -> &mut S {
        &mut self.0
    }
}

// SAFETY: `Serialized::new`'s contract: the non-`Send` parts are pointers
// to memory that stays mapped for the program's life, and the runtime runs
// one dispatch at a time, so whichever thread runs it is the only user.
unsafe impl<S> Send for Serialized<S> {}
