//! The LMAX-style pipeline behind the manager: rings and the threads between them.
//!
//! ```text
//! callers -> ingress ring (multi-producer) -> sequencer -> one inbound ring per book
//!         -> book consumers -> outbound ring (shared by every book) -> event manager
//!         -> subscribers
//! ```
//!
//! Every ring is a `disruptor` ring buffer read through an `EventPoller` on a thread of
//! ours, so each thread chooses how to wait, can own several rings, and can be shut down
//! by a marker that travels behind the last command.
//!
//! The outbound ring is a multi-producer ring when several book consumers share it, and a
//! single-producer ring when one consumer owns every book (the default): its reader then
//! polls one cursor instead of a bit per slot. Rejects for instruments that are not
//! registered go through the first book's ring (its consumer publishes them without
//! touching the book), so the sequencer never writes to the outbound ring, except when
//! there is no book at all and it is the ring's only producer.

mod affinity;
mod backpressure;
mod book_consumer;
mod entry;
mod event_manager;
mod publish;
mod sequencer;
mod slot_flags;
mod snapshot_writer;
mod wait;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use disruptor::{
    BusySpin, EventPoller, MultiProducer, MultiProducerBarrier, SingleConsumerBarrier,
    SingleProducer, SingleProducerBarrier, build_multi_producer, build_single_producer,
};
use uuid::Uuid;

pub(crate) use affinity::validate_cores;
pub use affinity::{available_cores, parse_core_list};
pub use backpressure::{Backpressure, RingWaits};
pub(crate) use backpressure::{BackpressureCounters, FullRingWait, Ring};
pub(crate) use entry::{Envelope, IngressEntry, NO_SLOT};
pub(crate) use slot_flags::{SlotFlag, SlotFlags};
pub(crate) use wait::{Doorbell, ROOM_PAUSE, RoomBell};
pub use wait::{ParseWaitStrategyError, WaitStrategy};

use crate::book::OrderBook;
use crate::journal::JournalWriter;
use crate::manager::{ManagerConfig, OrderbookManagerError};
use crate::registry::InstrumentRegistry;
use crate::subscriber::Subscriber;
use book_consumer::{BookConsumer, ConsumerSetup, OwnedBook};
use entry::{InboundEntry, OutboundEntry};
use event_manager::EventManager;
use sequencer::{Sequencer, SequencerSetup};

/// The callers' handle on the ingress ring.
pub(crate) type IngressProducer = MultiProducer<IngressEntry, SingleConsumerBarrier>;
pub(crate) type IngressPoller = EventPoller<IngressEntry, MultiProducerBarrier>;
type InboundProducer = SingleProducer<InboundEntry, SingleConsumerBarrier>;
type InboundPoller = EventPoller<InboundEntry, SingleProducerBarrier>;
/// The outbound ring's producer when it has one: the one book consumer, or the sequencer
/// when there is no book.
type OutboundSingle = SingleProducer<OutboundEntry, SingleConsumerBarrier>;
/// A book consumer's producer on an outbound ring shared by several.
type OutboundMulti = MultiProducer<OutboundEntry, SingleConsumerBarrier>;

/// The event manager's side of the outbound ring. With one producer the ring is a
/// single-producer ring, whose poll reads one cursor; with several, a multi-producer ring,
/// whose poll checks each slot's availability bit (about 20 instructions a result).
enum OutboundPoller {
    Single(EventPoller<OutboundEntry, SingleProducerBarrier>),
    Multi(EventPoller<OutboundEntry, MultiProducerBarrier>),
}

impl OutboundPoller {
    /// Whether a result waits to be read.
    fn has_available(&self) -> bool {
        match self {
            OutboundPoller::Single(poller) => poller.has_available(),
            OutboundPoller::Multi(poller) => poller.has_available(),
        }
    }
}

/// The producers' side of the outbound ring, as built, before it is handed out.
enum OutboundProducers {
    Single(OutboundSingle),
    Multi(OutboundMulti),
}

/// A thread's failure, as it reports it when joined.
#[derive(Debug)]
pub(crate) struct ThreadFailure {
    pub(crate) instruments: Vec<Uuid>,
    pub(crate) lost_commands: u64,
    pub(crate) message: String,
}

/// What a pipeline thread returns when it ends: its failures, and (a book consumer) the
/// books it owned, by slot.
#[derive(Default)]
pub(crate) struct ThreadReport {
    pub(crate) failures: Vec<ThreadFailure>,
    pub(crate) books: Vec<(u32, OrderBook)>,
}

/// What a pipeline starts from besides its configuration: the books (fresh or recovered),
/// the last sequence number used, and the durability parts.
pub(crate) struct Start {
    /// One book per registered instrument, in slot order.
    pub(crate) books: Vec<OrderBook>,
    /// The last sequence number already used (0 for a new engine).
    pub(crate) last_seq: u64,
    /// The events already published for the commands up to `last_seq` (0 for a new
    /// engine): the event manager numbers on from the next.
    pub(crate) events: u64,
    /// The journal, if the engine keeps one.
    pub(crate) journal: Option<JournalWriter>,
    /// Where snapshots go, and after how many commands one is taken automatically.
    pub(crate) snapshots: Option<SnapshotPlan>,
    /// Set by the sequencer when the journal fails.
    pub(crate) intake_failed: Arc<AtomicBool>,
}

