//! A host stand-in for the kernel's view: objects in heap memory at fake
//! slot addresses (tests and the benchmark; needs `std`).
//!
//! [`HeapStore`] plays the object store: it keeps each object's used bytes
//! (data up to the data top, and the header with its FOT). A
//! [`HeapMapper`] plays one program's view: mapping an object copies its
//! image into a fresh slot — a separate lazily-zeroed 1 GiB allocation, so
//! each program sees the object at a different address and slot number —
//! and [`HeapMapper::snapshot`] writes every mapped object back.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::rc::Rc;
use std::vec::Vec;

use protocols::object::{
    BASE_OFFSET, FOT_ENTRY_SIZE, HEADER_OFFSET, NULL_PAGE_SIZE, ObjHeader, ObjId, Perms, SLOT_SIZE,
};

use crate::mem::ObjMem;
use crate::space::{MapError, Mapper, SlotBase};

/// One slot's memory: `SLOT_SIZE` bytes, page aligned, zeroed lazily.
///
/// The allocation asks for the allocator's natural alignment and one page
/// more, then aligns by hand: an over-aligned zeroed allocation would be
/// `memalign` plus a `memset` of the whole gigabyte, while a plain one is a
/// fresh, untouched `mmap` (`calloc`).
struct SlotBuf {
    raw: NonNull<u8>,
    base: NonNull<u8>,
}

fn slot_layout() -> Layout {
    Layout::from_size_align((SLOT_SIZE + NULL_PAGE_SIZE) as usize, 16).expect("slot layout")
}

impl SlotBuf {
    fn new() -> SlotBuf {
        // SAFETY: the layout has a non-zero size.
        let raw = NonNull::new(unsafe { alloc_zeroed(slot_layout()) })
            .expect("out of memory for a 1 GiB slot");
        let pad = raw.as_ptr().align_offset(NULL_PAGE_SIZE as usize);
        // SAFETY: `pad < NULL_PAGE_SIZE`, and the allocation has that many
        // spare bytes past SLOT_SIZE, so the base stays inside it.
        let base = unsafe { raw.add(pad) };
        SlotBuf { raw, base }
    }
    fn mem(&self) -> ObjMem {
        // SAFETY: `base` starts a live, page-aligned, read-write run of
        // SLOT_SIZE bytes, freed only when the owning mapper is dropped.
        unsafe { ObjMem::new(self.base, true) }
    }
}

impl Drop for SlotBuf {
    fn drop(&mut self) {
        // SAFETY: allocated by `SlotBuf::new` with the same layout.
        unsafe { dealloc(self.raw.as_ptr(), slot_layout()) };
    }
}

/// An object's used bytes.
#[derive(Clone, Debug)]
struct Image {
    data: Vec<u8>,
    meta_start: u64,
    meta: Vec<u8>,
}

/// The object store of the host fake: object images by ID.
#[derive(Clone, Debug, Default)]
pub struct HeapStore {
    images: BTreeMap<ObjId, Image>,
}

impl HeapStore {
    /// How many objects the store holds.
    pub fn len(&self) -> usize {
        self.images.len()
    }
    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}

struct Heap {
    store: HeapStore,
    first_slot: usize,
    slots: Vec<(ObjId, SlotBuf, Perms)>,
}

/// A fake view: maps objects into heap slots. Clones share the view, so a
/// test can keep one while its [`crate::Space`] owns another.
#[derive(Clone)]
pub struct HeapMapper(Rc<RefCell<Heap>>);

impl HeapMapper {
    /// An empty view whose slots are numbered from `first_slot`.
    pub fn new(first_slot: usize) -> HeapMapper {
        Self::with_store(HeapStore::default(), first_slot)
    }

    /// A view over the objects of `store`, slots numbered from `first_slot`.
    pub fn with_store(store: HeapStore, first_slot: usize) -> HeapMapper {
        HeapMapper(Rc::new(RefCell::new(Heap {
            store,
            first_slot,
            slots: Vec::new(),
        })))
    }

    /// Creates object `id` with `header` and maps it read-write.
    pub fn create(&self, id: ObjId, header: &ObjHeader) -> SlotBase {
        let mut h = self.0.borrow_mut();
        let buf = SlotBuf::new();
        buf.mem()
            .write_header(header)
            .expect("a heap slot is writable");
        let base = SlotBase(buf.base);
        h.slots.push((id, buf, Perms::READ | Perms::WRITE));
        base
    }

    /// The slot number object `id` is mapped in, if it is.
    pub fn slot_of(&self, id: ObjId) -> Option<usize> {
        let h = self.0.borrow();
        h.slots
            .iter()
            .position(|s| s.0 == id)
            .map(|i| h.first_slot + i)
    }

    /// How many times objects were mapped.
    pub fn mapped(&self) -> usize {
        self.0.borrow().slots.len()
    }

    /// The store with every mapped object's current bytes written back.
    pub fn snapshot(&self) -> HeapStore {
        let h = self.0.borrow();
        let mut store = h.store.clone();
        for (id, buf, _) in &h.slots {
            let mem = buf.mem();
            let Ok(hdr) = mem.header() else { continue };
            let data_len = hdr.data_top.max(BASE_OFFSET + NULL_PAGE_SIZE);
            let mut data = vec![0u8; data_len as usize];
            mem.read_bytes(0, &mut data);
            let meta_start = HEADER_OFFSET - u64::from(hdr.fot_count) * FOT_ENTRY_SIZE;
            let mut meta = vec![0u8; (SLOT_SIZE - meta_start) as usize];
            mem.read_bytes(meta_start, &mut meta);
            store.images.insert(
                *id,
                Image {
                    data,
                    meta_start,
                    meta,
                },
            );
        }
        store
    }
}

// SAFETY: slots are page-aligned, read-write SLOT_SIZE allocations owned by
// the shared `Heap`, which lives as long as any clone of the mapper; an
// object already mapped is returned at the same base.
unsafe impl Mapper for HeapMapper {
    fn map(&mut self, id: ObjId, prot: Perms) -> Result<SlotBase, MapError> {
        let mut h = self.0.borrow_mut();
        if let Some(slot) = h.slots.iter_mut().find(|s| s.0 == id) {
            slot.2 = slot.2.union(prot);
            return Ok(SlotBase(slot.1.base));
        }
        let image = h.store.images.get(&id).ok_or(MapError::NotFound(id))?;
        let buf = SlotBuf::new();
        let mem = buf.mem();
        mem.copy_in(0, &image.data)
            .map_err(|_| MapError::NoFreeSlot)?;
        mem.copy_in(image.meta_start, &image.meta)
            .map_err(|_| MapError::NoFreeSlot)?;
        let base = SlotBase(buf.base);
        h.slots.push((id, buf, prot));
        Ok(base)
    }
}
