//! Splitting a command line into words: runs of whitespace separate words;
//! a double-quoted part keeps its spaces (`echo "a  b"c` is one word,
//! `a  bc`); inside quotes `\"` and `\\` stand for `"` and `\`.

use alloc::string::String;
use alloc::vec::Vec;

/// Why a line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A `"` was never closed.
    UnterminatedQuote,
}

impl ParseError {
    /// The message the shell prints.
    pub const fn describe(self) -> &'static str {
        match self {
            ParseError::UnterminatedQuote => "unterminated quote",
        }
    }
}

/// The words of `line`.
pub fn words(line: &str) -> Result<Vec<String>, ParseError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        None => return Err(ParseError::UnterminatedQuote),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => w.push(e),
                            Some(other) => {
                                w.push('\\');
                                w.push(other);
                            }
                            None => return Err(ParseError::UnterminatedQuote),
                        },
                        Some(other) => w.push(other),
                    }
                }
            }
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(line: &str) -> Vec<String> {
        words(line).unwrap()
    }

    #[test]
    fn whitespace_separates_and_quotes_group() {
        assert_eq!(w("  echo   a\tb  "), ["echo", "a", "b"]);
        assert!(w("   ").is_empty());
        assert_eq!(w(r#"echo "a  b"c d"#), ["echo", "a  bc", "d"]);
        assert_eq!(w(r#"x "" y"#), ["x", "", "y"]);
        assert_eq!(w(r#""say \"hi\" \\ \n""#), [r#"say "hi" \ \n"#]);
        assert_eq!(words(r#"echo "open"#), Err(ParseError::UnterminatedQuote));
    }
}
