//! The flow file: a strict CSV reader and a writer.

use std::io::{self, BufRead, Write};

use uuid::Uuid;

use super::lines::{Line, read_line};
use super::quote::quoted;
use crate::command::{Command, Op};
use crate::types::{Order, OrderKind, Side, StpMode};

/// The header line every flow file starts with (after blank and comment lines).
pub const FLOW_HEADER: &str = "op,instrument,order_id,side,kind,price,qty";

/// The header of the long form: four more columns for stops, icebergs, owners and
/// self-trade prevention, and the `mass_cancel` op.
pub const LONG_FLOW_HEADER: &str =
    "op,instrument,order_id,side,kind,price,qty,owner,stp,trigger,display";

/// The UTF-8 byte order mark. A flow file (or an instruments file) may start with it, as
/// some editors and spreadsheets write it; readers skip it.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a flow file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// A line breaks the format. `line` counts every line from 1, blank and comment lines
    /// too.
    #[error("line {line}: {reason}")]
    Malformed {
        /// The 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
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

impl FlowError {
    /// The 1-based line number the error concerns.
    #[must_use]
    pub fn line(&self) -> u64 {
        match self {
            FlowError::Malformed { line, .. } | FlowError::Io { line, .. } => *line,
        }
    }
}

/// Reads commands from a flow file, one line at a time, so a flow larger than memory
/// streams through.
///
/// # Examples
///
/// ```
/// use ringbook::flow::FlowReader;
/// use ringbook::{Command, Op};
///
/// let text = "# a comment\nop,instrument,order_id,side,kind,price,qty\nadd,1,7,buy,limit,-5,10\nhalt,1,,,,,\n";
/// let commands: Vec<Command> = FlowReader::new(text.as_bytes()).map(|r| r.unwrap().1).collect();
/// assert_eq!(commands[0].op(), Op::Add);
/// assert_eq!(commands[1].op(), Op::Halt);
///
/// let bad = "op,instrument,order_id,side,kind,price,qty\nadd,1,7,up,limit,1,1\n";
/// let err = FlowReader::new(bad.as_bytes()).next().unwrap().unwrap_err();
/// assert_eq!(err.to_string(), "line 2: side: expected buy or sell, got \"up\"");
/// ```
#[derive(Debug)]
pub struct FlowReader<R> {
    input: R,
    line: u64,
    buf: Vec<u8>,
    header_seen: bool,
    long_form: bool,
    failed: bool,
}

/// The longest line a flow file may have, in bytes, not counting its line ending. A
/// command line is under 200 bytes; the bound keeps a file without line breaks from being
/// read into memory whole.
pub const MAX_LINE_BYTES: usize = 1 << 16;

impl<R: BufRead> FlowReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> FlowReader<R> {
        FlowReader {
            input,
            line: 0,
            buf: Vec::with_capacity(256),
            header_seen: false,
            long_form: false,
            failed: false,
        }
    }

    /// Whether the header read so far is the long form's ([`LONG_FLOW_HEADER`]): then
    /// the events of the run carry the long form's `status` and `snapshot` fields. False
    /// until the header has been read.
    #[must_use]
    pub fn is_long_form(&self) -> bool {
        self.long_form
    }

    /// The next command with its line number, `Ok(None)` at the end of the file.
    ///
    /// # Errors
    ///
    /// [`FlowError::Malformed`] for a line that breaks the format (or a file without a
    /// header), [`FlowError::Io`] if reading fails. After an error the reader is done.
    pub fn next_command(&mut self) -> Result<Option<(u64, Command)>, FlowError> {
        if self.failed {
            return Ok(None);
        }
        let result = self.read_command();
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn read_command(&mut self) -> Result<Option<(u64, Command)>, FlowError> {
        loop {
            let number = self.line + 1;
            let read = read_line(&mut self.input, &mut self.buf, number).map_err(|source| {
                FlowError::Io {
                    line: number,
                    source,
                }
            })?;
            let malformed = |reason: String| FlowError::Malformed {
                line: number,
                reason,
            };
            let bytes = match read {
                Line::End if !self.header_seen => {
                    return Err(malformed(format!(
                        "missing header: expected {FLOW_HEADER:?}"
                    )));
                }
                Line::End => return Ok(None),
                Line::TooLong => {
                    return Err(malformed(format!(
                        "longer than {MAX_LINE_BYTES} bytes, the most a flow line may have"
                    )));
                }
                Line::Text(bytes) => bytes,
            };
            self.line = number;
            let line = number;
            let text = std::str::from_utf8(bytes)
                .map_err(|e| malformed(format!("not valid UTF-8 ({e})")))?;
            if text.trim().is_empty() || text.starts_with('#') {
                continue;
            }
            if !self.header_seen {
                if text == LONG_FLOW_HEADER {
                    self.long_form = true;
                } else if text != FLOW_HEADER {
                    return Err(malformed(format!(
                        "expected the header {FLOW_HEADER:?} (or its long form), got {}",
                        quoted(text)
                    )));
                }
                self.header_seen = true;
                continue;
            }
            return parse_line(text, self.long_form)
                .map(|c| Some((line, c)))
                .map_err(malformed);
        }
    }
}

impl<R: BufRead> Iterator for FlowReader<R> {
    type Item = Result<(u64, Command), FlowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_command().transpose()
    }
}

