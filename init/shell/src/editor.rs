//! The line editor, fed one input byte at a time.
//!
//! - printable ASCII (and tab, as a space) is added and echoed;
//! - backspace (`0x7f` or `0x08`) erases one character (`"\x08 \x08"`);
//! - Ctrl-U erases the whole line; Ctrl-C abandons it (`^C`);
//! - CR or LF ends the line (CR LF counts once);
//! - Ctrl-D on an empty line is the end of input (elsewhere it is ignored);
//! - escape sequences (arrow keys and the like) are swallowed;
//! - other bytes (other controls, non-ASCII) are ignored.
//!
//! A line is bounded: past [`MAX_LINE`] characters further input is not
//! stored or echoed, and the line is rejected when it ends.

use alloc::string::String;

/// Longest line the editor keeps.
pub const MAX_LINE: usize = 256;

const BACKSPACE: u8 = 0x08;
const DELETE: u8 = 0x7f;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_U: u8 = 0x15;
const ESC: u8 = 0x1b;
const ERASE: &str = "\x08 \x08";

/// What a byte completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A finished line (without its end).
    Line(String),
    /// The line was longer than [`MAX_LINE`] and was dropped.
    TooLong,
    /// Ctrl-C: the line was abandoned.
    Cancelled,
    /// Ctrl-D on an empty line.
    EndOfInput,
}

/// Where the editor is in an escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Start,
    /// After ESC `[` or ESC `O`: until a final byte (`0x40..=0x7e`).
    Sequence,
}

/// The line being typed.
#[derive(Debug)]
pub struct Editor {
    line: String,
    overflow: bool,
    after_cr: bool,
    escape: Escape,
}

impl Default for Editor {
    fn default() -> Self {
        Editor::new()
    }
}

impl Editor {
    /// An empty line.
    pub const fn new() -> Editor {
        Editor {
            line: String::new(),
            overflow: false,
            after_cr: false,
            escape: Escape::None,
        }
    }

    /// The line so far.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// Takes one input byte; `echo` receives what the terminal should show.
    pub fn feed(&mut self, byte: u8, echo: &mut dyn FnMut(&str)) -> Option<Event> {
        let after_cr = core::mem::replace(&mut self.after_cr, false);
        match self.escape {
            Escape::Start => {
                self.escape = if matches!(byte, b'[' | b'O') {
                    Escape::Sequence
                } else {
                    Escape::None
                };
                return None;
            }
            Escape::Sequence => {
                if (0x40..=0x7e).contains(&byte) {
                    self.escape = Escape::None;
                }
                return None;
            }
            Escape::None => {}
        }
        match byte {
            b'\n' if after_cr => None,
            b'\r' | b'\n' => {
                self.after_cr = byte == b'\r';
                echo("\n");
                let line = core::mem::take(&mut self.line);
                Some(if core::mem::take(&mut self.overflow) {
                    Event::TooLong
                } else {
                    Event::Line(line)
                })
            }
            BACKSPACE | DELETE => {
                if !self.overflow && self.line.pop().is_some() {
                    echo(ERASE);
                }
                None
            }
            CTRL_U => {
                for _ in 0..self.line.len() {
                    echo(ERASE);
                }
                self.clear();
                None
            }
            CTRL_C => {
                echo("^C\n");
                self.clear();
                Some(Event::Cancelled)
            }
            CTRL_D if self.line.is_empty() && !self.overflow => Some(Event::EndOfInput),
            ESC => {
                self.escape = Escape::Start;
                None
            }
            b'\t' | 0x20..=0x7e => {
                if self.line.len() < MAX_LINE && !self.overflow {
                    let c = if byte == b'\t' { ' ' } else { byte as char };
                    self.line.push(c);
                    let mut utf8 = [0u8; 4];
                    echo(c.encode_utf8(&mut utf8));
                } else {
                    self.overflow = true;
                }
                None
            }
            _ => None,
        }
    }

    fn clear(&mut self) {
        self.line.clear();
        self.overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Feeds `input`; returns the events and the echo.
    fn run(editor: &mut Editor, input: &[u8]) -> (Vec<Event>, String) {
        let mut echo = String::new();
        let events = input
            .iter()
            .filter_map(|&b| editor.feed(b, &mut |s| echo.push_str(s)))
            .collect();
        (events, echo)
    }

    fn line(s: &str) -> Event {
        Event::Line(s.into())
    }

    #[test]
    fn typing_echoes_and_line_ends_deliver_the_line() {
        let mut e = Editor::new();
        let (events, echo) = run(&mut e, b"echo hi\r\nls\nx\r\r");
        assert_eq!(events, [line("echo hi"), line("ls"), line("x"), line("")]);
        assert_eq!(echo, "echo hi\nls\nx\n\n");
    }

    #[test]
    fn backspace_and_kill_erase_on_screen() {
        let mut e = Editor::new();
        let (events, echo) = run(&mut e, b"ab\x7fc\x08\x08\x08d\n");
        assert_eq!(events, [line("d")]);
        assert_eq!(echo, "ab\x08 \x08c\x08 \x08\x08 \x08d\n");
        let (events, echo) = run(&mut e, b"xyz\x15ok\n");
        assert_eq!(events, [line("ok")]);
        assert_eq!(echo, "xyz\x08 \x08\x08 \x08\x08 \x08ok\n");
    }

    #[test]
    fn ctrl_c_abandons_and_ctrl_d_ends_only_an_empty_line() {
        let mut e = Editor::new();
        let (events, echo) = run(&mut e, b"oops\x03");
        assert_eq!(events, [Event::Cancelled]);
        assert_eq!(echo, "oops^C\n");
        assert_eq!(e.line(), "");
        let (events, _) = run(&mut e, b"a\x04b\n\x04");
        assert_eq!(events, [line("ab"), Event::EndOfInput]);
    }

    #[test]
    fn escape_sequences_and_stray_bytes_are_ignored() {
        let mut e = Editor::new();
        let (events, echo) = run(&mut e, b"a\x1b[A\x1b[1;5Cb\x1bOPc\x01\xc3\xa9\td\n");
        assert_eq!(events, [line("abc d")]);
        assert_eq!(echo, "abc d\n");
    }

    #[test]
    fn overlong_lines_are_bounded_and_rejected() {
        let mut e = Editor::new();
        let long = [b'x'; MAX_LINE + 10];
        let (events, echo) = run(&mut e, &long);
        assert!(events.is_empty());
        assert_eq!(echo.len(), MAX_LINE, "input past the bound is not echoed");
        let (events, _) = run(&mut e, b"\x7f\n");
        assert_eq!(events, [Event::TooLong]);
        let (events, _) = run(&mut e, b"ok\n");
        assert_eq!(events, [line("ok")], "the next line is fine again");
        let (events, _) = run(&mut e, &[b'y'; MAX_LINE]);
        assert!(events.is_empty());
        assert_eq!(
            run(&mut e, b"\n").0,
            [line(&"y".repeat(MAX_LINE))],
            "exactly the bound is kept"
        );
    }
}
