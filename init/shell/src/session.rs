//! A shell session: the prompt, feeding input to the editor, running each
//! finished line, and what happens at the end of input.

use alloc::format;

use crate::PROMPT;
use crate::commands::{self, find};
use crate::editor::{Editor, Event, MAX_LINE};
use crate::parse::words;
use crate::system::System;

/// Whether the shell goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read more input.
    Continue,
    /// The machine was powered off (or the input ended and it could not
    /// be): stop reading.
    Ended,
}

/// The shell's state between input bytes.
#[derive(Debug, Default)]
pub struct Session {
    editor: Editor,
}

impl Session {
    /// A new session; call [`Session::start`] to show the first prompt.
    pub const fn new() -> Session {
        Session {
            editor: Editor::new(),
        }
    }

    /// Prints the first prompt.
    pub fn start(&mut self, sys: &mut dyn System) {
        sys.write(PROMPT);
    }

    /// Feeds input bytes until they run out or the shell ends.
    pub fn feed_all(&mut self, bytes: &[u8], sys: &mut dyn System) -> Flow {
        for &b in bytes {
            if self.feed(b, sys) == Flow::Ended {
                return Flow::Ended;
            }
        }
        Flow::Continue
    }

    /// Feeds one input byte.
    pub fn feed(&mut self, byte: u8, sys: &mut dyn System) -> Flow {
        let event = self.editor.feed(byte, &mut |text| sys.write(text));
        let flow = match event {
            None => return Flow::Continue,
            Some(Event::Line(line)) => execute(&line, sys),
            Some(Event::TooLong) => {
                sys.write(&format!(
                    "shell: line too long (more than {MAX_LINE} characters); ignored\n"
                ));
                Flow::Continue
            }
            Some(Event::Cancelled) => Flow::Continue,
            Some(Event::EndOfInput) => {
                sys.write("end of input; powering off\n");
                commands::power_off(sys);
                // Nothing more will come: stop even if power-off failed.
                Flow::Ended
            }
        };
        if flow == Flow::Continue {
            sys.write(PROMPT);
        }
        flow
    }
}

/// Runs one command line.
pub fn execute(line: &str, sys: &mut dyn System) -> Flow {
    let words = match words(line) {
        Ok(words) => words,
        Err(e) => {
            sys.write(&format!("shell: {}\n", e.describe()));
            return Flow::Continue;
        }
    };
    let Some((name, args)) = words.split_first() else {
        return Flow::Continue;
    };
    match find(name) {
        Some(command) => (command.run)(sys, args),
        None => {
            sys.write(&format!("shell: unknown command '{name}' (try 'help')\n"));
            Flow::Continue
        }
    }
}

#[cfg(test)]
mod tests;