/// Parses one data line (not the header) into a command: seven fields, or eleven when
/// `long` (the long form's header was read).
fn parse_line(text: &str, long: bool) -> Result<Command, String> {
    let width = if long { 11 } else { 7 };
    let mut fields = [""; 11];
    let mut count = 0;
    for field in text.split(',') {
        if count < width {
            fields[count] = field;
        }
        count += 1;
    }
    if count != width {
        return Err(format!("expected {width} fields, got {count}"));
    }
    let [
        op,
        instrument,
        order_id,
        side,
        kind,
        price,
        qty,
        owner,
        stp,
        trigger,
        display,
    ] = fields;
    let op = Op::parse(op)
        .filter(|op| long || *op != Op::MassCancel)
        .ok_or_else(|| {
            if long {
                format!(
                    "op: expected add, cancel, modify, halt, resume, status, snapshot or mass_cancel, got {}",
                    quoted(op)
                )
            } else {
                format!(
                    "op: expected add, cancel, modify, halt, resume, status or snapshot, got {}",
                    quoted(op)
                )
            }
        })?;
    let instrument_id = parse_id(instrument).map_err(|e| format!("instrument: {e}"))?;
    let required = |name: &str, value: &str| {
        if value.is_empty() {
            Err(format!("{name}: required for {op}"))
        } else {
            Ok(())
        }
    };
    let absent = |name: &str, value: &str, why: &str| {
        if value.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{name}: must be empty {why}, got {}",
                quoted(value)
            ))
        }
    };
    let for_op = format!("for {op}");
    let order_id_of = |value: &str| -> Result<Uuid, String> {
        required("order_id", value)?;
        parse_id(value).map_err(|e| format!("order_id: {e}"))
    };
    // Digits with an optional leading '-' (prices) or digits alone (quantities): Rust's
    // integer parser alone would also take a leading '+'.
    let price_of = |value: &str| -> Result<i64, String> {
        required("price", value)?;
        if !is_digits(value.strip_prefix('-').unwrap_or(value)) {
            return Err(format!(
                "price: {} is not a signed 64-bit integer (digits, with an optional leading '-')",
                quoted(value)
            ));
        }
        value.parse::<i64>().map_err(|e| {
            format!(
                "price: {} is not a signed 64-bit integer ({e})",
                quoted(value)
            )
        })
    };
    let unsigned_of = |name: &str, value: &str| -> Result<u64, String> {
        required(name, value)?;
        if !is_digits(value) {
            return Err(format!(
                "{name}: {} is not an unsigned 64-bit integer (digits only)",
                quoted(value)
            ));
        }
        value.parse::<u64>().map_err(|e| {
            format!(
                "{name}: {} is not an unsigned 64-bit integer ({e})",
                quoted(value)
            )
        })
    };
    let qty_of = |value: &str| unsigned_of("qty", value);
    let signed_of = |name: &str, value: &str| -> Result<i64, String> {
        required(name, value)?;
        if !is_digits(value.strip_prefix('-').unwrap_or(value)) {
            return Err(format!(
                "{name}: {} is not a signed 64-bit integer (digits, with an optional leading '-')",
                quoted(value)
            ));
        }
        value.parse::<i64>().map_err(|e| {
            format!(
                "{name}: {} is not a signed 64-bit integer ({e})",
                quoted(value)
            )
        })
    };
    let side_of = |value: &str| -> Result<Side, String> {
        Side::parse(value)
            .ok_or_else(|| format!("side: expected buy or sell, got {}", quoted(value)))
    };
    // The long form's columns, for every op but add and mass_cancel: all empty.
    let no_extras = || -> Result<(), String> {
        absent("owner", owner, &for_op)?;
        absent("stp", stp, &for_op)?;
        absent("trigger", trigger, &for_op)?;
        absent("display", display, &for_op)
    };
    match op {
        Op::Add => {
            let order_id = order_id_of(order_id)?;
            required("side", side)?;
            let side = side_of(side)?;
            required("kind", kind)?;
            let kind = OrderKind::parse(kind)
                .filter(|k| long || !k.is_stop())
                .ok_or_else(|| {
                    if long {
                        format!(
                            "kind: expected limit, market, ioc, fok, post_only, stop or stop_limit, got {}",
                            quoted(kind)
                        )
                    } else {
                        format!(
                            "kind: expected limit, market, ioc, fok or post_only, got {}",
                            quoted(kind)
                        )
                    }
                })?;
            let price = if kind.has_price() {
                price_of(price)?
            } else {
                absent("price", price, &format!("for a {kind} order"))?;
                0
            };
            let quantity = qty_of(qty)?;
            let mut order = Order::new(order_id, instrument_id, side, kind, price, quantity);
            if !owner.is_empty() {
                let account = unsigned_of("owner", owner)?;
                let mode = if stp.is_empty() {
                    None
                } else {
                    Some(StpMode::parse(stp).ok_or_else(|| {
                        format!(
                            "stp: expected cancel_newest, cancel_oldest or cancel_both, got {}",
                            quoted(stp)
                        )
                    })?)
                };
                order = order.with_owner(account, mode);
            } else {
                absent("stp", stp, "without an owner")?;
            }
            if kind.is_stop() {
                order = order.with_trigger(signed_of("trigger", trigger)?);
            } else {
                absent("trigger", trigger, &format!("for a {kind} order"))?;
            }
            if kind.may_display() {
                if !display.is_empty() {
                    order = order.with_display(unsigned_of("display", display)?);
                }
            } else {
                absent("display", display, &format!("for a {kind} order"))?;
            }
            Ok(Command::Add(order))
        }
        Op::MassCancel => {
            absent("order_id", order_id, &for_op)?;
            let side = if side.is_empty() {
                None
            } else {
                Some(side_of(side)?)
            };
            absent("kind", kind, &for_op)?;
            absent("price", price, &for_op)?;
            absent("qty", qty, &for_op)?;
            let owner = if owner.is_empty() {
                None
            } else {
                Some(unsigned_of("owner", owner)?)
            };
            absent("stp", stp, &for_op)?;
            absent("trigger", trigger, &for_op)?;
            absent("display", display, &for_op)?;
            Ok(Command::MassCancel {
                instrument_id,
                owner,
                side,
            })
        }
        Op::Cancel => {
            let order_id = order_id_of(order_id)?;
            absent("side", side, &for_op)?;
            absent("kind", kind, &for_op)?;
            absent("price", price, &for_op)?;
            absent("qty", qty, &for_op)?;
            no_extras()?;
            Ok(Command::Cancel {
                instrument_id,
                order_id,
            })
        }
        Op::Modify => {
            let order_id = order_id_of(order_id)?;
            absent("side", side, &for_op)?;
            absent("kind", kind, &for_op)?;
            let price = price_of(price)?;
            let qty = qty_of(qty)?;
            no_extras()?;
            Ok(Command::Modify {
                instrument_id,
                order_id,
                price,
                qty,
            })
        }
        Op::Halt | Op::Resume | Op::Status | Op::Snapshot => {
            absent("order_id", order_id, &for_op)?;
            absent("side", side, &for_op)?;
            absent("kind", kind, &for_op)?;
            absent("price", price, &for_op)?;
            absent("qty", qty, &for_op)?;
            no_extras()?;
            Ok(match op {
                Op::Halt => Command::Halt { instrument_id },
                Op::Resume => Command::Resume { instrument_id },
                Op::Status => Command::Status { instrument_id },
                _ => Command::Snapshot { instrument_id },
            })
        }
    }
}

