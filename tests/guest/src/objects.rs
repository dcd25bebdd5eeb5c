//! `objects`: DRAM objects, invariant pointers across objects, views and
//! security contexts as KSOs, capabilities. Also the two child programs it
//! spawns: `objwalk ROOT N SUM` (walks a list from another program's
//! objects, in other slots) and `fig3` (the report's Figure 3; it ends
//! with a security fault).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use objects::kernel::KernelMapper;
use objects::{InvPtr, Invariant, Object, Space};
use protocols::kso::{CtxFlags, ViewEntry, encode_view_entry, encode_view_header};
use protocols::layout::{SLOT_BASE, slot_address};
use protocols::object::{BASE_OFFSET, ObjFlags, ObjId, Perms};
use protocols::syscall::{EXIT_SECURITY_FAULT, SysError};
use runtime::{println, sys};
use utest::objsetup::{RW, SMALL, add_cap, grant, map, new_ctx, new_keys, put};

use crate::ensure;
use crate::report::{Outcome, Report};

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Node {
    value: u64,
    next: InvPtr<Node>,
}
// SAFETY: two `Invariant` words, no padding, no address.
unsafe impl Invariant for Node {}

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Root {
    head: InvPtr<Node>,
    len: u64,
}
// SAFETY: two `Invariant` words, no padding, no address.
unsafe impl Invariant for Root {}

fn err(e: impl core::fmt::Debug) -> String {
    format!("{e:?}")
}

/// Runs the group.
pub fn run() -> u64 {
    let mut r = Report::default();
    r.test("objects: create, info, map on first touch", first_touch);
    r.test(
        "objects: a list across three objects reads the same in another program and other slots",
        list_across_programs,
    );
    r.test(
        "objects: rebinding one FOT entry moves every pointer using it",
        rebind,
    );
    r.test(
        "objects: a capability for another context grants nothing; one for this context grants",
        caps_for_contexts,
    );
    r.test(
        "objects: security contexts are attached per thread",
        per_thread,
    );
    r.test(
        "objects: garbage in a context object is refused at invalidation",
        garbage_ctx,
    );
    r.test(
        "objects: Figure 3: trusted call switches context, the library's read is a security fault",
        figure3,
    );
    r.test(
        "objects: invalidating a context revokes what it no longer grants",
        revoke_parent,
    );
    r.test(
        "objects: garbage in a view object is refused at attach and invalidation",
        garbage_view,
    );
    r.finish()
}

fn first_touch() -> Outcome {
    let id = sys::obj_create(SMALL, ObjFlags::EMPTY, RW, ObjId::NIL).map_err(err)?;
    let info = sys::obj_info(id).map_err(err)?;
    ensure!(info.id == id && info.size == SMALL, "info {info:?}");
    let before = info.pages;
    let base = sys::obj_map(10, id, RW).map_err(err)?;
    ensure!(base == SLOT_BASE + 10 * (1 << 30), "slot 10 at {base:#x}");
    let p = (base + BASE_OFFSET) as *mut u64;
    // SAFETY: slot 10 maps the object RW; BASE_OFFSET is in its data area.
    unsafe { p.write_volatile(0x1234_5678) };
    // SAFETY: as above.
    let v = unsafe { p.read_volatile() };
    ensure!(v == 0x1234_5678, "read back {v:#x}");
    let after = sys::obj_info(id).map_err(err)?.pages;
    ensure!(after == before + 1, "pages {before} -> {after}");
    ensure!(
        sys::obj_map(10, id, RW) == Err(SysError::Busy),
        "slot 10 reused"
    );
    ensure!(
        sys::obj_map(512, id, RW) == Err(SysError::InvalidArgument),
        "slot 512 accepted"
    );
    Ok(())
}

fn open(space: &alloc::rc::Rc<Space>, id: ObjId) -> Result<Object<Root>, String> {
    space.open::<Root>(id, RW).map_err(err)
}

