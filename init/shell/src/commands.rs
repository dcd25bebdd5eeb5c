//! The command table and each command's output.

use alloc::format;
use alloc::string::String;

use protocols::debug::{MemStats, ThreadInfo};
use protocols::exit::GuestExit;
use protocols::layout::PAGE_SIZE;
use protocols::syscall::fault_vector;

use crate::session::Flow;
use crate::system::System;
use protocols::exception;

/// One shell command.
pub struct Command {
    /// What the user types.
    pub name: &'static str,
    /// The arguments, for `help`.
    pub args: &'static str,
    /// One line saying what it does.
    pub about: &'static str,
    /// Runs it with its arguments (the words after the name).
    pub run: fn(&mut dyn System, &[String]) -> Flow,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        args: "",
        about: "list the commands",
        run: help,
    },
    Command {
        name: "echo",
        args: "WORDS... [> FILE | >> FILE]",
        about: "print the words (or write/append them to FILE)",
        run: echo,
    },
    Command {
        name: "uptime",
        args: "",
        about: "time since boot",
        run: uptime,
    },
    Command {
        name: "threads",
        args: "",
        about: "list every thread",
        run: threads,
    },
    Command {
        name: "mem",
        args: "",
        about: "physical memory and kernel heap use",
        run: mem,
    },
    Command {
        name: "run",
        args: "[-b] NAME [ARGS...]",
        about: "run boot module NAME as a program and wait for it (-b: in the background)",
        run,
    },
    Command {
        name: "wait",
        args: "[PROGRAM...]",
        about: "wait for background programs (all of them, without ids) to end",
        run: crate::jobs::wait,
    },
    Command {
        name: "sleep",
        args: "MS",
        about: "pause the shell for MS milliseconds",
        run: crate::jobs::sleep,
    },
    Command {
        name: "obj",
        args: "new|show|read|write|list|rm",
        about: "create, show, read, write, list or remove (persistent) objects",
        run: crate::objects::obj,
    },
    Command {
        name: "key",
        args: "new",
        about: "make a key pair (public- and private-key objects)",
        run: crate::objects::key,
    },
    Command {
        name: "ctx",
        args: "[new | use ID]",
        about: "list, create or switch the shell's security contexts",
        run: crate::objects::ctx,
    },
    Command {
        name: "cap",
        args: "KEY TARGET CTX PERMS",
        about: "sign a capability with a private key into a context",
        run: crate::objects::cap,
    },
    Command {
        name: "fsck",
        args: "",
        about: "check the object store's metadata on the NVDIMM",
        run: crate::store::fsck,
    },
    Command {
        name: "cat",
        args: "FILE...",
        about: "print files (POSIX layer)",
        run: crate::files::cat,
    },
    Command {
        name: "rm",
        args: "FILE...",
        about: "remove files",
        run: crate::files::rm,
    },
    Command {
        name: "mv",
        args: "FROM TO",
        about: "rename a file or directory",
        run: crate::files::mv,
    },
    Command {
        name: "cp",
        args: "FROM TO",
        about: "copy a file",
        run: crate::files::cp,
    },
    Command {
        name: "touch",
        args: "FILE...",
        about: "create a file or update its modification time",
        run: crate::files::touch,
    },
    Command {
        name: "stat",
        args: "PATH...",
        about: "a file's type, size, object and times",
        run: crate::files::stat,
    },
    Command {
        name: "ls",
        args: "[[R:]PATH]",
        about: "list a directory (hierarchical resolver)",
        run: crate::names::ls,
    },
    Command {
        name: "mkdir",
        args: "[R:]PATH",
        about: "make a directory",
        run: crate::names::mkdir,
    },
    Command {
        name: "bind",
        args: "[R:]NAME ID",
        about: "bind a name to an object",
        run: crate::names::bind,
    },
    Command {
        name: "unbind",
        args: "[R:]NAME",
        about: "remove a name's binding",
        run: crate::names::unbind,
    },
    Command {
        name: "resolve",
        args: "[R:]NAME",
        about: "what a name names (R: a resolver, e.g. attr:type=x)",
        run: crate::names::resolve,
    },
    Command {
        name: "tag",
        args: "ID KEY=VALUE...",
        about: "tag an object (attribute resolver)",
        run: crate::names::tag,
    },
    Command {
        name: "query",
        args: "KEY=VALUE...",
        about: "the objects carrying every tag",
        run: crate::names::query,
    },
    Command {
        name: "publish",
        args: "NAME ID",
        about: "move a current-version name to a new object",
        run: crate::names::publish,
    },
    Command {
        name: "resolver",
        args: "list | start NAME | call NAME OP [ARG...]",
        about: "list resolvers, start and register one, or call its own operation",
        run: crate::names::resolver,
    },
    Command {
        name: "server",
        args: "[list] | kill NAME | start NAME MODULE [ARGS]",
        about: "list the supervised servers, kill one (it restarts), or start one",
        run: crate::servers::server,
    },
    Command {
        name: "poweroff",
        args: "",
        about: "shut the machine down",
        run: poweroff,
    },
    Command {
        name: "powercut",
        args: "",
        about: "cut the power: stop at once, nothing flushed or shut down",
        run: crate::servers::powercut,
    },
];

