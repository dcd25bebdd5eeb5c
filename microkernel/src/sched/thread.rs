//! Threads: the records the scheduler keeps.

use alloc::sync::Arc;
use alloc::vec::Vec;

use protocols::debug::ThreadState;

use crate::mm::kstack::KernelStack;
use crate::program::Program;

/// A thread id (0 is the idle thread).
pub type Tid = u64;

/// What a blocked thread waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaitKey {
    /// A thread-sync word: (address space id, user virtual address).
    Sync {
        /// The address space.
        space: u64,
        /// The word's user address.
        addr: u64,
    },
    /// Console input.
    Console,
    /// A program's end.
    Program(u64),
}

/// Why a blocked thread runs again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Somebody woke it (or its sleep ended).
    Woken,
    /// Its deadline passed first.
    TimedOut,
    /// Its program is being ended.
    Killed,
}

/// One thread.
pub struct Thread {
    /// Its id.
    pub id: Tid,
    /// The program it belongs to (`None`: a kernel thread).
    pub program: Option<Arc<Program>>,
    /// 0 ..= MAX_PRIORITY; higher runs first.
    pub priority: u8,
    /// Scheduling state.
    pub state: ThreadState,
    /// Its kernel stack.
    pub kstack: KernelStack,
    /// Saved `rsp` while switched out.
    pub saved_rsp: u64,
    /// TSC cycles it has run.
    pub cycles: u64,
    /// What it waits for, while blocked.
    pub wait: Option<WaitKey>,
    /// When its sleep or wait times out (monotonic ns).
    pub deadline: Option<u64>,
    /// Why it was last made ready.
    pub wake: Wake,
    /// The page-table root it runs on (`root | pcid`): its active security
    /// context's root in its program's object space; 0 for the program's
    /// default root.
    pub root: u64,
    /// Protected procedure calls it is in, innermost last (see
    /// [`super::ppc`]); empty while it runs in its own program.
    pub calls: Vec<crate::ppc::CallFrame>,
}

impl Thread {
    /// The program id (0 for kernel threads).
    pub fn program_id(&self) -> u64 {
        self.program.as_ref().map_or(0, |p| p.id)
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        // Reaped outside the scheduler lock: forget its security contexts.
        if let Some(p) = &self.program {
            p.objects.thread_ended(self.id);
        }
    }
}
