//! `objstore`: the object store server. Started by `init` before the shell.
//!
//! It takes the persistent memory (`pmem_map`), opens the store on it
//! (formatting a blank region; recovery replays a committed transaction a
//! power cut interrupted), tells the kernel about every persistent object
//! so programs can map them (see [`attach`]), creates a public gate object,
//! and serves through protected procedure calls both
//! [`protocols::objstore`] (published as `objstore`) and the kernel's
//! [`protocols::objstore::pager`] (published as `pager`: the kernel asks it
//! where a page lives on the first touch of each page, and maps that NVDIMM
//! frame straight into the object).

// On the target the program is freestanding; on the host it only has to
// type-check (`cargo clippy --workspace`). It is never run there.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

mod attach;

use objects::setup::Serialized;
use protocols::ipc::{self, Interface};
use protocols::layout::PMEM_BASE;
use protocols::object::ObjId;
use protocols::objstore::{self, CreateSpec, pager};
use runtime::{println, sys};
use store::{FormatOptions, IdSource, LastRun, MappedPmem, OpenError, Store, StoreServer};

runtime::entry!(main);

/// The name clients look the store up by.
pub const SERVICE: &str = "objstore";
/// The name the kernel looks the pager up by.
pub const PAGER_SERVICE: &str = "pager";
/// Calls in flight at once.
const STACKS: u64 = 16;

fn main(_args: &str) -> u64 {
    let started = runtime::time::Instant::now();
    let len = match sys::pmem_map() {
        Ok(len) => len,
        Err(e) => {
            println!("objstore: no persistent memory ({e}); not serving");
            return 0;
        }
    };
    // SAFETY: the kernel mapped `len` bytes at PMEM_BASE read/write for
    // this program's lifetime; nothing else in it touches them.
    let pmem = || unsafe { MappedPmem::new(PMEM_BASE as *mut u8, len as usize) };
    let store = match Store::open(pmem()) {
        Ok(s) => s,
        Err(OpenError::NotFormatted(_)) => {
            match Store::format(pmem(), FormatOptions { dir_entries: None }) {
                Ok(s) => {
                    println!("objstore: formatted {len} bytes of persistent memory");
                    s
                }
                Err(e) => {
                    println!("objstore: cannot format: {e:?}");
                    return 1;
                }
            }
        }
        Err(e) => {
            println!("objstore: cannot open the store: {e:?}");
            return 1;
        }
    };
    let opened = store.opened();
    let mut server = attach::Attaching(StoreServer { store, ids: CpuIds });
    let attached = server.attach_all();
    let gate = match objects::setup::server_gate() {
        Ok(g) => g,
        Err(e) => {
            println!("objstore: cannot create the gate object: {e}");
            return 1;
        }
    };
    // One dispatcher for both interfaces, routed by the envelope's
    // interface ID: `ObjStore` for programs, `Pager` for the kernel.
    // SAFETY: the store's only non-`Send` part is `MappedPmem`'s pointer to
    // the persistent memory, mapped for the program's life and used by
    // nothing else.
    let mut both = unsafe { Serialized::new(server) };
    let handler: alloc::boxed::Box<runtime::ppc::Handler> =
        alloc::boxed::Box::new(move |generation, request, reply| {
            let interface = request
                .get(8..16)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes);
            if interface == Some(pager::ID) {
                ipc::serve(&mut pager::Service(both.get()), generation, request, reply)
            } else {
                ipc::serve(
                    &mut objstore::Service(both.get()),
                    generation,
                    request,
                    reply,
                )
            }
        });
    if let Err(e) = runtime::ppc::register_handler(gate, objstore::ObjStore::GATES, handler, STACKS)
        // The pager first: a client that found the store through its
        // service may map an object and touch it at once, and the kernel
        // must find the pager then, or the touch is the client's fault.
        .and_then(|_| sys::service_publish(PAGER_SERVICE, gate))
        .and_then(|_| sys::service_publish(SERVICE, gate))
    {
        println!("objstore: cannot serve: {e}");
        return 1;
    }
    let ms = started.elapsed().as_millis();
    match opened.last_run {
        LastRun::Fresh => println!("objstore: fresh start: an empty store; serving after {ms} ms"),
        LastRun::ShutDown => println!(
            "objstore: clean start (the last run shut down): {attached} objects; serving after {ms} ms"
        ),
        LastRun::Interrupted => println!(
            "objstore: recovery (the last run ended without a shutdown: a power cut or a crash): {attached} objects{}; recovered and serving after {ms} ms",
            if opened.replayed {
                ", replayed the transaction it had committed"
            } else {
                ""
            }
        ),
    }
    println!("objstore: serving {attached} objects");
    loop {
        // Calls arrive on their callers' threads.
        let _ = sys::thread_sleep(protocols::syscall::MAX_SLEEP_NANOS);
    }
}

/// New IDs: a nonce from the CPU's random numbers, hashed with the
/// creation fields like the kernel does.
struct CpuIds;

impl IdSource for CpuIds {
    fn assign(&mut self, spec: &CreateSpec) -> (ObjId, u128) {
        let nonce = (u128::from(objects::setup::random_u64()) << 64)
            | u128::from(objects::setup::random_u64());
        (
            caps::derive_id(nonce, spec.key, spec.flags, spec.default_perms),
            nonce,
        )
    }
}
