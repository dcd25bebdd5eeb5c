//! Reporting test results in the format the host harness reads.

use alloc::string::String;

use runtime::println;

/// What one test found: `Ok` or why it failed.
pub type Outcome = Result<(), String>;

/// Counts passes and failures.
#[derive(Default)]
pub struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    /// Runs test `name` and prints its line.
    pub fn test(&mut self, name: &str, test: impl FnOnce() -> Outcome) {
        match test() {
            Ok(()) => {
                self.passed += 1;
                println!("utest: {name} ... ok");
            }
            Err(why) => {
                self.failed += 1;
                println!("utest: {name} ... FAILED: {why}");
            }
        }
    }

    /// Prints the totals; the exit code (0: all passed).
    pub fn finish(self) -> u64 {
        println!("utest: {} passed, {} failed", self.passed, self.failed);
        u64::from(self.failed != 0)
    }
}

/// `Err` with a formatted message unless `cond`.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)*) => {
        if !$cond {
            return Err(alloc::format!($($msg)*));
        }
    };
}
