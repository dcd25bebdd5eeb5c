//! Name checks shared by resolvers: what a component, tag key or value may
//! hold.

use protocols::resolver::{Component, MAX_COMPONENT, NameError};

/// Checks one component (a path segment, tag key or value, plain name):
/// 1..=[`MAX_COMPONENT`] bytes, no `/`, `=`, NUL, control characters or
/// whitespace, and not `.` or `..`.
pub fn component(s: &str) -> Result<Component, NameError> {
    if s.is_empty() || s.len() > MAX_COMPONENT || s == "." || s == ".." {
        return Err(NameError::InvalidName);
    }
    if s.chars()
        .any(|c| c == '/' || c == '=' || c.is_control() || c.is_whitespace())
    {
        return Err(NameError::InvalidName);
    }
    Component::try_from(s).map_err(|_| NameError::InvalidName)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_checked() {
        assert!(component("notes").is_ok());
        assert!(component("é-ü_1.txt").is_ok());
        for bad in ["", ".", "..", "a/b", "a=b", "a b", "a\0", "a\n"] {
            assert_eq!(component(bad), Err(NameError::InvalidName), "{bad:?}");
        }
        assert!(component(&"x".repeat(MAX_COMPONENT)).is_ok());
        assert_eq!(
            component(&"x".repeat(MAX_COMPONENT + 1)),
            Err(NameError::InvalidName)
        );
    }
}
