//! `threads`: join, a mutex, a condition variable, sleep accuracy and
//! preemption of a thread that never makes a system call.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;

use runtime::sync::{Condvar, Mutex};
use runtime::thread;
use runtime::time::{Instant, sleep};

use crate::ensure;
use crate::report::{Outcome, Report};

/// Upper bound for a 20 ms sleep: generous, so a slow TCG host never flakes.
const SLEEP_CEILING: Duration = Duration::from_secs(2);

/// Runs the group.
pub fn run() -> u64 {
    let mut r = Report::default();
    r.test("four threads sum under a mutex", mutex_sum);
    r.test("condvar hands items to a consumer", condvar_handoff);
    r.test("sleep 20 ms", sleep_accuracy);
    r.test("timer preempts a spinning thread", preemption);
    r.finish()
}

fn mutex_sum() -> Outcome {
    const PER_THREAD: u64 = 1000;
    let sum = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let sum = sum.clone();
            thread::Builder::new().spawn(move || {
                for i in 1..=PER_THREAD {
                    *sum.lock() += i;
                    if i % 100 == 0 {
                        let _ = runtime::sys::thread_yield();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.map_err(|e| format!("spawn: {e}"))?
            .join()
            .map_err(|e| format!("join: {e:?}"))?;
    }
    let total = *sum.lock();
    let want = 4 * PER_THREAD * (PER_THREAD + 1) / 2;
    ensure!(total == want, "sum {total}, expected {want}");
    Ok(())
}

fn condvar_handoff() -> Outcome {
    const ITEMS: u64 = 200;
    let shared = Arc::new((Mutex::new(Vec::<u64>::new()), Condvar::new()));
    let theirs = shared.clone();
    let consumer = thread::Builder::new()
        .spawn(move || {
            let (queue, ready) = &*theirs;
            let mut total = 0;
            let mut seen = 0;
            while seen < ITEMS {
                let mut q = queue.lock();
                while q.is_empty() {
                    q = ready.wait(q);
                }
                seen += q.len() as u64;
                total += q.drain(..).sum::<u64>();
            }
            total
        })
        .map_err(|e| format!("spawn: {e}"))?;
    for i in 0..ITEMS {
        shared.0.lock().push(i);
        shared.1.notify_one();
    }
    let total = consumer.join().map_err(|e| format!("join: {e:?}"))?;
    ensure!(total == ITEMS * (ITEMS - 1) / 2, "consumer summed {total}");
    Ok(())
}

fn sleep_accuracy() -> Outcome {
    let start = Instant::now();
    sleep(Duration::from_millis(20)).map_err(|e| format!("{e}"))?;
    let slept = start.elapsed();
    ensure!(
        slept >= Duration::from_millis(20),
        "woke after only {slept:?}"
    );
    ensure!(slept < SLEEP_CEILING, "woke after {slept:?}");
    Ok(())
}

/// A thread spins on a flag without system calls while the main thread
/// sleeps; the main thread can only wake up and set the flag if the timer
/// preempts the spinner.
fn preemption() -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let spins = Arc::new(AtomicU64::new(0));
    let (their_stop, their_spins) = (stop.clone(), spins.clone());
    let spinner = thread::Builder::new()
        .spawn(move || {
            while !their_stop.load(Ordering::Acquire) {
                their_spins.fetch_add(1, Ordering::Relaxed);
                core::hint::spin_loop();
            }
        })
        .map_err(|e| format!("spawn: {e}"))?;
    sleep(Duration::from_millis(50)).map_err(|e| format!("{e}"))?;
    let spun = spins.load(Ordering::Relaxed);
    stop.store(true, Ordering::Release);
    spinner.join().map_err(|e| format!("join: {e:?}"))?;
    ensure!(spun > 0, "the spinner never ran while main slept");
    Ok(())
}
