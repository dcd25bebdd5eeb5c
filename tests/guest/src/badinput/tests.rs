//! The table itself: coverage, and that no case could do harm if the
//! kernel wrongly accepted it.

use super::*;
use protocols::exit::GuestExit;
use protocols::layout::is_user_range;

fn addrs() -> Addrs {
    Addrs {
        readonly: 0x40_1000,
        writable: 0x1_0000_0000,
        big: 0x1_0001_0000,
        word: 0x1_0002_0000,
        word_value: 5,
        entry: 0x40_2000,
        stack_top: 0x1_0004_0000,
    }
}

#[test]
fn every_number_and_several_past_the_last_are_called() {
    let cases = cases(&addrs());
    let last = Syscall::ALL.len() as u64;
    for number in (0..=last + 4).chain([u64::MAX]) {
        assert!(
            cases.iter().any(|c| c.number == number),
            "number {number} not called"
        );
    }
    for c in cases.iter().filter(|c| c.number >= last) {
        assert_eq!(c.expect, Expect::Exactly(SysError::UnknownSyscall));
    }
    assert!(
        cases.windows(2).all(|w| w[0].number <= w[1].number),
        "grouped by number"
    );
}

#[test]
fn every_reserved_argument_position_is_tried() {
    let cases = cases(&addrs());
    for &call in Syscall::ALL {
        for slot in call.arg_count()..6 {
            assert!(
                cases.iter().any(|c| c.number == call as u64
                    && c.args[slot] != 0
                    && c.expect == Expect::Exactly(SysError::InvalidArgument)),
                "{} reserved slot {slot}",
                call.name()
            );
        }
    }
}

#[test]
fn no_case_could_end_the_program_or_the_machine() {
    let valid_status = |s: u64| GuestExit::ALL.iter().any(|g| *g as u32 as u64 == s);
    for c in cases(&addrs()) {
        if c.number == Syscall::ThreadExit as u64 {
            assert!(
                c.args[0] >= EXIT_FAULT,
                "thread_exit with a valid code: {c:?}"
            );
        }
        if c.number == Syscall::Poweroff as u64 {
            assert!(
                !valid_status(c.args[0]),
                "poweroff with a valid status: {c:?}"
            );
        }
    }
}

#[test]
fn no_case_could_steal_input_spawn_a_program_or_run_stray_code() {
    let a = addrs();
    for c in cases(&a) {
        let [p0, p1, p2, p3, ..] = c.args;
        if c.number == Syscall::ConsoleRead as u64 {
            let usable = p0 == a.writable && p1 > 0;
            assert!(!usable, "console_read into a usable buffer: {c:?}");
        }
        if c.number == Syscall::ProgramSpawn as u64 {
            // A name is empty, all zero bytes (`big`), or not readable memory.
            let harmless =
                p1 == 0 || p0 == a.big || p0 == 0 || p0 == UNMAPPED || !is_user_range(p0, 1);
            assert!(harmless, "program_spawn with a plausible name: {c:?}");
            let _ = (p2, p3);
        }
        if c.number == Syscall::ThreadCreate as u64 && is_user_range(p0, 1) {
            assert_eq!(
                p0, a.entry,
                "thread_create at a user entry other than the harmless one: {c:?}"
            );
            assert!(
                !is_user_range(p1, 0) || p1 == a.stack_top || p1 == a.stack_top - 8,
                "{c:?}"
            );
        }
    }
}

#[test]
fn answers_are_checked_against_the_expectation() {
    let exact = Expect::Exactly(SysError::BadAddress);
    assert!(exact.check(Err(SysError::BadAddress)).is_ok());
    assert_eq!(exact.check(Ok(3)), Err("succeeded with 3".into()));
    assert_eq!(
        exact.check(Err(SysError::TooLarge)),
        Err("TooLarge, expected BadAddress".into())
    );
    let any = Expect::AnyOf(&[SysError::TooLarge, SysError::BadAddress]);
    assert!(any.check(Err(SysError::TooLarge)).is_ok());
    assert!(any.check(Err(SysError::NotFound)).is_err());
    assert_eq!(call_name(1), "ConsoleWrite");
    assert_eq!(call_name(99), "number 0x63");
}