/// Parses an id field: a UUID in canonical hyphenated form (either case), or a decimal
/// integer `n` meaning `Uuid::from_u128(n)`.
///
/// # Errors
///
/// A message saying what the field should have been.
///
/// # Examples
///
/// Whether `s` is one or more ASCII digits.
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// ```
/// use ringbook::flow::parse_id;
/// use uuid::Uuid;
///
/// assert_eq!(parse_id("42"), Ok(Uuid::from_u128(42)));
/// assert_eq!(parse_id("00000000-0000-0000-0000-00000000002a"), Ok(Uuid::from_u128(42)));
/// assert!(parse_id("-1").is_err());
/// ```
pub fn parse_id(field: &str) -> Result<Uuid, String> {
    let bytes = field.as_bytes();
    if !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) {
        return field
            .parse::<u128>()
            .map(Uuid::from_u128)
            .map_err(|_| format!("{} does not fit in 128 bits", quoted(field)));
    }
    let canonical = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if canonical && let Ok(id) = Uuid::try_parse(field) {
        return Ok(id);
    }
    Err(format!(
        "expected a canonical UUID or a decimal integer, got {}",
        quoted(field)
    ))
}

/// Writes the flow header line.
///
/// # Errors
///
/// Any error of `out`.
pub fn write_flow_header<W: Write>(out: &mut W) -> io::Result<()> {
    out.write_all(FLOW_HEADER.as_bytes())?;
    out.write_all(b"\n")
}