/// Where snapshots go, when they are taken automatically, and how many are kept.
pub(crate) struct SnapshotPlan {
    /// The journal directory.
    pub(crate) dir: PathBuf,
    /// Take one after this many commands; `None`: only on request.
    pub(crate) every: Option<u64>,
    /// Prune after each snapshot, keeping this many; `None`: keep everything.
    pub(crate) keep: Option<usize>,
}

/// The running threads of one pipeline.
pub(crate) struct Pipeline {
    threads: Vec<(String, JoinHandle<ThreadReport>)>,
    /// Rung by callers after they publish into the ingress ring.
    sequencer_bell: Arc<Doorbell>,
}

/// Shared state the pipeline threads read.
pub(crate) struct Shared {
    pub(crate) registry: Arc<InstrumentRegistry>,
    /// Rung by the sequencer as it frees ingress slots; callers wait on it when the ring is full.
    pub(crate) ingress_room: Arc<RoomBell>,
    /// The halted and failed bits of every slot (book consumers set the failed bits).
    pub(crate) flags: Arc<SlotFlags>,
    pub(crate) epoch: Instant,
    /// Where every producer counts its waits on a full ring.
    pub(crate) backpressure: Arc<BackpressureCounters>,
}

/// A new ingress ring of `size` slots: the callers' first producer and the sequencer's
/// poller. Built with the manager, so callers have a producer before `start`.
pub(crate) fn ingress_ring(size: usize) -> (IngressProducer, IngressPoller) {
    let (poller, builder) =
        build_multi_producer(size, IngressEntry::default, BusySpin).new_event_poller();
    (builder.build(), poller)
}

