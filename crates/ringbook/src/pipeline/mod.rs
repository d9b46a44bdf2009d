//! The LMAX-style pipeline behind the manager: rings and the threads between them.
//!
//! ```text
//! callers -> ingress ring (multi-producer) -> sequencer -> one inbound ring per book
//!         -> book consumers -> outbound ring (shared by every book) -> event manager
//!         -> subscribers
//! ```
//!
//! The ingress and outbound rings are `disruptor` ring buffers read through an
//! `EventPoller` on a thread of ours, so each thread chooses how to wait, can own several
//! rings, and can be shut down by a marker that travels behind the last command. The
//! inbound rings are our own ([`mod@book_ring`]): sized by their book's activity (no slot
//! until the first command, then grown as it fills), so a registered book that never
//! trades holds no slot (about 2 KB a book in all, at 10,000 idle books). The sequencer
//! marks each book it published into in its consumer's [`DirtyBooks`], and the consumer
//! polls only those: it no longer pays for the books that have no work.
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
mod book_ring;
mod config;
mod dirty;
mod entry;
mod error;
mod event_manager;
mod fan_out;
mod fused;
mod publish;
mod routing;
mod sequencer;
mod slot_flags;
mod snapshot_writer;
mod stages;
mod threads;
mod wait;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crossbeam_channel::Sender;
use disruptor::{
    BusySpin, EventPoller, MultiProducer, MultiProducerBarrier, SingleConsumerBarrier,
    SingleProducer, SingleProducerBarrier, build_multi_producer, build_single_producer,
};

pub(crate) use affinity::validate_cores;
pub use affinity::{ParseCoreListError, available_cores, parse_core_list};
pub use backpressure::{Backpressure, RingWaits};
pub(crate) use backpressure::{BackpressureCounters, FullRingWait, Ring};
pub(crate) use config::PipelineConfig;
pub(crate) use entry::{Envelope, IngressEntry, NO_SLOT};
pub(crate) use error::{PipelineError, instruments_note};
pub(crate) use slot_flags::{SlotFlag, SlotFlags};
pub use stages::{ParseStagesError, Stages};
pub(crate) use threads::{ThreadFailure, ThreadReport, nanos_since, panic_message};
pub(crate) use wait::{Doorbell, ROOM_PAUSE, RoomBell};
pub use wait::{ParseWaitStrategyError, WaitStrategy};

use crate::book::OrderBook;
use crate::journal::JournalWriter;
use crate::registry::InstrumentRegistry;
use crate::subscriber::Subscriber;
use book_consumer::{BookConsumer, ConsumerSetup, OwnedBook};
use book_ring::{BookPoller, BookProducer, book_ring};
use dirty::DirtyBooks;
use entry::OutboundEntry;
use event_manager::Dispatch;
use event_manager::EventManager;
use fan_out::FanOut;
use fused::{Inline, Prefetching};
use sequencer::{Sequencer, SequencerSetup};
use snapshot_writer::BookCheckpoint;
use threads::Threads;

/// The order id that makes a book consumer panic, for the manager's failure tests.
#[cfg(test)]
pub(crate) use book_consumer::tests_hook::PANIC_ORDER_ID;

/// The callers' handle on the ingress ring.
pub(crate) type IngressProducer = MultiProducer<IngressEntry, SingleConsumerBarrier>;
pub(crate) type IngressPoller = EventPoller<IngressEntry, MultiProducerBarrier>;
type InboundProducer = BookProducer;
type InboundPoller = BookPoller;
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
    threads: Threads,
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

/// The outbound ring, for `producers` producers: a single-producer ring for one.
fn outbound_ring(producers: usize, size: usize) -> (OutboundPoller, OutboundProducers) {
    if producers == 1 {
        let (poller, builder) =
            build_single_producer(size, OutboundEntry::default, BusySpin).new_event_poller();
        (
            OutboundPoller::Single(poller),
            OutboundProducers::Single(builder.build()),
        )
    } else {
        let (poller, builder) =
            build_multi_producer(size, OutboundEntry::default, BusySpin).new_event_poller();
        (
            OutboundPoller::Multi(poller),
            OutboundProducers::Multi(builder.build()),
        )
    }
}

/// Every ring but the ingress ring, as built, before the threads take their ends.
struct Rings {
    /// Each book's inbound ring: the sequencer's producers, by slot.
    inbound_producers: Vec<InboundProducer>,
    /// Each inbound ring's room bell, by slot.
    inbound_rooms: Vec<Arc<RoomBell>>,
    /// Each consumer's books, with their inbound pollers, and its set of books with work
    /// (marked by the book's ring as the sequencer publishes, drained by the consumer),
    /// by consumer index.
    workers: Vec<Worker>,
    /// The outbound ring's producers: the sequencer's when there is no book.
    sequencer_outbound: Option<OutboundSingle>,
    /// The outbound ring's producers: the consumers' otherwise.
    consumer_outbound: Option<OutboundProducers>,
    /// The event manager's end of the outbound ring.
    out_poller: OutboundPoller,
    /// How many producers the outbound ring has.
    producers: usize,
}

