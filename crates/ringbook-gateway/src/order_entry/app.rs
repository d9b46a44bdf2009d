//! The OUCH application over the SoupBinTCP server: one [`OuchSession`] per logged-in
//! user turns inbound messages into engine commands (the engine's events come back
//! through [`super::OuchResponder`]); what the gateway answers itself (a Rejected for a
//! field Ringbook cannot honour, Mass Cancel and Account Query responses) it appends to
//! the user's stream directly.
//!
//! UserRefNum (spec section 2, "UserRefNum"): an Enter Order or Replace Order whose
//! UserRefNum is not above every one the user has used is a retransmission and is
//! ignored (logged at debug level), never taken as a new order. Cancel, Modify and
//! Replace of an order that is not live are ignored too, as the spec says.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ringbook::{Command, OrderbookManagerError, OrderbookManagerService, Uuid};
use ringbook_wire::ouch::inbound::{
    CancelOrder, EnterOrder, Inbound, MassCancel, ModifyOrder, ReplaceOrder,
};
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::ouch::reasons::{CancelReason, RejectCode};
use ringbook_wire::ouch::{Appendage, ClOrdId};
use ringbook_wire::soup::login::LoginRejectReason;

use super::echo::Echo;
use super::engine_order::{EngineOrder, owner_id};
use super::hops::Hop;
use super::order_id::order_id;
use super::state::{OrderInfo, Pending, Registry, UserEntry, UserState, now_since_midnight};
use super::validate::{map_mass_cancel, map_order, map_side};
use crate::soup::{AppSession, Application, DisconnectReason, Stream};

/// How the order-entry application behaves.
#[derive(Clone, Copy, Debug)]
pub struct OrderEntryConfig {
    /// Cancel every order of a user whose session ends (on by default).
    pub cancel_on_disconnect: bool,
}

impl Default for OrderEntryConfig {
    fn default() -> OrderEntryConfig {
        OrderEntryConfig {
            cancel_on_disconnect: true,
        }
    }
}

/// The OUCH application (see the module docs).
pub struct OuchApp {
    engine: Arc<dyn OrderbookManagerService>,
    registry: Arc<Registry>,
    config: OrderEntryConfig,
}

impl std::fmt::Debug for OuchApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OuchApp")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OuchApp {
    /// The application for `engine`, whose subscribers include an [`super::OuchResponder`]
    /// of the same `registry`.
    #[must_use]
    pub fn new(
        engine: Arc<dyn OrderbookManagerService>,
        registry: Arc<Registry>,
        config: OrderEntryConfig,
    ) -> OuchApp {
        if let Some(commands) = registry.take_deferred() {
            super::submitter::spawn(Arc::downgrade(&engine), Arc::clone(&registry), commands);
        }
        OuchApp {
            engine,
            registry,
            config,
        }
    }
}

impl Application for OuchApp {
    type Session = OuchSession;

    fn open(
        &self,
        username: &str,
        _requested_session: &[u8],
    ) -> Result<OuchSession, LoginRejectReason> {
        let entry = self.registry.get_or_create(username).map_err(|e| {
            tracing::error!(user = username, error = %e, "cannot open the user's stream");
            LoginRejectReason::SessionNotAvailable
        })?;
        if entry.active.swap(true, Ordering::AcqRel) {
            return Err(LoginRejectReason::SessionNotAvailable);
        }
        Ok(OuchSession {
            engine: Arc::clone(&self.engine),
            registry: Arc::clone(&self.registry),
            config: self.config,
            entry,
            out: Vec::with_capacity(256),
            batch: Vec::with_capacity(64),
            pending: Vec::with_capacity(PENDING_MAX),
            pending_urns: Vec::with_capacity(PENDING_MAX),
            refusals: Vec::with_capacity(PENDING_MAX),
            ignored: 0,
        })
    }
}

