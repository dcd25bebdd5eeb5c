//! Host tests of the resolver and registry interfaces: every request and
//! reply round-trips and survives mangling, malformed names are refused as
//! they decode, and every client method reaches its handler end to end.

use std::vec::Vec;

use super::*;
use crate::ipc::tests::{Rng, probe};
use crate::ipc::{CallError, DispatchError, Interface, Loopback, MAX_BODY, WireError};

const ID: ObjId = ObjId::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);

fn name(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

fn comp(s: &str) -> Component {
    Component::try_from(s).unwrap()
}

fn full_list() -> ListPage {
    let mut entries = heapless::Vec::new();
    for i in 0..MAX_LIST {
        let n: std::string::String = std::format!("entry-{i:0>56}");
        entries
            .push(DirEntry {
                name: comp(&n),
                id: ObjId::from_u128(i as u128 + 1),
                kind: if i % 2 == 0 {
                    EntryKind::Object
                } else {
                    EntryKind::Directory
                },
            })
            .unwrap();
    }
    ListPage {
        entries,
        next: Some(u64::MAX),
    }
}

fn matches(n: usize) -> Matches {
    Matches {
        ids: (0..n)
            .map(|i| ObjId::from_u128(i as u128 * 31 + 7))
            .collect(),
        total: u32::MAX,
        next: (n == MAX_MATCHES).then_some(9),
    }
}

fn tags(n: usize) -> heapless::Vec<Tag, MAX_TAGS> {
    (0..n)
        .map(|i| Tag {
            key: comp(&"k".repeat(MAX_COMPONENT)),
            value: comp(&std::format!("v{i}")),
        })
        .collect()
}

fn requests() -> Vec<Request> {
    let long = name(&"/x".repeat(MAX_NAME / 2));
    vec![
        Request::Resolve {
            name: name("/home/a/notes"),
        },
        Request::Bind {
            name: long.clone(),
            id: ID,
            kind: EntryKind::Directory,
        },
        Request::Unbind { name: name("") },
        Request::List {
            name: name("/"),
            cursor: u64::MAX,
        },
        Request::Rename {
            from: name("/a"),
            to: long,
        },
        Request::Mkdir {
            name: name("/é/ü")
        },
        Request::Query {
            query: name("type=account owner=alice"),
            cursor: 3,
        },
        Request::SetTags {
            id: ID,
            tags: tags(MAX_TAGS),
        },
        Request::SetTags {
            id: ObjId::NIL,
            tags: tags(0),
        },
        Request::Publish {
            name: name("current"),
            id: ID,
        },
        Request::History {
            name: name("current"),
            cursor: 0,
        },
        Request::Info {},
        Request::Custom {
            op: u32::MAX,
            arg: (0..MAX_CUSTOM).map(|i| i as u8).collect(),
        },
    ]
}

fn outcomes() -> Vec<Outcome> {
    let resolved = Resolved {
        id: ID,
        kind: EntryKind::Object,
        epoch: u64::MAX,
    };
    vec![
        Ok(Reply::Resolve(resolved)),
        Ok(Reply::Bind(())),
        Ok(Reply::Unbind(resolved)),
        Ok(Reply::List(full_list())),
        Ok(Reply::List(ListPage {
            entries: heapless::Vec::new(),
            next: None,
        })),
        Ok(Reply::Rename(ObjId::NIL)),
        Ok(Reply::Mkdir(ID)),
        Ok(Reply::Query(matches(MAX_MATCHES))),
        Ok(Reply::SetTags(())),
        Ok(Reply::Publish(7)),
        Ok(Reply::History(matches(0))),
        Ok(Reply::Info(ResolverInfo {
            kind: Text::try_from("hierarchical").unwrap(),
            epoch: 1,
            bindings: 2,
        })),
        Ok(Reply::Custom(Bytes::new())),
        Err(NameError::NotFound),
        Err(NameError::Ambiguous(u32::MAX)),
        Err(NameError::Unavailable),
    ]
}

#[test]
fn every_resolver_message_round_trips_and_survives_mangling() {
    crate::ipc::tests::probe_interface!(Resolver, requests(), outcomes(), 60);
}

#[test]
fn every_registry_message_round_trips_and_survives_mangling() {
    let mut rng = Rng::new(61);
    let rname = Text::try_from("x".repeat(MAX_RESOLVER_NAME).as_str()).unwrap();
    let record = ResolverRecord {
        name: rname.clone(),
        id: ID,
        gate: u64::MAX,
        generation: 3,
    };
    let reqs = [
        registry::Request::Register {
            name: rname.clone(),
            id: ID,
            gate: 5,
        },
        registry::Request::Unregister {
            name: rname.clone(),
            generation: u64::MAX,
        },
        registry::Request::Lookup { name: Text::new() },
        registry::Request::LookupId { id: REGISTRY_ID },
        registry::Request::List { cursor: 0 },
    ];
    for req in reqs {
        let mut buf = [0u8; MAX_BODY];
        let n = req.encode(&mut buf).unwrap();
        let gate = req.gate();
        probe(
            &buf[..n],
            &req,
            |b| registry::Request::decode(gate, b),
            &mut rng,
        );
    }
    let outs: [registry::Outcome; 4] = [
        Ok(registry::Reply::Register(record.clone())),
        Ok(registry::Reply::List(RecordPage {
            records: core::iter::repeat_n(record, MAX_RECORDS).collect(),
            next: Some(16),
        })),
        Err(RegistryError::StaleGeneration(u64::MAX)),
        Err(RegistryError::IdInUse),
    ];
    for outcome in outs {
        let mut buf = [0u8; MAX_BODY];
        let n = registry::encode_outcome(&outcome, &mut buf).unwrap();
        let gates: &[u16] = match &outcome {
            Ok(r) => &[r.gate()],
            Err(_) => registry::Registry::GATES,
        };
        for &gate in gates {
            probe(
                &buf[..n],
                &outcome,
                |b| registry::decode_outcome(gate, b),
                &mut rng,
            );
        }
    }
}

#[test]
fn malformed_names_and_kinds_are_refused_while_decoding() {
    // A bind body: name (varint length + bytes), ID (16 bytes), kind tag.
    let req = Request::Bind {
        name: name("ab"),
        id: ID,
        kind: EntryKind::Object,
    };
    let mut buf = [0u8; MAX_BODY];
    let n = req.encode(&mut buf).unwrap();
    let mut bad_utf8 = buf[..n].to_vec();
    bad_utf8[1] = 0xff;
    assert!(matches!(
        Request::decode(2, &bad_utf8),
        Err(DispatchError::Malformed(_))
    ));
    let mut bad_kind = buf[..n].to_vec();
    *bad_kind.last_mut().unwrap() = 2;
    assert!(matches!(
        Request::decode(2, &bad_kind),
        Err(DispatchError::Malformed(_))
    ));
    // A name one byte longer than MAX_NAME.
    let mut long = std::vec![0x81, 0x02]; // varint 257
    long.extend(std::iter::repeat_n(b'a', MAX_NAME + 1));
    assert!(matches!(
        Request::decode(1, &long),
        Err(DispatchError::Malformed(_))
    ));
    assert_eq!(Request::decode(0, &[]), Err(DispatchError::BadGate(0)));
    assert_eq!(Request::decode(13, &[]), Err(DispatchError::BadGate(13)));
    assert_eq!(
        Request::decode(11, &[0]),
        Err(DispatchError::Malformed(WireError::TrailingBytes))
    );
}

/// A resolver answering only `resolve` and `info`: every other gate keeps
/// the interface's "unsupported" answer.
struct OneName;

impl Server for OneName {
    fn resolve(&mut self, name: Name) -> Result<Resolved, NameError> {
        match name.as_str() {
            "only" => Ok(Resolved {
                id: ID,
                kind: EntryKind::Object,
                epoch: 1,
            }),
            "" => Err(NameError::InvalidName),
            _ => Err(NameError::NotFound),
        }
    }
    fn bind(&mut self, _: Name, _: ObjId, _: EntryKind) -> Result<(), NameError> {
        Err(NameError::Unsupported)
    }
    fn unbind(&mut self, _: Name) -> Result<Resolved, NameError> {
        Err(NameError::Unsupported)
    }
    fn list(&mut self, _: Name, _: u64) -> Result<ListPage, NameError> {
        Err(NameError::Unsupported)
    }
    fn rename(&mut self, _: Name, _: Name) -> Result<ObjId, NameError> {
        Err(NameError::Unsupported)
    }
    fn mkdir(&mut self, _: Name) -> Result<ObjId, NameError> {
        Err(NameError::Unsupported)
    }
    fn query(&mut self, _: Name, _: u64) -> Result<Matches, NameError> {
        Err(NameError::Unsupported)
    }
    fn set_tags(&mut self, _: ObjId, _: heapless::Vec<Tag, MAX_TAGS>) -> Result<(), NameError> {
        Err(NameError::Unsupported)
    }
    fn publish(&mut self, _: Name, _: ObjId) -> Result<u64, NameError> {
        Err(NameError::Unsupported)
    }
    fn history(&mut self, _: Name, _: u64) -> Result<Matches, NameError> {
        Err(NameError::Unsupported)
    }
    fn info(&mut self) -> Result<ResolverInfo, NameError> {
        Ok(ResolverInfo {
            kind: Text::try_from("one").unwrap(),
            epoch: 1,
            bindings: 1,
        })
    }
    fn custom(&mut self, op: u32, arg: Bytes<MAX_CUSTOM>) -> Result<Bytes<MAX_CUSTOM>, NameError> {
        if op == 1 {
            Ok(arg)
        } else {
            Err(NameError::Unsupported)
        }
    }
}

#[test]
fn a_client_reaches_every_gate_and_sees_typed_errors() {
    let mut c = Client::new(Loopback::new(Service(OneName)));
    assert_eq!(c.resolve(name("only")).unwrap().id, ID);
    assert_eq!(
        c.resolve(name("other")),
        Err(CallError::Server(NameError::NotFound))
    );
    assert_eq!(
        c.resolve(name("")),
        Err(CallError::Server(NameError::InvalidName))
    );
    let unsupported = Err(CallError::Server(NameError::Unsupported));
    assert_eq!(c.bind(name("a"), ID, EntryKind::Object), unsupported);
    assert_eq!(c.mkdir(name("/d")).map(|_| ()), unsupported);
    assert_eq!(c.publish(name("a"), ID).map(|_| ()), unsupported);
    assert_eq!(c.info().unwrap().kind.as_str(), "one");
    let arg: Bytes<MAX_CUSTOM> = Bytes::from_slice(b"xyz").unwrap();
    assert_eq!(c.custom(1, arg.clone()), Ok(arg));
    c.transport_mut().restart(Service(OneName));
    assert_eq!(c.info().map(|_| ()), Err(CallError::ServerRestarted));
}
