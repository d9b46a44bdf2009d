//! The Optional Appendage (OUCH 5.0 Appendix A, "Optional Appendage" and "TagValue"):
//! after a message's 2-byte Appendage Length come TagValue elements, each
//!
//! ```text
//! Option Length 1 (the bytes that follow it: the tag and the value) | Option Tag 1 | Option Value
//! ```
//!
//! The widths of the values are fixed per tag ([`OptionTag::value_len`]); an element of a
//! known tag with another width, a zero Option Length, or an element running past the
//! appendage is malformed.

use thiserror::Error;

use super::cursor::Put;

/// The option tags of Appendix A.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OptionTag {
    /// 1 SecondaryOrdRefNum (8-byte integer).
    SecondaryOrdRefNum = 1,
    /// 2 Firm (4 alpha).
    Firm = 2,
    /// 3 MinQty (4-byte integer).
    MinQty = 3,
    /// 4 CustomerType (1 alpha).
    CustomerType = 4,
    /// 5 MaxFloor (4-byte integer).
    MaxFloor = 5,
    /// 6 PriceType (1 alpha).
    PriceType = 6,
    /// 7 PegOffset (4-byte signed price).
    PegOffset = 7,
    /// 9 DiscretionPrice (8-byte price).
    DiscretionPrice = 9,
    /// 10 DiscretionPriceType (1 alpha).
    DiscretionPriceType = 10,
    /// 11 DiscretionPegOffset (4-byte signed price).
    DiscretionPegOffset = 11,
    /// 12 PostOnly (1 alpha: `P` post only, `N` no).
    PostOnly = 12,
    /// 13 RandomReserves (4-byte integer).
    RandomReserves = 13,
    /// 14 Route (4 alpha).
    Route = 14,
    /// 15 ExpireTime (4-byte integer, seconds).
    ExpireTime = 15,
    /// 16 TradeNow (1 alpha).
    TradeNow = 16,
    /// 17 HandleInst (1 alpha).
    HandleInst = 17,
    /// 18 BBO Weight Indicator (1 alpha).
    BboWeightIndicator = 18,
    /// 22 Display Quantity (4-byte integer).
    DisplayQuantity = 22,
    /// 23 Display Price (8-byte price).
    DisplayPrice = 23,
    /// 24 Group ID (2-byte integer).
    GroupId = 24,
    /// 25 Shares Located (1 alpha).
    SharesLocated = 25,
    /// 26 Locate Broker (4 alpha).
    LocateBroker = 26,
    /// 27 Side (1 alpha).
    Side = 27,
    /// 28 UserRefIdx (1-byte integer).
    UserRefIdx = 28,
}

impl OptionTag {
    /// Every tag.
    pub const ALL: [OptionTag; 24] = [
        OptionTag::SecondaryOrdRefNum,
        OptionTag::Firm,
        OptionTag::MinQty,
        OptionTag::CustomerType,
        OptionTag::MaxFloor,
        OptionTag::PriceType,
        OptionTag::PegOffset,
        OptionTag::DiscretionPrice,
        OptionTag::DiscretionPriceType,
        OptionTag::DiscretionPegOffset,
        OptionTag::PostOnly,
        OptionTag::RandomReserves,
        OptionTag::Route,
        OptionTag::ExpireTime,
        OptionTag::TradeNow,
        OptionTag::HandleInst,
        OptionTag::BboWeightIndicator,
        OptionTag::DisplayQuantity,
        OptionTag::DisplayPrice,
        OptionTag::GroupId,
        OptionTag::SharesLocated,
        OptionTag::LocateBroker,
        OptionTag::Side,
        OptionTag::UserRefIdx,
    ];

    /// The tag a byte names, `None` for a byte Appendix A does not define.
    #[must_use]
    pub fn from_byte(byte: u8) -> Option<OptionTag> {
        OptionTag::ALL.into_iter().find(|t| *t as u8 == byte)
    }

    /// The width of this tag's value.
    #[must_use]
    pub const fn value_len(self) -> usize {
        match self {
            OptionTag::SecondaryOrdRefNum
            | OptionTag::DiscretionPrice
            | OptionTag::DisplayPrice => 8,
            OptionTag::Firm
            | OptionTag::MinQty
            | OptionTag::MaxFloor
            | OptionTag::PegOffset
            | OptionTag::DiscretionPegOffset
            | OptionTag::RandomReserves
            | OptionTag::Route
            | OptionTag::ExpireTime
            | OptionTag::DisplayQuantity
            | OptionTag::LocateBroker => 4,
            OptionTag::GroupId => 2,
            OptionTag::CustomerType
            | OptionTag::PriceType
            | OptionTag::DiscretionPriceType
            | OptionTag::PostOnly
            | OptionTag::TradeNow
            | OptionTag::HandleInst
            | OptionTag::BboWeightIndicator
            | OptionTag::SharesLocated
            | OptionTag::Side
            | OptionTag::UserRefIdx => 1,
        }
    }
}

