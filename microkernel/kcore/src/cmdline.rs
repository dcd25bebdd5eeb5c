//! The kernel command line: whitespace-separated words, `key=value` or flags.

/// Whether `cmdline` contains `word` as a whole whitespace-separated word.
pub fn has_word(cmdline: &[u8], word: &[u8]) -> bool {
    words(cmdline).any(|w| w == word)
}

/// The value of the first `key=value` word for `key`, if any.
pub fn value_of<'a>(cmdline: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    words(cmdline).find_map(|w| {
        let rest = w.strip_prefix(key)?;
        rest.strip_prefix(b"=")
    })
}

/// The whitespace-separated words of `cmdline`.
pub fn words(cmdline: &[u8]) -> impl Iterator<Item = &[u8]> {
    cmdline
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_whole_words_only() {
        let line = b"  quiet selftest=panic\tfoo=bar ";
        assert!(has_word(line, b"selftest=panic"));
        assert!(has_word(line, b"quiet"));
        assert!(!has_word(line, b"selftest"));
        assert!(!has_word(line, b"selftest=panicky"));
        assert!(!has_word(b"", b"quiet"));
    }

    #[test]
    fn reads_values() {
        let line = b"selftest=panic foo=bar foo=baz flag";
        assert_eq!(value_of(line, b"foo"), Some(&b"bar"[..]));
        assert_eq!(value_of(line, b"selftest"), Some(&b"panic"[..]));
        assert_eq!(value_of(line, b"flag"), None);
        assert_eq!(value_of(line, b"fo"), None);
    }
}
