//! `syscalls`: the success path of every system call (except `thread_exit`
//! of the last thread and `poweroff`, which end things; `thread_exit` is
//! exercised by every joined thread and by `program_wait`).

use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use protocols::syscall::{Clock, EXIT_KILLED, SysError};
use runtime::sys::{self, ReadMode};
use runtime::thread;
use runtime::time::Instant;

use crate::ensure;
use crate::report::{Outcome, Report};

/// Realtime must be after 2017-01-01 (the firmware clock is the host's).
const REALTIME_FLOOR: u64 = 1_483_228_800_000_000_000;
/// Longest the wake test waits for its waiter to go to sleep.
const WAKE_PATIENCE: Duration = Duration::from_secs(5);

/// Runs the group.
pub fn run() -> u64 {
    let mut r = Report::default();
    r.test("null", || sys::null().map_err(|e| format!("{e}")));
    r.test("console_write", console_write);
    r.test("console_read nonblocking", console_read);
    r.test("thread_create and thread_exit", thread_create_exit);
    r.test("thread_yield", || {
        sys::thread_yield().map_err(|e| format!("{e}"))
    });
    r.test("thread_sleep", thread_sleep);
    r.test("thread_sync_wait WouldBlock", sync_would_block);
    r.test("thread_sync_wait TimedOut", sync_timed_out);
    r.test("thread_sync_wait woken by thread_sync_wake", sync_wake);
    r.test("clock_read every clock", clocks);
    r.test("debug_info memory", debug_memory);
    r.test("debug_info threads", debug_threads);
    r.test("program_spawn and program_wait", spawn_wait);
    r.test("program_kill ends a child, once", kill_child);
    r.finish()
}

fn console_write() -> Outcome {
    let text = b"utest: console_write writes this line\n";
    let n = sys::console_write(text).map_err(|e| format!("{e}"))?;
    ensure!(n == text.len(), "wrote {n} of {} bytes", text.len());
    Ok(())
}

