//! The object-store commands: `obj new --persistent [SIZE]`, `obj list`,
//! `obj rm ID`, `obj write ID OFFSET TEXT` and `obj read ID OFFSET LEN` on
//! persistent objects, and `fsck`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::ipc::{CallError, TransportError};
use protocols::ksod::is_bookkeeping;
use protocols::object::ObjId;

use crate::session::Flow;
use crate::system::{StoreCallError, StoreInfo, System};

/// Data bytes of `obj new --persistent` without a size.
pub const DEFAULT_SIZE: u64 = 4096;

/// A store error for people.
pub fn describe(e: &StoreCallError) -> String {
    match e {
        CallError::Server(protocols::objstore::StoreError::Denied) => {
            String::from("Denied (the active security context does not grant that on it)")
        }
        CallError::Server(e) => format!("{e:?}"),
        CallError::Transport(TransportError::Unbound) => String::from("no object store"),
        CallError::Transport(TransportError::Sys(e)) => format!("{e}"),
        CallError::ServerRestarted => String::from("the object store restarted"),
        CallError::Rejected(r) => format!("refused: {r:?}"),
        other => format!("{other:?}"),
    }
}

macro_rules! try_store {
    ($sys:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                $sys.write(&format!("obj: {}\n", describe(&e)));
                return Flow::Continue;
            }
        }
    };
}

/// Text as the shell prints it back: printable ASCII kept, the rest as
/// `\\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s += &format!("\\x{b:02x}"),
        }
    }
    s
}

/// `obj new --persistent [SIZE]`.
pub fn create(sys: &mut dyn System, size: u64) -> Flow {
    let id = try_store!(sys, sys.store_create(size));
    sys.write(&format!("obj: created persistent {id} ({size} bytes)\n"));
    Flow::Continue
}

/// `obj list`.
pub fn list(sys: &mut dyn System) -> Flow {
    let all = try_store!(sys, sys.store_list());
    // The KSO root and the thread KSOs are the system's bookkeeping: they
    // are counted, not listed (`server list` shows each server's KSO).
    let (ksos, objects): (Vec<&StoreInfo>, Vec<&StoreInfo>) =
        all.iter().partition(|i| is_bookkeeping(i.key));
    let mut out = String::new();
    for info in &objects {
        out += &format!("obj: {} {} bytes\n", info.id, info.size);
    }
    out += &format!("obj: {} persistent objects\n", objects.len());
    if !ksos.is_empty() {
        out += &format!(
            "obj: and {} KSO objects not listed (the KSO root and thread KSOs)\n",
            ksos.len()
        );
    }
    sys.write(&out);
    Flow::Continue
}

/// `obj rm ID`.
pub fn remove(sys: &mut dyn System, id: ObjId) -> Flow {
    try_store!(sys, sys.store_delete(id));
    sys.write(&format!("obj: removed {id}\n"));
    Flow::Continue
}

/// `obj write ID OFFSET TEXT` (the words of TEXT joined by one space).
pub fn write(sys: &mut dyn System, id: ObjId, offset: u64, words: &[&str]) -> Flow {
    let text = words.join(" ");
    try_store!(sys, sys.store_write(id, offset, text.as_bytes()));
    sys.write(&format!(
        "obj: wrote {} bytes to {id} at {offset}\n",
        text.len()
    ));
    Flow::Continue
}

/// `obj read ID OFFSET LEN`.
pub fn read(sys: &mut dyn System, id: ObjId, offset: u64, len: u64) -> Flow {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    let bytes: Vec<u8> = try_store!(sys, sys.store_read(id, offset, len));
    sys.write(&format!("obj: {id} +{offset}: \"{}\"\n", escape(&bytes)));
    Flow::Continue
}

/// `fsck`: `fsck: clean`, or `fsck: N problems` and one line per finding.
pub fn fsck(sys: &mut dyn System, _: &[String]) -> Flow {
    match sys.store_check() {
        Ok(r) if r.findings == 0 => sys.write("fsck: clean\n"),
        Ok(r) => {
            let mut out = format!("fsck: {} problems\n", r.findings);
            for line in r.text.lines().filter(|l| !l.trim().is_empty()) {
                out += line;
                out.push('\n');
            }
            sys.write(&out);
        }
        Err(e) => sys.write(&format!("fsck: {}\n", describe(&e))),
    }
    Flow::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_is_not_printable() {
        assert_eq!(escape(b"hi there"), "hi there");
        assert_eq!(escape(b"a\0\"b"), "a\\x00\\\"b");
    }
    #[test]
    fn a_refusal_says_what_refused() {
        use protocols::objstore::StoreError;
        let d = describe(&CallError::Server(StoreError::Denied));
        assert!(d.contains("security context"), "{d}");
        assert_eq!(
            describe(&CallError::Server(StoreError::NotFound)),
            "NotFound"
        );
    }
}
