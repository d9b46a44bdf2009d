//! Outbound messages, server to client (OUCH 5.0 section 4, "Outbound Messages"),
//! carried in SoupBinTCP Sequenced Data packets. Every message starts with its type byte
//! and an 8-byte Timestamp (nanoseconds since midnight). Offsets count from the type byte.
//!
//! The encoders append the Appendage Length (0 here: this venue sends no options) to
//! every message but System Event, as the current revision lays them out.

use super::cursor::{Fixed, Put, Reader};
use super::layout::{Tail, appendage_of, put_appendage};
use super::{Appendage, ClOrdId, Firm, OuchError, Symbol};

/// The order fields shared by Order Accepted and Order Replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderFields {
    /// Side.
    pub side: u8,
    /// Shares open.
    pub quantity: u32,
    /// Symbol.
    pub symbol: Symbol,
    /// Price, 4 implied decimals.
    pub price: u64,
    /// Time In Force.
    pub time_in_force: u8,
    /// Display.
    pub display: u8,
    /// The venue's id for the order (unique for the day).
    pub order_reference_number: u64,
    /// Capacity.
    pub capacity: u8,
    /// InterMarket Sweep Eligibility.
    pub intermarket_sweep: u8,
    /// CrossType.
    pub cross_type: u8,
    /// Order State ([`super::codes::order_state`]).
    pub order_state: u8,
    /// ClOrdID as entered.
    pub cl_ord_id: ClOrdId,
}

