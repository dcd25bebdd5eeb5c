//! What the shell needs from the system. The `init` binary implements this
//! with system calls; host tests implement it with a fake.

use alloc::vec::Vec;

use protocols::debug::{MemStats, ThreadInfo};
use protocols::exit::GuestExit;
use protocols::syscall::SysError;

/// The services commands use.
pub trait System {
    /// Writes shell output to the console.
    fn write(&mut self, text: &str);
    /// Nanoseconds since boot.
    fn uptime_nanos(&mut self) -> Result<u64, SysError>;
    /// Every thread the kernel knows.
    fn threads(&mut self) -> Result<Vec<ThreadInfo>, SysError>;
    /// Memory figures.
    fn mem(&mut self) -> Result<MemStats, SysError>;
    /// Starts boot module `name` with argument string `args`; its program id.
    fn spawn(&mut self, name: &str, args: &str) -> Result<u64, SysError>;
    /// Waits for program `id` to end; its exit code.
    fn wait(&mut self, id: u64) -> Result<u64, SysError>;
    /// Powers the machine off with `status`. On the machine this returns
    /// only on failure; a fake returns `Ok` to say the machine is now off.
    fn poweroff(&mut self, status: GuestExit) -> Result<(), SysError>;
}
