//! Host tests of the envelope, the generated code (through `Echo`) and the
//! checked decoding: round trips, every truncation, trailing bytes, bad
//! gates, over-long values, bad tags, random byte flips, and generations.

use std::vec::Vec;

use super::*;
use crate::echo::{self, EchoError, EchoImpl, EchoOp, MAX_ECHO};

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Probes ([`probe`]) every request in `$requests` and every outcome in
/// `$outcomes` of the interface generated into the current module, whose
/// `interface!` name is `$iface`; an error outcome is probed at every gate.
macro_rules! probe_interface {
    ($iface:ident, $requests:expr, $outcomes:expr, $seed:expr) => {{
        let mut rng = $crate::ipc::tests::Rng::new($seed);
        for req in $requests {
            let mut buf = [0u8; $crate::ipc::MAX_BODY];
            let n = req.encode(&mut buf).unwrap();
            let gate = req.gate();
            $crate::ipc::tests::probe(&buf[..n], &req, |b| Request::decode(gate, b), &mut rng);
        }
        for outcome in $outcomes {
            let mut buf = [0u8; $crate::ipc::MAX_BODY];
            let n = encode_outcome(&outcome, &mut buf).unwrap();
            let gates: &[u16] = match &outcome {
                Ok(r) => &[r.gate()],
                Err(_) => $iface::GATES,
            };
            for &gate in gates {
                $crate::ipc::tests::probe(
                    &buf[..n],
                    &outcome,
                    |b| decode_outcome(gate, b),
                    &mut rng,
                );
            }
        }
    }};
}
pub(crate) use probe_interface;

