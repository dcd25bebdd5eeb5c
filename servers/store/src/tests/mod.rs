//! Host tests of the store: operations and reopening, space reuse, page
//! lookups, the checker on corrupted metadata ([`corrupt`]) and the power
//! cut campaign ([`crash`]).

mod corrupt;
mod crash;
mod server;
mod shutdown;

use protocols::object::{BASE_OFFSET, HEADER_OFFSET, ObjFlags, ObjHeader, ObjId, Perms, SLOT_SIZE};

use crate::dir::SLOT_PAGES;
use crate::{CreateSpec, FormatOptions, OpenError, PAGE, Pmem, Store, StoreError, VecPmem};

/// A 1 MiB region: 256 pages, of which 240 or so are data pages.
pub(crate) const SIZE: usize = 1 << 20;

pub(crate) fn spec(size: u64) -> CreateSpec {
    CreateSpec {
        size,
        flags: ObjFlags::EMPTY,
        default_perms: Perms::READ | Perms::WRITE,
        key: ObjId::from_u128(0x004b_4559),
    }
}

pub(crate) fn id(n: u128) -> ObjId {
    ObjId::from_u128(0x1d00_0000 + n)
}

pub(crate) fn fresh() -> Store<VecPmem> {
    let opts = FormatOptions {
        dir_entries: Some(32),
    };
    Store::format(VecPmem::new(SIZE), opts).expect("formats")
}

pub(crate) fn reopen(s: Store<VecPmem>) -> Store<VecPmem> {
    Store::open(s.into_pmem()).expect("reopens clean")
}

#[test]
fn create_write_reopen_read_back() {
    let mut s = fresh();
    assert_eq!(s.generation(), 0);
    let info = s.create(id(1), 77, &spec(10_000)).unwrap();
    assert_eq!((info.size, info.pages), (10_000, 1 + 3));
    assert!(info.flags.contains(ObjFlags::PERSISTENT), "implied");
    let data: std::vec::Vec<u8> = (0..6000u32).map(|i| (i * 7) as u8).collect();
    s.write(id(1), 3000, &data).unwrap();
    s.create(id(2), 78, &spec(0)).unwrap();
    let free = s.free_pages();

    let s = reopen(s);
    assert_eq!(s.generation(), 1);
    let s = reopen(s);
    assert_eq!(s.generation(), 2);
    assert_eq!(s.free_pages(), free);
    let mut back = vec![0u8; 10_000];
    s.read(id(1), 0, &mut back).unwrap();
    assert!(
        back[..3000].iter().all(|&b| b == 0),
        "new objects are zeroed"
    );
    assert_eq!(&back[3000..9000], &data[..]);
    assert!(back[9000..].iter().all(|&b| b == 0));
    assert_eq!(s.stat(id(2)).map(|i| i.pages), Ok(1));
    assert!(s.check().is_clean(), "{}", s.check());
}

#[test]
fn the_object_header_is_written_at_the_top_of_the_slot() {
    let mut s = fresh();
    let spec = CreateSpec {
        flags: ObjFlags::KSO,
        ..spec(100)
    };
    s.create(id(5), 0xabcdef, &spec).unwrap();
    let top = s.page(id(5), SLOT_PAGES - 1).unwrap();
    let mut h = [0u8; 64];
    s.pmem().read(top + HEADER_OFFSET % PAGE, &mut h);
    let h = ObjHeader::decode(&h).unwrap();
    assert_eq!(h.nonce, 0xabcdef);
    assert_eq!(h.key_id, spec.key);
    assert_eq!(h.default_perms, spec.default_perms);
    assert_eq!(h.flags, ObjFlags::KSO | ObjFlags::PERSISTENT);
}

#[test]
fn page_lookups_answer_the_kernel() {
    let mut s = fresh();
    s.create(id(1), 1, &spec(3 * PAGE + 1)).unwrap();
    let g = *s.geometry();
    let data_page = |p: u64| s.page(id(1), p);
    assert_eq!(data_page(0), Err(StoreError::NullPage));
    for p in 1..=4 {
        let off = data_page(p).unwrap();
        assert!(off >= g.data_off && off < g.size && off % PAGE == 0);
    }
    assert_eq!(data_page(5), Err(StoreError::NotBacked));
    assert_eq!(data_page(SLOT_PAGES - 2), Err(StoreError::NotBacked));
    assert!(data_page(SLOT_PAGES - 1).is_ok(), "the header page");
    assert_eq!(data_page(SLOT_SIZE / PAGE), Err(StoreError::NotBacked));
    assert_eq!(s.page(id(9), 1), Err(StoreError::NotFound));
    // The mapping agrees with read/write: byte 0 of the data area is at
    // slot offset BASE_OFFSET, i.e. the start of slot page 1.
    s.write(id(1), PAGE + 5, b"hello").unwrap();
    let off = s.page(id(1), (BASE_OFFSET + PAGE) / PAGE).unwrap();
    let mut b = [0u8; 5];
    s.pmem().read(off + 5, &mut b);
    assert_eq!(&b, b"hello");
}

