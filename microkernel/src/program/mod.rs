//! Programs: a boot module loaded into its own address space, its threads,
//! and its end.

pub mod kso;
pub mod loader;
pub mod modules;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use protocols::exit::GuestExit;
use protocols::layout::{DEFAULT_PRIORITY, MAX_ARGS_LEN};
use protocols::syscall::SysError;

use crate::arch::TrapFrame;
use crate::mm::uspace::AddressSpace;
use crate::object::space::ObjSpace;
use crate::sched::{self, ProgramRecord, Tid};

use self::kso::ThreadKso;
use crate::{halt, kprintln};

/// Longest program name kept (the module name).
pub const NAME_LEN: usize = 16;
/// Longest module name `program_spawn` accepts.
pub const MAX_NAME_LEN: usize = 64;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A running program.
pub struct Program {
    /// Its id.
    pub id: u64,
    name: [u8; NAME_LEN],
    name_len: usize,
    /// Its address space.
    pub space: AddressSpace,
    /// Its view and security-context roots (dropped after `space`, whose
    /// teardown leaves the slot region to it).
    pub objects: ObjSpace,
    /// The thread KSO it was started from, if any.
    pub kso: Option<Arc<ThreadKso>>,
}

impl Program {
    /// Its name (the module name, cut to [`NAME_LEN`] bytes).
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len]
    }

    /// Its name as text.
    pub fn name_text(&self) -> kcore::text::Escaped<'_> {
        kcore::text::Escaped(self.name())
    }
}

/// Starts boot module `/boot/<name>` as a new program of `parent` (0: the
/// kernel) with argument string `args`; returns its id.
pub fn spawn(name: &[u8], args: &[u8], parent: u64) -> Result<u64, SysError> {
    spawn_program(name, args, parent, None).map(|(id, _, _)| id)
}

/// [`spawn`], keeping the records of thread KSO `kso`; the program's id,
/// the program and its first thread.
fn spawn_program(
    name: &[u8],
    args: &[u8],
    parent: u64,
    kso: Option<Arc<ThreadKso>>,
) -> Result<(u64, Arc<Program>, Tid), SysError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(SysError::NotFound);
    }
    if args.len() as u64 > MAX_ARGS_LEN {
        return Err(SysError::TooLarge);
    }
    let module = modules::find(name).ok_or(SysError::NotFound)?;
    let space = AddressSpace::new().map_err(|_| SysError::NoMemory)?;
    let entry = loader::load(&space, module.data, args)?;
    let objects = ObjSpace::new(&space)?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut stored = [0u8; NAME_LEN];
    let name_len = name.len().min(NAME_LEN);
    stored[..name_len].copy_from_slice(&name[..name_len]);
    let program = Arc::new(Program {
        id,
        name: stored,
        name_len,
        space,
        objects,
        kso,
    });
    sched::add_program(
        id,
        ProgramRecord::new(parent, parent == 0 && name == b"init"),
    )?;
    let frame = TrapFrame::user_entry(entry.rip, entry.rsp, entry.args, entry.args_len);
    match sched::spawn_user(program.clone(), frame, DEFAULT_PRIORITY as u8) {
        Ok(tid) => Ok((id, program, tid)),
        Err(err) => {
            // The record never had a thread: end it so nothing waits for
            // ever.
            sched::with_programs(|p| p.abandon(id));
            Err(err)
        }
    }
}

/// Starts `init` (with its module command line as arguments), or powers
/// off if there is none.
pub fn start_init() {
    let Some(module) = modules::find(b"init") else {
        kprintln!("boot: no init module; powering off");
        halt::exit(GuestExit::Success);
    };
    if let Err(err) = spawn(b"init", &module.cmdline, 0) {
        kprintln!("boot: cannot start init: {err}; powering off");
        halt::exit(GuestExit::TestFailure);
    }
}

/// The last program ended: report init's exit code and power off.
pub fn all_ended(init_code: u64) -> ! {
    kprintln!("init exited with {init_code}; powering off");
    halt::exit(if init_code == 0 {
        GuestExit::Success
    } else {
        GuestExit::TestFailure
    })
}
