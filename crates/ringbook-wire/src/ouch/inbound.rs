//! Inbound messages, client to server (OUCH 5.0 section 3, "Inbound Messages"), carried
//! in SoupBinTCP Unsequenced Data packets. Offsets count from the type byte.

use super::cursor::{Put, Reader};
use super::layout::{Tail, appendage_of, put_appendage};
use super::{Appendage, ClOrdId, Firm, OuchError, Symbol};

/// Enter Order `O` (section 3.1): 47 bytes, then the appendage.
///
/// ```text
/// 0 Type 1 | 1 UserRefNum 4 | 5 Side 1 | 6 Quantity 4 | 10 Symbol 8 | 18 Price 8
/// | 26 Time In Force 1 | 27 Display 1 | 28 Capacity 1 | 29 InterMarket Sweep Eligibility 1
/// | 30 CrossType 1 | 31 ClOrdID 14 | 45 Appendage Length 2 | 47 Optional Appendage
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnterOrder<'a> {
    /// The client's transaction id: unique and increasing per user.
    pub user_ref_num: u32,
    /// Side ([`super::codes::side`]).
    pub side: u8,
    /// Shares.
    pub quantity: u32,
    /// Symbol, space-padded.
    pub symbol: Symbol,
    /// Price, 4 implied decimals.
    pub price: u64,
    /// Time In Force ([`super::codes::time_in_force`]).
    pub time_in_force: u8,
    /// Display ([`super::codes::display`]).
    pub display: u8,
    /// Capacity ([`super::codes::capacity`]).
    pub capacity: u8,
    /// InterMarket Sweep Eligibility ([`super::codes::intermarket_sweep`]).
    pub intermarket_sweep: u8,
    /// CrossType ([`super::codes::cross_type`]).
    pub cross_type: u8,
    /// The client's order id, echoed back.
    pub cl_ord_id: ClOrdId,
    /// Options.
    pub appendage: Appendage<'a>,
}

/// Replace Order Request `U` (section 3.2): 40 bytes, then the appendage.
///
/// ```text
/// 0 Type 1 | 1 OrigUserRefNum 4 | 5 UserRefNum 4 | 9 Quantity 4 | 13 Price 8
/// | 21 Time In Force 1 | 22 Display 1 | 23 InterMarket Sweep Eligibility 1 | 24 ClOrdID 14
/// | 38 Appendage Length 2 | 40 Optional Appendage
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplaceOrder<'a> {
    /// The UserRefNum of the order replaced.
    pub orig_user_ref_num: u32,
    /// The new UserRefNum of the replacement.
    pub user_ref_num: u32,
    /// The replacement's shares.
    pub quantity: u32,
    /// The replacement's price.
    pub price: u64,
    /// Time In Force.
    pub time_in_force: u8,
    /// Display.
    pub display: u8,
    /// InterMarket Sweep Eligibility.
    pub intermarket_sweep: u8,
    /// The replacement's ClOrdID.
    pub cl_ord_id: ClOrdId,
    /// Options.
    pub appendage: Appendage<'a>,
}

/// Cancel Order Request `X` (section 3.3): 9 bytes, then (current revision) the
/// appendage.
///
/// ```text
/// 0 Type 1 | 1 UserRefNum 4 | 5 Quantity 4 (the new intended size; 0 cancels the order)
/// | 9 Appendage Length 2 | 11 Optional Appendage
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelOrder<'a> {
    /// The order.
    pub user_ref_num: u32,
    /// The shares that should stay open: 0 for all of the order.
    pub quantity: u32,
    /// Options.
    pub appendage: Appendage<'a>,
}

/// Modify Order Request `M` (section 3.4): 10 bytes, then (current revision) the
/// appendage.
///
/// ```text
/// 0 Type 1 | 1 UserRefNum 4 | 5 Side 1 | 6 Quantity 4 | 10 Appendage Length 2 | 12 ...
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModifyOrder<'a> {
    /// The order.
    pub user_ref_num: u32,
    /// The new side.
    pub side: u8,
    /// The new open quantity.
    pub quantity: u32,
    /// Options.
    pub appendage: Appendage<'a>,
}

