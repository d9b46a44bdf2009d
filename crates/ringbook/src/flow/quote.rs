//! Quoting input in error messages: a short prefix of a long value, never the whole of it.

/// The most characters of a value an error message quotes.
pub const QUOTE_LIMIT: usize = 64;

/// `text` quoted (as Rust's `{:?}` does) for an error message: whole when it has at most
/// [`QUOTE_LIMIT`] characters, otherwise its first [`QUOTE_LIMIT`] characters followed by
/// `...` and the full length in bytes, so a 10 MB field does not flood the terminal.
///
/// # Examples
///
/// ```
/// use ringbook::flow::quoted;
///
/// assert_eq!(quoted("up"), "\"up\"");
/// let long = "9".repeat(1_000);
/// assert_eq!(quoted(&long), format!("\"{}\"... (1000 bytes)", "9".repeat(64)));
/// ```
#[must_use]
pub fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}... ({} bytes)", &text[..end], text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quoted(""), "\"\"");
        let limit = "x".repeat(QUOTE_LIMIT);
        assert_eq!(quoted(&limit), format!("{limit:?}"));
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary_and_say_their_length() {
        let text = "é".repeat(100);
        assert_eq!(
            quoted(&text),
            format!("\"{}\"... (200 bytes)", "é".repeat(64))
        );
        let ten_mb = "1".repeat(10 << 20);
        let message = quoted(&ten_mb);
        assert!(message.len() < 100, "{message}");
        assert!(message.ends_with("... (10485760 bytes)"), "{message}");
    }
}