#[test]
fn delete_frees_space_and_the_space_is_reused() {
    let mut s = fresh();
    let all = s.free_pages();
    let big = u64::from(all - 1) * PAGE; // one metadata page + the rest
    s.create(id(1), 1, &spec(big)).unwrap();
    assert_eq!(s.free_pages(), 0);
    assert_eq!(s.create(id(2), 2, &spec(0)), Err(StoreError::NoSpace));
    s.write(id(1), 0, &[0xee; 4096]).unwrap();
    s.delete(id(1)).unwrap();
    assert_eq!(s.free_pages(), all);
    assert_eq!(s.stat(id(1)), Err(StoreError::NotFound));
    assert_eq!(s.delete(id(1)), Err(StoreError::NotFound));
    // The same pages again, zeroed, for another object; after a reopen too.
    let mut s = reopen(s);
    assert_eq!(s.free_pages(), all);
    s.create(id(2), 2, &spec(big)).unwrap();
    let mut b = [1u8; 4096];
    s.read(id(2), 0, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 0), "reused pages are zeroed");
    assert!(s.check().is_clean());
}

#[test]
fn resize_grows_with_zeros_and_shrinks_back_to_free_space() {
    let mut s = fresh();
    let all = s.free_pages();
    s.create(id(1), 1, &spec(5000)).unwrap();
    s.write(id(1), 0, &[7; 5000]).unwrap();
    // Shrink inside the last page, then grow over the stale bytes.
    s.resize(id(1), 4500).unwrap();
    s.resize(id(1), 5000).unwrap();
    let mut b = vec![0u8; 5000];
    s.read(id(1), 0, &mut b).unwrap();
    assert!(b[..4500].iter().all(|&x| x == 7));
    assert!(
        b[4500..].iter().all(|&x| x == 0),
        "grown bytes read as zero"
    );
    // Block the in-place extension, then grow: a second extent.
    s.create(id(2), 2, &spec(PAGE)).unwrap();
    let info = s.resize(id(1), 10 * PAGE).unwrap();
    assert_eq!(info.pages, 11);
    s.write(id(1), 9 * PAGE, &[3; 4096]).unwrap();
    let s2 = reopen(s);
    let mut s = s2;
    let mut b = vec![0u8; 4096];
    s.read(id(1), 9 * PAGE, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 3));
    s.resize(id(1), 0).unwrap();
    assert_eq!(s.stat(id(1)).unwrap().pages, 1);
    s.delete(id(2)).unwrap();
    s.delete(id(1)).unwrap();
    assert_eq!(s.free_pages(), all);
    assert!(s.check().is_clean());
}

#[test]
fn refused_operations_change_nothing() {
    let mut s = fresh();
    s.create(id(1), 1, &spec(10)).unwrap();
    let before = s.pmem().clone();
    assert_eq!(s.create(id(1), 1, &spec(10)), Err(StoreError::Exists));
    assert_eq!(s.create(ObjId::NIL, 1, &spec(10)), Err(StoreError::NilId));
    assert_eq!(
        s.create(id(2), 1, &spec(crate::dir::MAX_SIZE + 1)),
        Err(StoreError::TooLarge)
    );
    assert_eq!(s.create(id(2), 1, &spec(1 << 29)), Err(StoreError::NoSpace));
    assert_eq!(s.resize(id(1), 1 << 29), Err(StoreError::NoSpace));
    assert_eq!(s.write(id(1), 5, &[1; 6]), Err(StoreError::OutOfRange));
    assert_eq!(s.write(id(1), u64::MAX, &[1]), Err(StoreError::OutOfRange));
    assert_eq!(s.read(id(1), 11, &mut [0; 0]), Err(StoreError::OutOfRange));
    assert_eq!(s.stat(id(3)), Err(StoreError::NotFound));
    assert_eq!(s.pmem(), &before);
    for i in 2..=32 {
        let r = s.create(id(i), 1, &spec(0));
        assert_eq!(r.is_ok(), i <= 32);
    }
    assert_eq!(
        s.create(id(99), 1, &spec(0)),
        Err(StoreError::DirectoryFull)
    );
}

#[test]
fn listing_walks_the_directory_in_pages() {
    let mut s = fresh();
    for i in 1..=10 {
        s.create(id(i), 1, &spec(i as u64)).unwrap();
    }
    s.delete(id(4)).unwrap();
    let mut seen = std::vec::Vec::new();
    let mut cursor = 0;
    loop {
        let (page, next) = s.list(cursor, 3);
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|i| i.id));
        match next {
            Some(c) => cursor = c,
            None => break,
        }
    }
    let expected: std::vec::Vec<ObjId> = (1..=10).filter(|&i| i != 4).map(id).collect();
    assert_eq!(seen, expected);
}

#[test]
fn open_refuses_what_is_not_a_store() {
    assert!(matches!(
        Store::open(VecPmem::new(SIZE)),
        Err(OpenError::NotFormatted(_))
    ));
    assert!(matches!(
        Store::open(VecPmem::new(100)),
        Err(OpenError::NotFormatted(_))
    ));
    assert!(Store::format(VecPmem::new(5 * 4096), FormatOptions { dir_entries: None }).is_err());
}

#[test]
fn the_mapped_pmem_works_over_real_memory() {
    let mut buf = vec![0u8; SIZE];
    // SAFETY: `buf` outlives both stores and nothing else touches it
    // while they live.
    let pm = unsafe { crate::MappedPmem::new(buf.as_mut_ptr(), buf.len()) };
    let mut s = Store::format(pm, FormatOptions { dir_entries: None }).unwrap();
    s.create(id(1), 1, &spec(100)).unwrap();
    s.write(id(1), 0, b"durable").unwrap();
    drop(s);
    // SAFETY: as above.
    let pm = unsafe { crate::MappedPmem::new(buf.as_mut_ptr(), buf.len()) };
    let s = Store::open(pm).unwrap();
    let mut b = [0u8; 7];
    s.read(id(1), 0, &mut b).unwrap();
    assert_eq!(&b, b"durable");
}
