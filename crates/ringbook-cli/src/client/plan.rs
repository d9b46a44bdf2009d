//! Turning a generated flow into each session's OUCH messages, encoded up front (so the
//! send loop only copies bytes): an add becomes an Enter Order, a cancel a Cancel Order,
//! a modify a Replace Order; what OUCH cannot carry (market orders, halts, status and
//! snapshot requests) is skipped and counted. Every op on one order id goes to the same
//! session.

use std::collections::HashMap;

use ringbook::{Command, OrderKind, Side, Uuid};
use ringbook_gateway::order_entry::{Listing, SymbolTable};
use ringbook_wire::ouch::appendage::write_option;
use ringbook_wire::ouch::inbound::{CancelOrder, EnterOrder, Inbound, ReplaceOrder};
use ringbook_wire::ouch::{Appendage, OptionTag};

/// One session's messages.
#[derive(Debug, Default)]
pub(crate) struct SessionPlan {
    /// Every message's bytes, one after another.
    pub(crate) bytes: Vec<u8>,
    /// Where each message ends in `bytes`, and the UserRefNum whose first response is
    /// timed (0 for a message that is not timed: a cancel).
    pub(crate) messages: Vec<(usize, u32)>,
    /// The highest UserRefNum used.
    pub(crate) last_urn: u32,
    /// Timed messages (enters and replaces).
    pub(crate) timed: u64,
    /// Enter Orders.
    pub(crate) enters: u64,
}

/// The plan of every session, and what was skipped.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) sessions: Vec<SessionPlan>,
    pub(crate) skipped: u64,
}

struct OrderRef {
    session: usize,
    urn: u32,
    listing: Listing,
    side: Side,
}

fn session_of(id: &Uuid, sessions: usize) -> usize {
    let v = id.as_u128();
    ((v ^ (v >> 64)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 70) as usize % sessions
}

/// Plans `commands` over `sessions` sessions; the flow's instruments map, in order of
/// first appearance, onto the symbols' instruments (sorted), cycling if there are more.
pub(crate) fn plan(
    commands: impl Iterator<Item = Command>,
    sessions: usize,
    symbols: &SymbolTable,
) -> Plan {
    let mut listings: Vec<Listing> = symbols
        .instruments()
        .filter_map(|i| symbols.by_instrument(&i).copied())
        .collect();
    listings.sort_by_key(|l| l.instrument);
    let mut by_instrument: HashMap<Uuid, Listing> = HashMap::new();
    let mut orders: HashMap<Uuid, OrderRef> = HashMap::new();
    let mut plans: Vec<SessionPlan> = (0..sessions).map(|_| SessionPlan::default()).collect();
    let mut skipped = 0;
    let mut option = Vec::with_capacity(8);
    for command in commands {
        match command {
            Command::Add(order) => {
                let next = by_instrument.len();
                let listing = *by_instrument
                    .entry(order.instrument_id)
                    .or_insert_with(|| listings[next % listings.len()]);
                let (tif, min_qty, post_only) = match order.kind {
                    OrderKind::Limit => (b'0', false, false),
                    OrderKind::PostOnly => (b'0', false, true),
                    OrderKind::Ioc => (b'3', false, false),
                    OrderKind::Fok => (b'3', true, false),
                    // OUCH has no market or stop orders (issue 22's appendages are not
                    // carried yet): skipped like a market order.
                    OrderKind::Market | OrderKind::Stop | OrderKind::StopLimit => {
                        skipped += 1;
                        continue;
                    }
                };
                let (Some(price), Ok(quantity)) = (
                    listing.scale.to_wire(order.price),
                    u32::try_from(order.quantity),
                ) else {
                    skipped += 1;
                    continue;
                };
                let session = session_of(&order.order_id, sessions);
                let p = &mut plans[session];
                p.last_urn += 1;
                let urn = p.last_urn;
                option.clear();
                if min_qty {
                    write_option(
                        &mut option,
                        OptionTag::MinQty as u8,
                        &quantity.to_be_bytes(),
                    );
                }
                if post_only {
                    write_option(&mut option, OptionTag::PostOnly as u8, b"P");
                }
                Inbound::EnterOrder(EnterOrder {
                    user_ref_num: urn,
                    side: if order.side == Side::Buy { b'B' } else { b'S' },
                    quantity,
                    symbol: listing.symbol,
                    price,
                    time_in_force: tif,
                    display: b'Y',
                    capacity: b'A',
                    intermarket_sweep: b'N',
                    cross_type: b'N',
                    cl_ord_id: [b' '; 14],
                    appendage: Appendage::parse(&option).unwrap_or_default(),
                })
                .encode(&mut p.bytes);
                p.messages.push((p.bytes.len(), urn));
                p.timed += 1;
                p.enters += 1;
                orders.insert(
                    order.order_id,
                    OrderRef {
                        session,
                        urn,
                        listing,
                        side: order.side,
                    },
                );
            }
            Command::Cancel { order_id, .. } => {
                let Some(o) = orders.get(&order_id) else {
                    skipped += 1;
                    continue;
                };
                let p = &mut plans[o.session];
                Inbound::CancelOrder(CancelOrder {
                    user_ref_num: o.urn,
                    quantity: 0,
                    appendage: Appendage::EMPTY,
                })
                .encode(&mut p.bytes);
                p.messages.push((p.bytes.len(), 0));
            }
            Command::Modify {
                order_id,
                price,
                qty,
                ..
            } => {
                let Some(o) = orders.get_mut(&order_id) else {
                    skipped += 1;
                    continue;
                };
                let (Some(price), Ok(quantity)) =
                    (o.listing.scale.to_wire(price), u32::try_from(qty))
                else {
                    skipped += 1;
                    continue;
                };
                let _ = o.side;
                let p = &mut plans[o.session];
                p.last_urn += 1;
                let urn = p.last_urn;
                Inbound::ReplaceOrder(ReplaceOrder {
                    orig_user_ref_num: o.urn,
                    user_ref_num: urn,
                    quantity,
                    price,
                    time_in_force: b'0',
                    display: b'Y',
                    intermarket_sweep: b'N',
                    cl_ord_id: [b' '; 14],
                    appendage: Appendage::EMPTY,
                })
                .encode(&mut p.bytes);
                p.messages.push((p.bytes.len(), urn));
                p.timed += 1;
                o.urn = urn;
            }
            _ => skipped += 1,
        }
    }
    Plan {
        sessions: plans,
        skipped,
    }
}
