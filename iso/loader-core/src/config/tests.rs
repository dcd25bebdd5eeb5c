//! Tests of `limine.conf` parsing, including every rejection.

use super::*;

const XTASK_CONF: &str = "timeout: 0

/Perennial
    protocol: limine
    kernel_path: boot():/boot/kernel
    cmdline: selftest=panic verbose
    module_path: boot():/boot/init
    module_cmdline: init
    module_path: boot():/boot/fixture
    module_cmdline: fixture
";

fn err(text: &str) -> ConfigError {
    parse(text).expect_err("config should be rejected")
}

#[test]
fn parses_what_xtask_writes() {
    let config = parse(XTASK_CONF).unwrap();
    assert_eq!(config.timeout, Some(0));
    assert_eq!(config.entries.len(), 1);
    let entry = config.selected();
    assert_eq!(entry.name, "Perennial");
    assert_eq!(entry.kernel_path, "/boot/kernel");
    assert_eq!(entry.cmdline, "selftest=panic verbose");
    assert_eq!(
        entry.modules,
        vec![
            Module {
                path: "/boot/init".into(),
                cmdline: "init".into()
            },
            Module {
                path: "/boot/fixture".into(),
                cmdline: "fixture".into()
            },
        ]
    );
}

#[test]
fn accepts_older_keys_equals_signs_case_and_cosmetic_options() {
    let text = "# comment\nTIMEOUT=3\nverbose: yes\nserial: yes\nquiet: no\ngraphics: no\n\
                interface_branding: x\nterm_palette: 1;2\nwallpaper: boot():/w.bmp\n\
                wallpaper_style: centered\n/Old\n  PROTOCOL=limine\n  path=/kernel\n  \
                kernel_cmdline=a b\n  kaslr: no\n  comment: hi\n  resolution: 800x600\n\
                  module_path: /m\n";
    let config = parse(text).unwrap();
    assert_eq!(config.timeout, Some(3));
    let entry = config.selected();
    assert_eq!(entry.kernel_path, "/kernel");
    assert_eq!(entry.cmdline, "a b");
    assert_eq!(
        entry.modules,
        vec![Module {
            path: "/m".into(),
            cmdline: String::new()
        }]
    );
}

#[test]
fn missing_cmdline_is_empty() {
    let config = parse("/A\nprotocol: limine\nkernel_path: /k\n").unwrap();
    assert_eq!(config.selected().cmdline, "");
    assert!(config.selected().modules.is_empty());
}

#[test]
fn default_entry_picks_among_boot_entries_and_directories_are_skipped() {
    let text = "default_entry: 2\n/Dir\n//First\nprotocol: limine\nkernel_path: /one\n\
                //+Second\nprotocol: limine\nkernel_path: /two\n/Third\nprotocol: limine\n\
                kernel_path: /three\n";
    let config = parse(text).unwrap();
    assert_eq!(config.entries.len(), 3);
    assert_eq!(config.selected().name, "Second");
    assert_eq!(config.selected().kernel_path, "/two");
}

#[test]
fn default_entry_out_of_range() {
    let text = "default_entry: 2\n/A\nprotocol: limine\nkernel_path: /k\n";
    assert_eq!(
        err(text),
        ConfigError::DefaultEntryOutOfRange {
            line: 1,
            index: 2,
            entries: 1
        }
    );
    let text = "default_entry: 0\n/A\nprotocol: limine\nkernel_path: /k\n";
    assert!(matches!(
        err(text),
        ConfigError::DefaultEntryOutOfRange { index: 0, .. }
    ));
}

#[test]
fn missing_kernel_path_names_the_entry_line() {
    let text = "timeout: 0\n\n/Perennial\n  protocol: limine\n  cmdline: x\n";
    assert_eq!(
        err(text),
        ConfigError::MissingKernelPath {
            line: 3,
            entry: "Perennial".into()
        }
    );
    // An entry with nothing at all (not a directory) is also incomplete.
    assert!(matches!(
        err("/Empty\n"),
        ConfigError::MissingKernelPath { line: 1, .. }
    ));
}

#[test]
fn missing_protocol() {
    assert_eq!(
        err("/A\nkernel_path: /k\n"),
        ConfigError::MissingProtocol {
            line: 1,
            entry: "A".into()
        }
    );
}

