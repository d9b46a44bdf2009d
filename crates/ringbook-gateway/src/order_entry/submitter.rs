//! The thread that submits what the responder hands back ([`Registry::defer`]): a
//! replacement's add once the old order's cancel is confirmed, or the cancel of a
//! replacement canceled before it was live. The responder runs on the engine's event
//! thread, which must never wait on the engine's inbound rings; this thread may.
//!
//! A command the engine cannot take is answered as the session would have: Rejected for
//! the replacement (with an Order Canceled for the old order, gone already).

use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use ringbook::{Command, OrderbookManagerError, OrderbookManagerService};
use ringbook_wire::ouch::Appendage;
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::ouch::reasons::{CancelReason, RejectCode};

use super::deferred::DeferredQueue;
use super::order_id::owner_of;
use super::state::{Registry, now_since_midnight};

/// How often the thread checks whether the engine is gone (it is woken sooner for commands).
const POLL: Duration = Duration::from_millis(200);

/// Starts the submitter; it ends when the engine is dropped.
pub(crate) fn spawn(
    engine: Weak<dyn OrderbookManagerService>,
    registry: Arc<Registry>,
    commands: Arc<DeferredQueue>,
) {
    let spawned = thread::Builder::new()
        .name("ouch-submitter".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(64);
            loop {
                commands.take(&mut batch, POLL);
                if batch.is_empty() {
                    if engine.strong_count() == 0 {
                        return;
                    }
                    continue;
                }
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                for command in batch.drain(..) {
                    match engine.submit(command) {
                        Ok(()) => {}
                        Err(e) if e.is_rejected_command() => {}
                        Err(OrderbookManagerError::Timeout { .. }) => {
                            refuse(&registry, &command, RejectCode::ProcessingError);
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "engine refused a deferred command");
                            refuse(&registry, &command, RejectCode::DestinationClosed);
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the OUCH submitter thread");
    }
}

/// Tells the owner of a replacement the engine did not take that it is rejected and
/// that the old order is gone.
fn refuse(registry: &Registry, command: &Command, code: RejectCode) {
    let Command::Add(order) = command else {
        tracing::warn!(?command, "the engine did not take a deferred cancel");
        return;
    };
    let Some((key, urn)) = owner_of(&order.order_id) else {
        return;
    };
    let Some(entry) = registry.get(key) else {
        return;
    };
    let mut state = entry.state.lock();
    let Some(info) = state.orders.remove(&urn) else {
        return;
    };
    let old = info.replaces.and_then(|orig| state.orders.remove(&orig));
    drop(state);
    let now = now_since_midnight();
    let mut out = Vec::with_capacity(64);
    let mut messages = Vec::with_capacity(2);
    if let (Some(orig), Some(old)) = (info.replaces, old) {
        messages.push(Outbound::OrderCanceled {
            timestamp: now,
            user_ref_num: orig,
            quantity: old.open,
            reason: CancelReason::UserRequested.byte(),
            appendage: Appendage::EMPTY,
        });
    }
    messages.push(Outbound::Rejected {
        timestamp: now,
        user_ref_num: urn,
        reason: code.code(),
        cl_ord_id: info.cl_ord_id,
        appendage: Appendage::EMPTY,
    });
    for message in messages {
        out.clear();
        message.encode(&mut out);
        if let Err(e) = entry.stream.append(&out) {
            tracing::error!(error = %e, user = %entry.name, "cannot store an OUCH message");
        }
    }
}
