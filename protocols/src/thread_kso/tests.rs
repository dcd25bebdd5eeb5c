use super::*;

fn sample() -> ThreadRecord {
    let mut r = ThreadRecord::new(
        String::try_from("posix").unwrap(),
        String::try_from("posix").unwrap(),
        String::try_from("--verbose x").unwrap(),
    );
    r.state = ThreadState::Running;
    r.flags = ThreadFlags::RESUMABLE;
    r.syscall = Some(7);
    r.generation = 3;
    r.exit_code = 0x8000_000e;
    r.start = StartKind::Resumed;
    r.interrupted = Some(0);
    r.view = ObjId::from_u128(0x77);
    r.contexts.push(ObjId::from_u128(5)).unwrap();
    r.contexts.push(ObjId::from_u128(6)).unwrap();
    r
}

#[test]
fn a_record_round_trips() {
    let r = sample();
    let b = r.encode();
    assert_eq!(&b[..4], b"PTHR");
    assert_eq!(ThreadRecord::decode(&b), Ok(r));
    let fresh = ThreadRecord::new(
        String::try_from("a").unwrap(),
        String::try_from("m").unwrap(),
        String::new(),
    );
    assert_eq!(ThreadRecord::decode(&fresh.encode()), Ok(fresh));
}

#[test]
fn every_field_is_checked() {
    let b = sample().encode();
    let with = |off: usize, v: u32| {
        let mut x = b;
        x[off..off + 4].copy_from_slice(&v.to_le_bytes());
        ThreadRecord::decode(&x)
    };
    assert!(matches!(with(0, 1), Err(KsoError::BadMagic(1))));
    assert_eq!(
        with(4, 2 | (512 << 16)),
        Err(KsoError::UnsupportedVersion(2))
    );
    assert_eq!(with(4, 1 | (64 << 16)), Err(KsoError::BadHeaderSize(64)));
    assert_eq!(
        with(STATE_AT, 4),
        Err(KsoError::BadFlags { at: 8, bits: 4 })
    );
    assert_eq!(
        with(FLAGS_AT, 2),
        Err(KsoError::BadFlags { at: 12, bits: 2 })
    );
    assert_eq!(
        with(SYSCALL_AT, 9999),
        Err(KsoError::BadFlags { at: 16, bits: 9999 })
    );
    assert_eq!(with(CTX_COUNT_AT, 5), Err(KsoError::TooMany(5)));
    assert_eq!(
        with(START_AT, 4),
        Err(KsoError::BadFlags { at: 40, bits: 4 })
    );
    // A listed context that is nil, an unlisted one that is not.
    assert_eq!(with(CTX_COUNT_AT, 3), Err(KsoError::ReservedNotZero(96)));
    assert_eq!(with(CTXS_AT + 40, 1), Err(KsoError::ReservedNotZero(104)));
    // Text: too long, garbage after its end, not UTF-8, empty module.
    assert_eq!(with(448, 33), Err(KsoError::TooMany(33)));
    assert_eq!(with(128 + 20, 1), Err(KsoError::ReservedNotZero(148)));
    let mut x = b;
    x[192] = 0xff;
    assert_eq!(
        ThreadRecord::decode(&x),
        Err(KsoError::ReservedNotZero(192))
    );
    assert_eq!(with(448, 5), Err(KsoError::ReservedNotZero(160)));
    assert_eq!(with(500, 1), Err(KsoError::ReservedNotZero(500)));
    assert_eq!(
        ThreadRecord::decode(&b[..100]),
        Err(KsoError::Truncated(100))
    );
}

#[test]
fn random_bytes_never_decode_and_never_panic() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    for _ in 0..2000 {
        let mut b = sample().encode();
        // Scribble 1–64 random bytes at random places.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = 1 + (x % 64) as usize;
        for k in 0..n {
            let r = x.rotate_left(k as u32 * 7);
            b[(r % THREAD_RECORD_SIZE as u64) as usize] ^= (r >> 32) as u8 | 1;
        }
        let _ = ThreadRecord::decode(&b);
    }
    let mut all = [0xa5u8; THREAD_RECORD_SIZE];
    all[0] = 0;
    assert!(ThreadRecord::decode(&all).is_err());
}

#[test]
fn start_kind_follows_state_and_flags() {
    use StartKind::*;
    use ThreadState::*;
    let r = ThreadFlags::RESUMABLE;
    let none = ThreadFlags::EMPTY;
    assert_eq!(StartKind::after(Created, r), Fresh);
    assert_eq!(StartKind::after(ShutDown, r), Fresh);
    assert_eq!(StartKind::after(Exited, none), Restarted);
    assert_eq!(StartKind::after(Running, r), Resumed);
    assert_eq!(StartKind::after(Running, none), Reset);
}

#[test]
fn kso_self_round_trips() {
    let s = KsoSelf {
        kso: ObjId::from_u128(99),
        generation: 4,
        start: StartKind::Reset,
        resumable: true,
        interrupted: Some(12),
        quarantined: 1,
    };
    assert_eq!(KsoSelf::decode(&s.encode()), Some(s));
    let mut bad = s.encode();
    bad[24] = 9;
    assert_eq!(KsoSelf::decode(&bad), None);
}
