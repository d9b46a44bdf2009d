//! The publisher's state behind one lock: the translator and its mirrors, the packet
//! being built, the sequence numbers, the retransmission buffer and the socket. The event
//! manager thread (through the subscriber), the heartbeat timer, the re-request server and
//! the GLIMPSE server each take the lock briefly, so a snapshot or a retransmission always
//! sees the state between two events: consistent with exactly one sequence number.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use ringbook::{BookSnapshot, PublishedEvent};
use ringbook_wire::itch::ItchMessage;
use ringbook_wire::mold::{PacketBuilder, PacketKind, Session, control_packet};

use super::burst::PacketBurst;
use super::event::FeedItem;
use super::retransmit::RetransmitBuffer;
use super::send_clock::SendClock;
use super::sendmmsg::send_burst;
use super::stats::FeedStats;
use super::store::MessageFile;
use super::translate::{MessageSink, Translator};

/// The publisher's state.
#[derive(Debug)]
pub(crate) struct FeedCore {
    pub(crate) translator: Translator,
    pub(crate) session: Session,
    /// Where the translator's messages go: kept whole, so that translating an event
    /// hands the translator one `&mut` (nothing to assemble per event).
    pub(crate) out: Outlet,
    scratch: Vec<ItchMessage>,
    pub(crate) ended: bool,
    pub(crate) last_engine_ns: u64,
}

impl FeedCore {
    pub(crate) fn new(
        translator: Translator,
        session: Session,
        max_packet: usize,
        retransmit_capacity: usize,
        socket: UdpSocket,
        destination: SocketAddr,
    ) -> FeedCore {
        FeedCore {
            translator,
            session,
            out: Outlet {
                builder: PacketBuilder::new(session, max_packet),
                burst: PacketBurst::new(max_packet),
                packet_first: 1,
                retransmit: RetransmitBuffer::new(retransmit_capacity),
                file: None,
                socket,
                destination,
                clock: Arc::new(SendClock::new()),
                stats: FeedStats::default(),
            },
            scratch: Vec::with_capacity(64),
            ended: false,
            last_engine_ns: 0,
        }
    }

    /// The sequence number the next message gets.
    pub(crate) fn next_seq(&self) -> u64 {
        self.out.retransmit.next_seq()
    }

    /// Publishes the opening messages and sends them.
    pub(crate) fn open(&mut self) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.translator.start(0, &mut scratch);
        self.publish(&mut scratch);
        self.scratch = scratch;
        self.flush();
    }

    /// Translates one engine event; its messages are numbered, stored and packed as the
    /// translator makes them.
    #[inline]
    pub(crate) fn on_event(&mut self, event: &PublishedEvent<'_>) {
        if self.ended {
            return;
        }
        self.last_engine_ns = event.timestamp_ns;
        self.translator.translate(event, &mut self.out);
    }

    /// Translates one event handed over by the event manager thread.
    #[inline]
    pub(crate) fn on_item(&mut self, item: &FeedItem) {
        if self.ended {
            return;
        }
        self.last_engine_ns = item.timestamp_ns;
        self.translator.apply(
            item.timestamp_ns,
            item.book.as_u128(),
            &item.event,
            &mut self.out,
        );
    }

    /// Translates a book snapshot (the messages of a book the feed mirrors nothing of).
    pub(crate) fn on_snapshot(&mut self, timestamp_ns: u64, book: u128, snapshot: &BookSnapshot) {
        if self.ended {
            return;
        }
        self.last_engine_ns = timestamp_ns;
        self.translator
            .seed_book(timestamp_ns, book, snapshot, &mut self.out);
    }

    /// Numbers, stores and packs messages.
    fn publish(&mut self, messages: &mut Vec<ItchMessage>) {
        for message in messages.drain(..) {
            self.out.push(message);
        }
    }

    /// Sends the packet being built and every packet waiting: at the end of the event
    /// manager's batch, and before anything else is sent.
    pub(crate) fn flush(&mut self) {
        self.out.seal();
        self.out.send_burst();
    }

    /// Sends a heartbeat (or, once ended, an end-of-session packet).
    pub(crate) fn control(&mut self) {
        self.flush();
        let kind = if self.ended {
            PacketKind::EndOfSession
        } else {
            PacketKind::Heartbeat
        };
        let packet = control_packet(self.session, self.next_seq(), kind);
        let out = &mut self.out;
        let result = out.socket.send(&packet);
        out.stats.send_calls += 1;
        out.clock.sent();
        if let Err(e) = result {
            count_error(&mut out.stats.send_errors, out.destination, &e);
        }
        out.stats.heartbeats += 1;
    }

    /// Publishes End of Messages and ends the session.
    pub(crate) fn end(&mut self) {
        if self.ended {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        self.translator.end(self.last_engine_ns, &mut scratch);
        self.publish(&mut scratch);
        self.scratch = scratch;
        self.flush();
        if let Some(file) = self.out.file.as_mut() {
            file.flush();
        }
        self.ended = true;
        self.control();
    }
}