/// A malformed Optional Appendage; offsets count from the appendage's first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum AppendageError {
    /// The Appendage Length states more bytes than the message has after it.
    #[error("Appendage Length {stated} exceeds the {available} bytes that follow it")]
    LengthPastMessage {
        /// The Appendage Length field.
        stated: usize,
        /// The bytes after the field.
        available: usize,
    },
    /// The Appendage Length states fewer bytes than follow it.
    #[error("Appendage Length {stated} leaves {extra} bytes after the appendage")]
    TrailingBytes {
        /// The Appendage Length field.
        stated: usize,
        /// The bytes left over.
        extra: usize,
    },
    /// An element with an Option Length of 0 (no tag).
    #[error("option at appendage offset {offset}: Option Length 0")]
    ZeroLength {
        /// Where the element starts.
        offset: usize,
    },
    /// An element running past the end of the appendage.
    #[error(
        "option at appendage offset {offset}: Option Length {length} runs past the appendage's end"
    )]
    Truncated {
        /// Where the element starts.
        offset: usize,
        /// Its Option Length.
        length: usize,
    },
    /// An element of a known tag whose value is not the tag's width.
    #[error(
        "option tag {tag} at appendage offset {offset}: a {actual}-byte value, the tag takes {expected}"
    )]
    BadWidth {
        /// The tag byte.
        tag: u8,
        /// Where the element starts.
        offset: usize,
        /// The tag's width.
        expected: usize,
        /// The value's width.
        actual: usize,
    },
}

/// A validated Optional Appendage (possibly empty), borrowed from its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Appendage<'a> {
    bytes: &'a [u8],
}

impl<'a> Appendage<'a> {
    /// No options.
    pub const EMPTY: Appendage<'static> = Appendage { bytes: &[] };

    /// Validates the appendage bytes (after the Appendage Length field).
    ///
    /// # Errors
    ///
    /// An [`AppendageError`] for the first malformed element.
    pub fn parse(bytes: &'a [u8]) -> Result<Appendage<'a>, AppendageError> {
        let mut offset = 0;
        while offset < bytes.len() {
            let length = usize::from(bytes[offset]);
            if length == 0 {
                return Err(AppendageError::ZeroLength { offset });
            }
            if offset + 1 + length > bytes.len() {
                return Err(AppendageError::Truncated { offset, length });
            }
            let tag = bytes[offset + 1];
            if let Some(known) = OptionTag::from_byte(tag)
                && known.value_len() != length - 1
            {
                return Err(AppendageError::BadWidth {
                    tag,
                    offset,
                    expected: known.value_len(),
                    actual: length - 1,
                });
            }
            offset += 1 + length;
        }
        Ok(Appendage { bytes })
    }

    /// The appendage's bytes (what the Appendage Length counts).
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether there are no options.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Every option as (tag byte, value), in order.
    pub fn options(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let bytes = self.bytes;
        let mut offset = 0;
        std::iter::from_fn(move || {
            let length = usize::from(*bytes.get(offset)?);
            let element = bytes.get(offset + 1..offset + 1 + length)?;
            offset += 1 + length;
            let (&tag, value) = element.split_first()?;
            Some((tag, value))
        })
    }

    /// The value of the first option with `tag`.
    #[must_use]
    pub fn find(&self, tag: OptionTag) -> Option<&'a [u8]> {
        self.options()
            .find(|(t, _)| *t == tag as u8)
            .map(|(_, v)| v)
    }
}

/// Appends one TagValue element to an appendage being written.
///
/// # Panics
///
/// Never for the widths Appendix A defines; a value longer than 254 bytes is cut to 254.
pub fn write_option(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    let value = &value[..value.len().min(254)];
    out.put_u8((value.len() + 1) as u8);
    out.put_u8(tag);
    out.put(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_back_in_order_and_malformed_elements_are_named() {
        let mut bytes = Vec::new();
        write_option(&mut bytes, OptionTag::MinQty as u8, &100u32.to_be_bytes());
        write_option(&mut bytes, OptionTag::PostOnly as u8, b"P");
        write_option(&mut bytes, 200, b"xyz");
        assert_eq!(&bytes[..6], &[5, 3, 0, 0, 0, 100]);
        let appendage = Appendage::parse(&bytes).unwrap();
        let options: Vec<_> = appendage.options().collect();
        assert_eq!(
            options,
            vec![
                (3, &100u32.to_be_bytes()[..]),
                (12, &b"P"[..]),
                (200, &b"xyz"[..])
            ]
        );
        assert_eq!(appendage.find(OptionTag::PostOnly), Some(&b"P"[..]));
        assert_eq!(appendage.find(OptionTag::Firm), None);

        assert_eq!(
            Appendage::parse(&[0]),
            Err(AppendageError::ZeroLength { offset: 0 })
        );
        assert_eq!(
            Appendage::parse(&[2, 12, b'P', 3, 12]),
            Err(AppendageError::Truncated {
                offset: 3,
                length: 3
            })
        );
        assert_eq!(
            Appendage::parse(&[3, 12, b'P', b'P']),
            Err(AppendageError::BadWidth {
                tag: 12,
                offset: 0,
                expected: 1,
                actual: 2
            })
        );
    }
}