/// Mass Cancel Request `C` (section 3.5): 17 bytes, then (current revision) the
/// appendage.
///
/// ```text
/// 0 Type 1 | 1 UserRefNum 4 | 5 Firm 4 | 9 Symbol 8 (spaces: every symbol)
/// | 17 Appendage Length 2 | 19 ...
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MassCancel<'a> {
    /// The request's own UserRefNum.
    pub user_ref_num: u32,
    /// Firm (spaces: the account's).
    pub firm: Firm,
    /// Symbol (spaces: every symbol).
    pub symbol: Symbol,
    /// Options.
    pub appendage: Appendage<'a>,
}

/// Disable `D` or Enable `E` Order Entry Request (sections 3.6, 3.7): 9 bytes, then
/// (current revision) the appendage.
///
/// ```text
/// 0 Type 1 | 1 UserRefNum 4 | 5 Firm 4 | 9 Appendage Length 2 | 11 ...
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderEntryControl<'a> {
    /// The request's own UserRefNum.
    pub user_ref_num: u32,
    /// Firm.
    pub firm: Firm,
    /// Options.
    pub appendage: Appendage<'a>,
}

/// One inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// `O` Enter Order.
    EnterOrder(EnterOrder<'a>),
    /// `U` Replace Order Request.
    ReplaceOrder(ReplaceOrder<'a>),
    /// `X` Cancel Order Request.
    CancelOrder(CancelOrder<'a>),
    /// `M` Modify Order Request.
    ModifyOrder(ModifyOrder<'a>),
    /// `C` Mass Cancel Request.
    MassCancel(MassCancel<'a>),
    /// `D` Disable Order Entry Request.
    DisableOrderEntry(OrderEntryControl<'a>),
    /// `E` Enable Order Entry Request.
    EnableOrderEntry(OrderEntryControl<'a>),
    /// `Q` Account Query Request (section 3.8): the type byte, then (current revision)
    /// the appendage.
    AccountQuery(Appendage<'a>),
}

/// Fixed lengths (type byte included, Appendage Length excluded).
const ENTER_FIXED: usize = 45;
const REPLACE_FIXED: usize = 38;
const CANCEL_FIXED: usize = 9;
const MODIFY_FIXED: usize = 10;
const MASS_CANCEL_FIXED: usize = 17;
const CONTROL_FIXED: usize = 9;

impl<'a> Inbound<'a> {
    /// Decodes one message (a whole Unsequenced Data payload).
    ///
    /// # Errors
    ///
    /// [`OuchError`] for an empty message, an unknown type, a length that is not the
    /// layout's, or a malformed appendage.
    pub fn decode(msg: &'a [u8]) -> Result<Inbound<'a>, OuchError> {
        let Some(&message_type) = msg.first() else {
            return Err(OuchError::Empty);
        };
        let mut r = Reader::new(&msg[1..]);
        Ok(match message_type {
            b'O' => {
                let appendage = appendage_of(msg, ENTER_FIXED, Tail::Required)?;
                Inbound::EnterOrder(EnterOrder {
                    user_ref_num: r.u32(),
                    side: r.u8(),
                    quantity: r.u32(),
                    symbol: r.bytes(),
                    price: r.u64(),
                    time_in_force: r.u8(),
                    display: r.u8(),
                    capacity: r.u8(),
                    intermarket_sweep: r.u8(),
                    cross_type: r.u8(),
                    cl_ord_id: r.bytes(),
                    appendage,
                })
            }
            b'U' => {
                let appendage = appendage_of(msg, REPLACE_FIXED, Tail::Required)?;
                Inbound::ReplaceOrder(ReplaceOrder {
                    orig_user_ref_num: r.u32(),
                    user_ref_num: r.u32(),
                    quantity: r.u32(),
                    price: r.u64(),
                    time_in_force: r.u8(),
                    display: r.u8(),
                    intermarket_sweep: r.u8(),
                    cl_ord_id: r.bytes(),
                    appendage,
                })
            }
            b'X' => {
                let appendage = appendage_of(msg, CANCEL_FIXED, Tail::Optional)?;
                Inbound::CancelOrder(CancelOrder {
                    user_ref_num: r.u32(),
                    quantity: r.u32(),
                    appendage,
                })
            }
            b'M' => {
                let appendage = appendage_of(msg, MODIFY_FIXED, Tail::Optional)?;
                Inbound::ModifyOrder(ModifyOrder {
                    user_ref_num: r.u32(),
                    side: r.u8(),
                    quantity: r.u32(),
                    appendage,
                })
            }
            b'C' => {
                let appendage = appendage_of(msg, MASS_CANCEL_FIXED, Tail::Optional)?;
                Inbound::MassCancel(MassCancel {
                    user_ref_num: r.u32(),
                    firm: r.bytes(),
                    symbol: r.bytes(),
                    appendage,
                })
            }
            b'D' | b'E' => {
                let appendage = appendage_of(msg, CONTROL_FIXED, Tail::Optional)?;
                let control = OrderEntryControl {
                    user_ref_num: r.u32(),
                    firm: r.bytes(),
                    appendage,
                };
                if message_type == b'D' {
                    Inbound::DisableOrderEntry(control)
                } else {
                    Inbound::EnableOrderEntry(control)
                }
            }
            b'Q' => Inbound::AccountQuery(appendage_of(msg, 1, Tail::Optional)?),
            byte => {
                return Err(OuchError::UnknownType {
                    byte,
                    direction: "inbound",
                });
            }
        })
    }

    /// The message's UserRefNum (the new one for a replace); `None` for an Account Query.
    #[must_use]
    pub fn user_ref_num(&self) -> Option<u32> {
        Some(match self {
            Inbound::EnterOrder(m) => m.user_ref_num,
            Inbound::ReplaceOrder(m) => m.user_ref_num,
            Inbound::CancelOrder(m) => m.user_ref_num,
            Inbound::ModifyOrder(m) => m.user_ref_num,
            Inbound::MassCancel(m) => m.user_ref_num,
            Inbound::DisableOrderEntry(m) | Inbound::EnableOrderEntry(m) => m.user_ref_num,
            Inbound::AccountQuery(_) => return None,
        })
    }

    /// Appends the message's bytes to `out` (with the Appendage Length field on every
    /// message that has one in the current revision).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Inbound::EnterOrder(m) => {
                out.put_u8(b'O');
                out.put_u32(m.user_ref_num);
                out.put_u8(m.side);
                out.put_u32(m.quantity);
                out.put(&m.symbol);
                out.put_u64(m.price);
                out.put(&[
                    m.time_in_force,
                    m.display,
                    m.capacity,
                    m.intermarket_sweep,
                    m.cross_type,
                ]);
                out.put(&m.cl_ord_id);
                put_appendage(out, &m.appendage);
            }
            Inbound::ReplaceOrder(m) => {
                out.put_u8(b'U');
                out.put_u32(m.orig_user_ref_num);
                out.put_u32(m.user_ref_num);
                out.put_u32(m.quantity);
                out.put_u64(m.price);
                out.put(&[m.time_in_force, m.display, m.intermarket_sweep]);
                out.put(&m.cl_ord_id);
                put_appendage(out, &m.appendage);
            }
            Inbound::CancelOrder(m) => {
                out.put_u8(b'X');
                out.put_u32(m.user_ref_num);
                out.put_u32(m.quantity);
                put_appendage(out, &m.appendage);
            }
            Inbound::ModifyOrder(m) => {
                out.put_u8(b'M');
                out.put_u32(m.user_ref_num);
                out.put_u8(m.side);
                out.put_u32(m.quantity);
                put_appendage(out, &m.appendage);
            }
            Inbound::MassCancel(m) => {
                out.put_u8(b'C');
                out.put_u32(m.user_ref_num);
                out.put(&m.firm);
                out.put(&m.symbol);
                put_appendage(out, &m.appendage);
            }
            Inbound::DisableOrderEntry(m) | Inbound::EnableOrderEntry(m) => {
                out.put_u8(if matches!(self, Inbound::DisableOrderEntry(_)) {
                    b'D'
                } else {
                    b'E'
                });
                out.put_u32(m.user_ref_num);
                out.put(&m.firm);
                put_appendage(out, &m.appendage);
            }
            Inbound::AccountQuery(appendage) => {
                out.put_u8(b'Q');
                put_appendage(out, appendage);
            }
        }
    }
}

#[cfg(test)]
mod tests;