/// A zero-length non-blocking read: it must not sleep, and it cannot take
/// bytes meant for the shell (input piped to the VM may already be
/// buffered).
fn console_read() -> Outcome {
    match sys::console_read(&mut [], ReadMode::NonBlocking) {
        Ok(0) | Err(SysError::WouldBlock) => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

fn thread_create_exit() -> Outcome {
    let handle = thread::Builder::new()
        .spawn(|| 6 * 7)
        .map_err(|e| format!("spawn: {e}"))?;
    let value = handle.join().map_err(|e| format!("join: {e:?}"))?;
    ensure!(value == 42, "thread returned {value}");
    Ok(())
}

fn thread_sleep() -> Outcome {
    let start = Instant::now();
    sys::thread_sleep(1_000_000).map_err(|e| format!("{e}"))?;
    let slept = start.elapsed();
    ensure!(slept >= Duration::from_millis(1), "slept only {slept:?}");
    Ok(())
}

fn sync_would_block() -> Outcome {
    let word = AtomicU64::new(1);
    match sys::thread_sync_wait(&word, 0, 0) {
        Err(SysError::WouldBlock) => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

fn sync_timed_out() -> Outcome {
    let word = AtomicU64::new(0);
    let start = Instant::now();
    match sys::thread_sync_wait(&word, 0, 10_000_000) {
        Err(SysError::TimedOut) => {}
        other => return Err(format!("{other:?}")),
    }
    let waited = start.elapsed();
    ensure!(
        waited >= Duration::from_millis(10),
        "timed out after only {waited:?}"
    );
    Ok(())
}

/// A thread waits on a word; the main thread wakes it (without changing
/// the word, so only the wake can end the wait) until the wake reports one
/// thread woken.
fn sync_wake() -> Outcome {
    let word = Arc::new(AtomicU64::new(0));
    let theirs = word.clone();
    let waiter = thread::Builder::new()
        .spawn(move || sys::thread_sync_wait(&theirs, 0, 0))
        .map_err(|e| format!("spawn: {e}"))?;
    let start = Instant::now();
    let woken = loop {
        match sys::thread_sync_wake(&word, 1) {
            Ok(0) if start.elapsed() < WAKE_PATIENCE => {
                let _ = sys::thread_sleep(1_000_000);
            }
            Ok(n) => break n,
            Err(e) => return Err(give_up(&word, e)),
        }
    };
    word.store(1, Ordering::Release);
    let waited = waiter.join().map_err(|e| format!("join: {e:?}"))?;
    ensure!(woken == 1, "thread_sync_wake woke {woken} threads");
    ensure!(waited == Ok(()), "the waiter's wait returned {waited:?}");
    Ok(())
}

/// Ends a failed wake test without leaving the waiter asleep.
fn give_up(word: &AtomicU64, e: SysError) -> alloc::string::String {
    word.store(1, Ordering::Release);
    let _ = sys::thread_sync_wake(word, u64::MAX);
    format!("thread_sync_wake: {e}")
}

fn clocks() -> Outcome {
    for clock in [Clock::Monotonic, Clock::Realtime, Clock::Cycles] {
        let mut last = sys::clock_read(clock).map_err(|e| format!("{clock:?}: {e}"))?;
        if clock == Clock::Realtime {
            ensure!(last >= REALTIME_FLOOR, "realtime {last} is before 2017");
        }
        if clock == Clock::Realtime {
            continue;
        }
        for _ in 0..1000 {
            let now = sys::clock_read(clock).map_err(|e| format!("{clock:?}: {e}"))?;
            ensure!(now >= last, "{clock:?} went backwards: {last} then {now}");
            last = now;
        }
    }
    let a = sys::clock_read(Clock::Monotonic).map_err(|e| format!("{e}"))?;
    let _ = sys::thread_sleep(2_000_000);
    let b = sys::clock_read(Clock::Monotonic).map_err(|e| format!("{e}"))?;
    ensure!(
        b - a >= 2_000_000,
        "monotonic advanced {} ns over a 2 ms sleep",
        b - a
    );
    Ok(())
}

fn debug_memory() -> Outcome {
    let m = runtime::debug::memory().map_err(|e| format!("{e}"))?;
    ensure!(m.total_frames > 0, "no frames: {m:?}");
    ensure!(
        m.free_frames <= m.total_frames,
        "more free than total: {m:?}"
    );
    ensure!(m.heap_used <= m.heap_size, "heap over capacity: {m:?}");
    Ok(())
}

fn debug_threads() -> Outcome {
    let list = runtime::debug::threads().map_err(|e| format!("{e}"))?;
    ensure!(!list.is_empty(), "no threads");
    ensure!(
        list.iter().any(|t| t.name_str().contains("utest")),
        "no thread named utest among {} threads",
        list.len()
    );
    Ok(())
}

fn spawn_wait() -> Outcome {
    let id = sys::program_spawn("utest", "exit 7").map_err(|e| format!("spawn: {e}"))?;
    let code = sys::program_wait(id, 0).map_err(|e| format!("wait: {e}"))?;
    ensure!(code == 7, "utest exit 7 exited with {code:#x}");
    Ok(())
}

fn kill_child() -> Outcome {
    let id = sys::program_spawn("utest", "sleep").map_err(|e| format!("spawn: {e}"))?;
    // Let it reach its sleep: a killed thread must be woken to end.
    runtime::time::sleep(Duration::from_millis(20)).map_err(|e| format!("sleep: {e}"))?;
    sys::program_kill(id).map_err(|e| format!("kill: {e}"))?;
    let code = sys::program_wait(id, 0).map_err(|e| format!("wait: {e}"))?;
    ensure!(code == EXIT_KILLED, "utest sleep exited with {code:#x}");
    let again = sys::program_kill(id);
    ensure!(
        again == Err(SysError::NotFound),
        "killing an ended program: {again:?}"
    );
    Ok(())
}