/// Builds `n` nodes (value `i * 7 + 1`) round-robin over three objects.
fn build_list(space: &alloc::rc::Rc<Space>, objs: [ObjId; 3], n: usize) -> Result<u64, String> {
    let o: Vec<Object<Root>> = objs
        .iter()
        .map(|&i| open(space, i))
        .collect::<Result<_, _>>()?;
    o[0].init(Root {
        head: InvPtr::null(),
        len: n as u64,
    })
    .map_err(err)?;
    let mut nodes = Vec::new();
    for i in 0..n {
        let node = Node {
            value: i as u64 * 7 + 1,
            next: InvPtr::null(),
        };
        nodes.push(o[i % 3].alloc(node).map_err(err)?);
    }
    for i in 0..n - 1 {
        let next = nodes[i].holder().ptr_to(&nodes[i + 1]).map_err(err)?;
        let value = i as u64 * 7 + 1;
        nodes[i].write(Node { value, next }).map_err(err)?;
    }
    let head = o[0].holder().ptr_to(&nodes[0]).map_err(err)?;
    o[0].base()
        .write(Root {
            head,
            len: n as u64,
        })
        .map_err(err)?;
    Ok((0..n as u64).map(|i| i * 7 + 1).sum())
}

fn walk(root: &Object<Root>) -> Result<(u64, u64), String> {
    let (mut count, mut sum) = (0, 0);
    let mut holder = root.holder();
    let mut p = root.base().read().head;
    while !p.is_null() {
        let r = p.resolve(holder).map_err(err)?;
        let node = r.read();
        count += 1;
        sum += node.value;
        p = node.next;
        holder = r.holder();
    }
    Ok((count, sum))
}

fn list_across_programs() -> Outcome {
    let mut ids = [ObjId::NIL; 3];
    for id in &mut ids {
        *id = sys::obj_create(SMALL, ObjFlags::EMPTY, RW, ObjId::NIL).map_err(err)?;
    }
    let space = Space::new(KernelMapper::new(20));
    let n = 30;
    let sum = build_list(&space, ids, n)?;
    let root = open(&space, ids[0])?;
    ensure!(walk(&root)? == (n as u64, sum), "own walk differs");
    let args = format!("objwalk {:x} {n} {sum}", ids[0].as_u128());
    let child = sys::program_spawn("utest", &args).map_err(err)?;
    let code = sys::program_wait(child, 0).map_err(err)?;
    ensure!(code == 0, "objwalk exited with {code:#x}");
    Ok(())
}

/// `objwalk ROOT N SUM`: maps from slot 150 (the builder used 20..) and
/// walks; exit 0 when the count and sum match.
pub fn objwalk(root: &str, n: &str, sum: &str) -> u64 {
    let (Ok(root), Ok(n), Ok(sum)) = (
        u128::from_str_radix(root, 16),
        n.parse::<u64>(),
        sum.parse::<u64>(),
    ) else {
        return crate::USAGE;
    };
    let space = Space::new(KernelMapper::new(150));
    let result = open(&space, ObjId::from_u128(root)).and_then(|o| walk(&o));
    println!("utest: objwalk: {result:?} (expected ({n}, {sum})) from slots 150..");
    u64::from(result != Ok((n, sum)))
}

fn rebind() -> Outcome {
    let mut ids = [ObjId::NIL; 3];
    for id in &mut ids {
        *id = sys::obj_create(SMALL, ObjFlags::EMPTY, RW, ObjId::NIL).map_err(err)?;
    }
    let space = Space::new(KernelMapper::new(40));
    let a = open(&space, ids[0])?;
    let b = space.open::<u64>(ids[1], RW).map_err(err)?;
    let c = space.open::<u64>(ids[2], RW).map_err(err)?;
    let mut bs = Vec::new();
    for i in 0..10u64 {
        bs.push(b.alloc(i).map_err(err)?);
        c.alloc(1000 + i).map_err(err)?;
    }
    let h = a.holder();
    let ptrs: Vec<InvPtr<u64>> = bs
        .iter()
        .map(|r| h.ptr_to(r))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let read = |ps: &[InvPtr<u64>]| -> Result<Vec<u64>, String> {
        ps.iter()
            .map(|p| p.resolve(h).map(|r| r.read()).map_err(err))
            .collect()
    };
    ensure!(read(&ptrs)? == (0..10).collect::<Vec<u64>>(), "before");
    h.rebind(1, ids[2]).map_err(err)?;
    ensure!(
        read(&ptrs)? == (1000..1010).collect::<Vec<u64>>(),
        "after rebind"
    );
    Ok(())
}

