//! Subscribers: what the event manager hands every numbered result to.
//!
//! Built in: [`JsonlSubscriber`] (the event stream), [`MarketDataSubscriber`] with its
//! queryable [`MarketDataView`] (top of book and depth per instrument), and
//! [`CountingSubscriber`] with its [`EventCounters`].

mod counters;
mod jsonl;
mod market_data;

use std::error::Error;

pub use counters::{CounterSnapshot, CountingSubscriber, EventCounters};
pub use jsonl::JsonlSubscriber;
pub use market_data::{DepthLevel, MarketDataSubscriber, MarketDataView, TopOfBook};

use crate::result::OrderbookResult;

/// One result as the event manager publishes it: numbered, with the sequence number and
/// timestamp of the command that caused it.
#[derive(Clone, Copy, Debug)]
pub struct PublishedEvent<'a> {
    /// The output sequence number: 1 for the first event, then +1 per event, no gaps.
    pub seq: u64,
    /// The global sequence number the sequencer gave the command behind this event.
    pub input_seq: u64,
    /// When the sequencer handled that command, in nanoseconds since the manager started.
    pub timestamp_ns: u64,
    /// The result itself.
    pub result: &'a OrderbookResult,
}

/// A consumer of the event stream, called on the event manager thread (or, with the
/// stages fused, the engine thread: see [`Stages`](crate::Stages)) for every event in
/// output order.
///
/// Keep `on_event` fast: the event manager calls subscribers one after the other, and a
/// slow one holds back the whole pipeline (through backpressure, never by dropping); fused,
/// it holds back matching itself. Never wait on the engine from a subscriber (a `submit`
/// that waits for room in the ingress ring, say): the ring drains only as the events are
/// taken, so such a wait ends only at the publish timeout. Hand such work to a thread of
/// your own.
///
/// # Examples
///
/// ```
/// use ringbook::{PublishedEvent, Subscriber};
///
/// struct Trades(u64);
///
/// impl Subscriber for Trades {
///     fn on_event(&mut self, event: &PublishedEvent<'_>) {
///         if event.result.type_name() == "trade" {
///             self.0 += 1;
///         }
///     }
/// }
/// ```
pub trait Subscriber: Send {
    /// Receives one event.
    fn on_event(&mut self, event: &PublishedEvent<'_>);

    /// Called after each batch of events the event manager took from the ring (fused:
    /// after each batch of commands the engine took): a place to flush buffers when
    /// latency matters more than syscalls.
    fn on_batch_end(&mut self) {}

    /// Called once when the manager stops, after the last event.
    ///
    /// # Errors
    ///
    /// Whatever went wrong in the subscriber's life (a failed write, say); `stop()`
    /// reports it.
    fn finish(&mut self) -> Result<(), Box<dyn Error + Send + Sync>> {
        Ok(())
    }

    /// A name for logs and errors.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
}
