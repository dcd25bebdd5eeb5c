//! `pmix`: the mixed power-cut workload (`powercut/mixed-*`): records
//! made durable three ways at once, every one acknowledged only once it
//! is durable.
//!
//! - **files** through the POSIX layer: `/mixf/fK` is rewritten by writing
//!   `/mixf/.tmp`, `fsync`, and `rename` over the old file (the rename is
//!   one resolver commit, so a reader sees the old file or the new one,
//!   never half of either); or unlinked;
//! - **transactions**: a pair of records of a transactional map changed
//!   in one transaction ([`utest::txwork`]);
//! - **name bindings** in the hierarchical resolver: `/mixn/nK` is moved
//!   to a new object the same way (bind `/mixn/.tmp`, rename over), or
//!   unbound.
//!
//! `pmix work SEED` prints `pmix: working`, then for ever `pmix: ack write
//! <key> <len> <fnv>` / `pmix: ack delete <key>`, keys `file:fK`, `tx:K`,
//! `name:nK` (a name's content is its object ID's 16 bytes). `pmix dump`
//! asks every server — POSIX, the resolver, the store under the map — for
//! every record (`pmix: object <key> <len> <fnv>`, then `pmix: dump done
//! <count>`; `pmix: damaged …` for a torn transaction). The lines are
//! `pcut`'s, so the same campaign check judges them.

#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use posix::{Client as Files, Errno, OpenFlags};
use protocols::ipc::{CallError, Text};
use protocols::object::ObjId;
use protocols::resolver::{Client as Names, EntryKind, MAX_NAME, NameError};
use runtime::ppc::Gate;
use runtime::println;
use utest::pstore::fnv1a;
use utest::rng::Rng;
use utest::txwork;

runtime::entry!(main);

/// How long to wait for a server to publish itself.
const CONNECT_MS: u64 = 30_000;
/// The files' directory.
const FILES: &str = "/mixf";
/// The names' directory.
const NAMES: &str = "/mixn";
/// Files and names in use (`fK`, `nK` for `K < SLOTS`).
const SLOTS: u64 = 8;
/// Longest file content.
const MAX_FILE: u64 = 3000;

fn main(args: &str) -> u64 {
    let mut words = args.split_whitespace();
    let result = match (words.next(), words.next()) {
        (Some("work"), Some(seed)) => match seed.parse::<u64>() {
            Ok(seed) => work(seed),
            Err(_) => return usage(),
        },
        (Some("dump"), None) => dump(),
        _ => return usage(),
    };
    match result {
        Ok(()) => 0,
        Err(why) => {
            println!("pmix: {why}");
            1
        }
    }
}

fn usage() -> u64 {
    println!("pmix: use `pmix work SEED` or `pmix dump`");
    2
}

fn name(text: &str) -> Text<MAX_NAME> {
    Text::try_from(text).unwrap_or_default()
}

/// The three services, and the directories made if missing.
fn connect() -> Result<(Files, Names<Gate>, txwork::Pairs), String> {
    let mut files = posix::connect(CONNECT_MS).map_err(|e| format!("no POSIX server: {e}"))?;
    let gate = Gate::connect("hier", CONNECT_MS).map_err(|e| format!("no hier resolver: {e}"))?;
    let mut names = Names::new(gate);
    let pairs = txwork::open("pmix")?;
    match files.mkdir(FILES, 0o755) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(format!("mkdir {FILES}: {e:?}")),
    }
    match names.mkdir(name(NAMES)) {
        Ok(_) | Err(CallError::Server(NameError::Exists)) => {}
        Err(e) => return Err(format!("mkdir {NAMES}: {e:?}")),
    }
    Ok((files, names, pairs))
}

fn work(seed: u64) -> Result<(), String> {
    let (mut files, mut names, mut pairs) = connect()?;
    let mut rng = Rng::new(seed);
    println!("pmix: working");
    for version in 1u64.. {
        match rng.below(3) {
            0 => pairs.step(&mut rng, version, "pmix", "tx:")?,
            1 => file_step(&mut files, &mut rng)?,
            _ => name_step(&mut names, &mut rng)?,
        }
    }
    Ok(())
}

