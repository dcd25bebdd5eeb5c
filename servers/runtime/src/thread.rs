//! Threads: [`spawn`] a closure on its own heap-allocated stack and
//! [`JoinHandle::join`] it.
//!
//! Each thread has a [`ThreadBlock`]: its stack and an exit word. When the
//! closure returns, the thread stores 1 in the exit word, wakes every
//! waiter on it and calls `thread_exit` — in assembly, without touching its
//! stack after the store, so the joiner may free the stack as soon as it
//! sees the word change. A thread that panics stores 2 instead (the panic
//! handler finds its block from the stack pointer). Blocks of detached
//! threads (handle dropped) are freed by the next `spawn` once they ended.

// Off the target no thread can start, so the start and finish paths are
// compiled (and checked) but unused there.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering};

use protocols::layout::DEFAULT_PRIORITY;
use protocols::syscall::SysError;

use crate::sync::{Mutex, wait_while_equal};

/// Stack size of a spawned thread unless the [`Builder`] says otherwise.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;

/// Exit-word values.
const RUNNING: u64 = 0;
const FINISHED: u64 = 1;
const PANICKED: u64 = 2;

/// A thread's stack and exit word, shared by the thread and its joiner.
struct ThreadBlock {
    exit: AtomicU64,
    stack: *mut u8,
    stack_size: usize,
}

impl ThreadBlock {
    fn stack_layout(size: usize) -> Option<Layout> {
        Layout::from_size_align(size, 16).ok()
    }

    fn contains(&self, addr: usize) -> bool {
        (self.stack as usize..self.stack as usize + self.stack_size).contains(&addr)
    }
}

/// A block pointer in the registry.
#[derive(Clone, Copy, PartialEq, Eq)]
struct BlockPtr(*mut ThreadBlock);
// SAFETY: blocks are shared between threads on purpose; every field access
// is atomic or happens after the thread ended.
unsafe impl Send for BlockPtr {}

/// Live blocks (for the panic handler) and whether each one's handle was
/// dropped (so `spawn` frees it once the thread ended).
static REGISTRY: Mutex<Vec<(BlockPtr, bool)>> = Mutex::new(Vec::new());

/// Why [`JoinHandle::join`] has no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// The thread panicked.
    Panicked,
}

/// Where the closure's result waits for the joiner.
struct Packet<T> {
    result: UnsafeCell<Option<T>>,
}

// SAFETY: the thread writes `result` once, before it stores its exit word
// (release); the joiner reads it only after seeing the word (acquire).
unsafe impl<T: Send> Sync for Packet<T> {}

/// What the new thread's first function receives.
struct Start {
    main: Box<dyn FnOnce() + Send>,
    block: *mut ThreadBlock,
}

/// Owns a spawned thread; [`join`](JoinHandle::join) waits for its result.
pub struct JoinHandle<T> {
    id: u64,
    block: *mut ThreadBlock,
    packet: Arc<Packet<T>>,
    _not_sync: PhantomData<*const ()>,
}

// SAFETY: the handle may be moved to another thread: the block is shared by
// design and the result is `Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}

/// How to start a thread.
#[derive(Clone, Copy, Debug)]
pub struct Builder {
    stack_size: usize,
    priority: u64,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Default stack size and the default priority.
    pub const fn new() -> Builder {
        Builder {
            stack_size: DEFAULT_STACK_SIZE,
            priority: DEFAULT_PRIORITY,
        }
    }

