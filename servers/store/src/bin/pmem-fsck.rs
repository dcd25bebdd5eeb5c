//! `pmem-fsck <file>`: runs the object store's checker over a pmem image
//! (the file behind QEMU's NVDIMM) and prints every finding.
//!
//! Reads only. Exit status: 0 clean, 1 findings, 2 usage or I/O error.
//!
//! Run: `cargo run -p store --features std --bin pmem-fsck -- <file>`.

use std::process::ExitCode;

use store::{VecPmem, fsck};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, path] = &args[..] else {
        eprintln!("usage: pmem-fsck <pmem file>");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("pmem-fsck: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let len = bytes.len();
    let report = fsck::check(&VecPmem(bytes));
    println!("{path}: {len} bytes");
    println!("{report}");
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
