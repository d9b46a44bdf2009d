//! The instruments file: the instruments to register, one per line, for lists too long
//! for a command line (10,000 UUIDs are 370 KB).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::csv::{MAX_LINE_BYTES, parse_id};
use super::lines::{Line, read_line};
use super::quote::quoted;
use crate::command::Command;

/// One instrument of an instruments file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentEntry {
    /// The instrument's id.
    pub id: Uuid,
    /// Its symbol, if the line gave one.
    pub symbol: Option<String>,
    /// The 1-based line it was listed on.
    pub line: u64,
}

/// Why an instruments list could not be read. Line numbers count every line from 1,
/// blank and comment lines too.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstrumentsError {
    /// A line is not `id` or `id,symbol`.
    #[error("line {line}: {reason}")]
    Malformed {
        /// The 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// An id listed on two lines.
    #[error("line {line}: instrument {id} is listed twice (first on line {first_line})")]
    DuplicateId {
        /// The id.
        id: Uuid,
        /// The line that listed it first.
        first_line: u64,
        /// The line that listed it again.
        line: u64,
    },
    /// A symbol given to two instruments.
    #[error(
        "line {line}: symbol {} is listed twice (first on line {first_line})",
        quoted(symbol)
    )]
    DuplicateSymbol {
        /// The symbol.
        symbol: String,
        /// The line that gave it first.
        first_line: u64,
        /// The line that gave it again.
        line: u64,
    },
    /// No line lists an instrument.
    #[error("no instruments listed ({lines} lines)")]
    Empty {
        /// How many lines the input has.
        lines: u64,
    },
    /// Reading failed.
    #[error("line {line}: read error: {source}")]
    Io {
        /// The line being read.
        line: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// An instruments file that could not be opened or read: the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstrumentsFileError {
    /// The file could not be opened.
    #[error("cannot open instruments file {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The file's contents are wrong (or reading it failed part way).
    #[error("instruments file {}: {source}", path.display())]
    Content {
        /// The file.
        path: PathBuf,
        /// What is wrong, at which line.
        #[source]
        source: InstrumentsError,
    },
}

/// Reads an instruments list.
///
/// # Format
///
/// - One instrument per line: its id (a canonical UUID or a decimal integer, as in a flow
///   file), optionally followed by a comma and a symbol (`id,symbol`). Whitespace around
///   either is ignored. A symbol is any non-empty text without a comma.
/// - Blank lines and lines starting with `#` are ignored.
/// - The first other line may be a header: `id`, `instrument`, `id,symbol` or
///   `instrument,symbol`.
/// - An id, or a symbol, listed twice is an error naming both lines.
/// - The file may start with a UTF-8 byte order mark, and end its lines in `\n` or
///   `\r\n` (the last line in a bare `\r`, or in nothing).
/// - A file listing no instrument is an error.
///
/// # Errors
///
/// [`InstrumentsError`] for the first line that breaks the format, a duplicate, an empty
/// list, or a read error.
///
/// # Examples
///
/// ```
/// use ringbook::flow::read_instruments;
/// use ringbook::Uuid;
///
/// let text = "# venue A\ninstrument,symbol\n1,AAPL\n00000000-0000-0000-0000-000000000002\n";
/// let entries = read_instruments(text.as_bytes()).unwrap();
/// assert_eq!(entries[0].id, Uuid::from_u128(1));
/// assert_eq!(entries[0].symbol.as_deref(), Some("AAPL"));
/// assert_eq!((entries[1].symbol.as_deref(), entries[1].line), (None, 4));
///
/// let err = read_instruments("1\n2\n1,X\n".as_bytes()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "line 3: instrument 00000000-0000-0000-0000-000000000001 is listed twice (first on line 1)"
/// );
/// ```
pub fn read_instruments(mut input: impl BufRead) -> Result<Vec<InstrumentEntry>, InstrumentsError> {
    let mut entries = Vec::new();
    let mut ids: HashMap<Uuid, u64> = HashMap::new();
    let mut symbols: HashMap<String, u64> = HashMap::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut header_allowed = true;
    loop {
        let number = line + 1;
        let read =
            read_line(&mut input, &mut buf, number).map_err(|source| InstrumentsError::Io {
                line: number,
                source,
            })?;
        let malformed = |reason: String| InstrumentsError::Malformed {
            line: number,
            reason,
        };
        let bytes = match read {
            Line::End => break,
            Line::TooLong => {
                return Err(malformed(format!(
                    "longer than {MAX_LINE_BYTES} bytes, the most a line may have"
                )));
            }
            Line::Text(bytes) => bytes,
        };
        line = number;
        let text =
            std::str::from_utf8(bytes).map_err(|e| malformed(format!("not valid UTF-8 ({e})")))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if std::mem::take(&mut header_allowed) && is_header(text) {
            continue;
        }
        let (id_text, symbol) = match text.split_once(',') {
            None => (text, None),
            Some((id, symbol)) => {
                let symbol = symbol.trim();
                if symbol.contains(',') {
                    return Err(malformed(format!(
                        "expected id or id,symbol, got {} fields",
                        text.split(',').count()
                    )));
                }
                if symbol.is_empty() {
                    return Err(malformed("symbol: empty after the comma".into()));
                }
                (id.trim(), Some(symbol.to_string()))
            }
        };
        let id = parse_id(id_text).map_err(|e| {
            let hint = if line == 1 || entries.is_empty() {
                " (a header must be id, instrument, id,symbol or instrument,symbol)"
            } else {
                ""
            };
            malformed(format!("instrument: {e}{hint}"))
        })?;
        if let Some(&first_line) = ids.get(&id) {
            return Err(InstrumentsError::DuplicateId {
                id,
                first_line,
                line,
            });
        }
        ids.insert(id, line);
        if let Some(symbol) = &symbol {
            if let Some(&first_line) = symbols.get(symbol) {
                return Err(InstrumentsError::DuplicateSymbol {
                    symbol: symbol.clone(),
                    first_line,
                    line,
                });
            }
            symbols.insert(symbol.clone(), line);
        }
        entries.push(InstrumentEntry { id, symbol, line });
    }
    if entries.is_empty() {
        return Err(InstrumentsError::Empty { lines: line });
    }
    Ok(entries)
}

