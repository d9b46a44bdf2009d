//! Reading the lines of a text file with a bound on their length: the flow files' and the
//! instrument lists' shared line discipline.

use std::io::{self, BufRead, Read};

use super::csv::{MAX_LINE_BYTES, UTF8_BOM};

/// One line read by [`read_line`].
pub(super) enum Line<'a> {
    /// The end of the input.
    End,
    /// The line's bytes, without its ending (`\n`, `\r\n`, or a bare `\r` at the end of
    /// the input) and, on the first line, without a UTF-8 byte order mark.
    Text(&'a [u8]),
    /// The line is longer than [`MAX_LINE_BYTES`]; no more than that bound of it was read.
    TooLong,
}

/// Reads line number `number` (1-based) of `input` into `buf`.
///
/// # Errors
///
/// What reading `input` returns.
pub(super) fn read_line<'a>(
    input: &mut impl BufRead,
    buf: &'a mut Vec<u8>,
    number: u64,
) -> io::Result<Line<'a>> {
    buf.clear();
    // At most the longest line and a CRLF: a longer one is refused without reading more.
    let n = input
        .take(MAX_LINE_BYTES as u64 + 2)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Line::End);
    }
    let mut bytes = &buf[..];
    if number == 1 {
        bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    }
    bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.len() > MAX_LINE_BYTES {
        return Ok(Line::TooLong);
    }
    Ok(Line::Text(bytes))
}
