//! Host tests of the POSIX interface: messages round-trip and survive
//! mangling; errno values are Linux's.

use std::vec::Vec;

use super::*;
use crate::ipc::tests::{Rng, probe};
use crate::ipc::{Interface, MAX_BODY};
use crate::object::ObjId;

fn path(s: &str) -> Path {
    Path::try_from(s).unwrap()
}

#[test]
fn errno_values_are_linux() {
    let want = [
        (Errno::EPERM, 1),
        (Errno::ENOENT, 2),
        (Errno::EBADF, 9),
        (Errno::EEXIST, 17),
        (Errno::ENOTDIR, 20),
        (Errno::EISDIR, 21),
        (Errno::EINVAL, 22),
        (Errno::ENOTEMPTY, 39),
    ];
    for (e, n) in want {
        assert_eq!(e.code(), n, "{e:?}");
    }
    let f = OpenFlags::O_WRONLY | OpenFlags::O_CREAT | OpenFlags::O_TRUNC;
    assert_eq!(f.0, 0o1101);
    assert!(f.writable() && !f.readable());
    assert!(OpenFlags::O_RDWR.readable() && OpenFlags::O_RDWR.writable());
    assert!(!OpenFlags(3).readable() && !OpenFlags(3).writable());
}

#[test]
fn every_posix_message_round_trips_and_survives_mangling() {
    let mut rng = Rng::new(62);
    let data: Bytes<MAX_IO> = (0..MAX_IO).map(|i| i as u8).collect();
    let reqs: Vec<Request> = vec![
        Request::Open {
            path: path("/home/a/notes"),
            flags: OpenFlags::O_RDWR | OpenFlags::O_CREAT,
            mode: 0o644,
        },
        Request::Close { fd: u32::MAX },
        Request::Read { fd: 3, len: 4096 },
        Request::Write {
            fd: 3,
            data: data.clone(),
        },
        Request::Pread {
            fd: 0,
            len: 1,
            offset: u64::MAX,
        },
        Request::Pwrite {
            fd: 1,
            data: Bytes::new(),
            offset: 7,
        },
        Request::Lseek {
            fd: 4,
            offset: i64::MIN,
            whence: Whence::End,
        },
        Request::Fstat { fd: 5 },
        Request::StatPath { path: path("/") },
        Request::Dup { fd: 2 },
        Request::Ftruncate { fd: 2, size: 0 },
        Request::Fsync { fd: 2 },
        Request::Mkdir {
            path: path(&"d".repeat(MAX_PATH)),
            mode: 0o755,
        },
        Request::Rmdir { path: path("/d") },
        Request::Unlink { path: path("/f") },
        Request::Rename {
            from: path("/a"),
            to: path("/b"),
        },
        Request::Opendir { path: path("/") },
        Request::Readdir { fd: 9 },
    ];
    for req in reqs {
        let mut buf = [0u8; MAX_BODY];
        let n = req.encode(&mut buf).unwrap();
        let gate = req.gate();
        probe(&buf[..n], &req, |b| Request::decode(gate, b), &mut rng);
    }
    let stat = Stat {
        id: ObjId::from_u128(5),
        kind: FileType::Directory,
        size: u64::MAX,
        atime: 1,
        mtime: 2,
        ctime: 3,
        nlink: 2,
    };
    let outs: Vec<Outcome> = vec![
        Ok(Reply::Open(3)),
        Ok(Reply::Read(data)),
        Ok(Reply::Fstat(stat)),
        Ok(Reply::Readdir(None)),
        Ok(Reply::Readdir(Some(DirEnt {
            name: Text::try_from("notes").unwrap(),
            kind: FileType::Regular,
            id: ObjId::from_u128(9),
        }))),
        Err(Errno::ENOTEMPTY),
        Err(Errno::EOVERFLOW),
    ];
    for outcome in outs {
        let mut buf = [0u8; MAX_BODY];
        let n = encode_outcome(&outcome, &mut buf).unwrap();
        let gates: &[u16] = match &outcome {
            Ok(r) => &[r.gate()],
            Err(_) => Posix::GATES,
        };
        for &gate in gates {
            probe(&buf[..n], &outcome, |b| decode_outcome(gate, b), &mut rng);
        }
    }
}
