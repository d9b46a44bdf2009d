//! Rebuilding a user's orders and UserRefNums from the user's own outbound stream (after
//! a restart with a durable store): the stream says which orders were accepted and what
//! happened to each since.

use ringbook_wire::ouch::OptionTag;
use ringbook_wire::ouch::outbound::Outbound;

use super::state::{OrderInfo, Pending, UserState};
use super::symbols::SymbolTable;
use crate::soup::Stream;

/// The state a stream's messages leave: live orders with their open quantity, the
/// highest UserRefNum seen.
pub(crate) fn restore(stream: &Stream, symbols: &SymbolTable) -> UserState {
    let mut state = UserState::default();
    let mut buf = Vec::with_capacity(1 << 20);
    let mut seq = 1;
    loop {
        buf.clear();
        let n = stream.read_packets(seq, &mut buf, 1 << 20);
        if n == 0 {
            break;
        }
        seq += n;
        let mut at = 0;
        while at + 3 <= buf.len() {
            let len = usize::from(u16::from_be_bytes([buf[at], buf[at + 1]]));
            let Some(payload) = buf.get(at + 3..at + 2 + len) else {
                break;
            };
            apply(&mut state, payload, symbols);
            at += 2 + len;
        }
    }
    state
}

fn apply(state: &mut UserState, payload: &[u8], symbols: &SymbolTable) {
    let Ok(message) = Outbound::decode(payload) else {
        tracing::warn!(
            len = payload.len(),
            "restoring OUCH state: skipping a message that does not decode"
        );
        return;
    };
    match message {
        Outbound::OrderAccepted {
            user_ref_num,
            order,
            appendage,
            ..
        }
        | Outbound::OrderReplaced {
            user_ref_num,
            order,
            appendage,
            ..
        } => {
            let mut executed = 0;
            if let Outbound::OrderReplaced {
                orig_user_ref_num, ..
            } = message
            {
                executed = state
                    .orders
                    .remove(&orig_user_ref_num)
                    .map_or(0, |o| o.executed);
            }
            state.last_ref = state.last_ref.max(user_ref_num);
            if order.quantity == 0 {
                // A replace whose quantity was all executed already: dead on arrival.
                return;
            }
            let Some(listing) = symbols.by_symbol(&order.symbol) else {
                tracing::warn!(
                    user_ref_num,
                    "restoring OUCH state: the symbol of an order is no longer listed"
                );
                return;
            };
            let Some(price) = listing.scale.to_ticks(order.price) else {
                return;
            };
            state.orders.insert(
                user_ref_num,
                OrderInfo {
                    symbol: order.symbol,
                    instrument: listing.instrument,
                    scale: listing.scale,
                    side: order.side,
                    price,
                    open: order.quantity,
                    time_in_force: order.time_in_force,
                    display: order.display,
                    capacity: order.capacity,
                    intermarket_sweep: order.intermarket_sweep,
                    cross_type: order.cross_type,
                    cl_ord_id: order.cl_ord_id,
                    cancel_reason: b'U',
                    pending: Pending::None,
                    replaces: None,
                    replaced_by: None,
                    executed,
                    deferred: None,
                    cancel_when_live: false,
                    max_floor: max_floor(&appendage),
                    options: super::echo::Echo::of(&appendage),
                },
            );
        }
        Outbound::OrderExecuted {
            user_ref_num,
            quantity,
            ..
        } => {
            if let Some(info) = state.orders.get_mut(&user_ref_num) {
                info.executed = info.executed.saturating_add(quantity);
                info.open = info.open.saturating_sub(quantity);
                if info.open == 0 {
                    state.orders.remove(&user_ref_num);
                }
            }
        }
        Outbound::OrderCanceled {
            user_ref_num,
            quantity,
            ..
        } => {
            if let Some(info) = state.orders.get_mut(&user_ref_num) {
                info.open = info.open.saturating_sub(quantity);
                if info.open == 0 {
                    state.orders.remove(&user_ref_num);
                }
            }
        }
        Outbound::OrderModified {
            user_ref_num,
            quantity,
            ..
        } => {
            if let Some(info) = state.orders.get_mut(&user_ref_num) {
                info.open = quantity;
            }
        }
        Outbound::Rejected { user_ref_num, .. } => {
            state.last_ref = state.last_ref.max(user_ref_num)
        }
        _ => {}
    }
}

/// The MaxFloor an order was accepted with (echoed in its Order Accepted), 0 for none.
fn max_floor(appendage: &ringbook_wire::ouch::Appendage<'_>) -> u32 {
    appendage
        .options()
        .find(|(tag, _)| *tag == OptionTag::MaxFloor as u8)
        .and_then(|(_, value)| value.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}