#[test]
fn unknown_keys_are_errors_with_line_numbers() {
    assert_eq!(
        err("/A\nprotocol: limine\nkernel_path: /k\nbogus: 1\n"),
        ConfigError::UnknownKey {
            line: 4,
            key: "bogus".into()
        }
    );
    assert_eq!(
        err("bogus: 1\n"),
        ConfigError::UnknownKey {
            line: 1,
            key: "bogus".into()
        }
    );
    // A global option inside an entry is not an entry key.
    assert_eq!(
        err("/A\ntimeout: 1\n"),
        ConfigError::UnknownKey {
            line: 2,
            key: "timeout".into()
        }
    );
}

#[test]
fn entry_keys_outside_an_entry() {
    assert_eq!(
        err("timeout: 0\nkernel_path: boot():/boot/kernel\n"),
        ConfigError::KeyOutsideEntry {
            line: 2,
            key: "kernel_path".into()
        }
    );
}

#[test]
fn syntax_errors() {
    assert_eq!(
        err("/A\nprotocol limine\n"),
        ConfigError::Syntax { line: 2 }
    );
    assert_eq!(err(": value\n"), ConfigError::Syntax { line: 1 });
    assert_eq!(err("/\n"), ConfigError::EmptyEntryName { line: 1 });
    assert_eq!(
        err("timeout: soon\n"),
        ConfigError::BadNumber {
            line: 1,
            key: "timeout".into()
        }
    );
}

#[test]
fn protocol_must_be_limine() {
    assert_eq!(
        err("/A\nprotocol: linux\nkernel_path: /k\n"),
        ConfigError::UnsupportedProtocol {
            line: 2,
            protocol: "linux".into()
        }
    );
}

#[test]
fn duplicate_singular_keys() {
    assert!(matches!(
        err("/A\nprotocol: limine\nkernel_path: /k\npath: /j\n"),
        ConfigError::DuplicateKey { line: 4, .. }
    ));
    assert!(matches!(
        err(
            "/A\nprotocol: limine\nkernel_path: /k\nmodule_path: /m\nmodule_cmdline: a\nmodule_cmdline: b\n"
        ),
        ConfigError::DuplicateKey { line: 6, .. }
    ));
}

#[test]
fn module_cmdline_needs_a_module_path() {
    assert_eq!(
        err("/A\nprotocol: limine\nkernel_path: /k\nmodule_cmdline: x\n"),
        ConfigError::ModuleCmdlineWithoutPath { line: 4 }
    );
}

#[test]
fn no_entries() {
    assert_eq!(err("timeout: 0\n"), ConfigError::NoEntries);
    assert_eq!(err(""), ConfigError::NoEntries);
}

#[test]
fn paths() {
    assert_eq!(
        parse_path(1, "boot():/boot/kernel").unwrap(),
        "/boot/kernel"
    );
    assert_eq!(parse_path(1, "/x").unwrap(), "/x");
    let problem = |v: &str| match parse_path(7, v) {
        Err(ConfigError::BadPath {
            line: 7, reason, ..
        }) => reason,
        other => panic!("{v}: {other:?}"),
    };
    assert_eq!(problem("boot(1):/x"), PathProblem::UnsupportedResource);
    assert_eq!(
        problem("guid(0123-4567):/x"),
        PathProblem::UnsupportedResource
    );
    assert_eq!(problem("hdd(1:2):/x"), PathProblem::UnsupportedResource);
    assert_eq!(problem("tftp://host/x"), PathProblem::UnsupportedResource);
    assert_eq!(problem("boot():"), PathProblem::Empty);
    assert_eq!(problem(""), PathProblem::Empty);
    assert_eq!(problem("boot():/"), PathProblem::Empty);
    assert_eq!(problem("boot/kernel"), PathProblem::NotAbsolute);
    assert_eq!(problem("boot():boot/kernel"), PathProblem::NotAbsolute);
    assert_eq!(problem("/boot/../etc"), PathProblem::DotComponent);
    assert_eq!(problem("/./k"), PathProblem::DotComponent);
    assert_eq!(problem("/k#abcd"), PathProblem::HashSuffix);
}

#[test]
fn bad_path_in_entry_reports_its_line() {
    let e = err("/A\nprotocol: limine\nkernel_path: boot(1):/k\n");
    assert!(matches!(
        e,
        ConfigError::BadPath {
            line: 3,
            reason: PathProblem::UnsupportedResource,
            ..
        }
    ));
    assert!(format!("{e}").starts_with("line 3: bad path `boot(1):/k`"));
}

#[test]
fn messages_name_lines() {
    let e = err("/Perennial\nprotocol: limine\n");
    assert_eq!(
        e.to_string(),
        "line 1: entry `Perennial` has no kernel_path"
    );
}
