//! Host tests of the object runtime over the heap-backed fake view.

use std::vec::Vec;

use protocols::fot::{FotError, FotFlags, FotTarget, MAX_FOT_INDEX, MAX_OFFSET, PtrError, claim};
use protocols::object::{BASE_OFFSET, DATA_END, HeaderError, ObjFlags, ObjHeader, ObjId, Perms};

use crate::host::{HeapMapper, HeapStore};
use crate::*;

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

const RW: Perms = Perms::READ.union(Perms::WRITE);

fn id(n: u128) -> ObjId {
    ObjId::from_u128(0x0b1e_c700 + n)
}

fn header(flags: ObjFlags) -> ObjHeader {
    ObjHeader::new(1, ObjId::NIL, Perms::READ, flags)
}

/// A fresh view with objects `ids` created in it.
fn world(ids: &[ObjId]) -> (HeapMapper, std::rc::Rc<Space>) {
    let mapper = HeapMapper::new(0);
    for &i in ids {
        mapper.create(i, &header(ObjFlags::PERSISTENT));
    }
    (mapper.clone(), Space::new(mapper))
}

/// Builds a list of `n` nodes (value `i * 7 + 1`), node `i` in object
/// `objs[i % 3]`, headed from object 0's root.
fn build_list(space: &std::rc::Rc<Space>, objs: [ObjId; 3], n: usize) {
    let o: Vec<Object<Root>> = objs
        .iter()
        .map(|&i| space.open::<Root>(i, RW).unwrap())
        .collect();
    o[0].init(Root {
        head: InvPtr::null(),
        len: n as u64,
    })
    .unwrap();
    let nodes: Vec<Ref<'_, Node>> = (0..n)
        .map(|i| {
            o[i % 3]
                .alloc(Node {
                    value: i as u64 * 7 + 1,
                    next: InvPtr::null(),
                })
                .unwrap()
        })
        .collect();
    for i in 0..n - 1 {
        let next = nodes[i].holder().ptr_to(&nodes[i + 1]).unwrap();
        nodes[i]
            .write(Node {
                value: i as u64 * 7 + 1,
                next,
            })
            .unwrap();
    }
    let head = o[0].holder().ptr_to(&nodes[0]).unwrap();
    o[0].base()
        .write(Root {
            head,
            len: n as u64,
        })
        .unwrap();
}

fn traverse(root: &Object<Root>) -> Vec<u64> {
    let mut out = Vec::new();
    let mut holder = root.holder();
    let mut p = root.base().read().head;
    while !p.is_null() {
        let r = p.resolve(holder).unwrap();
        let node = r.read();
        out.push(node.value);
        p = node.next;
        holder = r.holder();
    }
    out
}

#[test]
fn pointer_encoding_edge_cases() {
    let null = InvPtr::<u64>::null();
    assert!(null.is_null() && null.raw() == 0 && null.index() == 0 && null.offset() == 0);
    let max = InvPtr::<u64>::new(MAX_FOT_INDEX, MAX_OFFSET).unwrap();
    assert_eq!(
        (max.raw(), max.index(), max.offset()),
        (u64::MAX, (1 << 24) - 1, (1 << 40) - 1)
    );
    assert_eq!(
        InvPtr::<u64>::new(MAX_FOT_INDEX + 1, 0),
        Err(PtrError::IndexTooLarge(1 << 24))
    );
    assert_eq!(
        InvPtr::<u64>::local(MAX_OFFSET + 1),
        Err(PtrError::OffsetTooLarge(1 << 40))
    );
    assert_eq!(
        InvPtr::<u64>::new(5, 0x40).unwrap().byte_add(8).unwrap(),
        InvPtr::new(5, 0x48).unwrap()
    );
    assert!(
        InvPtr::<u64>::local(MAX_OFFSET)
            .unwrap()
            .byte_add(1)
            .is_err()
    );
    assert_eq!(core::mem::size_of::<InvPtr<Node>>(), 8);
    assert_eq!(
        InvPtr::<Node>::from_raw((3 << 40) | 0x1000)
            .cast::<u8>()
            .offset(),
        0x1000
    );
}