/// One logged-in OUCH user.
pub struct OuchSession {
    engine: Arc<dyn OrderbookManagerService>,
    registry: Arc<Registry>,
    config: OrderEntryConfig,
    entry: Arc<UserEntry>,
    out: Vec<u8>,
    batch: Vec<Command>,
    /// The commands of the socket read being handled, submitted as one batch at its end
    /// ([`AppSession::on_read_end`]), or sooner when [`PENDING_MAX`] are waiting.
    pending: Vec<Command>,
    /// The UserRefNum of each pending command.
    pending_urns: Vec<u32>,
    /// The pending commands the engine refused with an error of the caller's, by index.
    refusals: Vec<(usize, RejectCode)>,
    ignored: u64,
}

/// Pending commands submitted at once, at most: a read of small messages may hold
/// hundreds; the engine claims its ring slots for at most 64 at a time anyway.
const PENDING_MAX: usize = 64;

impl std::fmt::Debug for OuchSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OuchSession")
            .field("user", &self.entry.name)
            .finish_non_exhaustive()
    }
}

/// Appends one message to a stream; a store failure is logged (the message is lost to
/// the client, who sees a gap it cannot fill: the session is closed by the caller).
fn append(
    stream: &Stream,
    out: &mut Vec<u8>,
    message: &Outbound<'_>,
) -> Result<(), crate::soup::StoreError> {
    out.clear();
    message.encode(out);
    stream.append(out).map(|_| ())
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl OuchSession {
    fn reject(
        &mut self,
        state: &UserState,
        urn: u32,
        code: RejectCode,
        cl_ord_id: ClOrdId,
    ) -> Result<(), BoxError> {
        let _ = state;
        append(
            &self.entry.stream,
            &mut self.out,
            &Outbound::Rejected {
                timestamp: now_since_midnight(),
                user_ref_num: urn,
                reason: code.code(),
                cl_ord_id,
                appendage: Appendage::EMPTY,
            },
        )?;
        Ok(())
    }

    /// Queues a command for the engine: the commands of one socket read are submitted
    /// together at its end ([`Self::flush`]), in order.
    fn submit(&mut self, command: Command, urn: u32) -> Result<(), BoxError> {
        self.pending.push(command);
        self.pending_urns.push(urn);
        if self.pending.len() >= PENDING_MAX {
            return self.flush();
        }
        Ok(())
    }

    /// Submits the pending commands as one batch; a refusal that published no reject
    /// event is answered here, in order (Rejected for an add, Cancel Reject otherwise).
    fn flush(&mut self) -> Result<(), BoxError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.refusals.clear();
        let refusals = &mut self.refusals;
        self.engine.submit_batch(&self.pending, &mut |index, e| {
            let code = match e {
                e if e.is_rejected_command() => return,
                OrderbookManagerError::Timeout { .. } => RejectCode::ProcessingError,
                e => {
                    tracing::debug!(error = %e, "engine refused a command");
                    RejectCode::DestinationClosed
                }
            };
            refusals.push((index, code));
        });
        let mut result = Ok(());
        for i in 0..self.refusals.len() {
            let (index, code) = self.refusals[i];
            let (command, urn) = (self.pending[index], self.pending_urns[index]);
            result = result.and(self.refused(command, urn, code));
        }
        self.pending.clear();
        self.pending_urns.clear();
        result
    }

    /// Answers a command the engine refused without publishing a reject event.
    fn refused(&mut self, command: Command, urn: u32, code: RejectCode) -> Result<(), BoxError> {
        let entry = Arc::clone(&self.entry);
        let mut state = entry.state.lock();
        match command {
            Command::Add(_) => {
                let info = state.orders.remove(&urn);
                if let Some(orig) = info.and_then(|i| i.replaces)
                    && let Some(old) = state.orders.get_mut(&orig)
                {
                    old.replaced_by = None;
                }
                let cl = info.map_or([b' '; 14], |i| i.cl_ord_id);
                self.reject(&state, urn, code, cl)
            }
            _ => {
                let replacement = state.orders.get_mut(&urn).and_then(|info| {
                    info.pending = Pending::None;
                    info.replaced_by.take()
                });
                if let Some(r) = replacement {
                    state.orders.remove(&r);
                }
                append(
                    &self.entry.stream,
                    &mut self.out,
                    &Outbound::CancelReject {
                        timestamp: now_since_midnight(),
                        user_ref_num: urn,
                        appendage: Appendage::EMPTY,
                    },
                )?;
                Ok(())
            }
        }
    }

    fn enter(&mut self, m: &EnterOrder<'_>) -> Result<(), BoxError> {
        let urn = m.user_ref_num;
        // The fields borrowed apart: the user's entry is locked through its own field,
        // with no Arc clone (two atomic updates of a line the responder also takes) per
        // message.
        let OuchSession {
            entry,
            registry,
            out,
            ignored,
            ..
        } = self;
        let reject = |out: &mut Vec<u8>, code: RejectCode| -> Result<(), BoxError> {
            append(
                &entry.stream,
                out,
                &Outbound::Rejected {
                    timestamp: now_since_midnight(),
                    user_ref_num: urn,
                    reason: code.code(),
                    cl_ord_id: m.cl_ord_id,
                    appendage: Appendage::EMPTY,
                },
            )?;
            Ok(())
        };
        let command = {
            let mut state = entry.state.lock();
            if urn <= state.last_ref {
                *ignored += 1;
                tracing::debug!(user = %entry.name, urn, last = state.last_ref, "ignoring a UserRefNum not above the last one (a retransmission)");
                return Ok(());
            }
            state.last_ref = urn;
            registry.stamp(entry.key, urn, Hop::Read);
            if state.entry_disabled {
                return reject(out, RejectCode::FirmNotAuthorized);
            }
            let Some(listing) = registry.symbols().by_symbol(&m.symbol).copied() else {
                return reject(out, RejectCode::InvalidSymbol);
            };
            let mapped = match map_order(
                m.side,
                m.quantity,
                m.price,
                m.time_in_force,
                m.display,
                m.capacity,
                m.intermarket_sweep,
                m.cross_type,
                &m.appendage,
                listing.scale,
            ) {
                Ok(mapped) => mapped,
                Err(code) => return reject(out, code),
            };
            if let Some(band) = listing.band
                && let Err(e) = band.check(Some(mapped.price), u64::from(m.quantity))
            {
                tracing::debug!(user = %entry.name(), error = %e, "order refused: outside the price band");
                return reject(out, RejectCode::InvalidPrice);
            }
            state.orders.insert(
                urn,
                OrderInfo {
                    symbol: m.symbol,
                    instrument: listing.instrument,
                    scale: listing.scale,
                    side: m.side,
                    price: mapped.price,
                    open: m.quantity,
                    time_in_force: m.time_in_force,
                    display: m.display,
                    capacity: m.capacity,
                    intermarket_sweep: m.intermarket_sweep,
                    cross_type: m.cross_type,
                    cl_ord_id: m.cl_ord_id,
                    cancel_reason: CancelReason::UserRequested.byte(),
                    pending: Pending::None,
                    replaces: None,
                    replaced_by: None,
                    executed: 0,
                    deferred: None,
                    cancel_when_live: false,
                    max_floor: mapped.max_floor,
                    options: Echo::of(&m.appendage),
                },
            );
            Command::Add(
                EngineOrder {
                    user: entry.key,
                    user_ref_num: urn,
                    instrument: listing.instrument,
                    side: mapped.side,
                    kind: mapped.kind,
                    price: mapped.price,
                    quantity: m.quantity,
                    max_floor: mapped.max_floor,
                }
                .order(),
            )
        };
        self.submit(command, urn)
    }

    /// Replace Order (spec: Replace Order Request). Only the old order's cancel is
    /// submitted here; the responder hands the replacement's add to the submitter once
    /// that cancel is confirmed, at the chain's Quantity less what the old order executed
    /// by then. So a replace that loses the race with a fill of the whole old order is
    /// ignored, as the spec says of a replace of an order no longer live.
    fn replace(&mut self, m: &ReplaceOrder<'_>) -> Result<(), BoxError> {
        let urn = m.user_ref_num;
        let orig = m.orig_user_ref_num;
        let cancel = {
            let entry = Arc::clone(&self.entry);
            let mut state = entry.state.lock();
            // A replace of an order that is not live, or with a used UserRefNum, is
            // ignored (and its UserRefNum not consumed).
            let Some(old) = state.orders.get(&orig).copied().filter(OrderInfo::is_live) else {
                self.ignored += 1;
                return Ok(());
            };
            if urn <= state.last_ref {
                self.ignored += 1;
                return Ok(());
            }
            if state.entry_disabled {
                state.last_ref = urn;
                return self.reject(&state, urn, RejectCode::FirmNotAuthorized, m.cl_ord_id);
            }
            let cancel = Command::Cancel {
                instrument_id: old.instrument,
                order_id: order_id(self.entry.key, orig),
            };
            let mapped = match map_order(
                old.side,
                m.quantity,
                m.price,
                m.time_in_force,
                m.display,
                old.capacity,
                m.intermarket_sweep,
                old.cross_type,
                &m.appendage,
                old.scale,
            ) {
                Ok(mapped) => mapped,
                Err(code) => {
                    // Spec: a live order with invalid replace details is canceled, and
                    // the replacement UserRefNum is not consumed.
                    tracing::debug!(user = %self.entry.name, orig, urn, ?code, "invalid replace: canceling the original");
                    if let Some(o) = state.orders.get_mut(&orig) {
                        o.cancel_reason = CancelReason::UserRequested.byte();
                    }
                    drop(state);
                    return self.submit(cancel, orig);
                }
            };
            if let Some(band) = self
                .registry
                .symbols()
                .by_instrument(&old.instrument)
                .and_then(|listing| listing.band)
                && let Err(e) = band.check(Some(mapped.price), u64::from(m.quantity))
            {
                // An out-of-band price is an invalid replace detail like any other: the
                // original is canceled and the replacement UserRefNum is not consumed.
                tracing::debug!(user = %self.entry.name, orig, urn, error = %e, "replace outside the price band: canceling the original");
                if let Some(o) = state.orders.get_mut(&orig) {
                    o.cancel_reason = CancelReason::UserRequested.byte();
                }
                drop(state);
                return self.submit(cancel, orig);
            }
            state.last_ref = urn;
            if let Some(o) = state.orders.get_mut(&orig) {
                o.replaced_by = Some(urn);
            }
            state.orders.insert(
                urn,
                OrderInfo {
                    price: mapped.price,
                    open: m.quantity,
                    time_in_force: m.time_in_force,
                    display: m.display,
                    intermarket_sweep: m.intermarket_sweep,
                    cl_ord_id: m.cl_ord_id,
                    cancel_reason: CancelReason::UserRequested.byte(),
                    pending: Pending::None,
                    replaces: Some(orig),
                    replaced_by: None,
                    deferred: Some((mapped.side, mapped.kind)),
                    cancel_when_live: false,
                    max_floor: mapped.max_floor,
                    options: Echo::of(&m.appendage),
                    ..old
                },
            );
            cancel
        };
        self.submit(cancel, orig)
    }

    fn cancel(&mut self, m: &CancelOrder<'_>) -> Result<(), BoxError> {
        let urn = m.user_ref_num;
        let command = {
            let entry = Arc::clone(&self.entry);
            let mut state = entry.state.lock();
            let Some(info) = state
                .orders
                .get_mut(&urn)
                .filter(|o| o.replaced_by.is_none())
            else {
                self.ignored += 1;
                return Ok(());
            };
            if info.deferred.is_some() {
                // A replacement not live yet: a full cancel takes effect when it is; a
                // partial one is ignored (documented in docs/OUCH.md).
                if m.quantity == 0 {
                    info.cancel_when_live = true;
                    info.cancel_reason = CancelReason::UserRequested.byte();
                } else {
                    self.ignored += 1;
                }
                return Ok(());
            }
            let id = order_id(self.entry.key, urn);
            if m.quantity == 0 {
                info.cancel_reason = CancelReason::UserRequested.byte();
                Command::Cancel {
                    instrument_id: info.instrument,
                    order_id: id,
                }
            } else if m.quantity >= info.open || info.pending == Pending::Restore {
                // Nothing to take off (or the gateway is setting the order back to the
                // size a stale request grew it from: ignored as superfluous meanwhile).
                self.ignored += 1;
                return Ok(());
            } else {
                info.pending = Pending::PartialCancel;
                Command::Modify {
                    instrument_id: info.instrument,
                    order_id: id,
                    price: info.price,
                    qty: u64::from(m.quantity),
                }
            }
        };
        self.submit(command, urn)
    }

    fn modify(&mut self, m: &ModifyOrder<'_>) -> Result<(), BoxError> {
        let urn = m.user_ref_num;
        let command = {
            let entry = Arc::clone(&self.entry);
            let mut state = entry.state.lock();
            let Some(info) = state.orders.get(&urn).copied().filter(OrderInfo::is_live) else {
                self.ignored += 1;
                return Ok(());
            };
            let cl = info.cl_ord_id;
            if map_side(m.side).is_err() || m.side != info.side {
                return self.reject(&state, urn, RejectCode::InvalidSide, cl);
            }
            if m.quantity == 0 {
                // Spec: "Entering a zero here will cancel any remaining open shares".
                if let Some(o) = state.orders.get_mut(&urn) {
                    o.cancel_reason = CancelReason::UserRequested.byte();
                }
                Command::Cancel {
                    instrument_id: info.instrument,
                    order_id: order_id(self.entry.key, urn),
                }
            } else if m.quantity > info.open || info.pending == Pending::Restore {
                // Spec: "Increasing share amount is not allowed and requests to do so will
                // be ignored" (and meanwhile a stale request is being set back).
                self.ignored += 1;
                return Ok(());
            } else {
                if let Some(o) = state.orders.get_mut(&urn) {
                    o.pending = Pending::Modify;
                }
                Command::Modify {
                    instrument_id: info.instrument,
                    order_id: order_id(self.entry.key, urn),
                    price: info.price,
                    qty: u64::from(m.quantity),
                }
            }
        };
        self.submit(command, urn)
    }

    /// Cancels every order (of `symbol`, unless blank) with `reason`.
    fn cancel_all(&mut self, symbol: Option<[u8; 8]>, reason: CancelReason) {
        // The commands before it go first.
        if let Err(e) = self.flush() {
            tracing::warn!(user = %self.entry.name, error = %e, "cannot answer a refused command");
        }
        self.batch.clear();
        {
            let entry = Arc::clone(&self.entry);
            let mut state = entry.state.lock();
            for (urn, info) in &mut state.orders {
                if info.replaced_by.is_some() || symbol.is_some_and(|s| s != info.symbol) {
                    continue;
                }
                info.cancel_reason = reason.byte();
                if info.deferred.is_some() {
                    // Not live yet: canceled as soon as it is.
                    info.cancel_when_live = true;
                    continue;
                }
                self.batch.push(Command::Cancel {
                    instrument_id: info.instrument,
                    order_id: order_id(self.entry.key, *urn),
                });
            }
        }
        let name = &self.entry.name;
        self.engine.submit_batch(&self.batch, &mut |_, e| {
            if !e.is_rejected_command() {
                tracing::warn!(user = %name, error = %e, "cannot cancel an order");
            }
        });
        self.batch.clear();
    }

    /// Mass Cancel Request: one engine `mass_cancel` of the user's owner id per book the
    /// user has matching orders in (on the Side option's side, if given). The engine
    /// cancels those orders only; each is answered by Order Canceled, reason `U`.
    fn mass_cancel(&mut self, m: &MassCancel<'_>) -> Result<(), BoxError> {
        // The commands before it go first, their answers before its response.
        self.flush()?;
        let side = match map_mass_cancel(&m.appendage) {
            Ok(side) => side,
            Err(code) => {
                let entry = Arc::clone(&self.entry);
                let state = entry.state.lock();
                return self.reject(&state, m.user_ref_num, code, [b' '; 14]);
            }
        };
        append(
            &self.entry.stream,
            &mut self.out,
            &Outbound::MassCancelResponse {
                timestamp: now_since_midnight(),
                user_ref_num: m.user_ref_num,
                firm: m.firm,
                symbol: m.symbol,
                appendage: Appendage::EMPTY,
            },
        )?;
        let symbol = (m.symbol != [b' '; 8]).then_some(m.symbol);
        let owner = Some(owner_id(self.entry.key));
        self.batch.clear();
        {
            let entry = Arc::clone(&self.entry);
            let mut state = entry.state.lock();
            for info in state.orders.values_mut() {
                let side_matches = side.is_none() || map_side(info.side).ok() == side;
                // An order being replaced is canceled by its replace already.
                if info.replaced_by.is_some()
                    || symbol.is_some_and(|s| s != info.symbol)
                    || !side_matches
                {
                    continue;
                }
                info.cancel_reason = CancelReason::UserRequested.byte();
                if info.deferred.is_some() {
                    // Not live yet: canceled as soon as it is.
                    info.cancel_when_live = true;
                    continue;
                }
                let command = Command::MassCancel {
                    instrument_id: info.instrument,
                    owner,
                    side,
                };
                if !self.batch.contains(&command) {
                    self.batch.push(command);
                }
            }
        }
        let name = &self.entry.name;
        self.engine.submit_batch(&self.batch, &mut |_, e| {
            if !e.is_rejected_command() {
                tracing::warn!(user = %name, error = %e, "cannot mass cancel");
            }
        });
        self.batch.clear();
        Ok(())
    }

    /// UserRefNums ignored as retransmissions, and requests for orders not live.
    #[must_use]
    pub fn ignored(&self) -> u64 {
        self.ignored
    }
}