impl Pipeline {
    /// Builds the inbound and outbound rings and starts every thread: the sequencer, the
    /// book consumers (books dealt out round-robin by slot) and the event manager.
    pub(crate) fn start(
        shared: Shared,
        config: &ManagerConfig,
        ingress: IngressPoller,
        subscribers: Vec<Box<dyn Subscriber>>,
        start: Start,
    ) -> Result<Pipeline, OrderbookManagerError> {
        let instruments = shared.registry.len();
        let consumers = config.consumers.min(instruments);
        // The outbound ring's producers: the book consumers, or the sequencer alone when
        // there is no book (it then publishes the rejects itself).
        let producers = consumers.max(1);
        let (out_poller, outbound) = if producers == 1 {
            let (poller, builder) =
                build_single_producer(config.outbound_ring_size, OutboundEntry::default, BusySpin)
                    .new_event_poller();
            (
                OutboundPoller::Single(poller),
                OutboundProducers::Single(builder.build()),
            )
        } else {
            let (poller, builder) =
                build_multi_producer(config.outbound_ring_size, OutboundEntry::default, BusySpin)
                    .new_event_poller();
            (
                OutboundPoller::Multi(poller),
                OutboundProducers::Multi(builder.build()),
            )
        };
        let (sequencer_outbound, consumer_outbound) = match outbound {
            OutboundProducers::Single(single) if consumers == 0 => (Some(single), None),
            outbound => (None, Some(outbound)),
        };

        let inbound_size = config.inbound_ring_size_for(instruments);
        let outbound_room = Arc::new(RoomBell::default());
        let mut inbound_producers = Vec::with_capacity(instruments);
        let mut inbound_rooms = Vec::with_capacity(instruments);
        let mut workers: Vec<Vec<OwnedBook>> = (0..consumers).map(|_| Vec::new()).collect();
        debug_assert_eq!(start.books.len(), instruments);
        for (slot, book) in start.books.into_iter().enumerate() {
            let (poller, builder) =
                build_single_producer(inbound_size, InboundEntry::default, BusySpin)
                    .new_event_poller();
            inbound_producers.push(builder.build());
            let room = Arc::new(RoomBell::default());
            inbound_rooms.push(Arc::clone(&room));
            workers[slot % consumers].push(OwnedBook::new(book, poller, slot as u32, room));
        }

        let cores = config.cores.clone().unwrap_or_default();
        let core_for = |thread_index: usize| -> Option<usize> {
            (!cores.is_empty()).then(|| cores[thread_index % cores.len()])
        };
        let sequencer_bell = Arc::new(Doorbell::default());
        let consumer_bells: Vec<Arc<Doorbell>> = (0..consumers)
            .map(|_| Arc::new(Doorbell::default()))
            .collect();
        let events_bell = Arc::new(Doorbell::default());
        let mut pipeline = Pipeline {
            threads: Vec::with_capacity(consumers + 3),
            sequencer_bell: Arc::clone(&sequencer_bell),
        };
        let snapshot_every = start.snapshots.as_ref().and_then(|plan| plan.every);
        let events_before = start.events;
        let checkpoints = match start.snapshots {
            Some(SnapshotPlan { dir, keep, .. }) if instruments > 0 => {
                let (tx, rx) = crossbeam_channel::unbounded();
                pipeline.spawn("rb-snapshots".into(), None, move || {
                    snapshot_writer::run(rx, instruments, events_before, &dir, keep)
                })?;
                Some(tx)
            }
            _ => None,
        };
        let sequencer = Sequencer::new(
            ingress,
            inbound_producers,
            sequencer_outbound,
            SequencerSetup {
                rooms: sequencer::Rooms {
                    ingress: Arc::clone(&shared.ingress_room),
                    inbound: inbound_rooms,
                    outbound: Arc::clone(&outbound_room),
                    backpressure: Arc::clone(&shared.backpressure),
                },
                registry: Arc::clone(&shared.registry),
                epoch: shared.epoch,
                wait: config.wait_strategy,
                bells: sequencer::Bells {
                    own: sequencer_bell,
                    consumers: consumer_bells.clone(),
                    events: Arc::clone(&events_bell),
                },
                last_seq: start.last_seq,
                journal: start.journal,
                snapshot_every,
                intake_failed: start.intake_failed,
            },
        );
        pipeline.spawn("rb-sequencer".into(), core_for(0), move || sequencer.run())?;
        let setup_for = |index: usize| ConsumerSetup {
            flags: Arc::clone(&shared.flags),
            wait: config.wait_strategy,
            batch_size: config.batch_size,
            outbound_size: config.outbound_ring_size,
            bell: Arc::clone(&consumer_bells[index]),
            events_bell: Arc::clone(&events_bell),
            outbound_room: Arc::clone(&outbound_room),
            backpressure: Arc::clone(&shared.backpressure),
            checkpoints: checkpoints.clone(),
        };
        let name = |index: usize| format!("rb-book-{index}");
        match consumer_outbound {
            // One consumer: the ring's only producer.
            Some(OutboundProducers::Single(single)) => {
                if let Some(books) = workers.into_iter().next() {
                    let consumer = BookConsumer::new(0, books, single, setup_for(0));
                    pipeline.spawn(name(0), core_for(1), move || consumer.run())?;
                }
            }
            Some(OutboundProducers::Multi(multi)) => {
                for (index, books) in workers.into_iter().enumerate() {
                    let consumer = BookConsumer::new(index, books, multi.clone(), setup_for(index));
                    pipeline.spawn(name(index), core_for(1 + index), move || consumer.run())?;
                }
            }
            None => {}
        }
        drop(checkpoints);
        let events = EventManager::new(
            out_poller,
            subscribers,
            events_before,
            producers,
            config.wait_strategy,
            events_bell,
            outbound_room,
        );
        pipeline.spawn("rb-events".into(), core_for(consumers + 1), move || {
            events.run()
        })?;
        Ok(pipeline)
    }

    fn spawn(
        &mut self,
        name: String,
        core: Option<usize>,
        body: impl FnOnce() -> ThreadReport + Send + 'static,
    ) -> Result<(), OrderbookManagerError> {
        let handle = thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                if let Some(core) = core {
                    affinity::pin_current(core);
                }
                body()
            })
            .map_err(|source| OrderbookManagerError::ThreadSpawn {
                thread: name.clone(),
                source,
            })?;
        self.threads.push((name, handle));
        Ok(())
    }

    /// The bell callers ring after publishing into the ingress ring.
    pub(crate) fn sequencer_bell(&self) -> Arc<Doorbell> {
        Arc::clone(&self.sequencer_bell)
    }

    /// Waits for every thread to end; gathers their failures, in thread order, and the
    /// books, in slot order (a book whose thread panicked is missing).
    pub(crate) fn join(self) -> (Vec<OrderbookManagerError>, Vec<OrderBook>) {
        let mut errors = Vec::new();
        let mut books = Vec::new();
        for (thread, handle) in self.threads {
            match handle.join() {
                Ok(report) => {
                    errors.extend(report.failures.into_iter().map(|f| {
                        OrderbookManagerError::CloseOrderbookError {
                            thread: thread.clone(),
                            instruments: f.instruments,
                            lost_commands: f.lost_commands,
                            message: f.message,
                        }
                    }));
                    books.extend(report.books);
                }
                Err(payload) => errors.push(OrderbookManagerError::CloseOrderbookError {
                    thread: thread.clone(),
                    instruments: Vec::new(),
                    lost_commands: 0,
                    message: panic_message(payload.as_ref()),
                }),
            }
        }
        books.sort_by_key(|(slot, _)| *slot);
        (errors, books.into_iter().map(|(_, book)| book).collect())
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked with a non-string payload".to_string()
    }
}

/// Nanoseconds since `epoch`, saturating.
#[inline]
pub(crate) fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