/// Checks one encoded message body against its decoder the way a hostile
/// client would probe it: every strict prefix is `Truncated`, an extra
/// byte is `TrailingBytes`, and thousands of random byte flips and
/// splices never panic and give either a value or a typed error.
pub(crate) fn probe<T: core::fmt::Debug + PartialEq>(
    body: &[u8],
    expected: &T,
    decode: impl Fn(&[u8]) -> Result<T, DispatchError>,
    rng: &mut Rng,
) {
    assert_eq!(decode(body).as_ref(), Ok(expected), "round trip");
    for cut in 0..body.len() {
        assert_eq!(
            decode(&body[..cut]),
            Err(DispatchError::Malformed(WireError::Truncated)),
            "truncated to {cut} of {} bytes",
            body.len()
        );
    }
    let mut longer = body.to_vec();
    longer.push(0);
    assert_eq!(
        decode(&longer),
        Err(DispatchError::Malformed(WireError::TrailingBytes))
    );
    for _ in 0..2000 {
        let mut b = body.to_vec();
        match rng.below(4) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            2 => {
                let at = rng.below(b.len() + 1);
                b.insert(at, rng.next() as u8);
            }
            _ => {
                let n = rng.below(64);
                b = (0..n).map(|_| rng.next() as u8).collect();
            }
        }
        match decode(&b) {
            Ok(_) | Err(DispatchError::Malformed(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
}

fn bytes(s: &[u8]) -> Bytes<MAX_ECHO> {
    Bytes::from_slice(s).unwrap()
}

fn echo_requests() -> Vec<echo::Request> {
    use echo::Request as R;
    vec![
        R::Null {},
        R::Ping { value: 0 },
        R::Ping { value: u64::MAX },
        R::Echo { data: bytes(b"") },
        R::Echo {
            data: bytes(&[0xa5; MAX_ECHO]),
        },
        R::Transform {
            op: EchoOp::Reverse,
            data: bytes(b"perennial"),
        },
        R::Fail { code: 7 },
    ]
}

fn echo_outcomes() -> Vec<echo::Outcome> {
    use echo::Reply as R;
    vec![
        Ok(R::Null(())),
        Ok(R::Ping(300)),
        Ok(R::Echo(bytes(b"x"))),
        Ok(R::Transform(bytes(&[1; MAX_ECHO]))),
        Err(EchoError::Refused),
        Err(EchoError::OutOfRange(u64::MAX)),
    ]
}

/// The gate an outcome sample belongs to (errors: any gate decodes them).
fn outcome_gate(o: &echo::Outcome, i: usize) -> u16 {
    match o {
        Ok(r) => r.gate(),
        Err(_) => echo::Echo::GATES[i % echo::Echo::GATES.len()],
    }
}

#[test]
fn every_echo_message_round_trips_and_survives_mangling() {
    let mut rng = Rng::new(1);
    for req in echo_requests() {
        let mut buf = [0u8; MAX_BODY];
        let n = req.encode(&mut buf).unwrap();
        let gate = req.gate();
        probe(
            &buf[..n],
            &req,
            |b| echo::Request::decode(gate, b),
            &mut rng,
        );
    }
    for (i, outcome) in echo_outcomes().into_iter().enumerate() {
        let mut buf = [0u8; MAX_BODY];
        let n = echo::encode_outcome(&outcome, &mut buf).unwrap();
        let gate = outcome_gate(&outcome, i);
        probe(
            &buf[..n],
            &outcome,
            |b| echo::decode_outcome(gate, b),
            &mut rng,
        );
    }
}

#[test]
fn bad_gates_over_long_values_and_bad_tags_are_typed_errors() {
    for gate in [0, 6, 100, u16::MAX] {
        assert_eq!(
            echo::Request::decode(gate, &[]),
            Err(DispatchError::BadGate(gate))
        );
    }
    // A byte string one past its bound: length prefix 257, then 257 bytes.
    let mut over = vec![0x81, 0x02];
    over.extend([0u8; MAX_ECHO + 1]);
    assert_eq!(
        echo::Request::decode(3, &over),
        Err(DispatchError::Malformed(WireError::BadValue))
    );
    // An `EchoOp` tag with no variant.
    assert_eq!(
        echo::Request::decode(4, &[7, 0]),
        Err(DispatchError::Malformed(WireError::BadValue))
    );
    // A `Result` tag with no variant in a reply.
    assert_eq!(
        echo::decode_outcome(2, &[2, 0]),
        Err(DispatchError::Malformed(WireError::BadValue))
    );
    // An over-long varint: eleven continuation bytes for a u64.
    assert_eq!(
        echo::Request::decode(2, &[0xff; 11]),
        Err(DispatchError::Malformed(WireError::BadVarint))
    );
}

#[test]
fn the_handler_never_runs_on_a_malformed_request() {
    let mut rng = Rng::new(2);
    let mut server = EchoImpl::default();
    let mut out = [0u8; MAX_BODY];
    for _ in 0..5000 {
        let gate = rng.below(8) as u16;
        let n = rng.below(24);
        let body: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let before = server.calls;
        let valid = echo::Request::decode(gate, &body).is_ok();
        let r = echo::dispatch(&mut server, gate, &body, &mut out);
        assert_eq!(r.is_ok(), valid);
        assert_eq!(server.calls, before + u64::from(valid));
    }
}

fn client() -> echo::Client<Loopback<echo::Service<EchoImpl>>> {
    echo::Client::new(Loopback::new(echo::Service(EchoImpl::default())))
}

#[test]
fn echo_calls_work_end_to_end() {
    let mut c = client();
    assert_eq!(c.null(), Ok(()));
    assert_eq!(c.ping(41), Ok(42));
    assert_eq!(
        c.ping(u64::MAX),
        Err(CallError::Server(EchoError::OutOfRange(u64::MAX)))
    );
    assert_eq!(c.echo(bytes(b"hello")), Ok(bytes(b"hello")));
    assert_eq!(
        c.transform(EchoOp::Reverse, bytes(b"abc")),
        Ok(bytes(b"cba"))
    );
    assert_eq!(c.transform(EchoOp::Upper, bytes(b"abc")), Ok(bytes(b"ABC")));
    assert_eq!(c.fail(3), Err(CallError::Server(EchoError::Refused)));
    assert_eq!(c.transport().server().0.calls, 7);
}

#[test]
fn a_restarted_server_refuses_the_old_binding_until_rebind() {
    let mut c = client();
    assert_eq!(c.ping(1), Ok(2));
    c.transport_mut()
        .restart(echo::Service(EchoImpl::default()));
    assert_eq!(c.ping(1), Err(CallError::ServerRestarted));
    assert_eq!(
        c.transport().server().0.calls,
        0,
        "the new incarnation never saw the stale call"
    );
    c.transport_mut().rebind();
    assert_eq!(c.ping(1), Ok(2));
    assert_eq!(c.transport().server().0.calls, 1);
}

fn envelope(iface: u64, gate: u16, generation: u64, body: &[u8]) -> Vec<u8> {
    let mut h = MsgHeader::request(iface, gate, generation);
    h.body_len = body.len() as u32;
    let mut m = h.encode().to_vec();
    m.extend_from_slice(body);
    m
}

fn serve_echo(server: &mut echo::Service<EchoImpl>, msg: &[u8]) -> MsgHeader {
    let mut reply = [0u8; MAX_MESSAGE];
    let n = serve(server, 1, msg, &mut reply);
    MsgHeader::decode(&reply[..n]).expect("serve always writes a valid reply envelope")
}

#[test]
fn serve_refuses_bad_envelopes_with_the_right_status() {
    let mut s = echo::Service(EchoImpl::default());
    let ok = envelope(echo::ID, 2, 1, &[5]);
    assert_eq!(serve_echo(&mut s, &ok).status, 0);
    let status =
        |s: &mut echo::Service<EchoImpl>, m: &[u8]| Rejection::from_code(serve_echo(s, m).status);
    assert_eq!(
        status(&mut s, &envelope(echo::ID, 2, 2, &[5])),
        Some(Rejection::ServerRestarted)
    );
    assert_eq!(
        status(&mut s, &envelope(echo::ID + 1, 2, 1, &[5])),
        Some(Rejection::WrongInterface)
    );
    assert_eq!(
        status(&mut s, &envelope(echo::ID, 9, 1, &[])),
        Some(Rejection::BadGate)
    );
    assert_eq!(
        status(&mut s, &envelope(echo::ID, 2, 1, &[0x80])),
        Some(Rejection::Malformed(WireError::Truncated))
    );
    assert_eq!(status(&mut s, &ok[..31]), Some(Rejection::BadHeader));
    let mut lying = ok.clone();
    lying[24] = 2; // body length 2, one byte present
    assert_eq!(status(&mut s, &lying), Some(Rejection::BadHeader));
    let mut reserved = ok.clone();
    reserved[30] = 1;
    assert_eq!(status(&mut s, &reserved), Some(Rejection::BadHeader));
    let huge = envelope(echo::ID, 3, 1, &[0; MAX_BODY + 1]);
    assert_eq!(status(&mut s, &huge), Some(Rejection::BadHeader));
    assert_eq!(
        s.0.calls, 1,
        "only the well-formed call reached the handler"
    );
}

#[test]
fn random_envelopes_never_panic_and_reach_the_handler_only_when_valid() {
    let mut rng = Rng::new(3);
    let mut s = echo::Service(EchoImpl::default());
    let good = envelope(echo::ID, 4, 1, &[1, 3, b'a', b'b', b'c']);
    for _ in 0..5000 {
        let mut m = good.clone();
        for _ in 0..=rng.below(3) {
            let i = rng.below(m.len());
            m[i] ^= 1 << rng.below(8);
        }
        if rng.below(4) == 0 {
            m.truncate(rng.below(m.len()));
        }
        let before = s.0.calls;
        let h = serve_echo(&mut s, &m);
        assert_eq!(s.0.calls - before, u64::from(h.status == 0));
    }
}

#[test]
fn replies_are_checked_against_the_call() {
    let mut s = echo::Service(EchoImpl::default());
    let mut reply = [0u8; MAX_MESSAGE];
    let n = serve(&mut s, 1, &envelope(echo::ID, 2, 1, &[9]), &mut reply);
    let r = &reply[..n];
    assert_eq!(decode_reply::<u64, EchoError>(echo::ID, 2, 1, r), Ok(10));
    assert_eq!(
        decode_reply::<u64, EchoError>(echo::ID, 3, 1, r),
        Err(CallError::BadReply(ReplyError::Mismatch))
    );
    assert_eq!(
        decode_reply::<u64, EchoError>(echo::ID, 2, 5, r),
        Err(CallError::BadReply(ReplyError::Mismatch))
    );
    for cut in 0..n {
        assert!(matches!(
            decode_reply::<u64, EchoError>(echo::ID, 2, 1, &r[..cut]),
            Err(CallError::BadReply(ReplyError::Envelope(_)))
        ));
    }
    let mut wrong_status = r.to_vec();
    wrong_status[6] = 0x77;
    assert_eq!(
        decode_reply::<u64, EchoError>(echo::ID, 2, 1, &wrong_status),
        Err(CallError::BadReply(ReplyError::Envelope(
            EnvelopeError::UnknownStatus(0x77)
        )))
    );
}

#[test]
fn rejection_codes_round_trip() {
    let all = [
        Rejection::ServerRestarted,
        Rejection::WrongInterface,
        Rejection::BadGate,
        Rejection::BadHeader,
        Rejection::ServerFaulted,
        Rejection::ReplyTooLarge,
    ];
    for r in all {
        assert_eq!(Rejection::from_code(r.code()), Some(r));
    }
    for code in 1..=8 {
        let w = WireError::from_code(code).unwrap();
        assert_eq!(w.code(), code);
        let r = Rejection::Malformed(w);
        assert_eq!(Rejection::from_code(r.code()), Some(r));
    }
    assert_eq!(Rejection::from_code(0), None);
    assert_eq!(Rejection::from_code(0x100), None);
    assert_eq!(Rejection::from_code(7), None);
}
