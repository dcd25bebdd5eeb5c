//! Scripted sessions against a fake system.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use protocols::debug::{MemStats, ThreadInfo, ThreadState};
use protocols::exit::GuestExit;
use protocols::syscall::{EXIT_FAULT, SysError};

use super::*;

/// A fake system: records output, spawns and the power-off.
#[derive(Default)]
struct Fake {
    out: String,
    spawned: Vec<(String, String)>,
    powered_off: Option<GuestExit>,
    refuse_poweroff: bool,
}

impl System for Fake {
    fn write(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn uptime_nanos(&mut self) -> Result<u64, SysError> {
        Ok(12_345_678_901)
    }
    fn threads(&mut self) -> Result<Vec<ThreadInfo>, SysError> {
        let mut name = [0u8; 16];
        name[..4].copy_from_slice(b"init");
        let idle = ThreadInfo {
            id: 0,
            program: 0,
            priority: 0,
            state: ThreadState::Ready,
            cpu_nanos: 1_500_000_000,
            name: *b"idle\0\0\0\0\0\0\0\0\0\0\0\0",
        };
        let init = ThreadInfo {
            id: 1,
            program: 1,
            priority: 4,
            state: ThreadState::Running,
            cpu_nanos: 42_000_000,
            name,
        };
        Ok(vec![idle, init])
    }
    fn mem(&mut self) -> Result<MemStats, SysError> {
        Ok(MemStats {
            total_frames: 32_000,
            free_frames: 30_000,
            heap_used: 300 * 1024,
            heap_size: 4096 * 1024,
            pmem_bytes: 64 << 20,
        })
    }
    fn spawn(&mut self, name: &str, args: &str) -> Result<u64, SysError> {
        self.spawned.push((name.to_string(), args.to_string()));
        match name {
            "utest" => Ok(7),
            "crash" => Ok(8),
            _ => Err(SysError::NotFound),
        }
    }
    fn wait(&mut self, id: u64) -> Result<u64, SysError> {
        Ok(if id == 8 { EXIT_FAULT | 14 } else { 3 })
    }
    fn poweroff(&mut self, status: GuestExit) -> Result<(), SysError> {
        if self.refuse_poweroff {
            return Err(SysError::PermissionDenied);
        }
        self.powered_off = Some(status);
        Ok(())
    }
}

/// Runs `input` through a new session; returns the fake, the output
/// without the echoed input lines, and the final flow.
fn session(input: &str) -> (Fake, Flow) {
    let mut fake = Fake::default();
    let mut s = Session::new();
    s.start(&mut fake);
    let flow = s.feed_all(input.as_bytes(), &mut fake);
    (fake, flow)
}

#[test]
fn echo_uptime_and_unknown_commands() {
    let (fake, flow) = session("echo  hello   \"big  world\"\nuptime\nfoo bar\n\n");
    assert_eq!(flow, Flow::Continue);
    assert_eq!(
        fake.out,
        "perennial> echo  hello   \"big  world\"\nhello big  world\n\
         perennial> uptime\nup 12.345 s\n\
         perennial> foo bar\nshell: unknown command 'foo' (try 'help')\n\
         perennial> \n\
         perennial> "
    );
}

#[test]
fn threads_prints_a_table() {
    let (fake, _) = session("threads\n");
    assert_eq!(
        fake.out,
        "perennial> threads\n\
         \x20 ID  PROG  PRI  STATE       CPU(ms)  NAME\n\
         \x20  0     0    0  ready          1500  idle\n\
         \x20  1     1    4  running          42  init\n\
         perennial> "
    );
}

#[test]
fn mem_prints_one_line_of_figures() {
    let (fake, _) = session("mem\n");
    assert!(fake.out.contains(
        "\nmemory: 120000 KiB free of 128000 KiB (30000 frames free of 32000); kernel heap 300 KiB of 4096 KiB; pmem 64 MiB\n"
    ));
}

#[test]
fn help_lists_every_command_with_a_description() {
    let (fake, _) = session("help\n");
    for c in crate::commands::COMMANDS {
        let line = fake
            .out
            .lines()
            .find(|l| l.trim_start().starts_with(c.name))
            .expect(c.name);
        assert!(line.ends_with(c.about), "{line}");
    }
}

#[test]
fn run_reports_exit_codes_faults_and_errors() {
    let (fake, _) = session("run utest exit 3\nrun crash\nrun nothing\nrun\n");
    assert_eq!(fake.spawned[0], ("utest".to_string(), "exit 3".to_string()));
    assert_eq!(fake.spawned[1], ("crash".to_string(), String::new()));
    assert!(fake.out.contains("\nrun: utest exited with 3\n"));
    assert!(
        fake.out
            .contains("\nrun: crash killed by page fault (vector 14)\n")
    );
    assert!(fake.out.contains("\nrun: nothing: not found\n"));
    assert!(fake.out.contains("\nrun: usage: run NAME [ARGS...]\n"));
}

#[test]
fn poweroff_and_end_of_input_power_off_with_success() {
    let (fake, flow) = session("poweroff\necho never\n");
    assert_eq!(flow, Flow::Ended);
    assert_eq!(fake.powered_off, Some(GuestExit::Success));
    assert!(fake.out.ends_with("poweroff\npowering off\n"));

    let (fake, flow) = session("echo hi\n\x04");
    assert_eq!(flow, Flow::Ended);
    assert_eq!(fake.powered_off, Some(GuestExit::Success));
    assert!(
        fake.out
            .ends_with("perennial> end of input; powering off\n")
    );
}

#[test]
fn a_refused_poweroff_is_reported_and_the_shell_goes_on() {
    let mut fake = Fake {
        refuse_poweroff: true,
        ..Fake::default()
    };
    let mut s = Session::new();
    let flow = s.feed_all(b"poweroff\n", &mut fake);
    assert_eq!(flow, Flow::Continue);
    assert!(
        fake.out
            .ends_with("powering off\npoweroff: permission denied\nperennial> ")
    );
}

#[test]
fn editing_cancelling_and_overlong_lines() {
    let (fake, _) = session("echo ab\x7fc\n\"open\nxx\x03echo ok\n");
    assert!(fake.out.contains("\nac\n"));
    assert!(fake.out.contains("\nshell: unterminated quote\n"));
    assert!(fake.out.contains("xx^C\nperennial> echo ok\nok\n"));
    let long = "x".repeat(MAX_LINE + 1) + "\n";
    let (fake, _) = session(&long);
    assert!(
        fake.out
            .contains("shell: line too long (more than 256 characters); ignored\nperennial> ")
    );
}
