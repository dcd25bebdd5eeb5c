//! Host tests of the object-store and pager interfaces: every request and
//! reply round-trips and survives mangling, values are checked as they
//! decode, and every client method reaches its handler end to end.

use std::vec::Vec;

use super::*;
use crate::ipc::tests::{Rng, probe};
use crate::ipc::{CallError, DispatchError, Interface, Loopback, MAX_BODY, WireError};

const ID: ObjId = ObjId::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);

fn spec() -> CreateSpec {
    CreateSpec {
        size: 12345,
        flags: ObjFlags::PERSISTENT,
        default_perms: Perms::READ | Perms::WRITE,
        key: ObjId::from_u128(u128::MAX),
    }
}

fn info(id: ObjId) -> ObjInfo {
    ObjInfo {
        id,
        size: u64::MAX,
        flags: ObjFlags::ALL,
        default_perms: Perms::ALL,
        key: ObjId::NIL,
        pages: u32::MAX,
    }
}

fn page(n: usize) -> ListPage {
    let mut objects = heapless::Vec::new();
    for i in 0..n {
        objects.push(info(ObjId::from_u128(i as u128 + 1))).unwrap();
    }
    ListPage {
        objects,
        next: if n == MAX_LIST { Some(77) } else { None },
    }
}

fn data(n: usize) -> Bytes<MAX_RW> {
    (0..n).map(|i| i as u8).collect()
}

fn requests() -> Vec<Request> {
    vec![
        Request::Create { spec: spec() },
        Request::Delete { id: ID },
        Request::Resize { id: ID, size: 0 },
        Request::Stat { id: ObjId::NIL },
        Request::List {
            cursor: u64::MAX,
            max: 16,
        },
        Request::Read {
            id: ID,
            offset: 4096,
            len: 1024,
        },
        Request::Write {
            id: ID,
            offset: 1,
            data: data(MAX_RW),
        },
        Request::Write {
            id: ID,
            offset: 0,
            data: data(0),
        },
        Request::Check {},
        Request::Shutdown {},
        Request::CreateWith {
            spec: spec(),
            data: data(MAX_RW),
        },
    ]
}

fn outcomes() -> Vec<Outcome> {
    let mut text = Text::new();
    text.push_str("entry 3: bad checksum\n").unwrap();
    vec![
        Ok(Reply::Create(info(ID))),
        Ok(Reply::Delete(())),
        Ok(Reply::Resize(info(ID))),
        Ok(Reply::Stat(info(ObjId::NIL))),
        Ok(Reply::List(page(0))),
        Ok(Reply::List(page(MAX_LIST))),
        Ok(Reply::Read(data(MAX_RW))),
        Ok(Reply::Write(())),
        Ok(Reply::Check(CheckReport { findings: 1, text })),
        Ok(Reply::Shutdown(())),
        Ok(Reply::CreateWith(info(ID))),
        Err(StoreError::Denied),
        Err(StoreError::NotFound),
        Err(StoreError::Corrupt),
    ]
}

#[test]
fn every_store_message_round_trips_and_survives_mangling() {
    crate::ipc::tests::probe_interface!(ObjStore, requests(), outcomes(), 10);
}

#[test]
fn every_pager_message_round_trips_and_survives_mangling() {
    let mut rng = Rng::new(11);
    let req = pager::Request::Lookup {
        id: ID,
        page: 262_143,
    };
    let mut buf = [0u8; MAX_BODY];
    let n = req.encode(&mut buf).unwrap();
    probe(&buf[..n], &req, |b| pager::Request::decode(1, b), &mut rng);
    for outcome in [
        Ok(pager::Reply::Lookup(0x1234_5000)),
        Err(StoreError::NullPage),
    ] {
        let n = pager::encode_outcome(&outcome, &mut buf).unwrap();
        probe(
            &buf[..n],
            &outcome,
            |b| pager::decode_outcome(1, b),
            &mut rng,
        );
    }
}

#[test]
fn the_largest_messages_fit_one_buffer() {
    for req in requests() {
        let mut buf = [0u8; MAX_BODY];
        assert!(req.encode(&mut buf).is_ok());
    }
    for outcome in outcomes() {
        let mut buf = [0u8; MAX_BODY];
        assert!(encode_outcome(&outcome, &mut buf).is_ok());
    }
    let mut full = Text::<MAX_REPORT>::new();
    while full.push('x').is_ok() {}
    let mut buf = [0u8; MAX_BODY];
    let big = Ok(Reply::Check(CheckReport {
        findings: u32::MAX,
        text: full,
    }));
    assert!(encode_outcome(&big, &mut buf).is_ok());
}