impl Rings {
    /// One inbound ring per book (book `slot` goes to consumer `slot % consumers`, as its
    /// book `slot / consumers`), each growing with its book's activity up to the
    /// configured size, a set of books with work per consumer, and the outbound ring. Its producers are the book consumers, or the sequencer alone when
    /// there is no book (it then publishes the rejects itself).
    fn build(books: Vec<OrderBook>, consumers: usize, config: &PipelineConfig) -> Rings {
        let producers = consumers.max(1);
        let (out_poller, outbound) = outbound_ring(producers, config.outbound_ring_size);
        let (sequencer_outbound, consumer_outbound) = match outbound {
            OutboundProducers::Single(single) if consumers == 0 => (Some(single), None),
            outbound => (None, Some(outbound)),
        };
        let mut rings = Rings {
            inbound_producers: Vec::with_capacity(books.len()),
            inbound_rooms: Vec::with_capacity(books.len()),
            workers: (0..consumers)
                .map(|c| Worker {
                    books: Vec::new(),
                    dirty: Arc::new(DirtyBooks::new(
                        books.len().saturating_sub(c).div_ceil(consumers),
                    )),
                })
                .collect(),
            sequencer_outbound,
            consumer_outbound,
            out_poller,
            producers,
        };
        for (slot, book) in books.into_iter().enumerate() {
            let consumer = slot % consumers;
            let (producer, poller) = book_ring(config.inbound_ring_size);
            rings.inbound_producers.push(producer);
            let room = Arc::new(RoomBell::default());
            rings.inbound_rooms.push(Arc::clone(&room));
            rings.workers[consumer]
                .books
                .push(OwnedBook::new(book, poller, slot as u32, room));
        }
        rings
    }
}

/// One book consumer's share, before its thread starts.
struct Worker {
    /// Its books (slots `c`, `c + consumers`, ... for consumer `c`), in slot order.
    books: Vec<OwnedBook>,
    /// Its set of books with work, by index in `books`.
    dirty: Arc<DirtyBooks>,
}

/// The bells the threads ring each other with.
struct Bells {
    sequencer: Arc<Doorbell>,
    /// Each book consumer's, by consumer index.
    consumers: Vec<Arc<Doorbell>>,
    events: Arc<Doorbell>,
    /// Rung by the event manager as it frees outbound slots.
    outbound_room: Arc<RoomBell>,
}

impl Bells {
    fn new(consumers: usize) -> Bells {
        Bells {
            sequencer: Arc::new(Doorbell::default()),
            consumers: (0..consumers)
                .map(|_| Arc::new(Doorbell::default()))
                .collect(),
            events: Arc::new(Doorbell::default()),
            outbound_room: Arc::new(RoomBell::default()),
        }
    }
}

impl Pipeline {
    /// Builds the inbound and outbound rings and starts every thread: the snapshot writer
    /// (with snapshots), the sequencer, the book consumers (books dealt out round-robin by
    /// slot) and the event manager.
    ///
    /// # Errors
    ///
    /// [`PipelineError::ThreadSpawn`] for a thread that cannot be spawned; the threads
    /// already spawned end when the rings they wait on are dropped.
    pub(crate) fn start(
        shared: Shared,
        config: &PipelineConfig,
        ingress: IngressPoller,
        subscribers: Vec<Box<dyn Subscriber>>,
        start: Start,
    ) -> Result<Pipeline, PipelineError> {
        let instruments = shared.registry.len();
        debug_assert_eq!(start.books.len(), instruments);
        let consumers = config.consumers.min(instruments);
        let bells = Bells::new(consumers);
        let mut pipeline = Pipeline {
            threads: Threads::default(),
            sequencer_bell: Arc::clone(&bells.sequencer),
        };
        let snapshot_every = start.snapshots.as_ref().and_then(|plan| plan.every);
        let checkpoints = match start.snapshots {
            Some(plan) if instruments > 0 => {
                Some(pipeline.spawn_snapshot_writer(plan, instruments, start.events)?)
            }
            _ => None,
        };
        let setup = SequencerSetup {
            epoch: shared.epoch,
            wait: config.wait_for(0, consumers + 2),
            bell: Arc::clone(&bells.sequencer),
            ingress_room: Arc::clone(&shared.ingress_room),
            last_seq: start.last_seq,
            journal: start.journal,
            snapshot_every,
            intake_failed: start.intake_failed,
        };
        if config.fused {
            let inline = Inline::new(
                start.books,
                Arc::clone(&shared.flags),
                checkpoints,
                Dispatch::new(subscribers, 0, start.events),
            );
            let setup = SequencerSetup {
                wait: config.fused_wait(),
                ..setup
            };
            // With many books, a sequencer that prefetches (a type of its own: the one
            // for few books is compiled as it was).
            let (name, core) = ("rb-engine".to_string(), config.fused_core());
            if Prefetching::pays(&inline) {
                let engine = Sequencer::new(ingress, Prefetching::new(inline), setup);
                pipeline.threads.spawn(name, core, move || engine.run())?;
            } else {
                let engine = Sequencer::new(ingress, inline, setup);
                pipeline.threads.spawn(name, core, move || engine.run())?;
            }
            return Ok(pipeline);
        }
        let rings = Rings::build(start.books, consumers, config);
        let fan_out = FanOut::new(
            rings.inbound_producers,
            rings.sequencer_outbound,
            Arc::clone(&shared.registry),
            fan_out::Rooms {
                inbound: rings.inbound_rooms,
                outbound: Arc::clone(&bells.outbound_room),
                backpressure: Arc::clone(&shared.backpressure),
            },
            Arc::clone(&bells.events),
            rings.workers.iter().map(|w| Arc::clone(&w.dirty)).collect(),
            bells.consumers.clone(),
        );
        let sequencer = Sequencer::new(ingress, fan_out, setup);
        pipeline.spawn_sequencer(sequencer, config)?;
        if let Some(outbound) = rings.consumer_outbound {
            pipeline.spawn_consumers(
                rings.workers,
                outbound,
                &shared,
                config,
                &bells,
                checkpoints,
            )?;
        }
        let events = EventManager::new(
            rings.out_poller,
            subscribers,
            start.events,
            rings.producers,
            config.wait_for(consumers + 1, consumers + 2),
            bells.events,
            bells.outbound_room,
        );
        pipeline.spawn_events(events, consumers, config)?;
        Ok(pipeline)
    }

