//! `limine.conf` parsing (Limine 8 syntax), restricted to what the built-in
//! loader can honour.
//!
//! Global options come first (`timeout: 0`); each entry starts with a line
//! `/Name` (`//Name` for a sub-entry, `/+Name` for an expanded directory)
//! and its indented `key: value` (or `key=value`) lines follow. Keys are
//! case-insensitive; lines starting with `#` are comments. Options that only
//! change Limine's menu or terminal are accepted and ignored. An entry with
//! no keys that is followed by deeper entries is a directory, not a boot
//! entry. `default_entry` counts boot entries from 1.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// A boot entry that names a kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's name without the leading slashes.
    pub name: String,
    /// Path of the kernel on the boot volume (leading slash).
    pub kernel_path: String,
    /// The kernel command line (empty when absent).
    pub cmdline: String,
    /// Modules in the order they appear.
    pub modules: Vec<Module>,
}

/// A module of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Path on the boot volume (leading slash).
    pub path: String,
    /// The module's command line (empty when absent).
    pub cmdline: String,
}

/// A parsed configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Boot entries in file order.
    pub entries: Vec<Entry>,
    /// `timeout` (seconds), if given. The built-in loader never waits.
    pub timeout: Option<u64>,
    /// Index into `entries` of the entry to boot.
    pub default_index: usize,
}

impl Config {
    /// The entry the loader boots.
    pub fn selected(&self) -> &Entry {
        &self.entries[self.default_index]
    }
}

/// What is wrong with a configuration. `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A line is neither a comment, an entry header nor `key: value`.
    Syntax {
        /// Line number.
        line: usize,
    },
    /// A key nobody knows, or one that is not valid where it appears.
    UnknownKey {
        /// Line number.
        line: usize,
        /// The key, lowercased.
        key: String,
    },
    /// An entry key before the first entry.
    KeyOutsideEntry {
        /// Line number.
        line: usize,
        /// The key, lowercased.
        key: String,
    },
    /// An entry header with no name.
    EmptyEntryName {
        /// Line number.
        line: usize,
    },
    /// A key that may appear once per entry appears again.
    DuplicateKey {
        /// Line number.
        line: usize,
        /// The key, lowercased.
        key: String,
    },
    /// `protocol` is not `limine`.
    UnsupportedProtocol {
        /// Line number.
        line: usize,
        /// The protocol given.
        protocol: String,
    },
    /// A path the loader cannot resolve.
    BadPath {
        /// Line number.
        line: usize,
        /// The value given.
        path: String,
        /// Why it is rejected.
        reason: PathProblem,
    },
    /// `module_cmdline` with no `module_path` before it in the entry.
    ModuleCmdlineWithoutPath {
        /// Line number.
        line: usize,
    },
    /// A numeric option that is not a number.
    BadNumber {
        /// Line number.
        line: usize,
        /// The key, lowercased.
        key: String,
    },
    /// An entry with keys but no `kernel_path`.
    MissingKernelPath {
        /// Line of the entry header.
        line: usize,
        /// The entry's name.
        entry: String,
    },
    /// An entry without a `protocol` key.
    MissingProtocol {
        /// Line of the entry header.
        line: usize,
        /// The entry's name.
        entry: String,
    },
    /// `default_entry` names no boot entry.
    DefaultEntryOutOfRange {
        /// Line number of the option.
        line: usize,
        /// The value given.
        index: u64,
        /// How many boot entries exist.
        entries: usize,
    },
    /// The file defines no boot entry at all.
    NoEntries,
}

