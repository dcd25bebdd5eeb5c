//! The POSIX layer over the real object-store core (on a byte vector)
//! and the hierarchical resolver whose directories are store objects:
//! files written, the machine "rebooted" (both reopened from their
//! persistent bytes), and every file intact.

use std::cell::RefCell;
use std::rc::Rc;
use std::vec::Vec;

use hierarchical::Hierarchy;
use nomenclature::{ResolverService, StoreEnv};
use protocols::ipc::{Loopback, MAX_MESSAGE, Transport, TransportError};
use protocols::object::ObjId;
use protocols::objstore::{self, CreateSpec};
use protocols::posix::{Errno, OpenFlags, Whence};
use store::{FormatOptions, IdSource, Store, StoreServer, VecPmem};

use super::*;

struct Counter(u128);

impl IdSource for Counter {
    fn assign(&mut self, _spec: &CreateSpec) -> (ObjId, u128) {
        self.0 += 1;
        (ObjId::from_u128(0x5000 + self.0), self.0)
    }
}

type StoreSvc = objstore::Service<StoreServer<VecPmem, Counter>>;

/// One store server reached by several clients (the kernel's job).
#[derive(Clone)]
struct Shared(Rc<RefCell<Loopback<StoreSvc>>>);

impl Transport for Shared {
    fn generation(&self) -> u64 {
        self.0.borrow().generation()
    }
    fn call(
        &mut self,
        gate: u16,
        request: &[u8],
        reply: &mut [u8; MAX_MESSAGE],
    ) -> Result<usize, TransportError> {
        self.0.borrow_mut().call(gate, request, reply)
    }
}

type Names = ResolverService<Hierarchy, VecPmem, StoreEnv<Shared>>;
type Fs = Posix<Names, StoreFiles<Shared>, TickClock>;

/// Boots the "machine" from its two persistent images (fresh if `None`).
fn boot(images: Option<(Vec<u8>, Vec<u8>)>, ids: u128) -> (Fs, Shared) {
    let (store, names) = match images {
        None => {
            let opts = FormatOptions {
                dir_entries: Some(64),
            };
            let store = Store::format(VecPmem::new(4 << 20), opts).unwrap();
            (store, VecPmem::new(64 * 1024))
        }
        Some((s, n)) => (Store::open(VecPmem(s)).unwrap(), VecPmem(n)),
    };
    let server = StoreServer {
        store,
        ids: Counter(ids),
    };
    let shared = Shared(Rc::new(RefCell::new(Loopback::new(objstore::Service(
        server,
    )))));
    let env = StoreEnv(objstore::Client::new(shared.clone()));
    let names = Names::open(names, env).unwrap();
    let files = StoreFiles(objstore::Client::new(shared.clone()));
    (Posix::new(names, files, TickClock(ids as u64)), shared)
}

fn images(fs: Fs, store: Shared) -> (Vec<u8>, Vec<u8>) {
    let Posix { names, .. } = fs;
    let names = names.into_pmem().0;
    let store = store.0.borrow().server().0.store.pmem().0.clone();
    (store, names)
}

const P: Pid = 1;

#[test]
fn files_in_the_object_store_are_intact_after_a_reboot() {
    let (mut fs, store) = boot(None, 0);
    fs.mkdir("/home", 0o755).unwrap();
    let big: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let fd = fs
        .open(P, "/home/big", OpenFlags::O_RDWR | OpenFlags::O_CREAT, 0)
        .unwrap();
    assert_eq!(fs.write(P, fd, &big), Ok(5000));
    assert_eq!(fs.lseek(P, fd, 3000, Whence::End), Ok(8000));
    fs.write(P, fd, b"tail").unwrap();
    fs.fsync(P, fd).unwrap();
    fs.close(P, fd).unwrap();
    let fd = fs
        .open(P, "/note", OpenFlags::O_WRONLY | OpenFlags::O_CREAT, 0)
        .unwrap();
    fs.write(P, fd, b"hello").unwrap();
    fs.close(P, fd).unwrap();
    let fd = fs
        .open(P, "/gone", OpenFlags::O_WRONLY | OpenFlags::O_CREAT, 0)
        .unwrap();
    fs.close(P, fd).unwrap();
    fs.unlink("/gone").unwrap();
    let before = fs.stat("/home/big").unwrap();

    let (mut fs, _store) = boot(Some(images(fs, store)), 1000);
    let after = fs.stat("/home/big").unwrap();
    assert_eq!(after, before, "size, times and object survive");
    assert_eq!(after.size, 8004);
    let fd = fs.open(P, "/home/big", OpenFlags::O_RDONLY, 0).unwrap();
    let mut buf = std::vec![0xffu8; 8004];
    let mut got = 0;
    while got < buf.len() {
        let n = fs.read(P, fd, &mut buf[got..]).unwrap();
        assert!(n > 0);
        got += n;
    }
    assert_eq!(&buf[..5000], &big[..]);
    assert!(
        buf[5000..8000].iter().all(|&b| b == 0),
        "the hole reads as zeros"
    );
    assert_eq!(&buf[8000..], b"tail");
    let mut five = [0u8; 5];
    let fd2 = fs.open(P, "/note", OpenFlags::O_RDONLY, 0).unwrap();
    assert_eq!(fs.read(P, fd2, &mut five), Ok(5));
    assert_eq!(&five, b"hello");
    assert_eq!(fs.stat("/gone"), Err(Errno::ENOENT));
    assert_eq!(fs.ftruncate(P, fd, 0), Err(Errno::EINVAL), "read-only");
    let w = fs
        .open(P, "/home/big", OpenFlags::O_WRONLY | OpenFlags::O_TRUNC, 0)
        .unwrap();
    assert_eq!(fs.fstat(P, w).unwrap().size, 0);
}
