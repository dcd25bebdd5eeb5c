//! Host tests of the `ksod` interface: every request and reply
//! round-trips and survives mangling, the largest messages fit, out-of-range
//! values are refused as they decode, and every client method reaches its
//! handler end to end.

use std::vec::Vec;

use super::*;
use crate::ipc::{CallError, DispatchError, Interface, Loopback, MAX_BODY, Rejection};

const ID: ObjId = ObjId::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);

fn full<const N: usize>(c: char) -> Text<N> {
    let mut t = Text::new();
    while t.push(c).is_ok() {}
    t
}

fn entry(i: usize) -> Entry {
    Entry {
        name: full('n'),
        kso: ObjId::from_u128(u128::MAX - i as u128),
        quarantined: i % 2 == 1,
        state_at_boot: if i.is_multiple_of(3) {
            None
        } else {
            Some(u32::MAX)
        },
        resumable_at_boot: i.is_multiple_of(4),
    }
}

fn page(n: usize) -> Page {
    Page {
        entries: (0..n).map(entry).collect(),
        next: (n == MAX_ENTRIES).then_some(u64::MAX),
    }
}

fn status(boot: BootKind) -> Status {
    Status {
        boot,
        threads: u32::MAX,
        running_at_boot: 7,
        resumable_at_boot: 6,
        quarantined: 1,
        undecodable: 2,
        contexts: 3,
        views: 0,
        orphans_swept: 4,
        recovery_ms: u32::MAX,
    }
}

fn requests() -> Vec<Request> {
    vec![
        Request::Record {
            name: text("posix").unwrap(),
            module: text("posix").unwrap(),
            args: Text::new(),
        },
        Request::Record {
            name: full('a'),
            module: full('b'),
            args: full('c'),
        },
        Request::Quarantine { kso: ID },
        Request::Quarantine { kso: ObjId::NIL },
        Request::List { cursor: 0 },
        Request::List { cursor: u64::MAX },
        Request::Status {},
    ]
}

fn outcomes() -> Vec<Outcome> {
    vec![
        Ok(Reply::Record(Recorded {
            kso: ID,
            created: true,
        })),
        Ok(Reply::Record(Recorded {
            kso: ObjId::NIL,
            created: false,
        })),
        Ok(Reply::Quarantine(())),
        Ok(Reply::List(page(0))),
        Ok(Reply::List(page(3))),
        Ok(Reply::List(page(MAX_ENTRIES))),
        Ok(Reply::Status(status(BootKind::Fresh))),
        Ok(Reply::Status(status(BootKind::Clean))),
        Ok(Reply::Status(status(BootKind::Recovery))),
        Err(KsodError::UnknownKso),
        Err(KsodError::BadRecord),
        Err(KsodError::NoSpace),
        Err(KsodError::Store),
        Err(KsodError::Root),
    ]
}

#[test]
fn every_ksod_message_round_trips_and_survives_mangling() {
    crate::ipc::tests::probe_interface!(Ksod, requests(), outcomes(), 37);
}

#[test]
fn the_largest_messages_fit_one_buffer() {
    let mut buf = [0u8; MAX_BODY];
    let n = encode_outcome(&Ok(Reply::List(page(MAX_ENTRIES))), &mut buf).unwrap();
    assert!(n < MAX_BODY / 2, "a full page is {n} bytes");
    let big = Request::Record {
        name: full('é'),
        module: full('x'),
        args: full('€'),
    };
    assert!(big.encode(&mut buf).is_ok());
}

#[test]
fn over_long_texts_pages_and_unknown_variants_are_refused_as_they_decode() {
    let mut buf = [0u8; MAX_BODY];
    // A name one byte longer than a thread KSO holds.
    let n = Request::Record {
        name: full('a'),
        module: text("m").unwrap(),
        args: Text::new(),
    }
    .encode(&mut buf)
    .unwrap();
    assert_eq!(buf[0] as usize, THREAD_NAME_LEN);
    let mut longer = buf[..n].to_vec();
    longer[0] += 1;
    longer.insert(1, b'a');
    assert!(matches!(
        Request::decode(1, &longer),
        Err(DispatchError::Malformed(_))
    ));
    // A page holding one more entry than MAX_ENTRIES.
    let n = encode_outcome(&Ok(Reply::List(page(MAX_ENTRIES))), &mut buf).unwrap();
    assert_eq!(buf[1] as usize, MAX_ENTRIES);
    buf[1] += 1;
    assert!(decode_outcome(3, &buf[..n]).is_err());
    // A boot kind past the last.
    let n = encode_outcome(&Ok(Reply::Status(status(BootKind::Recovery))), &mut buf).unwrap();
    assert_eq!(buf[1], 2);
    buf[1] = 3;
    assert!(decode_outcome(4, &buf[..n]).is_err());
    // An error past the last.
    let n = encode_outcome(&Err(KsodError::Root), &mut buf).unwrap();
    assert_eq!(&buf[..n], &[1, 4]);
    assert!(decode_outcome(2, &[1, 5]).is_err());
}

