//! The `pmem-fsck` binary on image files: clean, damaged, and not a store.
//! Run with `cargo test -p store --features std`.

use std::path::PathBuf;
use std::process::Command;

use protocols::object::{ObjFlags, ObjId, Perms};
use store::{CreateSpec, FormatOptions, Store, VecPmem};

fn image() -> Vec<u8> {
    let mut s = Store::format(VecPmem::new(1 << 20), FormatOptions { dir_entries: None }).unwrap();
    let spec = CreateSpec {
        size: 5000,
        flags: ObjFlags::EMPTY,
        default_perms: Perms::READ,
        key: ObjId::NIL,
    };
    s.create(ObjId::from_u128(7), 1, &spec).unwrap();
    s.write(ObjId::from_u128(7), 0, b"persistent").unwrap();
    s.into_pmem().0
}

fn run(name: &str, bytes: &[u8]) -> (i32, String) {
    let path: PathBuf =
        std::env::temp_dir().join(format!("pmem-fsck-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pmem-fsck"))
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_clean_image_passes() {
    let (code, out) = run("clean", &image());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 objects, 3/") && out.ends_with("clean\n"),
        "{out}"
    );
}

#[test]
fn a_damaged_entry_is_reported_with_status_1() {
    let mut img = image();
    let g = store::Geometry::compute(
        1 << 20,
        FormatOptions { dir_entries: None }.dir_entries_for(1 << 20),
    )
    .unwrap();
    img[g.dir_off as usize + 48] ^= 0x10; // entry 0's size, checksum left stale
    let (code, out) = run("damaged", &img);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("directory entry 0: checksum"), "{out}");
    assert!(out.contains("marked used but owned by no entry"), "{out}");
    assert!(out.ends_with("NOT CLEAN\n"), "{out}");
}

#[test]
fn a_file_that_is_not_a_store_says_so() {
    let (code, out) = run("zeros", &vec![0u8; 1 << 16]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("superblock: no valid copy"), "{out}");
}