/// One outbound message.
///
/// Layouts (section 4; "+App" is Appendage Length 2 and the appendage; "(+App)" marks
/// the field the current revision added):
///
/// ```text
/// S System Event      Type 1 | Timestamp 8 | Event Code 1                          = 10
/// A Order Accepted    Type | Timestamp | UserRefNum 4 | Side 1 | Quantity 4 | Symbol 8
///                     | Price 8 | TIF 1 | Display 1 | Order Reference Number 8 | Capacity 1
///                     | ISO 1 | CrossType 1 | Order State 1 | ClOrdID 14 | +App     = 64+
/// U Order Replaced    Type | Timestamp | OrigUserRefNum 4 | UserRefNum 4 | then as A = 68+
/// C Order Canceled    Type | Timestamp | UserRefNum | Quantity 4 (decrement) | Reason 1 (+App) = 18/20+
/// E Order Executed    Type | Timestamp | UserRefNum | Quantity 4 | Price 8 | Liquidity Flag 1
///                     | Match Number 8 | +App                                       = 36+
/// J Rejected          Type | Timestamp | UserRefNum | Reason 2 | ClOrdID 14 (+App)  = 29/31+
/// P Cancel Pending    Type | Timestamp | UserRefNum (+App)                          = 13/15+
/// I Cancel Reject     Type | Timestamp | UserRefNum (+App)                          = 13/15+
/// M Order Modified    Type | Timestamp | UserRefNum | Side 1 | Quantity 4 (+App)    = 18/20+
/// X Mass Cancel Resp. Type | Timestamp | UserRefNum | Firm 4 | Symbol 8 (+App)      = 25/27+
/// G/K Disable/Enable Order Entry Response  Type | Timestamp | UserRefNum | Firm 4 (+App) = 17/19+
/// Q Account Query Response  Type | Timestamp | NextUserRefNum 4 (+App)             = 13/15+
/// B Broken Trade      Type | Timestamp | UserRefNum | Match Number 8 | Reason 1 | ClOrdID 14 (+App) = 36/38+
/// T Order Priority Update  Type | Timestamp | UserRefNum | Price 8 | Display 1
///                     | Order Reference Number 8 (+App)                             = 30/32+
/// R Order Restated    Type | Timestamp | UserRefNum | Reason 1 | +App               = 16+
/// D AIQ Canceled      Type | Timestamp | UserRefNum | Decrement Shares 4 | Reason 1
///                     | Quantity Prevented from Trading 4 | Execution Price 8 | Liquidity Flag 1
///                     | AIQ Strategy 1 (+App)                         = 32/34+ (31: before AIQ Strategy)
/// ```
///
/// This venue sends none of B, T, R and D (no trade is broken, no order repriced or
/// restated, no self-match prevention); they decode so that a client reads any stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outbound<'a> {
    /// `S` System Event (section 4.1).
    SystemEvent {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// [`super::codes::event_code`].
        event_code: u8,
    },
    /// `A` Order Accepted (section 4.2).
    OrderAccepted {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Its fields as accepted.
        order: OrderFields,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `U` Order Replaced (section 4.3).
    OrderReplaced {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order replaced.
        orig_user_ref_num: u32,
        /// The replacement.
        user_ref_num: u32,
        /// The replacement's fields.
        order: OrderFields,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `C` Order Canceled (section 4.4).
    OrderCanceled {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Shares just taken off the order (incremental).
        quantity: u32,
        /// [`super::reasons::CancelReason`] byte.
        reason: u8,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `E` Order Executed (section 4.6).
    OrderExecuted {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Shares executed (incremental).
        quantity: u32,
        /// The execution price.
        price: u64,
        /// [`super::codes::liquidity`].
        liquidity_flag: u8,
        /// The execution's id, the same for both sides of the trade.
        match_number: u64,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `J` Rejected (section 4.8).
    Rejected {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The refused message's UserRefNum.
        user_ref_num: u32,
        /// [`super::reasons::RejectCode`] value.
        reason: u16,
        /// The refused order's ClOrdID.
        cl_ord_id: ClOrdId,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `P` Cancel Pending (section 4.9).
    CancelPending {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `I` Cancel Reject (section 4.10).
    CancelReject {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `M` Order Modified (section 4.12).
    OrderModified {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Its side now.
        side: u8,
        /// Its open shares now.
        quantity: u32,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `X` Mass Cancel Response (section 4.14).
    MassCancelResponse {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The request's UserRefNum.
        user_ref_num: u32,
        /// Firm, as requested.
        firm: Firm,
        /// Symbol, as requested.
        symbol: Symbol,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `G` Disable (`disable` true) or `K` Enable Order Entry Response (sections 4.15,
    /// 4.16).
    OrderEntryResponse {
        /// Whether this answers a Disable request (`G`) rather than an Enable (`K`).
        disable: bool,
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The request's UserRefNum.
        user_ref_num: u32,
        /// Firm, as requested.
        firm: Firm,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `B` Broken Trade (section 4.7).
    BrokenTrade {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// The execution broken.
        match_number: u64,
        /// Why (`E` erroneous, `C` consent, `S` supervisory, `X` external).
        reason: u8,
        /// The order's ClOrdID.
        cl_ord_id: ClOrdId,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `T` Order Priority Update (section 4.11).
    PriorityUpdate {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Its price now.
        price: u64,
        /// Its display now.
        display: u8,
        /// Its Order Reference Number now.
        order_reference_number: u64,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `R` Order Restated (section 4.13).
    OrderRestated {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Why (`R` refresh of display, `P` update of displayed price).
        reason: u8,
        /// Options (the restated values).
        appendage: Appendage<'a>,
    },
    /// `D` AIQ Canceled (section 4.5).
    AiqCanceled {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The order.
        user_ref_num: u32,
        /// Shares taken off the order.
        decrement: u32,
        /// The cancel reason byte.
        reason: u8,
        /// Shares that would have executed.
        quantity_prevented: u32,
        /// The price they would have executed at.
        execution_price: u64,
        /// Liquidity Flag.
        liquidity_flag: u8,
        /// AIQ Strategy (a space in the revision before the field).
        aiq_strategy: u8,
        /// Options.
        appendage: Appendage<'a>,
    },
    /// `Q` Account Query Response (section 4.17).
    AccountQueryResponse {
        /// Nanoseconds since midnight.
        timestamp: u64,
        /// The next UserRefNum the account may use.
        next_user_ref_num: u32,
        /// Options.
        appendage: Appendage<'a>,
    },
}

fn read_order(r: &mut Reader<'_>) -> OrderFields {
    OrderFields {
        side: r.u8(),
        quantity: r.u32(),
        symbol: r.bytes(),
        price: r.u64(),
        time_in_force: r.u8(),
        display: r.u8(),
        order_reference_number: r.u64(),
        capacity: r.u8(),
        intermarket_sweep: r.u8(),
        cross_type: r.u8(),
        order_state: r.u8(),
        cl_ord_id: r.bytes(),
    }
}

fn put_order<P: Put>(out: &mut P, o: &OrderFields) {
    out.put_u8(o.side);
    out.put_u32(o.quantity);
    out.put(&o.symbol);
    out.put_u64(o.price);
    out.put(&[o.time_in_force, o.display]);
    out.put_u64(o.order_reference_number);
    out.put(&[o.capacity, o.intermarket_sweep, o.cross_type, o.order_state]);
    out.put(&o.cl_ord_id);
}

impl<'a> Outbound<'a> {
    /// Decodes one message (a whole Sequenced Data payload).
    ///
    /// # Errors
    ///
    /// [`OuchError`] for an empty message, an unknown type, a length that is not the
    /// layout's, or a malformed appendage.
    pub fn decode(msg: &'a [u8]) -> Result<Outbound<'a>, OuchError> {
        let Some(&message_type) = msg.first() else {
            return Err(OuchError::Empty);
        };
        let mut r = Reader::new(&msg[1..]);
        let (fixed, tail) = match message_type {
            b'S' => (10, Tail::None),
            b'A' => (62, Tail::Required),
            b'U' => (66, Tail::Required),
            b'C' | b'M' => (18, Tail::Optional),
            b'E' => (34, Tail::Required),
            b'J' => (29, Tail::Optional),
            b'P' | b'I' | b'Q' => (13, Tail::Optional),
            b'X' => (25, Tail::Optional),
            b'G' | b'K' => (17, Tail::Optional),
            b'B' => (36, Tail::Optional),
            b'T' => (30, Tail::Optional),
            b'R' => (14, Tail::Required),
            b'D' if msg.len() == 31 => (31, Tail::None),
            b'D' => (32, Tail::Optional),
            byte => {
                return Err(OuchError::UnknownType {
                    byte,
                    direction: "outbound",
                });
            }
        };
        let appendage = appendage_of(msg, fixed, tail)?;
        let timestamp = r.u64();
        Ok(match message_type {
            b'S' => Outbound::SystemEvent {
                timestamp,
                event_code: r.u8(),
            },
            b'A' => Outbound::OrderAccepted {
                timestamp,
                user_ref_num: r.u32(),
                order: read_order(&mut r),
                appendage,
            },
            b'U' => Outbound::OrderReplaced {
                timestamp,
                orig_user_ref_num: r.u32(),
                user_ref_num: r.u32(),
                order: read_order(&mut r),
                appendage,
            },
            b'C' => Outbound::OrderCanceled {
                timestamp,
                user_ref_num: r.u32(),
                quantity: r.u32(),
                reason: r.u8(),
                appendage,
            },
            b'E' => Outbound::OrderExecuted {
                timestamp,
                user_ref_num: r.u32(),
                quantity: r.u32(),
                price: r.u64(),
                liquidity_flag: r.u8(),
                match_number: r.u64(),
                appendage,
            },
            b'J' => Outbound::Rejected {
                timestamp,
                user_ref_num: r.u32(),
                reason: r.u16(),
                cl_ord_id: r.bytes(),
                appendage,
            },
            b'P' => Outbound::CancelPending {
                timestamp,
                user_ref_num: r.u32(),
                appendage,
            },
            b'I' => Outbound::CancelReject {
                timestamp,
                user_ref_num: r.u32(),
                appendage,
            },
            b'M' => Outbound::OrderModified {
                timestamp,
                user_ref_num: r.u32(),
                side: r.u8(),
                quantity: r.u32(),
                appendage,
            },
            b'X' => Outbound::MassCancelResponse {
                timestamp,
                user_ref_num: r.u32(),
                firm: r.bytes(),
                symbol: r.bytes(),
                appendage,
            },
            b'G' | b'K' => Outbound::OrderEntryResponse {
                disable: message_type == b'G',
                timestamp,
                user_ref_num: r.u32(),
                firm: r.bytes(),
                appendage,
            },
            b'B' => Outbound::BrokenTrade {
                timestamp,
                user_ref_num: r.u32(),
                match_number: r.u64(),
                reason: r.u8(),
                cl_ord_id: r.bytes(),
                appendage,
            },
            b'T' => Outbound::PriorityUpdate {
                timestamp,
                user_ref_num: r.u32(),
                price: r.u64(),
                display: r.u8(),
                order_reference_number: r.u64(),
                appendage,
            },
            b'R' => Outbound::OrderRestated {
                timestamp,
                user_ref_num: r.u32(),
                reason: r.u8(),
                appendage,
            },
            b'D' => Outbound::AiqCanceled {
                timestamp,
                user_ref_num: r.u32(),
                decrement: r.u32(),
                reason: r.u8(),
                quantity_prevented: r.u32(),
                execution_price: r.u64(),
                liquidity_flag: r.u8(),
                aiq_strategy: if msg.len() == 31 { b' ' } else { r.u8() },
                appendage,
            },
            _ => Outbound::AccountQueryResponse {
                timestamp,
                next_user_ref_num: r.u32(),
                appendage,
            },
        })
    }

    /// The type byte.
    #[must_use]
    pub const fn message_type(&self) -> u8 {
        match self {
            Outbound::SystemEvent { .. } => b'S',
            Outbound::OrderAccepted { .. } => b'A',
            Outbound::OrderReplaced { .. } => b'U',
            Outbound::OrderCanceled { .. } => b'C',
            Outbound::OrderExecuted { .. } => b'E',
            Outbound::Rejected { .. } => b'J',
            Outbound::CancelPending { .. } => b'P',
            Outbound::CancelReject { .. } => b'I',
            Outbound::OrderModified { .. } => b'M',
            Outbound::MassCancelResponse { .. } => b'X',
            Outbound::OrderEntryResponse { disable: true, .. } => b'G',
            Outbound::OrderEntryResponse { disable: false, .. } => b'K',
            Outbound::AccountQueryResponse { .. } => b'Q',
            Outbound::BrokenTrade { .. } => b'B',
            Outbound::PriorityUpdate { .. } => b'T',
            Outbound::OrderRestated { .. } => b'R',
            Outbound::AiqCanceled { .. } => b'D',
        }
    }

    /// Appends the message's bytes to `out`: the fixed part composed in a buffer on the
    /// stack (no capacity check per field), then copied once, then the appendage.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut head = Fixed::new();
        let appendage = self.encode_fixed(&mut head);
        out.extend_from_slice(head.bytes());
        if let Some(appendage) = appendage {
            put_appendage(out, appendage);
        }
    }

    /// Writes the type byte and the fixed fields; the appendage to write after them
    /// (`None` for a message without one).
    fn encode_fixed<P: Put>(&self, out: &mut P) -> Option<&Appendage<'a>> {
        out.put_u8(self.message_type());
        match self {
            Outbound::SystemEvent {
                timestamp,
                event_code,
            } => {
                out.put_u64(*timestamp);
                out.put_u8(*event_code);
                None
            }
            Outbound::OrderAccepted {
                timestamp,
                user_ref_num,
                order,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                put_order(out, order);
                Some(appendage)
            }
            Outbound::OrderReplaced {
                timestamp,
                orig_user_ref_num,
                user_ref_num,
                order,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*orig_user_ref_num);
                out.put_u32(*user_ref_num);
                put_order(out, order);
                Some(appendage)
            }
            Outbound::OrderCanceled {
                timestamp,
                user_ref_num,
                quantity,
                reason,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u32(*quantity);
                out.put_u8(*reason);
                Some(appendage)
            }
            Outbound::OrderExecuted {
                timestamp,
                user_ref_num,
                quantity,
                price,
                liquidity_flag,
                match_number,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u32(*quantity);
                out.put_u64(*price);
                out.put_u8(*liquidity_flag);
                out.put_u64(*match_number);
                Some(appendage)
            }
            Outbound::Rejected {
                timestamp,
                user_ref_num,
                reason,
                cl_ord_id,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u16(*reason);
                out.put(cl_ord_id);
                Some(appendage)
            }
            Outbound::CancelPending {
                timestamp,
                user_ref_num,
                appendage,
            }
            | Outbound::CancelReject {
                timestamp,
                user_ref_num,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                Some(appendage)
            }
            Outbound::OrderModified {
                timestamp,
                user_ref_num,
                side,
                quantity,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u8(*side);
                out.put_u32(*quantity);
                Some(appendage)
            }
            Outbound::MassCancelResponse {
                timestamp,
                user_ref_num,
                firm,
                symbol,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put(firm);
                out.put(symbol);
                Some(appendage)
            }
            Outbound::OrderEntryResponse {
                timestamp,
                user_ref_num,
                firm,
                appendage,
                ..
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put(firm);
                Some(appendage)
            }
            Outbound::AccountQueryResponse {
                timestamp,
                next_user_ref_num,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*next_user_ref_num);
                Some(appendage)
            }
            Outbound::BrokenTrade {
                timestamp,
                user_ref_num,
                match_number,
                reason,
                cl_ord_id,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u64(*match_number);
                out.put_u8(*reason);
                out.put(cl_ord_id);
                Some(appendage)
            }
            Outbound::PriorityUpdate {
                timestamp,
                user_ref_num,
                price,
                display,
                order_reference_number,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u64(*price);
                out.put_u8(*display);
                out.put_u64(*order_reference_number);
                Some(appendage)
            }
            Outbound::OrderRestated {
                timestamp,
                user_ref_num,
                reason,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u8(*reason);
                Some(appendage)
            }
            Outbound::AiqCanceled {
                timestamp,
                user_ref_num,
                decrement,
                reason,
                quantity_prevented,
                execution_price,
                liquidity_flag,
                aiq_strategy,
                appendage,
            } => {
                out.put_u64(*timestamp);
                out.put_u32(*user_ref_num);
                out.put_u32(*decrement);
                out.put_u8(*reason);
                out.put_u32(*quantity_prevented);
                out.put_u64(*execution_price);
                out.put_u8(*liquidity_flag);
                out.put_u8(*aiq_strategy);
                Some(appendage)
            }
        }
    }
}

#[cfg(test)]
mod tests;
