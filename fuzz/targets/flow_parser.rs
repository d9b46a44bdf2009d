//! Fuzz body: the flow-file parser ([`ringbook::flow::FlowReader`]).
//!
//! Arbitrary bytes are read as a flow file to the end or to the first error. The reader
//! must never panic; every error names a line that exists (1 to lines + 1, the + 1 for a
//! missing header at the end); line numbers of commands increase; and every command read
//! writes back ([`ringbook::flow::write_flow_line`]) to a line that reads back equal.

use ringbook::Command;
use ringbook::flow::{FlowError, FlowReader, write_flow_header, write_flow_line};

/// What one input did: for the corpus replay to check that the corpus reaches both ends.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Commands read before the end or the error.
    pub(crate) commands: usize,
    /// Whether reading stopped at an error.
    pub(crate) error: bool,
}

/// Runs one input; panics (a finding) if a property breaks.
pub(crate) fn run(data: &[u8]) -> Outcome {
    let lines = data.split(|&b| b == b'\n').count() as u64;
    let mut reader = FlowReader::new(data);
    let mut outcome = Outcome::default();
    let mut last_line = 0;
    loop {
        match reader.next_command() {
            Ok(Some((line, command))) => {
                assert!(
                    line > last_line && line <= lines,
                    "command line {line} after line {last_line}, of {lines} lines"
                );
                last_line = line;
                round_trip(&command);
                outcome.commands += 1;
            }
            Ok(None) => break,
            Err(e) => {
                let line = e.line();
                assert!(
                    line > last_line && line <= lines + 1,
                    "error at line {line} after line {last_line}, of {lines} lines: {e}"
                );
                assert!(matches!(e, FlowError::Malformed { .. }), "{e}");
                assert!(
                    e.to_string().starts_with(&format!("line {line}: ")),
                    "the message names its line: {e}"
                );
                outcome.error = true;
                // After an error the reader is done.
                assert!(matches!(reader.next_command(), Ok(None)));
                break;
            }
        }
    }
    outcome
}

/// `command` written as a flow line reads back equal.
fn round_trip(command: &Command) {
    let mut text = Vec::new();
    write_flow_header(&mut text).expect("writing to a Vec");
    write_flow_line(&mut text, command).expect("writing to a Vec");
    let mut reader = FlowReader::new(&text[..]);
    match reader.next_command() {
        Ok(Some((2, back))) => assert_eq!(&back, command, "{}", String::from_utf8_lossy(&text)),
        other => panic!(
            "{command:?} wrote {:?}, which reads back as {other:?}",
            String::from_utf8_lossy(&text)
        ),
    }
    assert!(matches!(reader.next_command(), Ok(None)));
}
