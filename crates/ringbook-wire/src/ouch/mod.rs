//! OUCH 5.0 (NASDAQ, "O*U*C*H Version 5.0", the revision with UserRefNum, Optional
//! Appendages and the UserRefIdx option): the order-entry messages a client sends in
//! SoupBinTCP Unsequenced Data packets and receives in Sequenced Data packets.
//!
//! Data types (spec section 2): integers are big-endian binary (UserRefNum and Quantity
//! 4 bytes, Price 8 bytes with 4 implied decimal places, Timestamp 8 bytes of nanoseconds
//! since midnight, Order Reference Number and Match Number 8 bytes); alpha fields are
//! ASCII, left-justified and padded with spaces on the right; enumerated fields are one
//! ASCII byte ([`codes`]).
//!
//! - [`inbound`]: Enter Order, Replace Order, Cancel Order, Modify Order, Mass Cancel,
//!   Disable/Enable Order Entry and Account Query requests (section 3).
//! - [`outbound`]: System Event, Order Accepted, Order Replaced, Order Canceled, Order
//!   Executed, Rejected, Cancel Pending, Cancel Reject, Order Modified, Mass Cancel, Enable
//!   and Disable Order Entry and Account Query responses (section 4).
//! - [`appendage`]: the Optional Appendage of TagValue elements (Appendix A).
//! - [`reasons`]: the Rejected reason codes and Order Canceled reasons (Appendices B, C).
//!
//! Revisions of OUCH 5.0 differ on whether the shorter messages (Cancel Order, Modify
//! Order, Order Canceled, Rejected, ...) end in an Appendage Length field: the current one
//! gives every message but System Event and Account Query Request an Appendage Length.
//! The decoders here accept each such message with or without it (the SoupBinTCP packet
//! length tells which); the encoders always write it (0 when there are no options), as
//! the current revision does.

pub mod appendage;
pub mod codes;
mod cursor;
mod error;
pub mod inbound;
mod layout;
pub mod outbound;
mod price;
pub mod reasons;

pub use appendage::{Appendage, AppendageError, OptionTag};
pub use error::OuchError;
pub use price::{PRICE_SCALE, PriceScale};

/// The width of the Symbol field.
pub const SYMBOL_LEN: usize = 8;
/// The width of the ClOrdID field.
pub const CL_ORD_ID_LEN: usize = 14;
/// The width of the Firm field.
pub const FIRM_LEN: usize = 4;

/// A Symbol field as on the wire (left-justified, space-padded).
pub type Symbol = [u8; SYMBOL_LEN];
/// A ClOrdID field as on the wire (left-justified, space-padded).
pub type ClOrdId = [u8; CL_ORD_ID_LEN];
/// A Firm field as on the wire (left-justified, space-padded).
pub type Firm = [u8; FIRM_LEN];

/// A symbol as OUCH carries it: `text` left-justified and padded with spaces; `None` when
/// it is longer than 8 bytes or not printable ASCII.
#[must_use]
pub fn symbol(text: &str) -> Option<Symbol> {
    let mut field = [b' '; SYMBOL_LEN];
    crate::soup::text::put_alpha_left(&mut field, "Symbol", text.as_bytes()).ok()?;
    Some(field)
}

/// A ClOrdID field for `text`; `None` when longer than 14 bytes or not printable ASCII.
#[must_use]
pub fn cl_ord_id(text: &str) -> Option<ClOrdId> {
    let mut field = [b' '; CL_ORD_ID_LEN];
    crate::soup::text::put_alpha_left(&mut field, "ClOrdID", text.as_bytes()).ok()?;
    Some(field)
}