#[test]
fn resolution_checks_every_pointer() {
    let (_m, space) = world(&[id(1)]);
    let a = space.open::<u64>(id(1), RW).unwrap();
    a.init(9).unwrap();
    let r = |raw| InvPtr::<u64>::from_raw(raw).resolve(&a).map(|r| r.read());
    assert_eq!(r(0), Err(ObjError::Null));
    assert_eq!(r(BASE_OFFSET), Ok(9));
    assert_eq!(
        r(8),
        Err(ObjError::OutOfRange(8)),
        "the null page never resolves"
    );
    assert_eq!(
        r(BASE_OFFSET + 4),
        Err(ObjError::Misaligned(BASE_OFFSET + 4))
    );
    assert_eq!(r(DATA_END - 8).map(|_| ()), Ok(()));
    assert_eq!(
        r(DATA_END),
        Err(ObjError::OutOfRange(DATA_END)),
        "metadata is not data"
    );
    assert_eq!(r(MAX_OFFSET), Err(ObjError::OutOfRange(MAX_OFFSET)));
    assert_eq!(r((1 << 40) | BASE_OFFSET), Err(ObjError::BadIndex(1)));
    assert_eq!(r(u64::MAX), Err(ObjError::BadIndex(MAX_FOT_INDEX)));
}

#[test]
fn a_list_across_three_objects_reads_the_same_from_other_slots() {
    let objs = [id(1), id(2), id(3)];
    let (m1, s1) = world(&objs);
    build_list(&s1, objs, 30);
    let root1 = s1.open::<Root>(objs[0], Perms::READ).unwrap();
    let expected: Vec<u64> = (0..30).map(|i| i * 7 + 1).collect();
    assert_eq!(traverse(&root1), expected);
    let store: HeapStore = m1.snapshot();
    assert_eq!(store.len(), 3);

    // Another program: a different view, slots numbered from 100, objects
    // mapped in another order, at other addresses.
    let m2 = HeapMapper::with_store(store, 100);
    let s2 = Space::new(m2.clone());
    let c = s2.open::<Root>(objs[2], Perms::READ).unwrap();
    let root2 = s2.open::<Root>(objs[0], Perms::READ).unwrap();
    assert_eq!(traverse(&root2), expected);
    for &o in &objs {
        assert_ne!(m1.slot_of(o), m2.slot_of(o), "object {o} in the same slot");
    }
    assert_ne!(
        root1.mapping_info().mem().base(),
        root2.mapping_info().mem().base()
    );
    assert_eq!(c.holder().fot_count(), 1, "C points only at A");
    assert_eq!(s2.mapped(), 3);
}

#[test]
fn an_already_mapped_pointer_hits_the_cache() {
    let objs = [id(1), id(2), id(3)];
    let (m, space) = world(&objs);
    build_list(&space, objs, 9);
    let root = space.open::<Root>(objs[0], Perms::READ).unwrap();
    let maps = m.mapped();
    let first = traverse(&root);
    assert_eq!(traverse(&root), first);
    assert_eq!(m.mapped(), maps, "no object mapped twice");
    let a = root.holder();
    let p = root.base().read().head;
    let r1 = p.resolve(a).unwrap();
    assert_eq!(r1.as_ptr(), p.resolve(a).unwrap().as_ptr());
}

#[test]
fn pointers_to_one_object_share_one_counted_entry() {
    let (_m, space) = world(&[id(1), id(2), id(3)]);
    let a = space.open::<Root>(id(1), RW).unwrap();
    let b = space.open::<u64>(id(2), RW).unwrap();
    let c = space.open::<u64>(id(3), RW).unwrap();
    let bs: Vec<_> = (0..50).map(|i| b.alloc(i as u64).unwrap()).collect();
    let h = a.holder();
    let ptrs: Vec<_> = bs.iter().map(|r| h.ptr_to(r).unwrap()).collect();
    assert!(ptrs.iter().all(|p| p.index() == 1));
    assert_eq!(h.fot_count(), 1);
    let e = h.fot_entry(1).unwrap();
    assert_eq!(
        (e.target, e.flags, claim::refs(e.claim)),
        (FotTarget::Id(id(2)), FotFlags::READ | FotFlags::WRITE, 50)
    );
    let pc = h.ptr_to(&c.alloc(7u64).unwrap()).unwrap();
    assert_eq!((pc.index(), h.fot_count()), (2, 2));
    // The same object asked for with other protections is another entry.
    let space2_b = space.open::<u64>(id(2), Perms::READ).unwrap();
    assert_eq!(
        space2_b.mapping_info().prot(),
        RW,
        "one mapping per object, protections widened"
    );
    // Local pointers use no entry.
    let local = h.ptr_to(&a.alloc(1u64).unwrap()).unwrap();
    assert_eq!((local.index(), h.fot_count()), (0, 2));
    for (p, r) in ptrs.iter().zip(&bs) {
        assert_eq!(p.resolve(h).unwrap().read(), r.read());
    }
}

