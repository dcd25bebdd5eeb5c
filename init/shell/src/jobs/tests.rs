//! `run -b`, `wait` and `sleep` in scripted sessions against a fake
//! system that runs programs "in the background" by remembering them.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use protocols::debug::{MemStats, ThreadInfo};
use protocols::exit::GuestExit;
use protocols::syscall::{EXIT_FAULT, SysError};

use super::*;
use crate::Session;

/// Records what the shell asked for, in order.
#[derive(Default)]
struct Fake {
    out: String,
    /// `spawn`, `wait`, `sleep` calls, in order, as text.
    calls: Vec<String>,
    next_id: u64,
    /// Ids of programs that ended and were waited for.
    reaped: Vec<u64>,
    jobs: Jobs,
    /// Whether the fake keeps a job table (`System::jobs`).
    keeps_jobs: bool,
}

impl System for Fake {
    fn write(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn uptime_nanos(&mut self) -> Result<u64, SysError> {
        Ok(0)
    }
    fn threads(&mut self) -> Result<Vec<ThreadInfo>, SysError> {
        Ok(Vec::new())
    }
    fn mem(&mut self) -> Result<MemStats, SysError> {
        Err(SysError::UnknownSyscall)
    }
    fn spawn(&mut self, name: &str, args: &str) -> Result<u64, SysError> {
        self.calls.push(format!("spawn {name} {args}"));
        if name == "nothing" {
            return Err(SysError::NotFound);
        }
        self.next_id += 1;
        Ok(40 + self.next_id)
    }
    fn wait(&mut self, id: u64) -> Result<u64, SysError> {
        self.calls.push(format!("wait {id}"));
        if self.reaped.contains(&id) || id < 41 || id > 40 + self.next_id {
            return Err(SysError::NotFound);
        }
        self.reaped.push(id);
        // Program 42 faults; the others exit with their id's last digit.
        Ok(if id == 42 { EXIT_FAULT | 13 } else { id % 10 })
    }
    fn poweroff(&mut self, _: GuestExit) -> Result<(), SysError> {
        Ok(())
    }
    fn jobs(&mut self) -> Option<&mut Jobs> {
        self.keeps_jobs.then_some(&mut self.jobs)
    }
    fn sleep_ms(&mut self, ms: u64) -> Result<(), SysError> {
        self.calls.push(format!("sleep {ms}"));
        Ok(())
    }
}

fn session(input: &str, keeps_jobs: bool) -> Fake {
    let mut fake = Fake {
        keeps_jobs,
        ..Fake::default()
    };
    let mut s = Session::new();
    s.start(&mut fake);
    s.feed_all(input.as_bytes(), &mut fake);
    fake
}

#[test]
fn run_b_returns_at_once_and_wait_prints_the_exit_line() {
    let f = session(
        "run -b loadgen 30 x\nserver list\nsleep 250\nwait 41\n",
        true,
    );
    assert!(f.out.contains("\nrun: loadgen started as program 41\n"));
    // Nothing waited for it until `wait`, after the sleep.
    assert_eq!(
        f.calls,
        ["spawn loadgen 30 x", "sleep 250", "wait 41"].map(String::from)
    );
    assert!(
        f.out
            .contains("perennial> wait 41\nrun: loadgen exited with 1\n")
    );
    assert!(f.jobs.ids().is_empty(), "a waited-for program is forgotten");
}

#[test]
fn wait_without_ids_waits_for_every_background_program_in_order() {
    let f = session("run -b a\nrun -b b 1\nrun -b c\nwait\nwait\n", true);
    assert_eq!(
        f.calls[3..],
        ["wait 41", "wait 42", "wait 43"].map(String::from)
    );
    assert!(f.out.contains("run: a exited with 1\n"));
    assert!(
        f.out
            .contains("run: b killed by general protection fault (vector 13)\n"),
        "{}",
        f.out
    );
    assert!(f.out.contains("run: c exited with 3\n"));
    assert!(f.out.ends_with("wait: no background programs\nperennial> "));
}

#[test]
fn wait_reports_unknown_programs_and_bad_ids() {
    let f = session("wait 7\nwait x\nrun -b a\nwait 41\nwait 41\n", true);
    assert!(f.out.contains("\nwait: program 7 (program 7): not found\n"));
    assert!(f.out.contains("\nwait: usage: wait [PROGRAM...]"));
    assert!(f.out.contains("\nrun: a exited with 1\n"));
    // The second wait finds it gone.
    assert!(
        f.out
            .contains("\nwait: program 41 (program 41): not found\n")
    );
}

#[test]
fn without_a_job_table_wait_names_the_program_by_id() {
    let f = session("run -b a\nwait 41\nwait\n", false);
    assert!(f.out.contains("\nrun: a started as program 41\n"));
    assert!(f.out.contains("\nrun: program 41 exited with 1\n"));
    assert!(f.out.contains("\nwait: no background programs\n"));
}

#[test]
fn run_b_reports_spawn_errors_and_usage() {
    let f = session("run -b nothing\nrun -b\n", true);
    assert!(f.out.contains("\nrun: nothing: not found\n"));
    assert!(f.out.contains("\nrun: usage: run -b NAME [ARGS...]\n"));
    assert!(f.jobs.ids().is_empty());
}

#[test]
fn sleep_checks_its_argument() {
    let f = session(
        "sleep 0\nsleep 600000\nsleep 600001\nsleep\nsleep 1 2\nsleep x\n",
        true,
    );
    assert_eq!(f.calls, ["sleep 0", "sleep 600000"].map(String::from));
    assert_eq!(f.out.matches("sleep: usage: sleep MS").count(), 4);
}

#[test]
fn a_system_that_cannot_sleep_says_so() {
    struct NoSleep(String);
    impl System for NoSleep {
        fn write(&mut self, text: &str) {
            self.0.push_str(text);
        }
        fn uptime_nanos(&mut self) -> Result<u64, SysError> {
            Ok(0)
        }
        fn threads(&mut self) -> Result<Vec<ThreadInfo>, SysError> {
            Ok(Vec::new())
        }
        fn mem(&mut self) -> Result<MemStats, SysError> {
            Err(SysError::UnknownSyscall)
        }
        fn spawn(&mut self, _: &str, _: &str) -> Result<u64, SysError> {
            Err(SysError::NotFound)
        }
        fn wait(&mut self, _: u64) -> Result<u64, SysError> {
            Err(SysError::NotFound)
        }
        fn poweroff(&mut self, _: GuestExit) -> Result<(), SysError> {
            Ok(())
        }
    }
    let mut sys = NoSleep(String::new());
    sleep(&mut sys, &["5".to_string()]);
    assert!(sys.0.starts_with("sleep: "), "{}", sys.0);
    assert!(!sys.0.contains("usage"));
}
