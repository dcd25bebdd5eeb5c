//! The object commands: `key`, `obj`, `ctx` and `cap` — enough to create
//! objects, key pairs and security contexts, grant access with a signed
//! capability, and watch the kernel switch contexts on an access.
//!
//! IDs are printed in full (32 hex digits); any unique prefix of an ID the
//! shell has printed is accepted back, and so is `%N`, the N-th ID it
//! printed (1-based), which keeps scripts independent of the random IDs.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use protocols::object::{ObjFlags, ObjId, ObjInfo, Perms};

use crate::session::Flow;
use crate::system::System;

/// Data bytes of `obj new` without a size.
pub const DEFAULT_SIZE: u64 = 64 * 1024;

/// Permissions as letters: `r` read, `w` write, `x` execute, `u` use,
/// `d` delete; `-` for none.
pub fn format_perms(p: Perms) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (Perms::READ, 'r'),
        (Perms::WRITE, 'w'),
        (Perms::EXEC, 'x'),
        (Perms::USE, 'u'),
        (Perms::DELETE, 'd'),
    ] {
        if p.contains(bit) {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

/// Parses [`format_perms`] letters.
pub fn parse_perms(text: &str) -> Option<Perms> {
    if text == "-" {
        return Some(Perms::EMPTY);
    }
    text.chars().try_fold(Perms::EMPTY, |acc, c| {
        let bit = match c {
            'r' => Perms::READ,
            'w' => Perms::WRITE,
            'x' => Perms::EXEC,
            'u' => Perms::USE,
            'd' => Perms::DELETE,
            _ => return None,
        };
        Some(acc | bit)
    })
}

/// An ID from text: `default`/`nil` for the nil ID, a unique prefix of a
/// known ID, or up to 32 hex digits.
pub fn parse_id(text: &str, known: &[ObjId]) -> Result<ObjId, String> {
    if text == "default" || text == "nil" {
        return Ok(ObjId::NIL);
    }
    if let Some(n) = text.strip_prefix('%') {
        return n
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| known.get(i).copied())
            .ok_or_else(|| format!("{text}: the shell has printed no such ID"));
    }
    if text.is_empty() || text.len() > 32 || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not an object ID"));
    }
    let text = text.to_ascii_lowercase();
    let matches: Vec<ObjId> = known
        .iter()
        .copied()
        .filter(|id| format!("{id}").starts_with(&text))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] if text.len() == 32 => u128::from_str_radix(&text, 16)
            .map(ObjId::from_u128)
            .map_err(|_| format!("{text:?} is not an object ID")),
        [] => Err(format!("no known object ID starts with {text}")),
        _ => Err(format!("{text} is ambiguous; type more digits")),
    }
}

fn ctx_name(id: ObjId) -> String {
    if id.is_nil() {
        String::from("default")
    } else {
        format!("{id}")
    }
}

/// The `obj show` lines.
pub fn format_info(info: &ObjInfo, active: ObjId, grants: Perms) -> String {
    let key = if info.key_id.is_nil() {
        String::from("none")
    } else {
        format!("{}", info.key_id)
    };
    let flags = match (
        info.flags.contains(ObjFlags::KSO),
        info.flags.contains(ObjFlags::PERSISTENT),
    ) {
        (true, _) => "kso",
        (false, true) => "persistent",
        _ => "-",
    };
    format!(
        "object {}\n  size {} bytes, {} pages backed, flags {flags}\n  default perms {}, key {key}\n  active context {} grants {}\n",
        info.id,
        info.size,
        info.pages,
        format_perms(info.default_perms),
        ctx_name(active),
        format_perms(grants),
    )
}

macro_rules! try_or_say {
    ($sys:expr, $what:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                $sys.write(&format!("{}: {}\n", $what, e));
                return Flow::Continue;
            }
        }
    };
}

/// `key new`.
pub fn key(sys: &mut dyn System, args: &[String]) -> Flow {
    if args.first().map(String::as_str) != Some("new") {
        sys.write("key: usage: key new\n");
        return Flow::Continue;
    }
    let (public, private) = try_or_say!(sys, "key", sys.key_new());
    sys.write(&format!("key: public {public}\nkey: private {private}\n"));
    Flow::Continue
}

