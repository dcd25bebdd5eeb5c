//! `nomenclature/resolvers.toml`: which resolvers the system builds and
//! can start. The build (`cargo xtask`) reads it to build one server
//! program per line; `init` embeds it to start them at boot and to find
//! the program behind `resolver start NAME`.
//!
//! # Format (a small subset of TOML)
//!
//! One resolver per line, `#` starts a comment:
//!
//! ```toml
//! hier = "hierarchical"                             # started at boot
//! flat = { crate = "resolver-template", boot = false } # only on request
//! ```
//!
//! The key is the registry (and service) name: `[a-z0-9_-]`, at most
//! [`MAX_SERVICE_NAME`](protocols::syscall::MAX_SERVICE_NAME) bytes. The
//! value is the crate (package) whose `src/main.rs` is the server; its
//! binary, and so its program on the image, has the crate's name.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One configured resolver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverLine {
    /// The registry and service name (`hier`).
    pub name: String,
    /// The crate, and the server program's name (`hierarchical`).
    pub program: String,
    /// Whether `init` starts it at boot.
    pub boot: bool,
}

/// Why a configuration line was refused (with its 1-based line number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Not `name = "crate"` nor `name = { crate = "…", boot = … }`.
    Syntax(usize),
    /// The name is empty, too long or not `[a-z0-9_-]`.
    BadName(usize),
    /// The crate name is empty or not `[A-Za-z0-9_-]`.
    BadCrate(usize),
    /// The name appears twice.
    Duplicate(usize),
}

fn name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= protocols::syscall::MAX_SERVICE_NAME
        && n != protocols::resolver::REGISTRY_NAME
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn crate_ok(c: &str) -> bool {
    !c.is_empty()
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `"text"` → `text` (no escapes: names never need them).
fn quoted(v: &str) -> Option<&str> {
    let v = v.trim();
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('"')).then_some(inner)
}

/// `{ crate = "x", boot = false }` → (`x`, boot).
fn table(v: &str) -> Option<(&str, bool)> {
    let inner = v.trim().strip_prefix('{')?.strip_suffix('}')?;
    let (mut krate, mut boot) = (None, true);
    for field in inner.split(',') {
        let (k, val) = field.split_once('=')?;
        match k.trim() {
            "crate" if krate.is_none() => krate = Some(quoted(val)?),
            "boot" => {
                boot = match val.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    Some((krate?, boot))
}

/// Parses the whole file.
pub fn parse(text: &str) -> Result<Vec<ResolverLine>, ConfigError> {
    let mut out: Vec<ResolverLine> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        // A `#` inside a quoted crate name cannot occur (crate names have none).
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or(ConfigError::Syntax(n))?;
        let name = key.trim();
        let (program, boot) = match quoted(value) {
            Some(c) => (c, true),
            None => table(value).ok_or(ConfigError::Syntax(n))?,
        };
        if !name_ok(name) {
            return Err(ConfigError::BadName(n));
        }
        if !crate_ok(program) {
            return Err(ConfigError::BadCrate(n));
        }
        if out.iter().any(|l| l.name == name) {
            return Err(ConfigError::Duplicate(n));
        }
        out.push(ResolverLine {
            name: name.to_string(),
            program: program.to_string(),
            boot,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_and_comments() {
        let text = "# the resolvers\n\nhier = \"hierarchical\" # boot\n\
                    flat = { crate = \"resolver-template\", boot = false }\n\
                    cur = { boot = true, crate = \"current-version\" }\n";
        let got = parse(text).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            ResolverLine {
                name: "hier".into(),
                program: "hierarchical".into(),
                boot: true
            }
        );
        assert_eq!(
            (got[1].program.as_str(), got[1].boot),
            ("resolver-template", false)
        );
        assert_eq!(
            (got[2].program.as_str(), got[2].boot),
            ("current-version", true)
        );
    }

    #[test]
    fn refuses_bad_lines_with_their_number() {
        assert_eq!(parse("hier hierarchical"), Err(ConfigError::Syntax(1)));
        assert_eq!(parse("\nx = hierarchical"), Err(ConfigError::Syntax(2)));
        assert_eq!(
            parse("x = { crate = \"a\", boot = maybe }"),
            Err(ConfigError::Syntax(1))
        );
        assert_eq!(parse("x = { boot = false }"), Err(ConfigError::Syntax(1)));
        assert_eq!(parse("Hier = \"h\""), Err(ConfigError::BadName(1)));
        assert_eq!(parse("registry = \"h\""), Err(ConfigError::BadName(1)));
        assert_eq!(
            parse("averyveryverylongname = \"h\""),
            Err(ConfigError::BadName(1))
        );
        assert_eq!(parse("x = \"a b\""), Err(ConfigError::BadCrate(1)));
        assert_eq!(
            parse("x = \"a\"\nx = \"b\""),
            Err(ConfigError::Duplicate(2))
        );
    }

    #[test]
    fn the_shipped_file_parses() {
        let got = parse(include_str!("../../resolvers.toml")).unwrap();
        assert!(
            got.iter()
                .any(|l| l.name == "hier" && l.program == "hierarchical")
        );
    }
}