#[test]
fn refcounts_free_and_reuse_entries() {
    let (_m, space) = world(&[id(1), id(2), id(3)]);
    let a = space.open::<Root>(id(1), RW).unwrap();
    let b = space.open::<u64>(id(2), RW).unwrap();
    let c = space.open::<u64>(id(3), RW).unwrap();
    let h = a.holder();
    let p1 = h.ptr_to(&b.alloc(1u64).unwrap()).unwrap();
    let p2 = h.ptr_to(&b.alloc(2u64).unwrap()).unwrap();
    let gen1 = claim::generation(h.fot_entry(1).unwrap().claim);
    assert_eq!(h.release(p1), Ok(1));
    assert_eq!(p2.resolve(h).unwrap().read(), 2);
    assert_eq!(h.release(p2), Ok(0));
    assert_eq!(h.fot_entry(1), Err(ObjError::Entry(FotError::Free)));
    assert_eq!(h.release(p2), Err(ObjError::Entry(FotError::Free)));
    assert_eq!(
        p2.resolve(h).map(|r| r.read()),
        Err(ObjError::Entry(FotError::Free)),
        "a freed entry no longer resolves"
    );
    let pc = h.ptr_to(&c.alloc(3u64).unwrap()).unwrap();
    assert_eq!(
        (pc.index(), h.fot_count()),
        (1, 1),
        "the free entry is reused"
    );
    let e = h.fot_entry(1).unwrap();
    assert_eq!(
        (e.target, claim::refs(e.claim), claim::generation(e.claim)),
        (FotTarget::Id(id(3)), 1, gen1 + 1)
    );
    assert_eq!(pc.resolve(h).unwrap().read(), 3);
}

#[test]
fn rebinding_one_entry_moves_every_pointer_using_it() {
    let objs = [id(1), id(2), id(3)];
    let (_m, space) = world(&objs);
    let a = space.open::<Root>(id(1), RW).unwrap();
    let b = space.open::<u64>(id(2), RW).unwrap();
    let c = space.open::<u64>(id(3), RW).unwrap();
    // B and C hold values at the same offsets: B: i, C: 1000 + i.
    let bs: Vec<_> = (0..10).map(|i| b.alloc(i as u64).unwrap()).collect();
    let cs: Vec<_> = (0..10).map(|i| c.alloc(1000 + i as u64).unwrap()).collect();
    assert!(bs.iter().zip(&cs).all(|(x, y)| x.offset() == y.offset()));
    let h = a.holder();
    let ptrs: Vec<InvPtr<u64>> = bs.iter().map(|r| h.ptr_to(r).unwrap()).collect();
    let read = |ps: &[InvPtr<u64>]| {
        ps.iter()
            .map(|p| p.resolve(h).unwrap().read())
            .collect::<Vec<_>>()
    };
    assert_eq!(read(&ptrs), (0..10).collect::<Vec<u64>>());
    h.rebind(1, id(3)).unwrap();
    assert_eq!(read(&ptrs), (1000..1010).collect::<Vec<u64>>());
    assert!(ptrs.iter().all(|p| p.resolve(h).unwrap().id() == id(3)));
    assert_eq!(
        claim::refs(h.fot_entry(1).unwrap().claim),
        10,
        "references survive a rebind"
    );
    assert_eq!(h.rebind(2, id(3)), Err(ObjError::BadIndex(2)));
}

