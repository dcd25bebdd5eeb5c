//! The name servers every image carries: the registry (and `nameclient`), plus one server
//! program per line of `nomenclature/resolvers.toml` (parsed by
//! `nomenclature::config`), so adding a resolver is one line there — no
//! list to edit here.

use crate::artifacts::workspace_root;
use crate::{Result, XtaskError};

/// The naming programs every image carries besides the resolvers, as
/// (package, binary): the registry server and the `nameclient` test and
/// measurement client.
pub const PROGRAMS: [(&str, &str); 2] = [
    ("nomenclature-server", "registry"),
    ("nomenclature-server", "nameclient"),
];
/// The feature that turns a resolver crate's server program on.
pub const SERVER_FEATURE: &str = "server";

/// A resolver server program to build: its package (crate), which is also
/// its binary's and module's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverProgram {
    /// The crate named in `resolvers.toml`.
    pub package: String,
}

impl ResolverProgram {
    /// `package/server`: the cargo feature building its server binary.
    pub fn feature(&self) -> String {
        format!("{}/{SERVER_FEATURE}", self.package)
    }
}

/// The resolver programs `text` (a `resolvers.toml`) asks for, each crate
/// once (two names may be served by the same crate).
pub fn programs_in(text: &str) -> Result<Vec<ResolverProgram>> {
    let lines = nomenclature::config::parse(text)
        .map_err(|e| XtaskError::CommandFailed(format!("nomenclature/resolvers.toml: {e:?}")))?;
    let mut out: Vec<ResolverProgram> = Vec::new();
    for line in lines {
        if !out.iter().any(|p| p.package == line.program) {
            out.push(ResolverProgram {
                package: line.program,
            });
        }
    }
    Ok(out)
}

/// The resolver programs of the workspace's `nomenclature/resolvers.toml`.
pub fn programs() -> Result<Vec<ResolverProgram>> {
    let path = workspace_root().join("nomenclature").join("resolvers.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| XtaskError::CommandFailed(format!("cannot read {}: {e}", path.display())))?;
    programs_in(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_program_per_crate_with_its_feature() {
        let got =
            programs_in("a = \"x\"\nb = { crate = \"y\", boot = false }\nc = \"x\"\n").unwrap();
        let names: Vec<_> = got.iter().map(|p| p.package.as_str()).collect();
        assert_eq!(names, ["x", "y"]);
        assert_eq!(got[1].feature(), "y/server");
    }

    #[test]
    fn a_bad_file_is_an_error() {
        assert!(programs_in("a b c").is_err());
    }

    #[test]
    fn the_workspace_file_lists_the_built_in_resolvers() {
        let got = programs().unwrap();
        for c in [
            "hierarchical",
            "attribute",
            "current-version",
            "resolver-template",
            // A resolver from outside nomenclature/ (tests/resolvers/reverse).
            "reverse-lookup",
        ] {
            assert!(got.iter().any(|p| p.package == c), "{c} missing");
        }
    }
}