/// Whether `text` is one of the header lines an instruments file may start with.
fn is_header(text: &str) -> bool {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    matches!(
        fields[..],
        ["id" | "instrument"] | ["id" | "instrument", "symbol"]
    )
}

/// Reads the instruments file at `path` (the format is [`read_instruments`]'s).
///
/// # Errors
///
/// [`InstrumentsFileError`] naming the file, and the line for its contents.
pub fn read_instruments_file(path: &Path) -> Result<Vec<InstrumentEntry>, InstrumentsFileError> {
    let file = File::open(path).map_err(|source| InstrumentsFileError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    read_instruments(BufReader::new(file)).map_err(|source| InstrumentsFileError::Content {
        path: path.to_path_buf(),
        source,
    })
}

/// `command` with its instrument replaced by `instrument_id`: to run a generated flow on
/// the instruments of a file.
#[must_use]
pub fn with_instrument(command: Command, instrument_id: Uuid) -> Command {
    match command {
        Command::Add(mut order) => {
            order.instrument_id = instrument_id;
            Command::Add(order)
        }
        Command::Cancel { order_id, .. } => Command::Cancel {
            instrument_id,
            order_id,
        },
        Command::Modify {
            order_id,
            price,
            qty,
            ..
        } => Command::Modify {
            instrument_id,
            order_id,
            price,
            qty,
        },
        Command::Halt { .. } => Command::Halt { instrument_id },
        Command::Resume { .. } => Command::Resume { instrument_id },
        Command::Status { .. } => Command::Status { instrument_id },
        Command::Snapshot { .. } => Command::Snapshot { instrument_id },
        Command::MassCancel { owner, side, .. } => Command::MassCancel {
            instrument_id,
            owner,
            side,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<InstrumentEntry>, InstrumentsError> {
        read_instruments(text.as_bytes())
    }

    fn error(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    /// A list without line breaks is refused at its bound, never read whole.
    #[test]
    fn an_overlong_line_is_refused_with_its_number() {
        let text = format!("1\n{}", "9".repeat(10 << 20));
        let mut input = std::io::Cursor::new(text.as_bytes());
        let message = read_instruments(&mut input).unwrap_err().to_string();
        assert!(message.starts_with("line 2:"), "{message}");
        assert!(message.contains("longer than 65536 bytes"), "{message}");
        assert!(input.position() < 70_000, "{} bytes read", input.position());
    }

    #[test]
    fn ids_symbols_comments_blanks_and_headers() {
        let text = "\u{FEFF}# venue\r\n\r\nid,symbol\r\n 7 , ABC \r\n\
                    00000000-0000-0000-0000-0000000000FF\r\n# more\r\n9,X Y\r";
        let entries = read(text).unwrap();
        assert_eq!(
            entries,
            vec![
                InstrumentEntry {
                    id: Uuid::from_u128(7),
                    symbol: Some("ABC".into()),
                    line: 4
                },
                InstrumentEntry {
                    id: Uuid::from_u128(255),
                    symbol: None,
                    line: 5
                },
                InstrumentEntry {
                    id: Uuid::from_u128(9),
                    symbol: Some("X Y".into()),
                    line: 7
                },
            ]
        );
        for header in ["id", "instrument", "instrument,symbol", "id , symbol"] {
            let entries = read(&format!("{header}\n1\n")).unwrap();
            assert_eq!(entries.len(), 1, "{header}");
        }
    }

    #[test]
    fn ten_thousand_uuids() {
        let text: String = (0..10_000u128)
            .map(|n| format!("{}\n", Uuid::from_u128(n << 64 | 0xabc)))
            .collect();
        let entries = read(&text).unwrap();
        assert_eq!(entries.len(), 10_000);
        assert_eq!(entries[9_999].id, Uuid::from_u128(9_999 << 64 | 0xabc));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        assert_eq!(
            error("1\n# c\n\nx\n"),
            "line 4: instrument: expected a canonical UUID or a decimal integer, got \"x\""
        );
        assert_eq!(
            error("symbol,id\n1\n"),
            "line 1: instrument: expected a canonical UUID or a decimal integer, got \"symbol\" \
             (a header must be id, instrument, id,symbol or instrument,symbol)"
        );
        assert_eq!(
            error("1,A\n2,B,C\n"),
            "line 2: expected id or id,symbol, got 3 fields"
        );
        assert_eq!(error("1,\n"), "line 1: symbol: empty after the comma");
        assert_eq!(
            error("1\nid\n"),
            "line 2: instrument: expected a canonical UUID or a decimal integer, got \"id\""
        );
        assert!(error("1\n\u{FEFF}2\n").starts_with("line 2: instrument: "));
        let bad_utf8 = read_instruments(&b"1\n\xff\n"[..]).unwrap_err();
        assert!(
            matches!(bad_utf8, InstrumentsError::Malformed { line: 2, .. }),
            "{bad_utf8}"
        );
        let long = error(&format!("{}\n", "z".repeat(60_000)));
        assert!(long.len() < 300 && long.contains("(60000 bytes)"), "{long}");
    }

    #[test]
    fn duplicates_name_both_lines() {
        let err = read("id\n1\n2\n# again\n00000000-0000-0000-0000-000000000001\n").unwrap_err();
        assert!(matches!(
            err,
            InstrumentsError::DuplicateId {
                first_line: 2,
                line: 5,
                ..
            }
        ));
        assert_eq!(
            error("1,AAPL\n2,AAPL\n"),
            "line 2: symbol \"AAPL\" is listed twice (first on line 1)"
        );
    }

    #[test]
    fn a_list_of_nothing_is_an_error() {
        assert_eq!(error(""), "no instruments listed (0 lines)");
        assert_eq!(
            error("# nothing\n\ninstrument,symbol\n"),
            "no instruments listed (3 lines)"
        );
    }

    #[test]
    fn files_are_named_in_their_errors() {
        let missing = Path::new("/nonexistent/instruments.txt");
        let err = read_instruments_file(missing).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot open instruments file /nonexistent/instruments.txt: "),
            "{err}"
        );
    }

    #[test]
    fn commands_move_to_another_instrument() {
        let to = Uuid::from_u128(99);
        let from = Uuid::from_u128(1);
        let order = crate::Order::new(
            Uuid::from_u128(5),
            from,
            crate::Side::Buy,
            crate::OrderKind::Limit,
            3,
            4,
        );
        let commands = [
            Command::Add(order),
            Command::Cancel {
                instrument_id: from,
                order_id: Uuid::from_u128(5),
            },
            Command::Modify {
                instrument_id: from,
                order_id: Uuid::from_u128(5),
                price: 1,
                qty: 2,
            },
            Command::Halt {
                instrument_id: from,
            },
            Command::Resume {
                instrument_id: from,
            },
            Command::Status {
                instrument_id: from,
            },
            Command::Snapshot {
                instrument_id: from,
            },
        ];
        for command in commands {
            let moved = with_instrument(command, to);
            assert_eq!(moved.instrument_id(), to);
            assert_eq!(moved.op(), command.op());
            assert_eq!(with_instrument(moved, from), command);
        }
    }
}
