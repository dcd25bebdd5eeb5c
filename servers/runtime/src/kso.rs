//! Power-resume: what a program started from a thread KSO learns about
//! its start, and how a server registers to be resumed (not reset) after
//! a power cut.
//!
//! A server calls [`power_resume`] first thing: it registers the program
//! for power-resume and, when this start *is* a resume after a cut, prints
//! the notice and returns it. The server then runs its recovery (opening
//! its objects runs their transactions' recovery) and, before it serves,
//! calls [`Resume::recovered`]. A program that never registers is reset
//! after a cut: started from scratch, with no notice.

use protocols::syscall::Syscall;
use protocols::thread_kso::{KsoSelf, StartKind};

use crate::{println, sys, time};

/// A start after a power cut, as the kernel described it.
pub struct Resume {
    /// The kernel's notice.
    pub notice: KsoSelf,
    started_ns: u64,
}

/// Registers this program for power-resume; `Some` when this start is a
/// resume after a power cut (the notice is printed, as `NAME: …`). A
/// program started without a thread KSO gets `None`.
pub fn power_resume(name: &str) -> Option<Resume> {
    let notice = sys::kso_self().ok()?;
    let _ = sys::kso_resume_register();
    if notice.start != StartKind::Resumed {
        return None;
    }
    let call = notice
        .interrupted
        .and_then(|n| Syscall::try_from(u64::from(n)).ok());
    match call {
        Some(c) => println!(
            "{name}: power-resume notice: the power went while generation {} was in {c:?}; \
             recovering",
            notice.generation - 1
        ),
        None => println!(
            "{name}: power-resume notice: the power went while generation {} ran; recovering",
            notice.generation - 1
        ),
    }
    Some(Resume {
        notice,
        started_ns: time::uptime_nanos().unwrap_or(0),
    })
}

impl Resume {
    /// Says the recovery is done (`what` it found) and it serves now.
    pub fn recovered(&self, name: &str, what: &str) {
        let ms = time::uptime_nanos()
            .unwrap_or(0)
            .saturating_sub(self.started_ns)
            / 1_000_000;
        println!(
            "{name}: recovered {what} in {ms} ms; serving as generation {}",
            self.notice.generation
        );
    }
}
