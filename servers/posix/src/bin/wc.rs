//! `wc FILE...`: counts the lines, words and bytes of each file, written
//! against the POSIX client library the way a C programmer writes against
//! libc — `open`, a `read` loop into a fixed buffer, `close`, and an
//! `errno` check after every call.
//!
//! Prints `LINES WORDS BYTES FILE` per file (and a `total` line for more
//! than one); exits 0 when every file could be read, else 1.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use posix::{Client, Errno, OpenFlags, strerror};
use runtime::println;

runtime::entry!(main);

/// How long `wc` waits for the POSIX server.
const CONNECT_MS: u64 = 10_000;

/// Line, word and byte counts.
#[derive(Clone, Copy, Default)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
}

fn main(args: &str) -> u64 {
    if args.split_whitespace().next().is_none() {
        println!("usage: wc FILE...");
        return 2;
    }
    let mut fs = match posix::connect(CONNECT_MS) {
        Ok(c) => c,
        Err(e) => {
            println!("wc: cannot reach the POSIX server: {e}");
            return 1;
        }
    };
    let mut status = 0;
    let mut total = Counts::default();
    let mut files = 0;
    for path in args.split_whitespace() {
        files += 1;
        match count(&mut fs, path) {
            Ok(c) => {
                println!("{:>7} {:>7} {:>7} {path}", c.lines, c.words, c.bytes);
                total.lines += c.lines;
                total.words += c.words;
                total.bytes += c.bytes;
            }
            Err(e) => {
                let (name, msg) = strerror(e);
                println!("wc: {path}: {name} ({msg})");
                status = 1;
            }
        }
    }
    if files > 1 {
        println!(
            "{:>7} {:>7} {:>7} total",
            total.lines, total.words, total.bytes
        );
    }
    status
}

/// Counts one file: `fd = open(path, O_RDONLY)`, then `read` until it
/// returns 0, then `close(fd)`.
fn count(fs: &mut Client, path: &str) -> Result<Counts, Errno> {
    let fd = fs.open(path, OpenFlags::O_RDONLY, 0)?;
    let mut c = Counts::default();
    let mut buf = [0u8; 512];
    let mut in_word = false;
    loop {
        let n = match fs.read(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = fs.close(fd);
                return Err(e);
            }
        };
        for &b in &buf[..n] {
            c.bytes += 1;
            if b == b'\n' {
                c.lines += 1;
            }
            let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            if !space && !in_word {
                c.words += 1;
            }
            in_word = !space;
        }
    }
    fs.close(fd)?;
    Ok(c)
}