    /// Stack size in bytes (rounded up to 16).
    pub const fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = bytes.next_multiple_of(16);
        self
    }

    /// Priority, 0 ..= `MAX_PRIORITY`.
    pub const fn priority(mut self, priority: u64) -> Builder {
        self.priority = priority;
        self
    }

    /// Starts a thread running `f`.
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SysError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        reap_detached();
        let layout = ThreadBlock::stack_layout(self.stack_size).ok_or(SysError::InvalidArgument)?;
        if layout.size() < 4096 {
            return Err(SysError::InvalidArgument);
        }
        // SAFETY: a non-zero-sized layout.
        let stack = unsafe { alloc::alloc::alloc(layout) };
        if stack.is_null() {
            return Err(SysError::NoMemory);
        }
        let block = Box::into_raw(Box::new(ThreadBlock {
            exit: AtomicU64::new(RUNNING),
            stack,
            stack_size: layout.size(),
        }));
        let packet = Arc::new(Packet {
            result: UnsafeCell::new(None),
        });
        let theirs = packet.clone();
        let main: Box<dyn FnOnce() + Send> = Box::new(move || {
            let value = f();
            // SAFETY: only this thread writes, before its exit word says so.
            unsafe { *theirs.result.get() = Some(value) };
        });
        let start = Box::into_raw(Box::new(Start { main, block }));
        REGISTRY.lock().push((BlockPtr(block), false));
        let stack_top = (stack as usize + layout.size()) & !15;
        // SAFETY: the entry is the trampoline, which runs on a fresh stack
        // with only `rdi` set; the stack is ours until the thread's exit word
        // changes, and `start` is handed over to the thread.
        match unsafe { spawn_raw(stack_top, start as u64, self.priority) } {
            Ok(id) => Ok(JoinHandle {
                id,
                block,
                packet,
                _not_sync: PhantomData,
            }),
            Err(e) => {
                // SAFETY: the thread never started: we still own everything.
                unsafe {
                    drop(Box::from_raw(start));
                    unregister(block);
                    free_block(block);
                }
                Err(e)
            }
        }
    }
}

/// Starts a thread running `f` with the default stack and priority.
///
/// # Panics
///
/// If the kernel or the heap cannot provide a thread; use [`Builder::spawn`]
/// to handle that.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().spawn(f) {
        Ok(handle) => handle,
        Err(e) => panic!("thread::spawn: {e}"),
    }
}

impl<T> JoinHandle<T> {
    /// The kernel's id for the thread.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        // SAFETY: the block lives until the handle is joined or dropped.
        unsafe { (*self.block).exit.load(Ordering::Acquire) != RUNNING }
    }

    /// Waits for the thread to end and returns its closure's result.
    pub fn join(mut self) -> Result<T, JoinError> {
        // SAFETY: the block lives until the handle is joined or dropped.
        let exit = unsafe { &(*self.block).exit };
        let mut state = exit.load(Ordering::Acquire);
        while state == RUNNING {
            wait_while_equal(exit, RUNNING, 0);
            state = exit.load(Ordering::Acquire);
        }
        // SAFETY: the exit word is set: the thread wrote its result (if it
        // finished) and no longer touches its stack or the packet.
        let result = unsafe { (*self.packet.result.get()).take() };
        // SAFETY: the thread ended; the block is ours alone now.
        unsafe {
            unregister(self.block);
            free_block(self.block);
        }
        // Joined: `drop` has nothing left to detach.
        self.block = core::ptr::null_mut();
        match state {
            FINISHED => result.ok_or(JoinError::Panicked),
            _ => Err(JoinError::Panicked),
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if self.block.is_null() {
            return;
        }
        // Detach: the next `spawn` frees the block once the thread ended.
        if let Some(entry) = REGISTRY
            .lock()
            .iter_mut()
            .find(|(b, _)| *b == BlockPtr(self.block))
        {
            entry.1 = true;
        }
    }
}

/// Frees the blocks of detached threads that have ended.
fn reap_detached() {
    let mut done = Vec::new();
    REGISTRY.lock().retain(|&(block, detached)| {
        // SAFETY: registered blocks are live.
        let ended = unsafe { (*block.0).exit.load(Ordering::Acquire) } != RUNNING;
        if detached && ended {
            done.push(block);
        }
        !(detached && ended)
    });
    for block in done {
        // SAFETY: the thread ended and its handle is gone: nobody else
        // refers to the block.
        unsafe { free_block(block.0) };
    }
}

