//! What a feed has done, for logs, tests and the bench.

/// Counts since the feed started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    /// ITCH messages published (numbered).
    pub messages: u64,
    /// Downstream data packets sent.
    pub packets: u64,
    /// System calls that sent data, heartbeat and end-of-session packets (several data
    /// packets share one where the kernel has `sendmmsg`).
    pub send_calls: u64,
    /// Heartbeat and end-of-session packets sent.
    pub heartbeats: u64,
    /// Sends that failed (other than a refused unicast destination).
    pub send_errors: u64,
    /// Re-requests answered (in whole or in part).
    pub rerequests: u64,
    /// Messages sent again in answer to re-requests.
    pub retransmitted: u64,
    /// Re-requests refused: another session, or messages no longer held.
    pub refused_rerequests: u64,
    /// GLIMPSE snapshots served.
    pub snapshots: u64,
    /// Orders not published because ITCH cannot carry their price or quantity.
    pub unpublishable: u64,
    /// Wall-clock nanoseconds spent publishing: on the event manager thread from a
    /// batch's first event to its packets sent ([`PublishOn::EventManager`], and the
    /// batches [`PublishOn::Auto`] publishes wholly inline), or on the feed thread per
    /// batch ([`PublishOn::FeedThread`], and the batches `Auto` hands over). Against the run's length, the
    /// share of a thread the feed took: what it costs the engine when it keeps up, and
    /// by how much it cannot.
    ///
    /// [`PublishOn::EventManager`]: super::PublishOn::EventManager
    /// [`PublishOn::FeedThread`]: super::PublishOn::FeedThread
    /// [`PublishOn::Auto`]: super::PublishOn::Auto
    pub publish_ns: u64,
    /// Event-manager batches published wholly inline, on the event manager thread.
    pub batches_inline: u64,
    /// Batches the feed thread published: every batch with [`PublishOn::FeedThread`];
    /// with [`PublishOn::Auto`], each batch handed over (whole, or its rest after the
    /// inline limit).
    ///
    /// [`PublishOn::FeedThread`]: super::PublishOn::FeedThread
    /// [`PublishOn::Auto`]: super::PublishOn::Auto
    pub batches_handed_over: u64,
}
