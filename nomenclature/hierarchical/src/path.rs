//! Path syntax: `/` alone, or `/`-separated components after a leading
//! `/`, with an optional trailing `/`.

use alloc::vec::Vec;

use nomenclature::NameError;
use nomenclature::name::component;
use protocols::resolver::MAX_NAME;

/// A checked absolute path, split into components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path<'a>(Vec<&'a str>);

impl<'a> Path<'a> {
    /// The components, root first (empty for `/`).
    pub fn components(&self) -> &[&'a str] {
        &self.0
    }
}

/// Checks and splits `name`.
pub fn parse(name: &str) -> Result<Path<'_>, NameError> {
    if name.len() > MAX_NAME {
        return Err(NameError::InvalidName);
    }
    let rest = name.strip_prefix('/').ok_or(NameError::InvalidName)?;
    if rest.is_empty() {
        return Ok(Path(Vec::new()));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut out = Vec::new();
    for c in rest.split('/') {
        component(c)?;
        out.push(c);
    }
    Ok(Path(out))
}
