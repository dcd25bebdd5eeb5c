//! `ubench`: the guest benchmarks `cargo xtask bench` runs. Each prints one
//! `bench:` line with the median and spread of many runs, in TSC cycles.
//!
//! - null system call: `null()` entered and left;
//! - thread switch: half a `thread_yield` ping-pong between two threads;
//! - thread-sync wake round trip: wake a waiting thread, which wakes us back;
//! - user page fault: first touch of a demand-zero heap page (the kernel
//!   maps a zeroed frame and returns), next to a touch of a mapped page.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use runtime::{println, sys, thread};
use utest::stats::Summary;

runtime::entry!(main);

fn main(_args: &str) -> u64 {
    report("null syscall", null_syscall(20_000));
    report(
        "thread switch (yield ping-pong, per switch)",
        yield_ping_pong(5_000),
    );
    report("thread-sync wake round trip", sync_round_trip(5_000));
    let (fault, mapped) = page_touches(2_048);
    report("user page fault (demand-zero, first touch)", fault);
    report("user page touch (already mapped)", mapped);
    0
}

fn report(name: &str, mut samples: Vec<u64>) {
    match Summary::of(&mut samples) {
        Some(summary) => println!("{}", summary.line(name, "cycles")),
        None => println!("bench: {name}: no samples"),
    }
}

/// The time-stamp counter, ordered after earlier loads.
fn cycles() -> u64 {
    // SAFETY: `lfence; rdtsc` reads the counter and touches no memory.
    unsafe {
        core::arch::x86_64::_mm_lfence();
        core::arch::x86_64::_rdtsc()
    }
}

fn null_syscall(runs: usize) -> Vec<u64> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs + 100 {
        let t0 = cycles();
        let _ = sys::null();
        let t1 = cycles();
        if i >= 100 {
            samples.push(t1 - t0);
        }
    }
    samples
}

fn yield_ping_pong(runs: usize) -> Vec<u64> {
    static STOP: AtomicBool = AtomicBool::new(false);
    STOP.store(false, Ordering::SeqCst);
    let partner = thread::spawn(|| {
        while !STOP.load(Ordering::Relaxed) {
            let _ = sys::thread_yield();
        }
    });
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs + 100 {
        let t0 = cycles();
        let _ = sys::thread_yield();
        let t1 = cycles();
        if i >= 100 {
            // One yield that comes back is two switches: there and back.
            samples.push((t1 - t0) / 2);
        }
    }
    STOP.store(true, Ordering::SeqCst);
    let _ = partner.join();
    samples
}

fn sync_round_trip(runs: usize) -> Vec<u64> {
    static PING: AtomicU64 = AtomicU64::new(0);
    static PONG: AtomicU64 = AtomicU64::new(0);
    const DONE: u64 = u64::MAX;
    PING.store(0, Ordering::SeqCst);
    PONG.store(0, Ordering::SeqCst);
    let partner = thread::spawn(|| {
        let mut seen = 0;
        loop {
            let v = PING.load(Ordering::Acquire);
            if v == seen {
                let _ = sys::thread_sync_wait(&PING, seen, 0);
                continue;
            }
            if v == DONE {
                break;
            }
            seen = v;
            PONG.store(v, Ordering::Release);
            let _ = sys::thread_sync_wake(&PONG, 1);
        }
    });
    let mut samples = Vec::with_capacity(runs);
    for i in 1..=(runs as u64 + 100) {
        let t0 = cycles();
        PING.store(i, Ordering::Release);
        let _ = sys::thread_sync_wake(&PING, 1);
        loop {
            let p = PONG.load(Ordering::Acquire);
            if p == i {
                break;
            }
            let _ = sys::thread_sync_wait(&PONG, p, 0);
        }
        let t1 = cycles();
        if i > 100 {
            samples.push(t1 - t0);
        }
    }
    PING.store(DONE, Ordering::Release);
    let _ = sys::thread_sync_wake(&PING, 1);
    let _ = partner.join();
    samples
}

/// First touches of fresh heap pages, then second touches of the same pages.
fn page_touches(pages: usize) -> (Vec<u64>, Vec<u64>) {
    const PAGE: usize = 4096;
    let Ok(layout) = core::alloc::Layout::from_size_align(pages * PAGE, PAGE) else {
        return (Vec::new(), Vec::new());
    };
    // SAFETY: the layout has a non-zero size; the block is freed below with
    // the same layout. Its pages were never touched, so each first write
    // takes a demand-zero fault.
    let base = unsafe { alloc::alloc::alloc(layout) };
    if base.is_null() {
        return (Vec::new(), Vec::new());
    }
    let mut first = Vec::with_capacity(pages);
    let mut again = Vec::with_capacity(pages);
    for round in [&mut first, &mut again] {
        for page in 0..pages {
            // SAFETY: `page * PAGE` is inside the block allocated above.
            let p = unsafe { base.add(page * PAGE) };
            let t0 = cycles();
            // SAFETY: `p` is valid for writes (inside the live block).
            unsafe { p.write_volatile(1) };
            let t1 = cycles();
            round.push(t1 - t0);
        }
    }
    // SAFETY: allocated above with this layout, not freed since.
    unsafe { alloc::alloc::dealloc(base, layout) };
    (first, again)
}