/// `obj new [SIZE] [PERMS] [KEY]`, `obj show ID`, `obj read ID [OFF]`,
/// `obj write ID OFF VALUE`.
pub fn obj(sys: &mut dyn System, args: &[String]) -> Flow {
    let known = sys.known_ids();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let num = |s: &str| -> Result<u64, String> {
        let r = match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => s.parse(),
        };
        r.map_err(|_| format!("{s:?} is not a number"))
    };
    match words.as_slice() {
        ["new", "--persistent", rest @ ..] if rest.len() <= 1 => {
            let size = try_or_say!(
                sys,
                "obj",
                rest.first()
                    .map_or(Ok(crate::store::DEFAULT_SIZE), |s| num(s))
            );
            return crate::store::create(sys, size);
        }
        ["list"] => return crate::store::list(sys),
        ["rm", id] => {
            let id = try_or_say!(sys, "obj", parse_id(id, &known));
            return crate::store::remove(sys, id);
        }
        ["read", id, off, len] => {
            let id = try_or_say!(sys, "obj", parse_id(id, &known));
            let off = try_or_say!(sys, "obj", num(off));
            let len = try_or_say!(sys, "obj", num(len));
            return crate::store::read(sys, id, off, len);
        }
        ["write", id, off, text @ ..]
            if !text.is_empty()
                && parse_id(id, &known).is_ok_and(|id| sys.store_has(id)) =>
        {
            let id = try_or_say!(sys, "obj", parse_id(id, &known));
            let off = try_or_say!(sys, "obj", num(off));
            return crate::store::write(sys, id, off, text);
        }
        ["new", rest @ ..] if rest.len() <= 3 => {
            let size = try_or_say!(sys, "obj", rest.first().map_or(Ok(DEFAULT_SIZE), |s| num(s)));
            let perms = match rest.get(1) {
                None => Perms::READ | Perms::WRITE,
                Some(p) => try_or_say!(sys, "obj", parse_perms(p).ok_or("bad permissions")),
            };
            let key = match rest.get(2) {
                None => ObjId::NIL,
                Some(k) => try_or_say!(sys, "obj", parse_id(k, &known)),
            };
            let id = try_or_say!(sys, "obj", sys.obj_create(size, perms, key));
            sys.write(&format!(
                "obj: created {id} ({size} bytes, default perms {})\n",
                format_perms(perms)
            ));
        }
        ["show", id] => {
            let id = try_or_say!(sys, "obj", parse_id(id, &known));
            let info = try_or_say!(sys, "obj", sys.obj_info(id));
            let (active, _) = try_or_say!(sys, "obj", sys.ctx_list());
            let grants = try_or_say!(sys, "obj", sys.ctx_check(active, id));
            sys.write(&format_info(&info, active, grants));
        }
        ["read", id, rest @ ..] if rest.len() <= 1 => {
            let id = try_or_say!(sys, "obj", parse_id(id, &known));
            let off = try_or_say!(sys, "obj", rest.first().map_or(Ok(0), |s| num(s)));
            let (before, _) = try_or_say!(sys, "obj", sys.ctx_list());
            let v = try_or_say!(sys, "obj", sys.obj_read(id, off));
            sys.write(&format!("obj: {id} +{off:#x} = {v:#x}\n"));
            note_switch(sys, before);
        }
        ["write", id, off, value] => {
            let id = try_or_say!(sys, "obj", parse_id(id, &known));
            let off = try_or_say!(sys, "obj", num(off));
            let value = try_or_say!(sys, "obj", num(value));
            let (before, _) = try_or_say!(sys, "obj", sys.ctx_list());
            try_or_say!(sys, "obj", sys.obj_write(id, off, value));
            sys.write(&format!("obj: {id} +{off:#x} := {value:#x}\n"));
            note_switch(sys, before);
        }
        _ => sys.write(
            "obj: usage: obj new [SIZE] [PERMS] [KEY] | obj new --persistent [SIZE] | obj show ID | obj read ID [OFF] | obj read ID OFF LEN | obj write ID OFF VALUE|TEXT | obj list | obj rm ID\n",
        ),
    }
    Flow::Continue
}

fn note_switch(sys: &mut dyn System, before: ObjId) {
    if let Ok((after, _)) = sys.ctx_list()
        && after != before
    {
        sys.write(&format!(
            "obj: the kernel switched the security context from {} to {}\n",
            ctx_name(before),
            ctx_name(after)
        ));
    }
}