/// # Safety
///
/// `block` is registered.
unsafe fn unregister(block: *mut ThreadBlock) {
    REGISTRY.lock().retain(|&(b, _)| b != BlockPtr(block));
}

/// # Safety
///
/// `block` came from `spawn`, its thread ended (or never started), and
/// nothing refers to it any more.
unsafe fn free_block(block: *mut ThreadBlock) {
    // SAFETY: per the contract we own the block and the stack it names.
    unsafe {
        let block = Box::from_raw(block);
        if let Some(layout) = ThreadBlock::stack_layout(block.stack_size) {
            alloc::alloc::dealloc(block.stack, layout);
        }
    }
}

/// Ends the current thread after a panic: marks its exit word (when it is a
/// spawned thread whose block can be found without blocking) and exits.
pub(crate) fn end_after_panic(code: u64) -> ! {
    let sp = current_stack_pointer();
    let block = REGISTRY.try_lock().and_then(|registry| {
        registry
            .iter()
            // SAFETY: registered blocks are live.
            .find(|(b, _)| unsafe { (*b.0).contains(sp) })
            .map(|(b, _)| b.0)
    });
    match block {
        // SAFETY: this thread is the block's thread; it ends now.
        Some(block) => unsafe { finish(block, PANICKED) },
        // Not a spawned thread: the main thread panicked, so the program ends.
        None => crate::sys::program_exit(code),
    }
}

#[cfg(target_os = "none")]
fn current_stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads `rsp`, nothing else.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

#[cfg(not(target_os = "none"))]
fn current_stack_pointer() -> usize {
    let marker = 0u8;
    core::ptr::addr_of!(marker) as usize
}

#[cfg(target_os = "none")]
core::arch::global_asm!(
    ".globl __perennial_thread_entry",
    ".type __perennial_thread_entry, @function",
    "__perennial_thread_entry:",
    "xor ebp, ebp",
    "call {main}",
    "ud2",
    main = sym thread_main,
);

#[cfg(target_os = "none")]
unsafe extern "C" {
    /// The first instruction of every spawned thread (`rdi` = `*mut Start`).
    fn __perennial_thread_entry();
}

/// Starts the kernel thread.
///
/// # Safety
///
/// As [`crate::sys::thread_create`], with `arg` a `Box<Start>` handed over.
#[cfg(target_os = "none")]
unsafe fn spawn_raw(stack_top: usize, arg: u64, priority: u64) -> Result<u64, SysError> {
    let entry = __perennial_thread_entry as *const () as usize;
    // SAFETY: forwarded contract.
    unsafe { crate::sys::thread_create(entry, stack_top, arg, priority) }
}

