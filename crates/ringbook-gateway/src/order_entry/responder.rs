//! The engine subscriber that answers OUCH clients: each event about an order entered
//! over OUCH becomes the outbound message(s) of the user owning the order (found from the
//! order id alone, [`super::order_id`]), appended to that user's stream. Appending never
//! waits for a client, so a slow or absent client never holds back the engine.
//!
//! | engine event | OUCH message |
//! |---|---|
//! | `accepted` | Order Accepted (Order Replaced for the new order of a replace) |
//! | `rejected` of an add | Rejected with the reason's code (halted 0x07, ...) |
//! | `rejected` of a cancel or modify | Cancel Reject |
//! | `trade` | Order Executed to each OUCH side: taker `R`, maker `A`, Match Number = event seq |
//! | `cancelled` | Order Canceled (`U` user, `Z` cancel on disconnect); none for the old order of a replace |
//! | `expired` | Order Canceled, reason `I` (the rest of an IOC or FOK order) |
//! | `modified` | Order Canceled for a partial cancel; Order Modified for a Modify Order |
//!
//! A replace: the `cancelled` of the old order hands the replacement's `add` (at the
//! chain's quantity less the shares executed) to the submitter ([`Registry::defer`]);
//! its `accepted` is answered by Order Replaced. A `rejected` cancel of the old order (it
//! filled first) drops the replacement silently. A `modified` that grew an order (a size
//! computed from a stale view) is set back by a modify handed to the submitter, and
//! answered by nothing.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use ringbook::{Command, Op, OrderbookResult, PublishedEvent, RejectReason, Subscriber, Uuid};
use ringbook_wire::ouch::Appendage;
use ringbook_wire::ouch::codes::{liquidity, order_state};
use ringbook_wire::ouch::outbound::{OrderFields, Outbound};
use ringbook_wire::ouch::reasons::{CancelReason, RejectCode};

use super::engine_order::EngineOrder;
use super::hops::Hop;
use super::order_id::{UserKey, owner_of};
use super::state::{OrderInfo, Pending, Registry, UserEntry, UserState, now_since_midnight};
use crate::soup::StoreError;

/// The OUCH responder (see the module docs).
#[derive(Debug)]
pub struct OuchResponder {
    registry: Arc<Registry>,
    /// Each user met, with the messages for it not yet appended to its stream (each
    /// behind a 2-byte length): appended at the end of the event manager's batch, one
    /// lock and one request to the session's reactor to write per user and batch.
    cache: HashMap<UserKey, (Arc<UserEntry>, Vec<u8>), foldhash::fast::RandomState>,
    dirty: Vec<UserKey>,
    base_ns: u64,
    failed: Option<StoreError>,
}

/// The OUCH code of an engine reject reason, for an add.
#[must_use]
pub fn reject_code(reason: RejectReason) -> RejectCode {
    match reason {
        RejectReason::InstrumentNotRegistered => RejectCode::InvalidSymbol,
        RejectReason::OrderbookHalted => RejectCode::Halted,
        RejectReason::InvalidQuantity => RejectCode::InvalidQuantity,
        RejectReason::PostOnlyWouldCross => RejectCode::CrossedMarket,
        RejectReason::DuplicateOrderId
        | RejectReason::UnknownOrder
        | RejectReason::NotModifiable => RejectCode::Other,
    }
}

fn fields(info: &OrderInfo, quantity: u32, reference: u64, state: u8) -> OrderFields {
    OrderFields {
        side: info.side,
        quantity,
        symbol: info.symbol,
        price: info.scale.to_wire(info.price).unwrap_or(0),
        time_in_force: info.time_in_force,
        display: info.display,
        order_reference_number: reference,
        capacity: info.capacity,
        intermarket_sweep: info.intermarket_sweep,
        cross_type: info.cross_type,
        order_state: state,
        cl_ord_id: info.cl_ord_id,
    }
}

fn qty32(q: u64) -> u32 {
    u32::try_from(q).unwrap_or(u32::MAX)
}

impl OuchResponder {
    /// A responder for the users of `registry`.
    #[must_use]
    pub fn new(registry: Arc<Registry>) -> OuchResponder {
        OuchResponder {
            registry,
            cache: HashMap::default(),
            dirty: Vec::with_capacity(64),
            base_ns: now_since_midnight(),
            failed: None,
        }
    }