/// Where messages go: numbered (the retransmission buffer), stored (the message file),
/// packed (the packet being built), and packets sent in bursts.
#[derive(Debug)]
pub(crate) struct Outlet {
    builder: PacketBuilder,
    /// Finished packets not yet sent: sent together at the end of the event manager's
    /// batch (or when the burst is full), with one system call.
    burst: PacketBurst,
    /// The sequence number of the first message in the packet being built.
    packet_first: u64,
    pub(crate) retransmit: RetransmitBuffer,
    /// Every message on disk, when the feed has a store directory.
    pub(crate) file: Option<MessageFile>,
    socket: UdpSocket,
    destination: SocketAddr,
    /// When the last datagram left, for the feed thread's heartbeats.
    pub(crate) clock: Arc<SendClock>,
    pub(crate) stats: FeedStats,
}

impl MessageSink for Outlet {
    /// Numbers, stores and packs one message, moving the packet to the burst when the
    /// message does not fit it. Inlined into each place the translator makes a message,
    /// so the message's kind is known there: no match on it, no enum moved.
    #[inline(always)]
    fn push(&mut self, message: ItchMessage) {
        let len = message.len();
        if !self.builder.fits(len) {
            self.seal();
        }
        // Encoded once, straight into its retransmission slot, and copied from there.
        let (slot, len) = self.retransmit.push_with(|slot| message.encode(slot));
        // A message always fits an empty packet: the configuration checked the size.
        self.builder.push_block(slot, len);
        if let Some(file) = self.file.as_mut() {
            file.push(&slot[..len]);
        }
        self.stats.messages += 1;
    }
}

impl Outlet {
    /// Finishes the packet being built, if it holds anything, into the burst; sends the
    /// burst when it is full.
    #[inline(never)]
    fn seal(&mut self) {
        if self.builder.count() == 0 {
            return;
        }
        let first = self.packet_first;
        self.packet_first = self.retransmit.next_seq();
        let packet = self.builder.finish(first);
        self.stats.packets += 1;
        if self.burst.push(packet) {
            self.send_burst();
        }
    }

    /// Sends every finished packet, in order.
    fn send_burst(&mut self) {
        if self.burst.is_empty() {
            return;
        }
        let (stats, destination) = (&mut self.stats, self.destination);
        let outcome = send_burst(&self.socket, &self.burst, &mut |e| {
            count_error(&mut stats.send_errors, destination, &e);
        });
        self.stats.send_calls += outcome.calls;
        self.clock.sent();
        self.burst.clear();
    }
}

/// Counts a failed send, logging the first. A unicast destination with no reader answers
/// with ICMP: nothing is lost (the receiver recovers through re-requests or a snapshot),
/// so a refusal is not counted.
fn count_error(send_errors: &mut u64, destination: SocketAddr, e: &io::Error) {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        return;
    }
    if *send_errors == 0 {
        tracing::warn!(destination = %destination, error = %e, "feed send failed");
    }
    *send_errors += 1;
}

/// Locks the core. A `parking_lot` lock: one atomic operation each way and no poisoning
/// (a panic elsewhere leaves the state as consistent as between two events: every update
/// is made under the lock).
pub(crate) fn lock(core: &Mutex<FeedCore>) -> MutexGuard<'_, FeedCore> {
    core.lock()
}