fn file_step(files: &mut Files, rng: &mut Rng) -> Result<(), String> {
    let k = rng.below(SLOTS);
    let path = format!("{FILES}/f{k}");
    if rng.below(5) == 0 {
        match files.unlink(&path) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(format!("unlink {path}: {e:?}")),
        }
        println!("pmix: ack delete file:f{k}");
        return Ok(());
    }
    let len = 1 + rng.below(MAX_FILE) as usize;
    let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let tmp = format!("{FILES}/.tmp");
    let flags = OpenFlags::O_WRONLY
        .union(OpenFlags::O_CREAT)
        .union(OpenFlags::O_TRUNC);
    let fd = files
        .open(&tmp, flags, 0o644)
        .map_err(|e| format!("open {tmp}: {e:?}"))?;
    files
        .write(fd, &data)
        .and_then(|_| files.fsync(fd))
        .map_err(|e| format!("write {tmp}: {e:?}"))?;
    files.close(fd).map_err(|e| format!("close: {e:?}"))?;
    files
        .rename(&tmp, &path)
        .map_err(|e| format!("rename to {path}: {e:?}"))?;
    println!("pmix: ack write file:f{k} {len} {:016x}", fnv1a(&data));
    Ok(())
}

fn name_step(names: &mut Names<Gate>, rng: &mut Rng) -> Result<(), String> {
    let k = rng.below(SLOTS);
    let path = format!("{NAMES}/n{k}");
    if rng.below(5) == 0 {
        match names.unbind(name(&path)) {
            Ok(_) | Err(CallError::Server(NameError::NotFound)) => {}
            Err(e) => return Err(format!("unbind {path}: {e:?}")),
        }
        println!("pmix: ack delete name:n{k}");
        return Ok(());
    }
    let id = ObjId::from_u128((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
    let tmp = format!("{NAMES}/.tmp");
    // A cut may have left the temporary binding: it is replaced.
    let _ = names.unbind(name(&tmp));
    names
        .bind(name(&tmp), id, EntryKind::Object)
        .map_err(|e| format!("bind {tmp}: {e:?}"))?;
    names
        .rename(name(&tmp), name(&path))
        .map_err(|e| format!("rename to {path}: {e:?}"))?;
    println!(
        "pmix: ack write name:n{k} 16 {:016x}",
        fnv1a(&id.as_u128().to_le_bytes())
    );
    Ok(())
}

fn dump() -> Result<(), String> {
    let (mut files, mut names, pairs) = connect()?;
    let mut count = pairs.dump("pmix", "tx:")?;
    // Files, through the POSIX layer.
    let dir = files
        .opendir(FILES)
        .map_err(|e| format!("opendir {FILES}: {e:?}"))?;
    let mut entries = Vec::new();
    while let Some(e) = files.readdir(dir).map_err(|e| format!("readdir: {e:?}"))? {
        if !e.name.starts_with('.') {
            entries.push(String::from(e.name.as_str()));
        }
    }
    files.close(dir).map_err(|e| format!("close: {e:?}"))?;
    for entry in entries {
        let path = format!("{FILES}/{entry}");
        let data = read_all(&mut files, &path)?;
        println!(
            "pmix: object file:{entry} {} {:016x}",
            data.len(),
            fnv1a(&data)
        );
        count += 1;
    }
    // Names, from the resolver.
    let mut cursor = 0;
    loop {
        let page = names
            .list(name(NAMES), cursor)
            .map_err(|e| format!("list {NAMES}: {e:?}"))?;
        for e in page.entries.iter().filter(|e| !e.name.starts_with('.')) {
            println!(
                "pmix: object name:{} 16 {:016x}",
                e.name.as_str(),
                fnv1a(&e.id.as_u128().to_le_bytes())
            );
            count += 1;
        }
        match page.next {
            Some(n) => cursor = n,
            None => break,
        }
    }
    println!("pmix: dump done {count}");
    Ok(())
}

/// The whole of file `path`.
fn read_all(files: &mut Files, path: &str) -> Result<Vec<u8>, String> {
    let fd = files
        .open(path, OpenFlags::O_RDONLY, 0)
        .map_err(|e| format!("open {path}: {e:?}"))?;
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let n = files
            .read(fd, &mut buf)
            .map_err(|e| format!("read {path}: {e:?}"))?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    files.close(fd).map_err(|e| format!("close: {e:?}"))?;
    Ok(out)
}
