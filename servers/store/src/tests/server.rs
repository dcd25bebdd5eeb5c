//! The store behind its generated interfaces, end to end over a
//! `Loopback`: every gate, listing with a cursor, the checker's report,
//! the kernel's page lookups, and a restart (a reopen of the same pmem)
//! that the old binding sees as `ServerRestarted` before it rebinds.

use protocols::ipc::{Bytes, CallError, Loopback};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::objstore::{self, MAX_RW, pager};

use super::SIZE;
use crate::dir::SLOT_PAGES;
use crate::{CreateSpec, FormatOptions, IdSource, Store, StoreError, StoreServer, VecPmem};

/// Sequential IDs (the guest hashes a random nonce).
struct Counter(u128);

impl IdSource for Counter {
    fn assign(&mut self, spec: &CreateSpec) -> (ObjId, u128) {
        assert!(spec.flags.contains(ObjFlags::PERSISTENT));
        self.0 += 1;
        (ObjId::from_u128(0x5000 + self.0), self.0)
    }
}

type Server = StoreServer<VecPmem, Counter>;

fn server(pmem: Option<VecPmem>) -> objstore::Service<Server> {
    let store = match pmem {
        None => Store::format(
            VecPmem::new(SIZE),
            FormatOptions {
                dir_entries: Some(32),
            },
        )
        .unwrap(),
        Some(p) => Store::open(p).unwrap(),
    };
    objstore::Service(StoreServer {
        store,
        ids: Counter(100),
    })
}

fn spec(size: u64) -> CreateSpec {
    CreateSpec {
        size,
        flags: ObjFlags::EMPTY,
        default_perms: Perms::READ,
        key: ObjId::NIL,
    }
}

fn bytes(b: &[u8]) -> Bytes<MAX_RW> {
    Bytes::from_slice(b).unwrap()
}

#[test]
fn every_gate_works_through_the_generated_client() {
    let mut c = objstore::Client::new(Loopback::new(server(None)));
    let a = c.create(spec(100)).unwrap();
    assert!(a.flags.contains(ObjFlags::PERSISTENT));
    c.write(a.id, 10, bytes(b"hello")).unwrap();
    assert_eq!(c.read(a.id, 8, 9), Ok(bytes(b"\0\0hello\0\0")));
    assert_eq!(
        c.read(a.id, 0, MAX_RW as u32 + 1),
        Err(CallError::Server(StoreError::TooLarge))
    );
    assert_eq!(
        c.read(a.id, 96, 5),
        Err(CallError::Server(StoreError::OutOfRange))
    );
    assert_eq!(c.resize(a.id, 9000).map(|i| i.pages), Ok(4));
    assert_eq!(c.stat(a.id).map(|i| i.size), Ok(9000));
    for n in 0..20 {
        c.create(spec(n)).unwrap();
    }
    let mut seen = 0;
    let mut cursor = 0;
    loop {
        let page = c.list(cursor, 7).unwrap();
        assert!(page.objects.len() <= 7);
        seen += page.objects.len();
        match page.next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(seen, 21);
    let report = c.check().unwrap();
    assert_eq!(report.findings, 0);
    assert!(report.text.ends_with("clean"), "{}", report.text);
    c.delete(a.id).unwrap();
    assert_eq!(c.stat(a.id), Err(CallError::Server(StoreError::NotFound)));
}

#[test]
fn the_pager_answers_with_the_frames_read_and_write_use() {
    let mut c = objstore::Client::new(Loopback::new(server(None)));
    let a = c.create(spec(2 * 4096)).unwrap();
    c.write(a.id, 4096 + 1, bytes(b"page two")).unwrap();
    let service = c.transport_mut().server_mut();
    let mut p = pager::Client::new(Loopback::new(pager::Service(&mut service.0)));
    assert_eq!(
        p.lookup(a.id, 0),
        Err(CallError::Server(StoreError::NullPage))
    );
    assert_eq!(
        p.lookup(a.id, 3),
        Err(CallError::Server(StoreError::NotBacked))
    );
    assert!(
        p.lookup(a.id, SLOT_PAGES as u32 - 1).is_ok(),
        "the header page"
    );
    let off = p.lookup(a.id, 2).unwrap();
    let mut b = [0u8; 8];
    crate::Pmem::read(service.0.store.pmem(), off + 1, &mut b);
    assert_eq!(&b, b"page two");
}

#[test]
fn a_restart_fails_old_calls_and_the_data_survives_the_rebind() {
    let mut c = objstore::Client::new(Loopback::new(server(None)));
    let a = c.create(spec(64)).unwrap();
    c.write(a.id, 0, bytes(b"before the restart")).unwrap();
    // Power cut: the server's state is lost; the same pmem is reopened.
    let pmem = c.transport().server().0.store.pmem().clone();
    c.transport_mut().restart(server(Some(pmem)));
    assert_eq!(c.read(a.id, 0, 18), Err(CallError::ServerRestarted));
    c.transport_mut().rebind();
    assert_eq!(c.read(a.id, 0, 18), Ok(bytes(b"before the restart")));
    assert_eq!(c.transport().server().0.store.generation(), 1);
}

#[test]
fn create_with_writes_the_data_and_leaves_nothing_when_it_does_not_fit() {
    let mut c = objstore::Client::new(Loopback::new(server(None)));
    let a = c.create_with(spec(64), bytes(b"record")).unwrap();
    assert_eq!(c.read(a.id, 0, 8), Ok(bytes(b"record\0\0")));
    let before = c.list(0, 16).unwrap().objects.len();
    assert_eq!(
        c.create_with(spec(4), bytes(b"too long")),
        Err(CallError::Server(StoreError::OutOfRange))
    );
    assert_eq!(
        c.list(0, 16).unwrap().objects.len(),
        before,
        "no object left behind"
    );
}