/// Why a path is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathProblem {
    /// Empty, or just `/`.
    Empty,
    /// Does not start with `/` after the resource prefix.
    NotAbsolute,
    /// Has a `.` or `..` component.
    DotComponent,
    /// `boot(N):`, `guid(...)`, `hdd(...)`, `tftp(...)`: only `boot():` is supported.
    UnsupportedResource,
    /// A `#hash` suffix, which this loader does not verify.
    HashSuffix,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Empty => "the path is empty",
            PathProblem::NotAbsolute => "the path must start with '/'",
            PathProblem::DotComponent => "'.' and '..' components are not allowed",
            PathProblem::UnsupportedResource => "only boot():/path (the boot volume) is supported",
            PathProblem::HashSuffix => "'#hash' suffixes are not supported",
        })
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Syntax { line } => {
                write!(f, "line {line}: expected `key: value` or `/Entry name`")
            }
            ConfigError::UnknownKey { line, key } => write!(f, "line {line}: unknown key `{key}`"),
            ConfigError::KeyOutsideEntry { line, key } => {
                write!(
                    f,
                    "line {line}: `{key}` outside an entry (entries start with `/Name`)"
                )
            }
            ConfigError::EmptyEntryName { line } => write!(f, "line {line}: entry has no name"),
            ConfigError::DuplicateKey { line, key } => {
                write!(f, "line {line}: `{key}` given twice in one entry")
            }
            ConfigError::UnsupportedProtocol { line, protocol } => write!(
                f,
                "line {line}: protocol `{protocol}` is not supported (only `limine`)"
            ),
            ConfigError::BadPath { line, path, reason } => {
                write!(f, "line {line}: bad path `{path}`: {reason}")
            }
            ConfigError::ModuleCmdlineWithoutPath { line } => {
                write!(
                    f,
                    "line {line}: module_cmdline without a module_path before it"
                )
            }
            ConfigError::BadNumber { line, key } => {
                write!(f, "line {line}: `{key}` needs a number")
            }
            ConfigError::MissingKernelPath { line, entry } => {
                write!(f, "line {line}: entry `{entry}` has no kernel_path")
            }
            ConfigError::MissingProtocol { line, entry } => {
                write!(f, "line {line}: entry `{entry}` has no protocol")
            }
            ConfigError::DefaultEntryOutOfRange {
                line,
                index,
                entries,
            } => write!(
                f,
                "line {line}: default_entry {index} but there are {entries} boot entries"
            ),
            ConfigError::NoEntries => f.write_str("no boot entries (an entry starts with `/Name`)"),
        }
    }
}

/// Global options accepted (and ignored unless listed in [`Config`]).
const GLOBAL_KEYS: &[&str] = &[
    "timeout",
    "default_entry",
    "remember_last_entry",
    "verbose",
    "serial",
    "serial_baudrate",
    "quiet",
    "graphics",
    "randomise_memory",
    "randomize_memory",
    "hash_mismatch_panic",
    "editor_enabled",
    "backdrop",
];
/// Prefixes of global options that only style Limine's menu and terminal.
const GLOBAL_PREFIXES: &[&str] = &["interface_", "term_", "wallpaper"];
/// Entry keys accepted and ignored.
const IGNORED_ENTRY_KEYS: &[&str] = &[
    "kaslr",
    "comment",
    "resolution",
    "textmode",
    "randomise_hhdm_base",
    "randomize_hhdm_base",
    "paging_mode",
    "dtb_path",
];
/// Keys valid only inside an entry.
const ENTRY_KEYS: &[&str] = &[
    "protocol",
    "kernel_path",
    "path",
    "cmdline",
    "kernel_cmdline",
    "module_path",
    "module_cmdline",
    "module_string",
];

/// An entry while its lines are being read.
struct Pending {
    name: String,
    line: usize,
    depth: usize,
    has_keys: bool,
    protocol: bool,
    kernel_path: Option<String>,
    cmdline: Option<String>,
    modules: Vec<Module>,
    module_cmdline_set: bool,
}

/// Parses `text` and picks the entry to boot.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let mut pending: Vec<Pending> = Vec::new();
    let mut timeout = None;
    let mut default_entry: Option<(usize, u64)> = None;

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('/') {
            let depth = 1 + header.chars().take_while(|&c| c == '/').count();
            let name = header.trim_start_matches('/');
            let name = name.strip_prefix('+').unwrap_or(name).trim();
            if name.is_empty() {
                return Err(ConfigError::EmptyEntryName { line });
            }
            pending.push(Pending {
                name: name.to_string(),
                line,
                depth,
                has_keys: false,
                protocol: false,
                kernel_path: None,
                cmdline: None,
                modules: Vec::new(),
                module_cmdline_set: false,
            });
            continue;
        }
        let (key, value) = split_key_value(trimmed).ok_or(ConfigError::Syntax { line })?;
        let key = key.to_ascii_lowercase();
        match pending.last_mut() {
            None => {
                if ENTRY_KEYS.contains(&key.as_str()) || IGNORED_ENTRY_KEYS.contains(&key.as_str())
                {
                    return Err(ConfigError::KeyOutsideEntry { line, key });
                }
                let known = GLOBAL_KEYS.contains(&key.as_str())
                    || GLOBAL_PREFIXES.iter().any(|p| key.starts_with(p));
                if !known {
                    return Err(ConfigError::UnknownKey { line, key });
                }
                match key.as_str() {
                    "timeout" if value != "no" => timeout = Some(number(line, &key, value)?),
                    "default_entry" => default_entry = Some((line, number(line, &key, value)?)),
                    _ => {}
                }
            }
            Some(entry) => entry_key(entry, line, key, value)?,
        }
    }

    let mut entries = Vec::new();
    for (i, p) in pending.iter().enumerate() {
        let has_children = pending.get(i + 1).is_some_and(|next| next.depth > p.depth);
        if !p.has_keys && has_children {
            continue; // a directory
        }
        let Some(kernel_path) = p.kernel_path.clone() else {
            return Err(ConfigError::MissingKernelPath {
                line: p.line,
                entry: p.name.clone(),
            });
        };
        if !p.protocol {
            return Err(ConfigError::MissingProtocol {
                line: p.line,
                entry: p.name.clone(),
            });
        }
        entries.push(Entry {
            name: p.name.clone(),
            kernel_path,
            cmdline: p.cmdline.clone().unwrap_or_default(),
            modules: p.modules.clone(),
        });
    }
    if entries.is_empty() {
        return Err(ConfigError::NoEntries);
    }
    let default_index = match default_entry {
        None => 0,
        Some((line, index)) => {
            if index == 0 || index > entries.len() as u64 {
                return Err(ConfigError::DefaultEntryOutOfRange {
                    line,
                    index,
                    entries: entries.len(),
                });
            }
            (index - 1) as usize
        }
    };
    Ok(Config {
        entries,
        timeout,
        default_index,
    })
}

