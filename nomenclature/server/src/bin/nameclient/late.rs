//! `nameclient late RESOLVER NAME`: one FOT name entry naming `NAME`
//! through resolver `RESOLVER` — any registered resolver, such as one the
//! shell started at run time — dereferenced once through the registry and
//! the late binder. Prints the object the pointer reached and the text at
//! the start of its data, so a test can tell the right object from a
//! wrong one (`obj write ID 0 TEXT` put it there).

use alloc::format;
use alloc::string::String;

use late_binding::{LateBinder, RegistryResolvers, SharedBinder};
use nomenclature_server::runtime::ppc::Gate;
use nomenclature_server::runtime::sys;
use objects::kernel::KernelMapper;
use objects::{InvPtr, Space};
use protocols::object::{ObjFlags, ObjId, Perms};
use protocols::resolver::registry;

use crate::CONNECT_MS;
use crate::fot::{Binder, ByName, name_ptr, rname};

const RW: Perms = Perms::READ.union(Perms::WRITE);
/// Data bytes of the DRAM object holding the FOT entry.
const SIZE: u64 = 4096;
/// The first view slot the object runtime maps into.
const FIRST_SLOT: u64 = 40;
/// Bytes of the target's data shown.
const SHOWN: usize = 32;

/// Runs it; the `Ok` text is `ID "TEXT"`: the object reached and the text
/// its data starts with (up to the first NUL).
pub fn run(resolver: &str, text: &str) -> Result<String, String> {
    let gate = Gate::connect("registry", CONNECT_MS).map_err(|e| format!("registry: {e}"))?;
    let mut reg = registry::Client::new(gate);
    let record = reg
        .lookup(rname(resolver))
        .map_err(|e| format!("resolver {resolver} is not registered: {e:?}"))?;
    let binder: Binder = SharedBinder::new(LateBinder::new(RegistryResolvers::new(
        reg, ByName, record.id,
    )));
    let space = Space::new(KernelMapper::new(FIRST_SLOT));
    space.set_name_resolver(binder.clone());
    let holder_id =
        sys::obj_create(SIZE, ObjFlags::EMPTY, RW, ObjId::NIL).map_err(|e| format!("obj: {e}"))?;
    let holder = space
        .open::<u64>(holder_id, RW)
        .map_err(|e| format!("open: {e:?}"))?;
    holder.init(0).map_err(|e| format!("init: {e:?}"))?;
    let p: InvPtr<[u8; SHOWN]> = name_ptr(&holder, text, record.id)?;
    let reached = p
        .resolve(&holder)
        .map_err(|e| format!("{e:?} ({:?})", binder.last_error()))?;
    let data = reached.read();
    let end = data.iter().position(|b| *b == 0).unwrap_or(SHOWN);
    let shown = String::from_utf8_lossy(&data[..end]);
    Ok(format!("{} {shown:?}", reached.id()))
}