impl AppSession for OuchSession {
    fn stream(&self) -> &Arc<Stream> {
        &self.entry.stream
    }

    fn on_message(&mut self, payload: &[u8]) -> Result<(), BoxError> {
        let message = Inbound::decode(payload)?;
        match &message {
            Inbound::EnterOrder(m) => self.enter(m),
            Inbound::ReplaceOrder(m) => self.replace(m),
            Inbound::CancelOrder(m) => self.cancel(m),
            Inbound::ModifyOrder(m) => self.modify(m),
            Inbound::MassCancel(m) => self.mass_cancel(m),
            Inbound::DisableOrderEntry(m) | Inbound::EnableOrderEntry(m) => {
                let disable = matches!(message, Inbound::DisableOrderEntry(_));
                self.entry.state.lock().entry_disabled = disable;
                append(
                    &self.entry.stream,
                    &mut self.out,
                    &Outbound::OrderEntryResponse {
                        disable,
                        timestamp: now_since_midnight(),
                        user_ref_num: m.user_ref_num,
                        firm: m.firm,
                        appendage: Appendage::EMPTY,
                    },
                )?;
                Ok(())
            }
            Inbound::AccountQuery(_) => {
                let next = self.entry.state.lock().last_ref.saturating_add(1);
                append(
                    &self.entry.stream,
                    &mut self.out,
                    &Outbound::AccountQueryResponse {
                        timestamp: now_since_midnight(),
                        next_user_ref_num: next,
                        appendage: Appendage::EMPTY,
                    },
                )?;
                Ok(())
            }
        }
    }

    fn on_read_end(&mut self) -> Result<(), BoxError> {
        self.flush()
    }

    fn on_disconnect(&mut self, reason: &DisconnectReason) {
        // The commands of the read that ended the session (a logout after them, or a
        // message in error) were taken from the client: they go in first.
        if let Err(e) = self.flush() {
            tracing::warn!(user = %self.entry.name, error = %e, "cannot answer a refused command");
        }
        if self.config.cancel_on_disconnect && !matches!(reason, DisconnectReason::EndOfSession) {
            self.cancel_all(None, CancelReason::SystemCancel);
        }
        self.entry.active.store(false, Ordering::Release);
    }
}

/// The engine order id of a user's UserRefNum (for tools and tests).
#[must_use]
pub fn engine_order_id(username: &str, user_ref_num: u32) -> Uuid {
    order_id(super::order_id::user_key(username.as_bytes()), user_ref_num)
}