/// Writes the long form's header line ([`LONG_FLOW_HEADER`]).
///
/// # Errors
///
/// Any error of `out`.
pub fn write_long_flow_header<W: Write>(out: &mut W) -> io::Result<()> {
    out.write_all(LONG_FLOW_HEADER.as_bytes())?;
    out.write_all(b"\n")
}

/// Writes `command` as one flow line of the seven-column form. The long form's fields of
/// an add (owner, stp, trigger, display) are not written: a flow that uses them needs
/// [`write_long_flow_header`] and [`write_long_flow_line`] (a `mass_cancel`, which
/// only the long form has, is always written with eleven columns).
///
/// # Errors
///
/// Any error of `out`.
pub fn write_flow_line<W: Write>(out: &mut W, command: &Command) -> io::Result<()> {
    write_line(out, command, false)
}

/// Writes `command` as one flow line of the long form (eleven columns).
///
/// # Errors
///
/// Any error of `out`.
pub fn write_long_flow_line<W: Write>(out: &mut W, command: &Command) -> io::Result<()> {
    write_line(out, command, true)
}

/// Writes `command` as one flow line, of eleven columns when `long`. Ids are written as
/// decimal integers when they fit in 64 bits (the compact form), otherwise as canonical
/// UUIDs; both read back the same.
fn write_line<W: Write>(out: &mut W, command: &Command, long: bool) -> io::Result<()> {
    let mut ints = itoa::Buffer::new();
    let mut id = |out: &mut W, id: Uuid| -> io::Result<()> {
        let value = id.as_u128();
        if value <= u128::from(u64::MAX) {
            out.write_all(ints.format(value).as_bytes())
        } else {
            out.write_all(
                id.hyphenated()
                    .encode_lower(&mut Uuid::encode_buffer())
                    .as_bytes(),
            )
        }
    };
    out.write_all(command.op().as_str().as_bytes())?;
    out.write_all(b",")?;
    id(out, command.instrument_id())?;
    out.write_all(b",")?;
    match *command {
        Command::Add(ref order) => {
            id(out, order.order_id)?;
            write!(out, ",{},{},", order.side, order.kind)?;
            if order.kind.has_price() {
                out.write_all(itoa::Buffer::new().format(order.price).as_bytes())?;
            }
            out.write_all(b",")?;
            out.write_all(itoa::Buffer::new().format(order.quantity).as_bytes())?;
            if long {
                let mut ints = itoa::Buffer::new();
                out.write_all(b",")?;
                if let Some(owner) = order.owner() {
                    out.write_all(ints.format(owner).as_bytes())?;
                }
                out.write_all(b",")?;
                if let Some(mode) = order.stp() {
                    out.write_all(mode.as_str().as_bytes())?;
                }
                out.write_all(b",")?;
                if let Some(trigger) = order.trigger() {
                    out.write_all(ints.format(trigger).as_bytes())?;
                }
                out.write_all(b",")?;
                if let Some(display) = order.display() {
                    out.write_all(ints.format(display).as_bytes())?;
                }
            }
        }
        Command::MassCancel { owner, side, .. } => {
            out.write_all(b",")?;
            if let Some(side) = side {
                out.write_all(side.as_str().as_bytes())?;
            }
            out.write_all(b",,,,")?;
            if let Some(owner) = owner {
                out.write_all(itoa::Buffer::new().format(owner).as_bytes())?;
            }
            out.write_all(b",,,")?;
            return out.write_all(b"\n");
        }
        Command::Cancel { order_id, .. } => {
            id(out, order_id)?;
            out.write_all(b",,,,")?;
        }
        Command::Modify {
            order_id,
            price,
            qty,
            ..
        } => {
            id(out, order_id)?;
            write!(out, ",,,{price},{qty}")?;
        }
        _ => out.write_all(b",,,,")?,
    }
    if long && !matches!(command, Command::Add(_)) {
        out.write_all(b",,,,")?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StpMode;

    fn parse(text: &str) -> Result<Vec<Command>, FlowError> {
        FlowReader::new(text.as_bytes())
            .map(|r| r.map(|(_, c)| c))
            .collect()
    }

    fn error_of(body: &str) -> String {
        let text = format!("{FLOW_HEADER}\n{body}\n");
        parse(&text).unwrap_err().to_string()
    }

    #[test]
    fn reads_every_op_and_both_id_forms() {
        let text = "\n# flow\nop,instrument,order_id,side,kind,price,qty\n\
            add,1,00000000-0000-0000-0000-0000000000FF,sell,post_only,-3,9\n\
            add,1,2,buy,market,,4\n\
            cancel,1,2,,,,\n\
            modify,1,255,,,7,18446744073709551615\n\
            halt,1,,,,,\nresume,1,,,,,\nstatus,1,,,,,\nsnapshot,1,,,,,\n";
        let commands = parse(text).unwrap();
        let i = Uuid::from_u128(1);
        assert_eq!(
            commands,
            vec![
                Command::Add(Order::new(
                    Uuid::from_u128(255),
                    i,
                    Side::Sell,
                    OrderKind::PostOnly,
                    -3,
                    9
                )),
                Command::Add(Order::market(Uuid::from_u128(2), i, Side::Buy, 4)),
                Command::Cancel {
                    instrument_id: i,
                    order_id: Uuid::from_u128(2)
                },
                Command::Modify {
                    instrument_id: i,
                    order_id: Uuid::from_u128(255),
                    price: 7,
                    qty: u64::MAX
                },
                Command::Halt { instrument_id: i },
                Command::Resume { instrument_id: i },
                Command::Status { instrument_id: i },
                Command::Snapshot { instrument_id: i },
            ]
        );
    }

    #[test]
    fn line_numbers_count_blank_and_comment_lines() {
        let text = "\n# c\nop,instrument,order_id,side,kind,price,qty\n\nadd,1,1,buy,limit,1,1\n#x\nadd,1\n";
        let err = parse(text).unwrap_err();
        assert_eq!(err.line(), 7);
        assert_eq!(err.to_string(), "line 7: expected 7 fields, got 2");
    }

    #[test]
    fn header_is_exact() {
        let err = parse("op,instrument,order_id,side,kind,price,quantity\n").unwrap_err();
        assert!(
            err.to_string().starts_with("line 1: expected the header"),
            "{err}"
        );
        let err = parse("# only a comment\n\n").unwrap_err();
        assert_eq!(err.line(), 3);
        assert!(err.to_string().contains("missing header"), "{err}");
    }

    #[test]
    fn crlf_line_endings_are_line_endings() {
        let text = "op,instrument,order_id,side,kind,price,qty\r\nhalt,1,,,,,\r\n";
        assert_eq!(parse(text).unwrap().len(), 1);
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_skipped() {
        let text = format!("\u{FEFF}{FLOW_HEADER}\nhalt,1,,,,,\n");
        assert_eq!(
            parse(&text).unwrap(),
            vec![Command::Halt {
                instrument_id: Uuid::from_u128(1)
            }]
        );
        let text = format!("\u{FEFF}# a comment first\r\n{FLOW_HEADER}\r\nhalt,1,,,,,\r\n");
        assert_eq!(parse(&text).unwrap().len(), 1);
        // Only at the start of the file: anywhere else it is part of the line.
        let err = parse(&format!("{FLOW_HEADER}\n\u{FEFF}halt,1,,,,,\n")).unwrap_err();
        assert_eq!(err.line(), 2);
        assert!(err.to_string().contains("op: expected add"), "{err}");
    }

    #[test]
    fn a_crlf_files_last_line_may_end_in_a_bare_carriage_return() {
        let text = format!("{FLOW_HEADER}\r\nhalt,1,,,,,\r\nresume,1,,,,,\r");
        let commands = parse(&text).unwrap();
        assert_eq!(commands.len(), 2);
        assert_eq!(
            commands[1],
            Command::Resume {
                instrument_id: Uuid::from_u128(1)
            }
        );
        let text = format!("{FLOW_HEADER}\r");
        assert_eq!(parse(&text).unwrap(), vec![]);
    }

    #[test]
    fn a_huge_field_is_quoted_by_a_short_prefix_and_its_length() {
        // 60,000 digits: a field as long as a line may hold.
        let huge = "7".repeat(60_000);
        let message = error_of(&format!("add,1,1,buy,limit,1.{huge},1"));
        assert!(message.len() < 200, "{} bytes of message", message.len());
        assert_eq!(
            message,
            format!(
                "line 2: price: \"1.{}\"... (60002 bytes) is not a signed 64-bit integer (digits, with an optional leading '-')",
                "7".repeat(62)
            )
        );
        let message = error_of(&format!("add,{huge},1,buy,limit,1,1"));
        assert!(message.len() < 200, "{message}");
        assert!(
            message.ends_with("... (60000 bytes) does not fit in 128 bits"),
            "{message}"
        );
        let message = error_of(&format!("add,1,1,{},limit,1,1", "x".repeat(60_000)));
        assert!(message.len() < 200, "{message}");
        assert!(message.ends_with("... (60000 bytes)"), "{message}");
        let message = parse(&format!("{huge}\n")).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(
            message.starts_with("line 1: expected the header"),
            "{message}"
        );
    }

    /// A line longer than [`MAX_LINE_BYTES`] is refused with its number, having read no
    /// more than the bound of it: a file without line breaks is never held whole.
    #[test]
    fn an_overlong_line_is_refused_without_reading_it_whole() {
        let exactly = format!("halt,{}1,,,,,", "0".repeat(MAX_LINE_BYTES - 11));
        assert_eq!(exactly.len(), MAX_LINE_BYTES);
        let text = format!("{FLOW_HEADER}\r\n{exactly}\r\n");
        assert_eq!(
            parse(&text).unwrap().len(),
            1,
            "a line of the bound is read"
        );
        for ending in ["\n", ""] {
            let text = format!("{FLOW_HEADER}\n{}{ending}", "x".repeat(10 << 20));
            let mut input = std::io::Cursor::new(text.as_bytes());
            let err = FlowReader::new(&mut input).next().unwrap().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "line 2: longer than {MAX_LINE_BYTES} bytes, the most a flow line may have"
                )
            );
            let read = input.position() as usize;
            assert!(
                read <= FLOW_HEADER.len() + 1 + MAX_LINE_BYTES + 2,
                "{read} bytes read"
            );
        }
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let cases = [
            ("add,1,1,buy,limit,1", "line 2: expected 7 fields, got 6"),
            ("add,1,1,buy,limit,1,1,", "line 2: expected 7 fields, got 8"),
            (
                "buy,1,1,buy,limit,1,1",
                "line 2: op: expected add, cancel, modify, halt, resume, status or snapshot, got \"buy\"",
            ),
            (
                "ADD,1,1,buy,limit,1,1",
                "line 2: op: expected add, cancel, modify, halt, resume, status or snapshot, got \"ADD\"",
            ),
            (
                "add,x,1,buy,limit,1,1",
                "line 2: instrument: expected a canonical UUID or a decimal integer, got \"x\"",
            ),
            (
                "add,-1,1,buy,limit,1,1",
                "line 2: instrument: expected a canonical UUID or a decimal integer, got \"-1\"",
            ),
            ("add,1,,buy,limit,1,1", "line 2: order_id: required for add"),
            (
                "add,1,340282366920938463463374607431768211456,buy,limit,1,1",
                "line 2: order_id: \"340282366920938463463374607431768211456\" does not fit in 128 bits",
            ),
            ("add,1,1,,limit,1,1", "line 2: side: required for add"),
            (
                "add,1,1,Buy,limit,1,1",
                "line 2: side: expected buy or sell, got \"Buy\"",
            ),
            (
                "add,1,1,buy,stop,1,1",
                "line 2: kind: expected limit, market, ioc, fok or post_only, got \"stop\"",
            ),
            ("add,1,1,buy,limit,,1", "line 2: price: required for add"),
            (
                "add,1,1,buy,market,5,1",
                "line 2: price: must be empty for a market order, got \"5\"",
            ),
            (
                "add,1,1,buy,limit,9223372036854775808,1",
                "line 2: price: \"9223372036854775808\" is not a signed 64-bit integer (number too large to fit in target type)",
            ),
            (
                "add,1,1,buy,limit,1.5,1",
                "line 2: price: \"1.5\" is not a signed 64-bit integer (digits, with an optional leading '-')",
            ),
            (
                "add,1,1,buy,limit,+1,1",
                "line 2: price: \"+1\" is not a signed 64-bit integer (digits, with an optional leading '-')",
            ),
            (
                "add,1,1,buy,limit,1,+1",
                "line 2: qty: \"+1\" is not an unsigned 64-bit integer (digits only)",
            ),
            ("add,1,1,buy,limit,1,", "line 2: qty: required for add"),
            (
                "add,1,1,buy,limit,1,-1",
                "line 2: qty: \"-1\" is not an unsigned 64-bit integer (digits only)",
            ),
            (
                "add,1,1,buy,limit,1,18446744073709551616",
                "line 2: qty: \"18446744073709551616\" is not an unsigned 64-bit integer (number too large to fit in target type)",
            ),
            (
                "cancel,1,1,buy,,,",
                "line 2: side: must be empty for cancel, got \"buy\"",
            ),
            ("cancel,1,,,,,", "line 2: order_id: required for cancel"),
            ("modify,1,1,,,,5", "line 2: price: required for modify"),
            ("modify,1,1,,,5,", "line 2: qty: required for modify"),
            (
                "modify,1,1,,limit,5,5",
                "line 2: kind: must be empty for modify, got \"limit\"",
            ),
            (
                "halt,1,1,,,,",
                "line 2: order_id: must be empty for halt, got \"1\"",
            ),
            (
                "status,1,,,,,0",
                "line 2: qty: must be empty for status, got \"0\"",
            ),
            (
                "snapshot,,,,,,",
                "line 2: instrument: expected a canonical UUID or a decimal integer, got \"\"",
            ),
            (
                "halt,1 ,,,,,",
                "line 2: instrument: expected a canonical UUID or a decimal integer, got \"1 \"",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(error_of(line), expected, "for {line:?}");
        }
    }

    fn long_error_of(body: &str) -> String {
        let text = format!("{LONG_FLOW_HEADER}\n{body}\n");
        parse(&text).unwrap_err().to_string()
    }

    #[test]
    fn the_long_form_reads_every_extra_and_mass_cancel() {
        let text = format!(
            "{LONG_FLOW_HEADER}\n\
            add,1,1,buy,limit,-5,10,7,cancel_oldest,,3\n\
            add,1,2,sell,stop,,4,18446744073709551615,,-9223372036854775808,\n\
            add,1,3,buy,stop_limit,101,5,,,100,2\n\
            add,1,4,buy,post_only,99,5,0,,,\n\
            cancel,1,1,,,,,,,,\n\
            mass_cancel,1,,,,,,,,,\n\
            mass_cancel,1,,sell,,,,7,,,\n"
        );
        let mut reader = FlowReader::new(text.as_bytes());
        assert!(!reader.is_long_form());
        let mut commands = Vec::new();
        while let Some((_, c)) = reader.next_command().unwrap() {
            commands.push(c);
        }
        assert!(reader.is_long_form());
        let i = Uuid::from_u128(1);
        let id = Uuid::from_u128;
        assert_eq!(
            commands,
            vec![
                Command::Add(
                    Order::limit(id(1), i, Side::Buy, -5, 10)
                        .with_owner(7, Some(StpMode::CancelOldest))
                        .with_display(3)
                ),
                Command::Add(
                    Order::stop(id(2), i, Side::Sell, i64::MIN, 4).with_owner(u64::MAX, None)
                ),
                Command::Add(Order::stop_limit(id(3), i, Side::Buy, 101, 100, 5).with_display(2)),
                Command::Add(
                    Order::new(id(4), i, Side::Buy, OrderKind::PostOnly, 99, 5).with_owner(0, None)
                ),
                Command::Cancel {
                    instrument_id: i,
                    order_id: id(1)
                },
                Command::MassCancel {
                    instrument_id: i,
                    owner: None,
                    side: None
                },
                Command::MassCancel {
                    instrument_id: i,
                    owner: Some(7),
                    side: Some(Side::Sell)
                },
            ]
        );
        // Written back in the long form, the flow reads back the same.
        let mut out = Vec::new();
        write_long_flow_header(&mut out).unwrap();
        for c in &commands {
            write_long_flow_line(&mut out, c).unwrap();
        }
        let again: Vec<Command> = FlowReader::new(out.as_slice())
            .map(|r| r.unwrap().1)
            .collect();
        assert_eq!(again, commands);
    }

    #[test]
    fn a_seven_column_file_refuses_the_long_forms_words() {
        assert_eq!(
            error_of("mass_cancel,1,,,,,"),
            "line 2: op: expected add, cancel, modify, halt, resume, status or snapshot, got \"mass_cancel\""
        );
        assert_eq!(
            error_of("add,1,1,buy,stop_limit,1,1"),
            "line 2: kind: expected limit, market, ioc, fok or post_only, got \"stop_limit\""
        );
        assert_eq!(
            error_of("add,1,1,buy,limit,1,1,7,,,"),
            "line 2: expected 7 fields, got 11"
        );
    }

    #[test]
    fn long_form_malformed_lines_say_what_is_wrong() {
        let cases = [
            ("add,1,1,buy,limit,1,1", "line 2: expected 11 fields, got 7"),
            (
                "add,1,1,buy,limit,1,1,,,,,",
                "line 2: expected 11 fields, got 12",
            ),
            (
                "add,1,1,buy,limit,1,1,,cancel_newest,,",
                "line 2: stp: must be empty without an owner, got \"cancel_newest\"",
            ),
            (
                "add,1,1,buy,limit,1,1,7,cancel,,",
                "line 2: stp: expected cancel_newest, cancel_oldest or cancel_both, got \"cancel\"",
            ),
            (
                "add,1,1,buy,limit,1,1,-7,,,",
                "line 2: owner: \"-7\" is not an unsigned 64-bit integer (digits only)",
            ),
            (
                "add,1,1,buy,limit,1,1,18446744073709551616,,,",
                "line 2: owner: \"18446744073709551616\" is not an unsigned 64-bit integer (number too large to fit in target type)",
            ),
            (
                "add,1,1,buy,limit,1,1,,,5,",
                "line 2: trigger: must be empty for a limit order, got \"5\"",
            ),
            (
                "add,1,1,buy,stop,,1,,,,",
                "line 2: trigger: required for add",
            ),
            (
                "add,1,1,buy,stop,5,1,,,5,",
                "line 2: price: must be empty for a stop order, got \"5\"",
            ),
            (
                "add,1,1,buy,stop_limit,,1,,,5,",
                "line 2: price: required for add",
            ),
            (
                "add,1,1,buy,stop_limit,5,1,,,+5,",
                "line 2: trigger: \"+5\" is not a signed 64-bit integer (digits, with an optional leading '-')",
            ),
            (
                "add,1,1,buy,ioc,1,1,,,,2",
                "line 2: display: must be empty for a ioc order, got \"2\"",
            ),
            (
                "add,1,1,buy,stop,,1,,,5,2",
                "line 2: display: must be empty for a stop order, got \"2\"",
            ),
            (
                "add,1,1,buy,limit,1,1,,,,x",
                "line 2: display: \"x\" is not an unsigned 64-bit integer (digits only)",
            ),
            (
                "cancel,1,1,,,,,7,,,",
                "line 2: owner: must be empty for cancel, got \"7\"",
            ),
            (
                "modify,1,1,,,1,1,,,,3",
                "line 2: display: must be empty for modify, got \"3\"",
            ),
            (
                "status,1,,,,,,,,9,",
                "line 2: trigger: must be empty for status, got \"9\"",
            ),
            (
                "mass_cancel,1,5,,,,,,,,",
                "line 2: order_id: must be empty for mass_cancel, got \"5\"",
            ),
            (
                "mass_cancel,1,,up,,,,,,,",
                "line 2: side: expected buy or sell, got \"up\"",
            ),
            (
                "mass_cancel,1,,,limit,,,,,,",
                "line 2: kind: must be empty for mass_cancel, got \"limit\"",
            ),
            (
                "mass_cancel,1,,,,,,7,cancel_both,,",
                "line 2: stp: must be empty for mass_cancel, got \"cancel_both\"",
            ),
            (
                "mass_cancel,,,,,,,,,,",
                "line 2: instrument: expected a canonical UUID or a decimal integer, got \"\"",
            ),
            (
                "drop,1,,,,,,,,,",
                "line 2: op: expected add, cancel, modify, halt, resume, status, snapshot or mass_cancel, got \"drop\"",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(long_error_of(body), want, "{body}");
        }
    }

    #[test]
    fn zero_quantity_is_not_malformed() {
        let commands = parse(&format!(
            "{FLOW_HEADER}\nadd,1,1,buy,limit,1,0\nmodify,1,1,,,1,0\n"
        ))
        .unwrap();
        assert_eq!(commands.len(), 2);
    }

    #[test]
    fn canonical_uuid_form_only() {
        assert_eq!(
            parse_id("00000000000000000000000000000042"),
            Ok(Uuid::from_u128(42)),
            "32 digits are a decimal integer"
        );
        assert!(
            parse_id("0000000000000000000000000000002a").is_err(),
            "simple form"
        );
        assert!(parse_id("{00000000-0000-0000-0000-00000000002a}").is_err());
        assert!(parse_id("urn:uuid:00000000-0000-0000-0000-00000000002a").is_err());
        assert!(parse_id("0000000-00000-0000-0000-00000000002a").is_err());
        assert!(parse_id("00000000-0000-0000-0000-00000000002g").is_err());
        assert_eq!(
            parse_id("340282366920938463463374607431768211455"),
            Ok(Uuid::from_u128(u128::MAX))
        );
    }

    #[test]
    fn the_writer_round_trips() {
        let i = Uuid::from_u128(u128::MAX - 5);
        let commands = vec![
            Command::Add(Order::new(
                Uuid::from_u128(3),
                i,
                Side::Buy,
                OrderKind::Fok,
                i64::MIN,
                u64::MAX,
            )),
            Command::Add(Order::market(Uuid::from_u128(1 << 100), i, Side::Sell, 1)),
            Command::Cancel {
                instrument_id: i,
                order_id: Uuid::from_u128(3),
            },
            Command::Modify {
                instrument_id: i,
                order_id: Uuid::from_u128(3),
                price: -1,
                qty: 0,
            },
            Command::Halt { instrument_id: i },
            Command::Resume { instrument_id: i },
            Command::Status { instrument_id: i },
            Command::Snapshot { instrument_id: i },
        ];
        let mut out = Vec::new();
        write_flow_header(&mut out).unwrap();
        for c in &commands {
            write_flow_line(&mut out, c).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(parse(&text).unwrap(), commands, "{text}");
    }
}