fn caps_for_contexts() -> Outcome {
    let keys = new_keys().map_err(err)?;
    let target = sys::obj_create(SMALL, ObjFlags::EMPTY, Perms::EMPTY, keys.public).map_err(err)?;
    let (mine, mine_base) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
    let (other, _) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
    sys::ctx_attach(mine).map_err(err)?;
    // A capability naming the other context, stored in mine.
    // SAFETY: `mine_base` is the context's RW mapping.
    unsafe { add_cap(mine_base, 0, &keys, &grant(target, other, Perms::READ)) }.map_err(err)?;
    let got = sys::ctx_check(mine, target).map_err(err)?;
    ensure!(
        got == Perms::EMPTY,
        "other context's capability granted {got:?}"
    );
    // One for this context, appended without an invalidation.
    // SAFETY: as above.
    unsafe { add_cap(mine_base, 1, &keys, &grant(target, mine, RW)) }.map_err(err)?;
    let got = sys::ctx_check(mine, target).map_err(err)?;
    ensure!(got == RW, "own capability granted {got:?}");
    // The MMU agrees: write and read the target in that context.
    let base = map(target, RW).map_err(err)?;
    sys::ctx_activate(mine).map_err(err)?;
    // SAFETY: the target is mapped RW and the active context grants RW.
    unsafe { put(base, BASE_OFFSET, &42u64.to_le_bytes()) };
    // SAFETY: as above.
    let v = unsafe { (base.add(BASE_OFFSET as usize) as *const u64).read_volatile() };
    sys::ctx_activate(ObjId::NIL).map_err(err)?;
    ensure!(v == 42, "read {v}");
    sys::ctx_detach(mine).map_err(err)?;
    Ok(())
}

fn per_thread() -> Outcome {
    let (ctx, _) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
    sys::ctx_attach(ctx).map_err(err)?;
    sys::ctx_activate(ctx).map_err(err)?;
    let raw = ctx.as_u128();
    let other = runtime::thread::spawn(move || {
        let ctx = ObjId::from_u128(raw);
        let fresh = sys::ctx_current();
        let refused = sys::ctx_activate(ctx);
        let attached = sys::ctx_attach(ctx).and_then(|()| sys::ctx_activate(ctx));
        let now = sys::ctx_current();
        (fresh, refused, attached, now.map(|c| c.as_u128()))
    })
    .join()
    .map_err(err)?;
    let mine = sys::ctx_current().map_err(err)?;
    sys::ctx_activate(ObjId::NIL).map_err(err)?;
    sys::ctx_detach(ctx).map_err(err)?;
    ensure!(
        other.0 == Ok(ObjId::NIL),
        "a new thread starts in {:?}",
        other.0
    );
    ensure!(
        other.1 == Err(SysError::NotFound),
        "another thread's context activated: {:?}",
        other.1
    );
    ensure!(
        other.2 == Ok(()),
        "attach in the second thread: {:?}",
        other.2
    );
    ensure!(other.3 == Ok(raw), "second thread's active context");
    ensure!(mine == ctx, "the first thread's context changed to {mine}");
    Ok(())
}

fn garbage_ctx() -> Outcome {
    let (ctx, base) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
    sys::ctx_attach(ctx).map_err(err)?;
    let garbage: [(u64, &[u8]); 4] = [
        (BASE_OFFSET, b"XXXX"),
        (BASE_OFFSET + 8, &[0xff; 4]),
        (BASE_OFFSET + 16, &[0xff; 4]),
        (BASE_OFFSET + 40, &[1]),
    ];
    for (at, bytes) in garbage {
        let mut saved = [0u8; 8];
        // SAFETY: `base` maps the context RW; the offsets are in its header.
        unsafe {
            core::ptr::copy_nonoverlapping(base.add(at as usize), saved.as_mut_ptr(), bytes.len());
            put(base, at, bytes);
        }
        let r = sys::kso_invalidate(ctx);
        // SAFETY: as above.
        unsafe { put(base, at, &saved[..bytes.len()]) };
        ensure!(
            r == Err(SysError::InvalidArgument),
            "garbage at {at:#x}: {r:?}"
        );
    }
    sys::kso_invalidate(ctx).map_err(err)?;
    sys::ctx_detach(ctx).map_err(err)?;
    Ok(())
}