    /// Handles the event for one order: `f` writes the messages (into the user's pending
    /// buffer) given the user's state and the order's UserRefNum.
    fn for_order(
        &mut self,
        id: &Uuid,
        f: impl FnOnce(&mut UserState, u32, &mut Vec<u8>, &Registry),
    ) {
        let Some((key, urn)) = owner_of(id) else {
            return;
        };
        // One hash of the key per event (the entry API), not a lookup then another.
        let (entry, pending) = match self.cache.entry(key) {
            Entry::Occupied(slot) => slot.into_mut(),
            Entry::Vacant(slot) => {
                let Some(entry) = self.registry.get(key) else {
                    return;
                };
                slot.insert((entry, Vec::with_capacity(1 << 12)))
            }
        };
        let was_empty = pending.is_empty();
        let mut state = entry.state.lock();
        f(&mut state, urn, pending, &self.registry);
        drop(state);
        if was_empty && !pending.is_empty() {
            self.dirty.push(key);
        }
    }

    /// Appends every pending message to its user's stream.
    fn flush(&mut self) {
        for key in self.dirty.drain(..) {
            let Some((entry, pending)) = self.cache.get_mut(&key) else {
                continue;
            };
            if let Err(e) = entry.stream.append_framed(pending)
                && self.failed.is_none()
            {
                tracing::error!(error = %e, user = %entry.name, "cannot store an OUCH message");
                self.failed = Some(e);
            }
            pending.clear();
        }
        // The replacements' adds (and cancels) deferred in this batch: one wake-up.
        self.registry.ring_deferred();
    }
}

/// Writes `message` into `out` behind a 2-byte length.
fn put(out: &mut Vec<u8>, message: &Outbound<'_>) {
    let start = out.len();
    out.extend_from_slice(&[0, 0]);
    message.encode(out);
    let len = (out.len() - start - 2) as u16;
    out[start..start + 2].copy_from_slice(&len.to_be_bytes());
}

/// Forgets a replacement that will not be added (its old order is no longer live): as
/// the spec says, the replace is ignored and its UserRefNum not consumed.
fn drop_replacement(state: &mut UserState, r: u32) {
    if state.orders.remove(&r).is_some() && state.last_ref == r {
        state.last_ref = r - 1;
    }
}

/// The old order `urn` of a replace by `r` is canceled with `remaining` open: the
/// replacement is handed to the submitter at the chain's quantity less what was
/// executed; with nothing left it is Order Replaced dead at once; canceled by its owner
/// in the meantime, the old order's cancel is reported instead.
#[allow(clippy::too_many_arguments)]
fn replace_confirmed(
    state: &mut UserState,
    registry: &Registry,
    old_id: Uuid,
    urn: u32,
    r: u32,
    remaining: u64,
    ts: u64,
    seq: u64,
    out: &mut Vec<u8>,
) {
    let Some(old) = state.orders.get_mut(&urn) else {
        return;
    };
    old.open = qty32(remaining);
    let executed = old.executed;
    let Some(rep) = state.orders.get_mut(&r) else {
        state.orders.remove(&urn);
        return;
    };
    let open = rep.open.saturating_sub(executed);
    rep.executed = executed;
    if rep.cancel_when_live || open == 0 {
        let rep = *rep;
        state.orders.remove(&r);
        state.orders.remove(&urn);
        let message = if rep.cancel_when_live {
            Outbound::OrderCanceled {
                timestamp: ts,
                user_ref_num: urn,
                quantity: qty32(remaining),
                reason: rep.cancel_reason,
                appendage: Appendage::EMPTY,
            }
        } else {
            Outbound::OrderReplaced {
                timestamp: ts,
                orig_user_ref_num: urn,
                user_ref_num: r,
                order: fields(&rep, 0, seq, order_state::DEAD),
                appendage: rep.options.appendage(),
            }
        };
        put(out, &message);
        return;
    }
    rep.open = open;
    let Some((side, kind)) = rep.deferred else {
        return;
    };
    let Some((key, _)) = owner_of(&old_id) else {
        return;
    };
    registry.defer(Command::Add(
        EngineOrder {
            user: key,
            user_ref_num: r,
            instrument: rep.instrument,
            side,
            kind,
            price: rep.price,
            quantity: open,
            max_floor: rep.max_floor,
        }
        .order(),
    ));
}

