//! What every ITCH 5.0 message type shares (specification section 1.3): a type byte, a
//! fixed length, the common [`Header`] at offsets 1 to 10, and its own fields after it.
//! The type's file gives those fields' layout; this trait writes and reads the rest.

use super::error::ItchDecodeError;
use super::header::Header;
use super::message::ItchMessage;

/// One ITCH message type: its type byte, its length, and the layout of the fields after
/// the header.
pub trait ItchCodec: Sized {
    /// The message type byte.
    const TYPE: u8;
    /// The message's length, the type byte and header included.
    const LEN: usize;

    /// The message's header.
    fn header(&self) -> &Header;

    /// Writes the fields after the header at their offsets (from
    /// [`HEADER_LEN`](super::HEADER_LEN) to [`Self::LEN`]).
    fn write_fields(&self, out: &mut [u8; ItchMessage::MAX_LEN]);

    /// Reads the fields after the header from a message of exactly [`Self::LEN`] bytes.
    ///
    /// # Errors
    ///
    /// [`ItchDecodeError`] naming the field and offset that holds a value the
    /// specification does not allow.
    fn read_fields(header: Header, buf: &[u8]) -> Result<Self, ItchDecodeError>;

    /// Writes the message at the start of `out`; returns its length ([`Self::LEN`]).
    #[inline(always)]
    fn write(&self, out: &mut [u8; ItchMessage::MAX_LEN]) -> usize {
        self.header().write(out, Self::TYPE);
        self.write_fields(out);
        Self::LEN
    }

    /// Appends the message.
    fn put(&self, out: &mut Vec<u8>) {
        let mut bytes = [0u8; ItchMessage::MAX_LEN];
        let len = self.write(&mut bytes);
        out.extend_from_slice(&bytes[..len]);
    }

    /// Reads a message of this type.
    ///
    /// # Errors
    ///
    /// [`ItchDecodeError::Length`] when `buf` is not [`Self::LEN`] bytes,
    /// [`ItchDecodeError::BadCode`] (field "Message Type", offset 0) when it starts with
    /// another type byte, else what [`Self::read_fields`] finds.
    fn read(buf: &[u8]) -> Result<Self, ItchDecodeError> {
        if buf.len() != Self::LEN {
            return Err(ItchDecodeError::Length {
                kind: Self::TYPE,
                expected: Self::LEN,
                got: buf.len(),
            });
        }
        if buf[0] != Self::TYPE {
            return Err(ItchDecodeError::BadCode {
                kind: Self::TYPE,
                field: "Message Type",
                offset: 0,
                byte: buf[0],
            });
        }
        Self::read_fields(Header::at(buf), buf)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AddOrder, ItchSide, OrderDelete, Stock};
    use super::*;

    fn delete() -> OrderDelete {
        OrderDelete {
            header: Header {
                stock_locate: 3,
                tracking_number: 0,
                timestamp: 42,
            },
            order_ref: 7,
        }
    }

    #[test]
    fn read_takes_back_what_put_wrote_and_put_equals_the_enum_encoding() {
        let add = AddOrder {
            header: *delete().header(),
            order_ref: 9,
            side: ItchSide::Buy,
            shares: 100,
            stock: Stock::new("XYZ").unwrap(),
            price: 12_345,
        };
        let mut bytes = Vec::new();
        add.put(&mut bytes);
        assert_eq!(bytes.len(), AddOrder::LEN);
        assert_eq!(bytes, ItchMessage::AddOrder(add).to_bytes());
        assert_eq!(AddOrder::read(&bytes), Ok(add));
    }

    #[test]
    fn read_refuses_another_length_or_type_byte_with_the_facts() {
        let mut bytes = Vec::new();
        delete().put(&mut bytes);
        assert_eq!(
            OrderDelete::read(&bytes[..bytes.len() - 1]),
            Err(ItchDecodeError::Length {
                kind: b'D',
                expected: OrderDelete::LEN,
                got: OrderDelete::LEN - 1,
            })
        );
        bytes[0] = b'X';
        assert_eq!(
            OrderDelete::read(&bytes),
            Err(ItchDecodeError::BadCode {
                kind: b'D',
                field: "Message Type",
                offset: 0,
                byte: b'X',
            })
        );
    }
}