fn garbage_view() -> Outcome {
    let view = sys::obj_create(SMALL, ObjFlags::KSO, RW | Perms::USE, ObjId::NIL).map_err(err)?;
    let slot = 60;
    let base = sys::obj_map(slot, view, RW).map_err(err)? as *mut u8;
    let write_good = |n: u32| {
        // SAFETY: `base` maps the view object RW; the record fits.
        unsafe {
            put(base, BASE_OFFSET, &encode_view_header(n));
            let e = ViewEntry { id: view, prot: RW };
            let at = BASE_OFFSET + 64 + slot * 32;
            put(base, at, &encode_view_entry(Some(e)));
        }
    };
    // SAFETY: as above.
    unsafe { put(base, BASE_OFFSET, b"garbage!") };
    // SAFETY: a refused attach changes no slot.
    let r = unsafe { sys::view_attach(view) };
    ensure!(r == Err(SysError::InvalidArgument), "garbage attach: {r:?}");
    write_good(64);
    // SAFETY: the new view keeps the view object in the same slot; the
    // other slots' handles are not used after this test.
    unsafe { sys::view_attach(view) }.map_err(err)?;
    for (at, bad) in [
        (BASE_OFFSET + 8, 9999u32),
        (BASE_OFFSET + 64 + slot * 32 + 16, 0x10),
        (BASE_OFFSET + 64 + slot * 32 + 20, 1),
    ] {
        // SAFETY: the view object is still mapped RW in `slot`.
        unsafe { put(base, at, &bad.to_le_bytes()) };
        let r = sys::kso_invalidate(view);
        write_good(64);
        ensure!(
            r == Err(SysError::InvalidArgument),
            "garbage at {at:#x}: {r:?}"
        );
    }
    sys::kso_invalidate(view).map_err(err)?;
    // SAFETY: still mapped (the good view keeps it).
    let v = unsafe { base.add(BASE_OFFSET as usize).read_volatile() };
    ensure!(
        v == b'P',
        "view object unreadable after the good invalidation"
    );
    Ok(())
}

fn figure3() -> Outcome {
    let child = sys::program_spawn("utest", "fig3").map_err(err)?;
    let code = sys::program_wait(child, 0).map_err(err)?;
    ensure!(
        code == EXIT_SECURITY_FAULT,
        "fig3 exited with {code:#x}, expected the security fault {EXIT_SECURITY_FAULT:#x}"
    );
    Ok(())
}

fn revoke_parent() -> Outcome {
    let child = sys::program_spawn("utest", "revoke").map_err(err)?;
    let code = sys::program_wait(child, 0).map_err(err)?;
    ensure!(
        code == EXIT_SECURITY_FAULT,
        "revoke exited with {code:#x}, expected the security fault"
    );
    Ok(())
}

/// `revoke`: a context granting RW is narrowed to R by its mask and
/// invalidated; the mapped object stays readable, and the next write is a
/// security fault (so this program never returns normally).
pub fn revoke() -> u64 {
    match revoke_steps() {
        Ok(()) => {
            println!("utest: revoke ... FAILED: the write after the invalidation was allowed")
        }
        Err(why) => println!("utest: revoke ... FAILED: {why}"),
    }
    1
}

fn revoke_steps() -> Outcome {
    let keys = new_keys().map_err(err)?;
    let target = sys::obj_create(SMALL, ObjFlags::EMPTY, Perms::EMPTY, keys.public).map_err(err)?;
    let (ctx, cbase) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
    // SAFETY: `cbase` is the context's RW mapping.
    unsafe { add_cap(cbase, 0, &keys, &grant(target, ctx, RW)) }.map_err(err)?;
    sys::ctx_attach(ctx).map_err(err)?;
    sys::ctx_activate(ctx).map_err(err)?;
    let word = (map(target, RW).map_err(err)? as u64 + BASE_OFFSET) as *mut u64;
    // SAFETY: mapped RW; the active context grants RW.
    unsafe { word.write_volatile(7) };
    println!("utest: revoke: write allowed while the context grants rw ... ok");
    let narrowed = protocols::kso::CtxHeader {
        flags: CtxFlags::EMPTY,
        mask: Perms::READ | Perms::USE,
        cap_count: 1,
    };
    // SAFETY: `cbase` is still mapped RW, and the context still allows
    // writing its own object until the invalidation.
    unsafe { put(cbase, BASE_OFFSET, &narrowed.encode()) };
    sys::kso_invalidate(ctx).map_err(err)?;
    let now = sys::ctx_check(ctx, target).map_err(err)?;
    ensure!(
        now == Perms::READ,
        "after narrowing the context grants {now:?}"
    );
    // SAFETY: still mapped; reading is still allowed.
    let v = unsafe { word.read_volatile() };
    ensure!(v == 7, "read {v}");
    println!("utest: revoke: read still allowed after narrowing to r ... ok");
    // SAFETY: meant to be refused with a security fault.
    unsafe { word.write_volatile(8) };
    Ok(())
}