#[test]
fn flag_words_with_undefined_bits_are_refused_before_the_handler() {
    let mut buf = [0u8; MAX_BODY];
    let n = Request::Create { spec: spec() }.encode(&mut buf).unwrap();
    // The body is: size varint (2 bytes), flags varint, perms varint, key.
    let body = &mut buf[..n];
    assert_eq!(body[2], ObjFlags::PERSISTENT.bits() as u8);
    body[2] = 0x40;
    assert_eq!(
        Request::decode(1, body),
        Err(DispatchError::Malformed(WireError::BadValue))
    );
    body[2] = 1;
    body[3] = 0x7f;
    assert_eq!(
        Request::decode(1, body),
        Err(DispatchError::Malformed(WireError::BadValue))
    );
    // A list reply holding one more object than MAX_LIST.
    let n = encode_outcome(&Ok(Reply::List(page(MAX_LIST))), &mut buf).unwrap();
    assert_eq!(buf[1], MAX_LIST as u8);
    buf[1] += 1;
    assert!(decode_outcome(5, &buf[..n]).is_err());
}

/// Answers every gate with a fixed value derived from its arguments.
struct Canned(u32);

impl Server for Canned {
    fn create(&mut self, spec: CreateSpec) -> Result<ObjInfo, StoreError> {
        self.0 += 1;
        Ok(ObjInfo {
            size: spec.size,
            ..info(ID)
        })
    }
    fn delete(&mut self, id: ObjId) -> Result<(), StoreError> {
        self.0 += 1;
        if id == ID {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
    fn resize(&mut self, id: ObjId, size: u64) -> Result<ObjInfo, StoreError> {
        self.0 += 1;
        Ok(ObjInfo { size, ..info(id) })
    }
    fn stat(&mut self, id: ObjId) -> Result<ObjInfo, StoreError> {
        self.0 += 1;
        Ok(info(id))
    }
    fn list(&mut self, cursor: u64, max: u8) -> Result<ListPage, StoreError> {
        self.0 += 1;
        let mut p = page(usize::from(max).min(MAX_LIST));
        p.next = Some(cursor + 1);
        Ok(p)
    }
    fn read(&mut self, _id: ObjId, offset: u64, len: u32) -> Result<Bytes<MAX_RW>, StoreError> {
        self.0 += 1;
        if offset > 0 {
            return Err(StoreError::OutOfRange);
        }
        Ok(data(len as usize))
    }
    fn write(&mut self, _id: ObjId, _offset: u64, data: Bytes<MAX_RW>) -> Result<(), StoreError> {
        self.0 += 1;
        if data.is_empty() {
            Err(StoreError::OutOfRange)
        } else {
            Ok(())
        }
    }
    fn check(&mut self) -> Result<CheckReport, StoreError> {
        self.0 += 1;
        Ok(CheckReport {
            findings: 0,
            text: Text::new(),
        })
    }
    fn shutdown(&mut self) -> Result<(), StoreError> {
        self.0 += 1;
        Ok(())
    }
    fn create_with(
        &mut self,
        spec: CreateSpec,
        data: Bytes<MAX_RW>,
    ) -> Result<ObjInfo, StoreError> {
        self.0 += 1;
        Ok(ObjInfo {
            size: spec.size + data.len() as u64,
            ..info(ID)
        })
    }
}

#[test]
fn every_client_method_reaches_its_handler() {
    let mut c = Client::new(Loopback::new(Service(Canned(0))));
    assert_eq!(c.create(spec()).map(|i| i.size), Ok(12345));
    assert_eq!(c.delete(ID), Ok(()));
    assert_eq!(
        c.delete(ObjId::NIL),
        Err(CallError::Server(StoreError::NotFound))
    );
    assert_eq!(c.resize(ID, 9).map(|i| i.size), Ok(9));
    assert_eq!(c.stat(ID), Ok(info(ID)));
    let p = c.list(5, 3).unwrap();
    assert_eq!((p.objects.len(), p.next), (3, Some(6)));
    assert_eq!(c.read(ID, 0, 4), Ok(data(4)));
    assert_eq!(
        c.read(ID, 1, 4),
        Err(CallError::Server(StoreError::OutOfRange))
    );
    assert_eq!(c.write(ID, 0, data(3)), Ok(()));
    assert_eq!(c.check().map(|r| r.findings), Ok(0));
    assert_eq!(c.shutdown(), Ok(()));
    assert_eq!(c.create_with(spec(), data(5)).map(|i| i.size), Ok(12350));
    assert_eq!(c.transport().server().0.0, 12);

    // A pager request sent to the store is refused as the wrong interface.
    let mut p = pager::Client::new(Loopback::new(Service(Canned(0))));
    assert_eq!(
        p.lookup(ID, 1),
        Err(CallError::Rejected(crate::ipc::Rejection::WrongInterface))
    );
    assert_eq!(p.transport().server().0.0, 0);
}
