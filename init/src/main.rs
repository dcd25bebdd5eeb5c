//! `init`, the first user program: starts the object store (`objstore`)
//! and the other servers under its [`supervisor`],
//! prints its banner, then runs the shell on the serial console until the
//! machine powers off. The shell's logic is
//! the `shell` crate; this file only connects it to the system calls.

// On the target the program is freestanding; on the host it only has to
// type-check (`cargo clippy --workspace`), with `std` standing in for the
// runtime's panic handler and allocator. It is never run there.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

mod kso;
mod names;
mod objects;
mod posix;
mod store;
mod supervisor;

use alloc::vec::Vec;
use core::time::Duration;

use protocols::debug::{MemStats, ThreadInfo};
use protocols::exit::GuestExit;
use protocols::ipc::{CallError, TransportError};
use protocols::object::{ObjId, ObjInfo, Perms};
use protocols::objstore::CheckReport;
use protocols::syscall::SysError;
use runtime::println;
use runtime::sys::{self, ReadMode};
use shell::system::{StoreCallError, StoreInfo};
use shell::{Flow, Session, System};

runtime::entry!(main);

/// Consecutive console read failures after which `init` gives up.
const MAX_READ_FAILURES: u32 = 100;

fn main(_args: &str) -> u64 {
    // The object store first: it serves persistent objects to the shell and
    // every program (it says why when there is no NVDIMM).
    if let Err(e) = supervisor::start_bootstrap("objstore", "objstore", "") {
        println!("init: cannot start objstore: {e}");
    }
    // KSO persistence next: every other server starts from a thread KSO.
    if let Err(e) = supervisor::start_bootstrap("ksod", "ksod", "") {
        println!("init: cannot start ksod: {e}");
    }
    names::start();
    posix::start();
    kso::restart_the_rest();
    supervisor::wait_until_serving();
    kso::report();
    println!("init: Perennial shell ready");
    let mut kernel = Kernel::default();
    let mut session = Session::new();
    session.start(&mut kernel);
    let mut buf = [0u8; 128];
    let mut failures = 0;
    loop {
        match sys::console_read(&mut buf, ReadMode::Blocking) {
            Ok(n) => {
                failures = 0;
                if session.feed_all(&buf[..n], &mut kernel) == Flow::Ended {
                    // Power-off returns only when it failed.
                    return 1;
                }
            }
            Err(e) => {
                failures += 1;
                if failures >= MAX_READ_FAILURES {
                    println!("init: console read keeps failing ({e}); giving up");
                    return 1;
                }
                let _ = runtime::time::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// The shell's [`System`], through system calls.
#[derive(Default)]
struct Kernel {
    objects: objects::Objects,
    store: store::StoreLink,
    servers: supervisor::Servers,
    names: names::NamesLink,
    posix: posix::PosixLink,
    /// The programs `run -b` started.
    jobs: shell::jobs::Jobs,
}

impl System for Kernel {
    fn write(&mut self, text: &str) {
        let _ = runtime::console::write_all(text.as_bytes());
    }

    fn uptime_nanos(&mut self) -> Result<u64, SysError> {
        runtime::time::uptime_nanos()
    }

    fn threads(&mut self) -> Result<Vec<ThreadInfo>, SysError> {
        runtime::debug::threads()
    }

    fn mem(&mut self) -> Result<MemStats, SysError> {
        runtime::debug::memory()
    }

    fn spawn(&mut self, name: &str, args: &str) -> Result<u64, SysError> {
        sys::program_spawn(name, args)
    }

    fn wait(&mut self, id: u64) -> Result<u64, SysError> {
        sys::program_wait(id, 0)
    }

    fn poweroff(&mut self, status: GuestExit) -> Result<(), SysError> {
        // A clean power-off tells the store, so the next boot knows the run
        // ended on purpose; a power cut (`powercut`) tells nobody.
        if status != GuestExit::PowerCut {
            match self.store.shutdown() {
                // No store (no persistent memory): nothing to tell.
                Ok(()) | Err(CallError::Transport(TransportError::Sys(SysError::NotFound))) => {}
                Err(e) => println!("init: the object store was not told of the shutdown: {e:?}"),
            }
        }
        Err(sys::poweroff(status))
    }

    fn obj_create(&mut self, size: u64, perms: Perms, key: ObjId) -> Result<ObjId, SysError> {
        self.objects.obj_create(size, perms, key)
    }

    fn obj_info(&mut self, id: ObjId) -> Result<ObjInfo, SysError> {
        self.objects.obj_info(id)
    }

    fn obj_read(&mut self, id: ObjId, offset: u64) -> Result<u64, SysError> {
        self.objects.obj_read(id, offset)
    }

    fn obj_write(&mut self, id: ObjId, offset: u64, value: u64) -> Result<(), SysError> {
        self.objects.obj_write(id, offset, value)
    }

    fn key_new(&mut self) -> Result<(ObjId, ObjId), SysError> {
        self.objects.key_new()
    }

    fn ctx_new(&mut self) -> Result<ObjId, SysError> {
        self.objects.ctx_new()
    }

    fn ctx_list(&mut self) -> Result<(ObjId, Vec<ObjId>), SysError> {
        self.objects.ctx_list()
    }

    fn ctx_use(&mut self, id: ObjId) -> Result<(), SysError> {
        sys::ctx_activate(id)
    }

    fn ctx_check(&mut self, ctx: ObjId, target: ObjId) -> Result<Perms, SysError> {
        sys::ctx_check(ctx, target)
    }

    fn cap_add(
        &mut self,
        key: ObjId,
        target: ObjId,
        ctx: ObjId,
        perms: Perms,
    ) -> Result<u32, SysError> {
        self.objects.cap_add(key, target, ctx, perms)
    }

    fn known_ids(&mut self) -> Vec<ObjId> {
        self.objects.known()
    }

    fn store_create(&mut self, size: u64) -> Result<ObjId, StoreCallError> {
        let id = self.store.create(size)?;
        self.objects.learn(id);
        Ok(id)
    }

    fn store_has(&mut self, id: ObjId) -> bool {
        self.store.has(id)
    }

    fn store_write(&mut self, id: ObjId, offset: u64, data: &[u8]) -> Result<(), StoreCallError> {
        self.store.write(id, offset, data)
    }

    fn store_read(&mut self, id: ObjId, offset: u64, len: u32) -> Result<Vec<u8>, StoreCallError> {
        self.store.read(id, offset, len)
    }

    fn store_list(&mut self) -> Result<Vec<StoreInfo>, StoreCallError> {
        let all = self.store.list()?;
        // `obj list` prints (and so numbers for `%N`) all but the KSO
        // bookkeeping objects.
        for info in all
            .iter()
            .filter(|i| !protocols::ksod::is_bookkeeping(i.key))
        {
            self.objects.learn(info.id);
        }
        Ok(all)
    }

    fn store_delete(&mut self, id: ObjId) -> Result<(), StoreCallError> {
        self.store.delete(id)
    }

    fn store_check(&mut self) -> Result<CheckReport, StoreCallError> {
        self.store.check()
    }

    fn supervisor(&mut self) -> Option<&mut dyn shell::servers::Supervisor> {
        Some(&mut self.servers)
    }

    fn files(&mut self) -> Option<&mut dyn shell::files::FileSystem> {
        self.posix.files()
    }

    fn names(&mut self) -> Option<&mut dyn shell::names::Names> {
        Some(&mut self.names)
    }

    fn jobs(&mut self) -> Option<&mut shell::jobs::Jobs> {
        Some(&mut self.jobs)
    }

    fn sleep_ms(&mut self, ms: u64) -> Result<(), SysError> {
        runtime::time::sleep(Duration::from_millis(ms))
    }
}