/// Host unit tests: a `std` thread stands in for the kernel's, running the
/// same `Start` and finishing the same way (exit word, then wake), so the
/// join, detach and panic paths are tested for real. The stack is unused.
///
/// # Safety
///
/// `arg` is a `Box<Start>` handed over.
#[cfg(all(test, not(target_os = "none")))]
unsafe fn spawn_raw(stack_top: usize, arg: u64, priority: u64) -> Result<u64, SysError> {
    use core::sync::atomic::AtomicU64 as Counter;
    static NEXT_ID: Counter = Counter::new(1);
    let _ = (stack_top, priority);
    let arg = arg as usize;
    std::thread::spawn(move || {
        // SAFETY: `spawn` handed this box over to the thread.
        let Start { main, block } = *unsafe { Box::from_raw(arg as *mut Start) };
        let state = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(main)) {
            Ok(()) => FINISHED,
            Err(_) => PANICKED,
        };
        // SAFETY: the block lives until its joiner sees this store, and
        // the wake only uses its address.
        let exit = unsafe { &(*block).exit };
        exit.store(state, Ordering::Release);
        let _ = crate::sys::thread_sync_wake(exit, u64::MAX);
    });
    Ok(NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// Without the kernel there are no threads.
///
/// # Safety
///
/// None; the signature matches the target's.
#[cfg(all(not(test), not(target_os = "none")))]
unsafe fn spawn_raw(stack_top: usize, arg: u64, priority: u64) -> Result<u64, SysError> {
    let _ = (stack_top, arg, priority);
    Err(SysError::UnknownSyscall)
}

/// The spawned thread's Rust entry: runs the closure, then finishes.
#[cfg(target_os = "none")]
extern "C" fn thread_main(start: *mut Start) -> ! {
    // SAFETY: `spawn` handed this box over to the thread.
    let Start { main, block } = *unsafe { Box::from_raw(start) };
    main();
    // SAFETY: this is the block's thread, and it is done.
    unsafe { finish(block, FINISHED) }
}

/// Stores `state` in the block's exit word, wakes its joiner and ends the
/// thread, without using the stack after the store.
///
/// # Safety
///
/// Called by `block`'s own thread, which has nothing left to run.
#[cfg(target_os = "none")]
unsafe fn finish(block: *mut ThreadBlock, state: u64) -> ! {
    use protocols::syscall::Syscall;
    // SAFETY: the block is live until the joiner sees the store; after it,
    // only registers are used: `thread_sync_wake(word, all)` (the word's
    // address stays mapped heap even if freed: at worst a spurious wake),
    // then `thread_exit(0)`, retried if it ever returned.
    unsafe {
        let word = (*block).exit.as_ptr();
        core::arch::asm!(
            "mov qword ptr [rdi], {state}",
            "mov eax, {wake}",
            "mov rsi, -1",
            "syscall",
            "2:",
            "mov eax, {exit}",
            "xor edi, edi",
            "xor esi, esi",
            "syscall",
            "jmp 2b",
            state = in(reg) state,
            wake = const Syscall::ThreadSyncWake as u64,
            exit = const Syscall::ThreadExit as u64,
            in("rdi") word,
            in("rdx") 0u64,
            in("r10") 0u64,
            in("r8") 0u64,
            in("r9") 0u64,
            options(noreturn, nostack),
        )
    }
}

/// Without the kernel: just exit.
///
/// # Safety
///
/// None here.
#[cfg(not(target_os = "none"))]
unsafe fn finish(block: *mut ThreadBlock, state: u64) -> ! {
    let _ = (block, state);
    crate::sys::thread_exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> usize {
        REGISTRY.lock().len()
    }

    #[test]
    fn join_returns_results_and_reports_panics() {
        let handles: Vec<_> = (0..4u64).map(|i| spawn(move || i * 10)).collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        assert_eq!(results, [Ok(0), Ok(10), Ok(20), Ok(30)]);
        let panicked = spawn(|| -> u32 { panic!("expected by the test") });
        assert_eq!(panicked.join(), Err(JoinError::Panicked));
    }

    #[test]
    fn detached_threads_are_reaped_by_a_later_spawn() {
        let gate = Arc::new(AtomicU64::new(0));
        let theirs = gate.clone();
        let handle = spawn(move || {
            while theirs.load(Ordering::Acquire) == 0 {
                wait_while_equal(&theirs, 0, 0);
            }
        });
        let block = BlockPtr(handle.block);
        drop(handle);
        let listed = || {
            REGISTRY
                .lock()
                .iter()
                .any(|(b, detached)| *b == block && *detached)
        };
        assert!(listed(), "a detached running thread stays registered");
        gate.store(1, Ordering::Release);
        let _ = crate::sys::thread_sync_wake(&gate, u64::MAX);
        // Spawn (and join) until the ended thread has been reaped.
        for _ in 0..1000 {
            spawn(|| ()).join().unwrap();
            if !listed() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("never reaped; {} registered", registered());
    }
}