    /// Spawns the snapshot writer for `books` books; returns the channel the consumers
    /// send their checkpoints to.
    fn spawn_snapshot_writer(
        &mut self,
        plan: SnapshotPlan,
        books: usize,
        events_before: u64,
    ) -> Result<Sender<BookCheckpoint>, PipelineError> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let SnapshotPlan { dir, keep, .. } = plan;
        self.threads.spawn("rb-snapshots".into(), None, move || {
            snapshot_writer::run(rx, books, events_before, &dir, keep)
        })?;
        Ok(tx)
    }

    /// Spawns the sequencer, on the first core.
    fn spawn_sequencer(
        &mut self,
        sequencer: Sequencer<FanOut>,
        config: &PipelineConfig,
    ) -> Result<(), PipelineError> {
        self.threads
            .spawn("rb-sequencer".into(), config.core_for(0), move || {
                sequencer.run()
            })
    }

    /// Spawns one book consumer per share of the books, consumer `i` on core `1 + i`.
    /// The checkpoint channel is dropped here once every consumer holds its clone, so the
    /// snapshot writer ends when they do.
    fn spawn_consumers(
        &mut self,
        workers: Vec<Worker>,
        outbound: OutboundProducers,
        shared: &Shared,
        config: &PipelineConfig,
        bells: &Bells,
        checkpoints: Option<Sender<BookCheckpoint>>,
    ) -> Result<(), PipelineError> {
        let threads = workers.len() + 2;
        let setup_for = |index: usize, dirty: Arc<DirtyBooks>| ConsumerSetup {
            flags: Arc::clone(&shared.flags),
            wait: config.wait_for(1 + index, threads),
            batch_size: config.batch_size,
            outbound_size: config.outbound_ring_size,
            bell: Arc::clone(&bells.consumers[index]),
            dirty,
            events_bell: Arc::clone(&bells.events),
            outbound_room: Arc::clone(&bells.outbound_room),
            backpressure: Arc::clone(&shared.backpressure),
            checkpoints: checkpoints.clone(),
        };
        let name = |index: usize| format!("rb-book-{index}");
        match outbound {
            // One consumer: the ring's only producer.
            OutboundProducers::Single(single) => {
                if let Some(Worker { books, dirty }) = workers.into_iter().next() {
                    let consumer = BookConsumer::new(0, books, single, setup_for(0, dirty));
                    self.threads
                        .spawn(name(0), config.core_for(1), move || consumer.run())?;
                }
            }
            OutboundProducers::Multi(multi) => {
                for (index, Worker { books, dirty }) in workers.into_iter().enumerate() {
                    let setup = setup_for(index, dirty);
                    let consumer = BookConsumer::new(index, books, multi.clone(), setup);
                    self.threads
                        .spawn(name(index), config.core_for(1 + index), move || {
                            consumer.run()
                        })?;
                }
            }
        }
        Ok(())
    }

    /// Spawns the event manager, on the core after the `consumers` book consumers'.
    fn spawn_events(
        &mut self,
        events: EventManager,
        consumers: usize,
        config: &PipelineConfig,
    ) -> Result<(), PipelineError> {
        self.threads.spawn(
            "rb-events".into(),
            config.core_for(consumers + 1),
            move || events.run(),
        )
    }

    /// The bell callers ring after publishing into the ingress ring.
    pub(crate) fn sequencer_bell(&self) -> Arc<Doorbell> {
        Arc::clone(&self.sequencer_bell)
    }

    /// Waits for every thread to end; gathers their failures, in thread order, and the
    /// books, in slot order (a book whose thread panicked is missing).
    pub(crate) fn join(self) -> (Vec<PipelineError>, Vec<OrderBook>) {
        self.threads.join()
    }
}