/// `ctx`, `ctx new`, `ctx use ID`.
pub fn ctx(sys: &mut dyn System, args: &[String]) -> Flow {
    let known = sys.known_ids();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] => {
            let (active, attached) = try_or_say!(sys, "ctx", sys.ctx_list());
            let mut out = format!("ctx: active {}\n", ctx_name(active));
            out += "ctx: attached default";
            for c in &attached {
                out += &format!(" {c}");
            }
            out += "\n";
            sys.write(&out);
        }
        ["new"] => {
            let id = try_or_say!(sys, "ctx", sys.ctx_new());
            sys.write(&format!("ctx: created and attached {id}\n"));
        }
        ["use", id] => {
            let id = try_or_say!(sys, "ctx", parse_id(id, &known));
            try_or_say!(sys, "ctx", sys.ctx_use(id));
            sys.write(&format!("ctx: active {}\n", ctx_name(id)));
        }
        _ => sys.write("ctx: usage: ctx | ctx new | ctx use ID|default\n"),
    }
    Flow::Continue
}

/// `cap PRIVATE-KEY TARGET CTX PERMS`.
pub fn cap(sys: &mut dyn System, args: &[String]) -> Flow {
    let known = sys.known_ids();
    let [key, target, ctx, perms] = args else {
        sys.write("cap: usage: cap PRIVATE-KEY TARGET CTX PERMS\n");
        return Flow::Continue;
    };
    let key = try_or_say!(sys, "cap", parse_id(key, &known));
    let target = try_or_say!(sys, "cap", parse_id(target, &known));
    let ctx = try_or_say!(sys, "cap", parse_id(ctx, &known));
    let perms = try_or_say!(sys, "cap", parse_perms(perms).ok_or("bad permissions"));
    let entry = try_or_say!(sys, "cap", sys.cap_add(key, target, ctx, perms));
    let grants = try_or_say!(sys, "cap", sys.ctx_check(ctx, target));
    sys.write(&format!(
        "cap: signed {} on {target} for {ctx}; stored as entry {entry}\ncap: {ctx} now grants {} on {target}\n",
        format_perms(perms),
        format_perms(grants),
    ));
    Flow::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perms_print_and_parse_as_letters() {
        assert_eq!(format_perms(Perms::EMPTY), "-");
        assert_eq!(format_perms(Perms::READ | Perms::EXEC), "rx");
        assert_eq!(parse_perms("rw"), Some(Perms::READ | Perms::WRITE));
        assert_eq!(parse_perms("-"), Some(Perms::EMPTY));
        assert_eq!(parse_perms("rq"), None);
    }

    #[test]
    fn ids_parse_from_prefixes_numbers_and_full_hex() {
        let a = ObjId::from_u128(0xabc0 << 112);
        let b = ObjId::from_u128(0xabd0 << 112);
        let known = [a, b];
        assert_eq!(parse_id("%1", &known), Ok(a));
        assert_eq!(parse_id("%2", &known), Ok(b));
        assert!(parse_id("%3", &known).is_err());
        assert!(parse_id("%0", &known).is_err());
        assert_eq!(parse_id("abc", &known), Ok(a));
        assert!(parse_id("ab", &known).is_err(), "ambiguous");
        assert!(parse_id("ffff", &known).is_err(), "unknown prefix");
        assert_eq!(parse_id("default", &known), Ok(ObjId::NIL));
        let full = "0000000000000000000000000000002a";
        assert_eq!(parse_id(full, &known), Ok(ObjId::from_u128(42)));
        assert!(parse_id("xyz", &known).is_err());
    }

    #[test]
    fn show_names_size_perms_key_and_the_active_grant() {
        let info = ObjInfo {
            id: ObjId::from_u128(1),
            key_id: ObjId::NIL,
            size: 4096,
            default_perms: Perms::READ,
            flags: ObjFlags::EMPTY,
            pages: 2,
        };
        let text = format_info(&info, ObjId::NIL, Perms::READ);
        assert!(text.contains("size 4096 bytes, 2 pages backed"), "{text}");
        assert!(text.contains("default perms r, key none"), "{text}");
        assert!(text.contains("active context default grants r"), "{text}");
    }
}
