//! Allocation-free formatting helpers for the boot console.

use core::fmt;

/// Shows bytes of unknown encoding: printable ASCII as itself, `"` and `\`
/// escaped, everything else as `\xNN`. Safe to put between quotes.
#[derive(Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &byte in self.0 {
            match byte {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => fmt::Write::write_char(f, char::from(byte))?,
                _ => write!(f, "\\x{byte:02x}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_is_not_plain_ascii() {
        let shown = format!("{}", Escaped(b"a \"b\"\\\n\xff"));
        assert_eq!(shown, "a \\\"b\\\"\\\\\\x0a\\xff");
        assert_eq!(format!("{}", Escaped(b"/boot/init")), "/boot/init");
    }
}