/// Applies one `key: value` line to the entry being read.
fn entry_key(
    entry: &mut Pending,
    line: usize,
    key: String,
    value: &str,
) -> Result<(), ConfigError> {
    entry.has_keys = true;
    match key.as_str() {
        "protocol" => {
            if entry.protocol {
                return Err(ConfigError::DuplicateKey { line, key });
            }
            if !value.eq_ignore_ascii_case("limine") {
                return Err(ConfigError::UnsupportedProtocol {
                    line,
                    protocol: value.to_string(),
                });
            }
            entry.protocol = true;
        }
        "kernel_path" | "path" => {
            if entry.kernel_path.is_some() {
                return Err(ConfigError::DuplicateKey { line, key });
            }
            entry.kernel_path = Some(parse_path(line, value)?);
        }
        "cmdline" | "kernel_cmdline" => {
            if entry.cmdline.is_some() {
                return Err(ConfigError::DuplicateKey { line, key });
            }
            entry.cmdline = Some(value.to_string());
        }
        "module_path" => {
            let path = parse_path(line, value)?;
            entry.modules.push(Module {
                path,
                cmdline: String::new(),
            });
            entry.module_cmdline_set = false;
        }
        "module_cmdline" | "module_string" => {
            let Some(module) = entry.modules.last_mut() else {
                return Err(ConfigError::ModuleCmdlineWithoutPath { line });
            };
            if entry.module_cmdline_set {
                return Err(ConfigError::DuplicateKey { line, key });
            }
            module.cmdline = value.to_string();
            entry.module_cmdline_set = true;
        }
        k if IGNORED_ENTRY_KEYS.contains(&k) => {}
        _ => return Err(ConfigError::UnknownKey { line, key }),
    }
    Ok(())
}

/// Splits `key: value` or `key=value`; the key is the text before the first
/// `:` or `=` and must be a plain identifier.
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let at = line.find([':', '='])?;
    let key = line[..at].trim();
    let valid = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| (key, line[at + 1..].trim()))
}

/// Parses a decimal number option.
fn number(line: usize, key: &str, value: &str) -> Result<u64, ConfigError> {
    value.parse().map_err(|_| ConfigError::BadNumber {
        line,
        key: key.to_string(),
    })
}

/// Resolves a config path to a path on the boot volume.
pub fn parse_path(line: usize, value: &str) -> Result<String, ConfigError> {
    let bad = |reason| ConfigError::BadPath {
        line,
        path: value.to_string(),
        reason,
    };
    let path = if let Some(rest) = value.strip_prefix("boot():") {
        rest
    } else if value.contains("):") || value.contains("://") {
        return Err(bad(PathProblem::UnsupportedResource));
    } else {
        value
    };
    if path.contains('#') {
        return Err(bad(PathProblem::HashSuffix));
    }
    if path.is_empty() || path == "/" {
        return Err(bad(PathProblem::Empty));
    }
    if !path.starts_with('/') {
        return Err(bad(PathProblem::NotAbsolute));
    }
    if path.split('/').any(|c| c == "." || c == "..") {
        return Err(bad(PathProblem::DotComponent));
    }
    Ok(path.to_string())
}

#[cfg(test)]
mod tests;
