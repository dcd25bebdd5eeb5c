//! Reading the kernel's console lines (the formats are fixed in the boot
//! interface and printed by `microkernel`).

/// The last `n` lines of `console`, for failure messages.
pub fn tail(console: &str, n: usize) -> String {
    let lines: Vec<&str> = console.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The first line that starts with `prefix` (after any leading escape noise
/// the firmware leaves on the same line).
pub fn line<'a>(console: &'a str, prefix: &str) -> Option<&'a str> {
    console
        .lines()
        .find_map(|l| l.find(prefix).map(|at| &l[at..]))
}

/// Every line that starts with `prefix`.
pub fn lines<'a>(console: &'a str, prefix: &str) -> Vec<&'a str> {
    console
        .lines()
        .filter_map(|l| l.find(prefix).map(|at| &l[at..]))
        .collect()
}

/// Like [`line`], but an error naming what was missing.
pub fn require<'a>(console: &'a str, prefix: &str) -> Result<&'a str, String> {
    line(console, prefix).ok_or_else(|| {
        format!(
            "no console line starting with {prefix:?}; console ends with:\n{}",
            tail(console, 12)
        )
    })
}

/// The number that follows `key` in `line` (`"size 4096 bytes"`, key
/// `"size "` → 4096). Accepts decimal or `0x` hexadecimal.
pub fn number_after(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

/// One `pmem: range` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PmemRange {
    /// Physical base.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

/// Every persistent-memory range the kernel reported.
pub fn pmem_ranges(console: &str) -> Vec<PmemRange> {
    lines(console, "pmem: range ")
        .into_iter()
        .filter_map(|l| {
            Some(PmemRange {
                base: number_after(l, " base ")?,
                size: number_after(l, " size ")?,
            })
        })
        .collect()
}

/// One `module i:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleLine {
    /// Path as the loader reported it.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// The module's command line.
    pub cmdline: String,
    /// FNV-1a 64 of the bytes the kernel saw.
    pub fnv: u64,
}

/// Every module line, in order.
pub fn modules(console: &str) -> Vec<ModuleLine> {
    lines(console, "module ")
        .into_iter()
        .filter_map(|l| {
            let mut words = l[l.find(": ")? + 2..].split(' ');
            let path = words.next()?.to_string();
            let size = words.next()?.parse().ok()?;
            let cmd_start = l.find("cmdline \"")? + "cmdline \"".len();
            let cmd_len = l[cmd_start..].find('"')?;
            Some(ModuleLine {
                path,
                size,
                cmdline: l[cmd_start..cmd_start + cmd_len].to_string(),
                fnv: u64::from_str_radix(l.rsplit(' ').next()?, 16).ok()?,
            })
        })
        .collect()
}

/// FNV-1a 64, the checksum the kernel prints for each module.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\x1b[2J\x1b[01;01Hloader: Perennial built-in loader 0.1.0\n\
        Perennial 0.1.0 (booted by Perennial-loader 0.1.0)\n\
        memory: usable 480000 KiB, reclaimable 2048 KiB, kernel+modules 300 KiB, acpi 128 KiB, reserved 9000 KiB, bad 0 KiB, entries 14\n\
        module 0: /boot/fixture 100001 bytes cmdline \"fixture one\" fnv1a64 00000000deadbeef\n\
        pmem: range 0 base 0x140000000 size 268435456 bytes\n\
        pmem: range 1 base 0x160000000 size 134217728 bytes\n\
        boot: ok\n";

    #[test]
    fn finds_lines_behind_escape_noise() {
        assert!(line(SAMPLE, "loader: Perennial").is_some());
        assert!(require(SAMPLE, "boot: ok").is_ok());
        let err = require(SAMPLE, "boot: nope").unwrap_err();
        assert!(err.contains("boot: nope"));
    }

    #[test]
    fn parses_numbers_in_both_bases() {
        let mem = line(SAMPLE, "memory: ").unwrap();
        assert_eq!(number_after(mem, "usable "), Some(480_000));
        assert_eq!(number_after(mem, "entries "), Some(14));
        assert_eq!(number_after("base 0x1f size", "base "), Some(0x1f));
        assert_eq!(number_after("base zz", "base "), None);
        assert_eq!(number_after("nothing", "base "), None);
    }

    #[test]
    fn parses_pmem_and_module_lines() {
        assert_eq!(
            pmem_ranges(SAMPLE),
            vec![
                PmemRange {
                    base: 0x1_4000_0000,
                    size: 256 << 20
                },
                PmemRange {
                    base: 0x1_6000_0000,
                    size: 128 << 20
                },
            ]
        );
        let mods = modules(SAMPLE);
        assert_eq!(mods.len(), 1);
        assert_eq!(mods[0].path, "/boot/fixture");
        assert_eq!(mods[0].size, 100_001);
        assert_eq!(mods[0].cmdline, "fixture one");
        assert_eq!(mods[0].fnv, 0xdead_beef);
    }

    #[test]
    fn fnv_matches_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }
}