impl Subscriber for OuchResponder {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        let ts = (self.base_ns + event.timestamp_ns) % 86_400_000_000_000;
        let seq = event.seq;
        match event.result {
            OrderbookResult::Accepted { order_id, qty, .. } => {
                let id = *order_id;
                self.for_order(order_id, |state, urn, out, registry| {
                    let Some(info) = state.orders.get_mut(&urn) else {
                        return;
                    };
                    if info.replaces.is_none()
                        && let Some((user, _)) = owner_of(&id)
                    {
                        registry.stamp(user, urn, Hop::Event);
                    }
                    info.deferred = None;
                    if std::mem::take(&mut info.cancel_when_live) {
                        // Canceled by its owner before it was live: cancel it now.
                        registry.defer(Command::Cancel {
                            instrument_id: info.instrument,
                            order_id: id,
                        });
                    }
                    let info = *info;
                    let order = fields(&info, qty32(*qty), seq, order_state::LIVE);
                    match info.replaces {
                        Some(orig) => {
                            state.orders.remove(&orig);
                            put(
                                out,
                                &Outbound::OrderReplaced {
                                    timestamp: ts,
                                    orig_user_ref_num: orig,
                                    user_ref_num: urn,
                                    order,
                                    appendage: info.options.appendage(),
                                },
                            );
                        }
                        None => put(
                            out,
                            &Outbound::OrderAccepted {
                                timestamp: ts,
                                user_ref_num: urn,
                                order,
                                appendage: info.options.appendage(),
                            },
                        ),
                    }
                });
            }
            OrderbookResult::Rejected {
                op,
                order_id: Some(order_id),
                reason,
                ..
            } => {
                let op = *op;
                let reason = *reason;
                let id = *order_id;
                self.for_order(order_id, |state, urn, out, registry| match op {
                    Op::Add => {
                        let Some(info) = state.orders.remove(&urn) else {
                            return;
                        };
                        if info.replaces.is_none()
                            && let Some((user, _)) = owner_of(&id)
                        {
                            registry.stamp(user, urn, Hop::Event);
                        }
                        if let Some(orig) = info.replaces
                            && let Some(old) = state.orders.remove(&orig)
                        {
                            // The old order was canceled for the replace: say so.
                            put(
                                out,
                                &Outbound::OrderCanceled {
                                    timestamp: ts,
                                    user_ref_num: orig,
                                    quantity: old.open,
                                    reason: CancelReason::UserRequested.byte(),
                                    appendage: Appendage::EMPTY,
                                },
                            );
                        }
                        put(
                            out,
                            &Outbound::Rejected {
                                timestamp: ts,
                                user_ref_num: urn,
                                reason: reject_code(reason).code(),
                                cl_ord_id: info.cl_ord_id,
                                appendage: Appendage::EMPTY,
                            },
                        );
                    }
                    Op::Cancel | Op::Modify => {
                        let Some(info) = state.orders.get_mut(&urn) else {
                            return;
                        };
                        info.pending = Pending::None;
                        if let Some(r) = info.replaced_by.take() {
                            // The old order of a replace is no longer live: the
                            // replacement is ignored (spec), its UserRefNum not consumed.
                            drop_replacement(state, r);
                        } else {
                            put(
                                out,
                                &Outbound::CancelReject {
                                    timestamp: ts,
                                    user_ref_num: urn,
                                    appendage: Appendage::EMPTY,
                                },
                            );
                        }
                    }
                    _ => {}
                });
            }
            OrderbookResult::Trade {
                taker_order_id,
                maker_order_id,
                price,
                qty,
                taker_remaining,
                maker_remaining,
                ..
            } => {
                for (id, remaining, flag) in [
                    (taker_order_id, *taker_remaining, liquidity::REMOVED),
                    (maker_order_id, *maker_remaining, liquidity::ADDED),
                ] {
                    self.for_order(id, |state, urn, out, _| {
                        let Some(info) = state.orders.get_mut(&urn) else {
                            return;
                        };
                        info.open = qty32(remaining);
                        info.executed = info.executed.saturating_add(qty32(*qty));
                        let wire = info.scale.to_wire(*price).unwrap_or(0);
                        if remaining == 0
                            && let Some(done) = state.orders.remove(&urn)
                            && let Some(r) = done.replaced_by
                        {
                            // Filled before its replace's cancel: the replace is ignored.
                            drop_replacement(state, r);
                        }
                        put(
                            out,
                            &Outbound::OrderExecuted {
                                timestamp: ts,
                                user_ref_num: urn,
                                quantity: qty32(*qty),
                                price: wire,
                                liquidity_flag: flag,
                                match_number: seq,
                                appendage: Appendage::EMPTY,
                            },
                        );
                    });
                }
            }
            OrderbookResult::Cancelled {
                order_id,
                remaining_qty,
                ..
            } => {
                let id = *order_id;
                self.for_order(order_id, |state, urn, out, registry| {
                    let Some(info) = state.orders.get(&urn).copied() else {
                        return;
                    };
                    if let Some(r) = info.replaced_by {
                        replace_confirmed(
                            state,
                            registry,
                            id,
                            urn,
                            r,
                            *remaining_qty,
                            ts,
                            seq,
                            out,
                        );
                        return;
                    }
                    state.orders.remove(&urn);
                    put(
                        out,
                        &Outbound::OrderCanceled {
                            timestamp: ts,
                            user_ref_num: urn,
                            quantity: qty32(*remaining_qty),
                            reason: info.cancel_reason,
                            appendage: Appendage::EMPTY,
                        },
                    );
                });
            }
            OrderbookResult::Expired {
                order_id,
                remaining_qty,
                ..
            } => {
                self.for_order(order_id, |state, urn, out, _| {
                    let Some(info) = state.orders.remove(&urn) else {
                        return;
                    };
                    if let Some(r) = info.replaced_by {
                        drop_replacement(state, r);
                    }
                    put(
                        out,
                        &Outbound::OrderCanceled {
                            timestamp: ts,
                            user_ref_num: urn,
                            quantity: qty32(*remaining_qty),
                            reason: CancelReason::ImmediateOrCancel.byte(),
                            appendage: Appendage::EMPTY,
                        },
                    );
                });
            }
            OrderbookResult::Modified {
                order_id,
                qty,
                old_qty,
                ..
            } => {
                let id = *order_id;
                self.for_order(order_id, |state, urn, out, registry| {
                    let Some(info) = state.orders.get_mut(&urn) else {
                        return;
                    };
                    info.open = qty32(*qty);
                    let pending = std::mem::replace(&mut info.pending, Pending::None);
                    let side = info.side;
                    match pending {
                        Pending::Restore => {}
                        Pending::PartialCancel | Pending::Modify if qty > old_qty => {
                            // The size was computed from a stale view: fills the gateway
                            // had not heard of left the order below it, and the engine's
                            // modify (a new open quantity) grew it. A cancel never grows
                            // an order (spec: superfluous, ignored): set it back.
                            info.pending = Pending::Restore;
                            registry.defer(Command::Modify {
                                instrument_id: info.instrument,
                                order_id: id,
                                price: info.price,
                                qty: *old_qty,
                            });
                        }
                        Pending::Modify => put(
                            out,
                            &Outbound::OrderModified {
                                timestamp: ts,
                                user_ref_num: urn,
                                side,
                                quantity: qty32(*qty),
                                appendage: Appendage::EMPTY,
                            },
                        ),
                        _ => put(
                            out,
                            &Outbound::OrderCanceled {
                                timestamp: ts,
                                user_ref_num: urn,
                                quantity: qty32(old_qty.saturating_sub(*qty)),
                                reason: CancelReason::UserRequested.byte(),
                                appendage: Appendage::EMPTY,
                            },
                        ),
                    }
                });
            }
            _ => {}
        }
    }

    fn on_batch_end(&mut self) {
        self.flush();
    }

    fn finish(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.flush();
        if let Some(e) = self.failed.take() {
            return Err(Box::new(e));
        }
        self.registry.sync_all()?;
        Ok(())
    }

    fn name(&self) -> &str {
        "ouch-responder"
    }
}