#[test]
fn entry_states_read_back_as_thread_states() {
    let mut e = entry(1);
    for s in [
        ThreadState::Created,
        ThreadState::Running,
        ThreadState::Exited,
        ThreadState::ShutDown,
    ] {
        e.state_at_boot = Some(s as u32);
        assert_eq!(e.state(), Some(s));
    }
    e.state_at_boot = Some(4);
    assert_eq!(e.state(), None);
    e.state_at_boot = None;
    assert_eq!(e.state(), None);
}

/// A root of names in memory: enough to see each call reach its handler.
#[derive(Default)]
struct Canned {
    entries: Vec<(Name, ObjId, bool)>,
    calls: u32,
}

impl Server for Canned {
    fn record(&mut self, name: Name, module: Module, _args: Args) -> Result<Recorded, KsodError> {
        self.calls += 1;
        if module.is_empty() {
            return Err(KsodError::BadRecord);
        }
        if let Some(e) = self.entries.iter().find(|e| e.0 == name && !e.2) {
            return Ok(Recorded {
                kso: e.1,
                created: false,
            });
        }
        let kso = ObjId::from_u128(self.entries.len() as u128 + 1);
        self.entries.push((name, kso, false));
        Ok(Recorded { kso, created: true })
    }
    fn quarantine(&mut self, kso: ObjId) -> Result<(), KsodError> {
        self.calls += 1;
        let e = self.entries.iter_mut().find(|e| e.1 == kso);
        e.map(|e| e.2 = true).ok_or(KsodError::UnknownKso)
    }
    fn list(&mut self, cursor: u64) -> Result<Page, KsodError> {
        self.calls += 1;
        let entries = self
            .entries
            .iter()
            .skip(cursor as usize)
            .take(MAX_ENTRIES)
            .map(|e| Entry {
                name: e.0.clone(),
                kso: e.1,
                quarantined: e.2,
                state_at_boot: None,
                resumable_at_boot: false,
            })
            .collect();
        Ok(Page {
            entries,
            next: None,
        })
    }
    fn status(&mut self) -> Result<Status, KsodError> {
        self.calls += 1;
        Ok(Status {
            threads: self.entries.len() as u32,
            ..status(BootKind::Clean)
        })
    }
}

#[test]
fn every_client_method_reaches_its_handler() {
    let mut c = Client::new(Loopback::new(Service(Canned::default())));
    let name = text::<THREAD_NAME_LEN>("hier").unwrap();
    let m = text::<THREAD_MODULE_LEN>("hierarchical").unwrap();
    let first = c.record(name.clone(), m.clone(), Text::new()).unwrap();
    assert!(first.created);
    let again = c.record(name.clone(), m.clone(), Text::new()).unwrap();
    assert_eq!((again.kso, again.created), (first.kso, false));
    assert_eq!(
        c.record(name.clone(), Text::new(), Text::new()),
        Err(CallError::Server(KsodError::BadRecord))
    );
    assert_eq!(c.quarantine(first.kso), Ok(()));
    assert_eq!(
        c.quarantine(ID),
        Err(CallError::Server(KsodError::UnknownKso))
    );
    let fresh = c.record(name, m, Text::new()).unwrap();
    assert!(fresh.created && fresh.kso != first.kso);
    let p = c.list(0).unwrap();
    assert_eq!(p.entries.len(), 2);
    assert!(p.entries[0].quarantined && !p.entries[1].quarantined);
    assert_eq!(c.status().map(|s| s.threads), Ok(2));
    assert_eq!(c.transport().server().0.calls, 8);

    // A store request sent to ksod is refused as the wrong interface.
    let mut s = crate::objstore::Client::new(Loopback::new(Service(Canned::default())));
    assert_eq!(
        s.stat(ID),
        Err(CallError::Rejected(Rejection::WrongInterface))
    );
}