/// The command called `name`.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

fn help(sys: &mut dyn System, _: &[String]) -> Flow {
    sys.write("commands:\n");
    for c in COMMANDS {
        let usage = if c.args.is_empty() {
            String::from(c.name)
        } else {
            format!("{} {}", c.name, c.args)
        };
        sys.write(&format!("  {usage:<25} {}\n", c.about));
    }
    Flow::Continue
}

fn echo(sys: &mut dyn System, args: &[String]) -> Flow {
    if let Some(r) = crate::files::redirection(args) {
        return crate::files::echo_to(sys, r);
    }
    sys.write(&format!("{}\n", args.join(" ")));
    Flow::Continue
}

fn uptime(sys: &mut dyn System, _: &[String]) -> Flow {
    match sys.uptime_nanos() {
        Ok(nanos) => sys.write(&format_uptime(nanos)),
        Err(e) => sys.write(&format!("uptime: {e}\n")),
    }
    Flow::Continue
}

/// `up 12.345 s` (milliseconds truncated).
pub fn format_uptime(nanos: u64) -> String {
    let millis = nanos / 1_000_000;
    format!("up {}.{:03} s\n", millis / 1000, millis % 1000)
}

fn threads(sys: &mut dyn System, _: &[String]) -> Flow {
    match sys.threads() {
        Ok(list) => sys.write(&format_threads(&list)),
        Err(e) => sys.write(&format!("threads: {e}\n")),
    }
    Flow::Continue
}

/// The thread table: a header, then one row per thread.
pub fn format_threads(list: &[ThreadInfo]) -> String {
    let mut out = format!(
        "{:>4}  {:>4}  {:>3}  {:<8}  {:>9}  {}\n",
        "ID", "PROG", "PRI", "STATE", "CPU(ms)", "NAME"
    );
    for t in list {
        out += &format!(
            "{:>4}  {:>4}  {:>3}  {:<8}  {:>9}  {}\n",
            t.id,
            t.program,
            t.priority,
            t.state.name(),
            t.cpu_nanos / 1_000_000,
            t.name_str()
        );
    }
    out
}

fn mem(sys: &mut dyn System, _: &[String]) -> Flow {
    match sys.mem() {
        Ok(m) => sys.write(&format_mem(&m)),
        Err(e) => sys.write(&format!("mem: {e}\n")),
    }
    Flow::Continue
}

/// The `mem` line.
pub fn format_mem(m: &MemStats) -> String {
    let kib_per_frame = PAGE_SIZE / 1024;
    format!(
        "memory: {} KiB free of {} KiB ({} frames free of {}); kernel heap {} KiB of {} KiB; pmem {} MiB\n",
        m.free_frames * kib_per_frame,
        m.total_frames * kib_per_frame,
        m.free_frames,
        m.total_frames,
        m.heap_used / 1024,
        m.heap_size / 1024,
        m.pmem_bytes >> 20
    )
}

fn run(sys: &mut dyn System, args: &[String]) -> Flow {
    if let Some(("-b", rest)) = args.split_first().map(|(f, r)| (f.as_str(), r)) {
        return crate::jobs::run_background(sys, rest);
    }
    let Some((name, rest)) = args.split_first() else {
        sys.write("run: usage: run NAME [ARGS...]\n");
        return Flow::Continue;
    };
    let result = sys.spawn(name, &rest.join(" ")).and_then(|id| sys.wait(id));
    let line = match result {
        Ok(code) => format_exit(name, code),
        Err(e) => format!("run: {name}: {e}\n"),
    };
    sys.write(&line);
    Flow::Continue
}

/// How a program ended: its exit code, or the exception that killed it.
pub fn format_exit(name: &str, code: u64) -> String {
    match fault_vector(code) {
        Some(v) => format!(
            "run: {name} killed by {} (vector {v})\n",
            exception::name(v)
        ),
        None => format!("run: {name} exited with {code}\n"),
    }
}

fn poweroff(sys: &mut dyn System, _: &[String]) -> Flow {
    sys.write("powering off\n");
    power_off(sys)
}

/// Powers off with `Success`; if the kernel refuses, says why.
pub fn power_off(sys: &mut dyn System) -> Flow {
    match sys.poweroff(GuestExit::Success) {
        Ok(()) => Flow::Ended,
        Err(e) => {
            sys.write(&format!("poweroff: {e}\n"));
            Flow::Continue
        }
    }
}