#[test]
fn kernel_state_objects_hold_no_pointers() {
    let mapper = HeapMapper::new(0);
    mapper.create(id(1), &header(ObjFlags::KSO));
    mapper.create(id(2), &header(ObjFlags::EMPTY));
    let space = Space::new(mapper);
    let kso = space.open::<u64>(id(1), RW).unwrap();
    let b = space.open::<u64>(id(2), RW).unwrap();
    let target = b.alloc(1u64).unwrap();
    assert_eq!(
        kso.holder().ptr_to(&target),
        Err(ObjError::KsoHoldsNoPointers)
    );
}

#[test]
fn writes_need_a_writable_mapping_and_headers_must_decode() {
    let mapper = HeapMapper::new(0);
    mapper.create(id(1), &header(ObjFlags::EMPTY));
    let mut bad = header(ObjFlags::EMPTY);
    bad.fot_count = u32::MAX;
    mapper.create(id(2), &bad);
    mapper.create(id(3), &header(ObjFlags::EMPTY));
    let space = Space::new(mapper);
    let rw = space.open::<u64>(id(3), RW).unwrap();
    let target = rw.alloc(5u64).unwrap();
    let ro = space.open::<u64>(id(1), Perms::READ).unwrap();
    assert_eq!(ro.base().write(1), Err(ObjError::NotWritable));
    assert_eq!(
        ro.holder().ptr_to(&target),
        Err(ObjError::NotWritable),
        "storing a pointer writes the FOT"
    );
    assert_eq!(ro.holder().fot_count(), 0);
    assert_eq!(ro.alloc(1u64).map(|_| ()), Err(ObjError::NotWritable));
    assert_eq!(
        space.open::<u64>(id(2), RW).map(|_| ()),
        Err(ObjError::Header(HeaderError::FotTooLarge(u32::MAX)))
    );
    assert_eq!(
        space.open::<u64>(id(9), RW).map(|_| ()),
        Err(ObjError::Map(MapError::NotFound(id(9))))
    );
}

struct Names;
impl NameResolver for Names {
    fn resolve(&mut self, resolver: ObjId, name: &[u8]) -> Option<ObjId> {
        (resolver == ObjId::NIL && name == b"current").then_some(id(3))
    }
}

#[test]
fn name_entries_resolve_late_through_a_resolver() {
    let (_m, space) = world(&[id(1), id(3)]);
    let a = space.open::<Root>(id(1), RW).unwrap();
    let c = space.open::<u64>(id(3), RW).unwrap();
    let target = c.alloc(77u64).unwrap();
    let name = a.alloc(*b"current").unwrap();
    let index = fot::add(
        &a.mapping_info().mem(),
        FotTarget::Name {
            offset: name.offset(),
            len: 7,
            resolver: ObjId::NIL,
        },
        FotFlags::READ,
    )
    .unwrap();
    let p = InvPtr::<u64>::new(index, target.offset()).unwrap();
    assert_eq!(
        p.resolve(&a).map(|r| r.read()),
        Err(ObjError::NameUnresolved)
    );
    space.set_name_resolver(Names);
    assert_eq!(p.resolve(&a).unwrap().read(), 77);
}

#[test]
fn the_bump_allocator_stays_in_the_data_area() {
    let (_m, space) = world(&[id(1)]);
    let a = space.open::<[u64; 4]>(id(1), RW).unwrap();
    let first = a.alloc(1u8).unwrap();
    assert_eq!(first.offset(), BASE_OFFSET + 32, "the base is reserved");
    let second = a.alloc(2u64).unwrap();
    assert_eq!(second.offset(), BASE_OFFSET + 40, "aligned");
    assert_eq!(a.header().unwrap().data_top, BASE_OFFSET + 48);
    // Jump to the end of the data area without touching a gigabyte.
    let mem = a.mapping_info().mem();
    mem.data_top()
        .store(DATA_END - 12, core::sync::atomic::Ordering::Release);
    assert_eq!(a.alloc(3u32).unwrap().offset(), DATA_END - 12);
    assert_eq!(a.alloc(4u32).unwrap().offset(), DATA_END - 8);
    assert_eq!(
        a.alloc(5u64).map(|_| ()),
        Err(ObjError::OutOfSpace),
        "would cross into the metadata"
    );
    assert_eq!(a.alloc(6u32).unwrap().offset(), DATA_END - 4);
    assert_eq!(a.header().unwrap().data_top, DATA_END);
    assert_eq!(a.alloc(7u8).map(|_| ()), Err(ObjError::OutOfSpace));
}
