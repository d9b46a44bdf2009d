//! The options an order was accepted with, echoed in its Order Accepted or Order Replaced
//! (OUCH 5.0, Order Accepted: "The data fields from the Enter Order Message are echoed
//! back in this message"; its appendage carries the accepted options).
//!
//! Only the options Ringbook accepts are kept (Firm, MinQty, CustomerType, PostOnly,
//! MaxFloor; the
//! rest are refused on entry), each once (its first occurrence), in a fixed buffer: an
//! order's state stays `Copy` and nothing is allocated per order.

use ringbook_wire::ouch::{Appendage, OptionTag};

/// Firm (2 + 4), MinQty (2 + 4), CustomerType (2 + 1), PostOnly (2 + 1), MaxFloor (2 + 4).
const CAPACITY: usize = 24;

/// The accepted options of one order, as TagValue elements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Echo {
    len: u8,
    bytes: [u8; CAPACITY],
}

impl Echo {
    /// The options of `appendage` that an accepted order keeps.
    pub(crate) fn of(appendage: &Appendage<'_>) -> Echo {
        let mut echo = Echo::default();
        let mut seen = [false; 5];
        for (tag, value) in appendage.options() {
            let slot = match OptionTag::from_byte(tag) {
                Some(OptionTag::Firm) => 0,
                Some(OptionTag::MinQty) => 1,
                Some(OptionTag::CustomerType) => 2,
                Some(OptionTag::PostOnly) => 3,
                Some(OptionTag::MaxFloor) => 4,
                _ => continue,
            };
            let len = usize::from(echo.len);
            let end = len + 2 + value.len();
            if seen[slot] || end > CAPACITY {
                continue;
            }
            seen[slot] = true;
            echo.bytes[len] = (value.len() + 1) as u8;
            echo.bytes[len + 1] = tag;
            echo.bytes[len + 2..end].copy_from_slice(value);
            echo.len = end as u8;
        }
        echo
    }

    /// The options as an appendage.
    pub(crate) fn appendage(&self) -> Appendage<'_> {
        Appendage::parse(&self.bytes[..usize::from(self.len)]).unwrap_or(Appendage::EMPTY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringbook_wire::ouch::appendage::write_option;

    #[test]
    fn keeps_the_accepted_options_once_each_in_entry_order() {
        let mut raw = Vec::new();
        write_option(&mut raw, OptionTag::PostOnly as u8, b"P");
        write_option(&mut raw, OptionTag::Route as u8, b"ABCD");
        write_option(&mut raw, OptionTag::Firm as u8, b"FIRM");
        write_option(&mut raw, OptionTag::PostOnly as u8, b"N");
        write_option(&mut raw, OptionTag::MaxFloor as u8, &100u32.to_be_bytes());
        let echo = Echo::of(&Appendage::parse(&raw).unwrap());
        let mut expected = Vec::new();
        write_option(&mut expected, OptionTag::PostOnly as u8, b"P");
        write_option(&mut expected, OptionTag::Firm as u8, b"FIRM");
        write_option(
            &mut expected,
            OptionTag::MaxFloor as u8,
            &100u32.to_be_bytes(),
        );
        assert_eq!(echo.appendage().bytes(), expected.as_slice());
        assert!(Echo::of(&Appendage::EMPTY).appendage().is_empty());
    }
}