/// Position-independent trusted code: `mov rax, [rdi]; ret`.
const TRUSTED_READ: [u8; 4] = [0x48, 0x8b, 0x07, 0xc3];

/// `fig3`: private data readable only in the trusted context; the untrusted
/// library runs in a second context; its call into trusted code switches
/// contexts automatically; its own read of the private data is a security
/// fault, so this program never returns normally.
pub fn fig3() -> u64 {
    match fig3_setup() {
        Ok(()) => {
            println!("utest: fig3 ... FAILED: the library's read was allowed");
            1
        }
        Err(why) => {
            println!("utest: fig3 ... FAILED: {why}");
            1
        }
    }
}

fn fig3_setup() -> Outcome {
    let keys = new_keys().map_err(err)?;
    let private =
        sys::obj_create(SMALL, ObjFlags::EMPTY, Perms::EMPTY, keys.public).map_err(err)?;
    let code = sys::obj_create(SMALL, ObjFlags::EMPTY, Perms::EMPTY, keys.public).map_err(err)?;
    let (trusted, tbase) = new_ctx(CtxFlags::ENTER_ON_EXEC_ONLY, Perms::ALL).map_err(err)?;
    let (untrusted, _) = new_ctx(CtxFlags::EMPTY, Perms::ALL).map_err(err)?;
    // SAFETY: `tbase` maps the trusted context RW.
    unsafe {
        add_cap(tbase, 0, &keys, &grant(private, trusted, RW)).map_err(err)?;
        add_cap(tbase, 1, &keys, &grant(code, trusted, RW | Perms::EXEC)).map_err(err)?;
    }
    sys::ctx_attach(trusted).map_err(err)?;
    sys::ctx_attach(untrusted).map_err(err)?;
    let data = sys::obj_map(1, private, RW).map_err(err)?;
    let code_rw = sys::obj_map(2, code, RW).map_err(err)? as *mut u8;
    let code_rx = sys::obj_map(3, code, Perms::READ | Perms::EXEC).map_err(err)?;
    let secret_at = data + BASE_OFFSET;
    sys::ctx_activate(trusted).map_err(err)?;
    // SAFETY: the trusted context grants RW on both objects, mapped RW.
    unsafe {
        (secret_at as *mut u64).write_volatile(0x5ec2e7);
        put(code_rw, BASE_OFFSET, &TRUSTED_READ);
    }
    println!("utest: fig3: private data written in the trusted context");
    sys::ctx_activate(untrusted).map_err(err)?;
    println!("utest: fig3: running the untrusted library");
    // SAFETY: `code_rx + BASE_OFFSET` holds `mov rax, [rdi]; ret`, a
    // complete C-ABI function of one pointer argument; `secret_at` is
    // readable in the context the call switches to.
    let trusted_read: extern "C" fn(u64) -> u64 =
        unsafe { core::mem::transmute((code_rx + BASE_OFFSET) as *const ()) };
    let v = trusted_read(secret_at);
    let now = sys::ctx_current().map_err(err)?;
    ensure!(v == 0x5ec2e7, "trusted code read {v:#x}");
    ensure!(now == trusted, "after the call the active context is {now}");
    println!("utest: fig3: call into trusted code switched contexts automatically ... ok");
    sys::ctx_activate(untrusted).map_err(err)?;
    println!("utest: fig3: the library reads the private data directly (must fault)");
    // SAFETY: the read is meant to be refused with a security fault.
    let v = unsafe { (secret_at as *const u64).read_volatile() };
    println!("utest: fig3: read {v:#x}");
    let _ = slot_address(0);
    Ok(())
}
