//! A host stand-in for the kernel, for unit tests only: `null`, `yield`,
//! `sleep`, `clock_read`, `thread_sync_wait`/`wake` and `console_write`
//! (captured per test thread) behave as the ABI documents, checking their
//! arguments the same way; everything else fails with `UnknownSyscall`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use protocols::syscall::{Clock, MAX_IO_LEN, MAX_SLEEP_NANOS, SysError, Syscall, encode};

/// One sleeping waiter: its "woken" flag and the condition it sleeps on.
type Waiter = Arc<(Mutex<bool>, Condvar)>;

/// Waiters by word address. The word is read under this lock, and wakers
/// change the word before taking it, so no wake-up is lost.
fn waiters() -> &'static Mutex<HashMap<u64, Vec<Waiter>>> {
    static WAITERS: OnceLock<Mutex<HashMap<u64, Vec<Waiter>>>> = OnceLock::new();
    WAITERS.get_or_init(Default::default)
}

fn boot() -> Instant {
    static BOOT: OnceLock<Instant> = OnceLock::new();
    *BOOT.get_or_init(Instant::now)
}

thread_local! {
    /// What this test thread wrote to the "console".
    static CONSOLE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Takes what the current thread wrote with `console_write` so far.
pub fn take_console() -> Vec<u8> {
    CONSOLE.with(|c| core::mem::take(&mut *c.borrow_mut()))
}

/// Emulates one call.
///
/// # Safety
///
/// Pointer arguments must be valid for the access the call makes.
pub unsafe fn syscall(number: u64, args: [u64; 6]) -> u64 {
    // SAFETY: forwarded contract.
    encode(unsafe { dispatch(number, args) })
}

unsafe fn dispatch(number: u64, args: [u64; 6]) -> Result<u64, SysError> {
    let call = Syscall::try_from(number)?;
    if args[call.arg_count()..].iter().any(|&a| a != 0) {
        return Err(SysError::InvalidArgument);
    }
    match call {
        Syscall::Null => Ok(0),
        Syscall::ThreadYield => {
            std::thread::yield_now();
            Ok(0)
        }
        Syscall::ThreadSleep => {
            if args[0] > MAX_SLEEP_NANOS {
                return Err(SysError::InvalidArgument);
            }
            std::thread::sleep(Duration::from_nanos(args[0]));
            Ok(0)
        }
        Syscall::ClockRead => {
            let since_boot = boot().elapsed().as_nanos() as u64;
            match Clock::try_from(args[0])? {
                Clock::Monotonic | Clock::Cycles => Ok(since_boot),
                Clock::Realtime => Ok(since_boot + 1_700_000_000_000_000_000),
            }
        }
        Syscall::ConsoleWrite => {
            let len = args[1] as usize;
            if len > MAX_IO_LEN {
                return Err(SysError::TooLarge);
            }
            // SAFETY: the caller passes a readable buffer of `len` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(args[0] as *const u8, len) };
            CONSOLE.with(|c| c.borrow_mut().extend_from_slice(bytes));
            Ok(len as u64)
        }
        // SAFETY: forwarded contract.
        Syscall::ThreadSyncWait => unsafe { wait(args[0], args[1], args[2]) },
        Syscall::ThreadSyncWake => wake(args[0], args[1]),
        _ => Err(SysError::UnknownSyscall),
    }
}

/// # Safety
///
/// A non-null aligned `addr` points at a live `u64`.
unsafe fn wait(addr: u64, expected: u64, timeout: u64) -> Result<u64, SysError> {
    if addr == 0 || !addr.is_multiple_of(8) {
        return Err(SysError::InvalidArgument);
    }
    let me: Waiter = Arc::new((Mutex::new(false), Condvar::new()));
    {
        let mut map = waiters().lock().unwrap();
        // SAFETY: the caller passes a live, aligned word.
        let word = unsafe { &*(addr as *const AtomicU64) };
        if word.load(Ordering::SeqCst) != expected {
            return Err(SysError::WouldBlock);
        }
        map.entry(addr).or_default().push(me.clone());
    }
    let deadline = (timeout != 0).then(|| Instant::now() + Duration::from_nanos(timeout));
    let (flag, cv) = &*me;
    let mut woken = flag.lock().unwrap();
    while !*woken {
        match deadline {
            None => woken = cv.wait(woken).unwrap(),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    break;
                }
                woken = cv.wait_timeout(woken, d - now).unwrap().0;
            }
        }
    }
    if *woken {
        return Ok(0);
    }
    drop(woken);
    // Timed out, unless a waker took us off the list meanwhile.
    let mut map = waiters().lock().unwrap();
    let list = map.entry(addr).or_default();
    match list.iter().position(|w| Arc::ptr_eq(w, &me)) {
        Some(i) => {
            list.remove(i);
            Err(SysError::TimedOut)
        }
        None => Ok(0),
    }
}

fn wake(addr: u64, count: u64) -> Result<u64, SysError> {
    if addr == 0 || !addr.is_multiple_of(8) {
        return Err(SysError::InvalidArgument);
    }
    let mut map = waiters().lock().unwrap();
    let list = map.entry(addr).or_default();
    let n = (count.min(list.len() as u64)) as usize;
    for w in list.drain(..n) {
        *w.0.lock().unwrap() = true;
        w.1.notify_one();
    }
    Ok(n as u64)
}
