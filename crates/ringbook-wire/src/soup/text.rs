//! The fixed-width ASCII fields of SoupBinTCP 4.0 (section 1.3) and OUCH 5.0 (section
//! 2, "Data Types"): alphanumeric fields left-justified and padded with spaces on the
//! right, or right-justified and padded on the left; numeric text right-justified.

use super::SoupError;

/// Writes `value` left-justified into `field`, spaces on the right.
///
/// # Errors
///
/// [`SoupError::FieldTooLong`] when `value` is wider than `field`;
/// [`SoupError::BadAlpha`] for a byte outside printable ASCII.
pub fn put_alpha_left(field: &mut [u8], name: &'static str, value: &[u8]) -> Result<(), SoupError> {
    check_fits(field.len(), name, value)?;
    field[..value.len()].copy_from_slice(value);
    field[value.len()..].fill(b' ');
    Ok(())
}

/// Writes `value` right-justified into `field`, spaces on the left.
///
/// # Errors
///
/// As [`put_alpha_left`].
pub fn put_alpha_right(
    field: &mut [u8],
    name: &'static str,
    value: &[u8],
) -> Result<(), SoupError> {
    check_fits(field.len(), name, value)?;
    let pad = field.len() - value.len();
    field[..pad].fill(b' ');
    field[pad..].copy_from_slice(value);
    Ok(())
}

fn check_fits(width: usize, name: &'static str, value: &[u8]) -> Result<(), SoupError> {
    if value.len() > width {
        return Err(SoupError::FieldTooLong {
            field: name,
            length: value.len(),
            width,
        });
    }
    check_printable(name, value)
}

/// Checks that every byte is printable ASCII (0x20 to 0x7e).
///
/// # Errors
///
/// [`SoupError::BadAlpha`] naming the first byte that is not.
pub fn check_printable(name: &'static str, value: &[u8]) -> Result<(), SoupError> {
    match value.iter().position(|b| !(0x20..=0x7e).contains(b)) {
        None => Ok(()),
        Some(position) => Err(SoupError::BadAlpha {
            field: name,
            byte: value[position],
            position,
        }),
    }
}

/// Writes `value` as decimal ASCII right-justified into `field`, spaces on the left.
/// A value wider than the field keeps its low digits (never happens for the 20-byte
/// sequence number field, which holds every u64).
pub fn put_numeric(field: &mut [u8], value: u64) {
    let buf = digits_of(value);
    let digits = buf.digits();
    let take = digits.len().min(field.len());
    let pad = field.len() - take;
    field[..pad].fill(b' ');
    field[pad..].copy_from_slice(&digits[digits.len() - take..]);
}

/// Reads a numeric text field: optional spaces on either side around ASCII digits. An
/// all-space field reads as 0.
///
/// # Errors
///
/// [`SoupError::BadNumber`] for any other byte, digits split by spaces, or a value past
/// `u64::MAX`.
pub fn numeric(name: &'static str, field: &[u8]) -> Result<u64, SoupError> {
    let digits = trim(field);
    let bad = || SoupError::BadNumber {
        field: name,
        text: String::from_utf8_lossy(field).into_owned(),
    };
    let mut value: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(bad());
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or_else(bad)?;
    }
    Ok(value)
}

/// The field without the spaces padding it on either side.
#[must_use]
pub fn trim(field: &[u8]) -> &[u8] {
    let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |p| p + 1);
    &field[start..end]
}

/// A u64's decimal digits without allocating.
struct Digits {
    bytes: [u8; 20],
    start: usize,
}

impl Digits {
    fn digits(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

fn digits_of(mut value: u64) -> Digits {
    let mut bytes = [b'0'; 20];
    let mut start = bytes.len();
    loop {
        start -= 1;
        bytes[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    Digits { bytes, start }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_pads_on_the_side_the_spec_says_and_refuses_what_does_not_fit() {
        let mut f = [0u8; 6];
        put_alpha_left(&mut f, "Username", b"ab").unwrap();
        assert_eq!(&f, b"ab    ");
        put_alpha_right(&mut f, "Session", b"ab").unwrap();
        assert_eq!(&f, b"    ab");
        assert_eq!(
            put_alpha_left(&mut f, "Username", b"abcdefg"),
            Err(SoupError::FieldTooLong {
                field: "Username",
                length: 7,
                width: 6
            })
        );
        assert_eq!(
            put_alpha_left(&mut f, "Username", b"a\nb"),
            Err(SoupError::BadAlpha {
                field: "Username",
                byte: b'\n',
                position: 1
            })
        );
    }

    #[test]
    fn numeric_is_right_justified_and_reads_back_with_either_padding() {
        let mut f = [0u8; 20];
        put_numeric(&mut f, 42);
        assert_eq!(&f, b"                  42");
        assert_eq!(numeric("n", &f), Ok(42));
        put_numeric(&mut f, u64::MAX);
        assert_eq!(&f, b"18446744073709551615");
        assert_eq!(numeric("n", &f), Ok(u64::MAX));
        assert_eq!(numeric("n", b"7    "), Ok(7));
        assert_eq!(numeric("n", b"     "), Ok(0));
        assert!(numeric("n", b" 1 2 ").is_err());
        assert!(numeric("n", b"-1").is_err());
        assert!(numeric("n", b"18446744073709551616").is_err());
    }
}
