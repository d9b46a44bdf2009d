//! `OrderbookManagerServiceImpl`: the caller-facing side of the pipeline.
//!
//! Building the manager (recovering from a journal if it has one), starting and stopping
//! the pipeline under one mutex, and the queries. The caller's path for a command
//! (checks, then publish, or reject) is [`super::caller`]; the hot path takes no lock.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::OrderbookManagerService;
use super::caller::{Ingress, publish_with};
use super::config::{ConfigError, JournalOptions, ManagerConfig};
use super::error::OrderbookManagerError;
use super::handles::Handles;
use crate::book::{OrderBook, state_hash_of};
use crate::command::Command;
use crate::journal::JournalWriter;
use crate::pipeline::{
    Backpressure, BackpressureCounters, Doorbell, Envelope, IngressEntry, IngressPoller, NO_SLOT,
    Pipeline, RoomBell, Shared, SlotFlag, SlotFlags, SnapshotPlan, Start, WaitStrategy,
    ingress_ring,
};
use crate::recovery::recover_in_mode;
use crate::registry::InstrumentRegistry;
use crate::subscriber::Subscriber;
use crate::sync::Mutex;

pub(super) const CREATED: u8 = 0;
pub(super) const RUNNING: u8 = 1;
const STOPPING: u8 = 2;
const STOPPED: u8 = 3;

/// What only start and stop touch (and halts and resumes, [`super::caller`]).
pub(super) struct Lifecycle {
    poller: Option<IngressPoller>,
    subscribers: Vec<Box<dyn Subscriber>>,
    pipeline: Option<Pipeline>,
    /// Halts and resumes called before `start`, published first when it runs.
    pub(super) pending: Vec<(IngressEntry, Uuid)>,
    /// What the pipeline starts from (fresh or recovered books, the journal); taken by
    /// `start`.
    start: Option<Start>,
    /// The books as they were when the pipeline stopped.
    final_books: Option<Vec<OrderBook>>,
}

/// What recovery found when the manager was built on an existing journal.
#[derive(Clone, Debug)]
pub struct RecoveryInfo {
    /// The last sequence number recovered: the engine numbers on from the next.
    pub last_seq: u64,
    /// The events published for the commands up to `last_seq`: the engine numbers its
    /// first event one more.
    pub events: u64,
    /// Journal records replayed after the snapshot.
    pub replayed: u64,
    /// The snapshot recovery started from, if any: its seq and file.
    pub snapshot: Option<(u64, std::path::PathBuf)>,
    /// What recovery worked around, each also logged as a warning.
    pub warnings: Vec<String>,
    /// The state hash of the recovered books.
    pub state_hash: u64,
}

/// Builds an [`OrderbookManagerServiceImpl`] with a configuration and subscribers.
///
/// # Examples
///
/// ```
/// use ringbook::{CountingSubscriber, OrderbookManagerService, OrderbookManagerServiceImpl, Order, Side, WaitStrategy};
/// use uuid::Uuid;
///
/// let instrument = Uuid::from_u128(1);
/// let counting = CountingSubscriber::new();
/// let counters = counting.counters();
/// let manager = OrderbookManagerServiceImpl::builder([instrument])
///     .wait_strategy(WaitStrategy::Sleep(std::time::Duration::from_micros(50)))
///     .subscriber(counting)
///     .build()
///     .unwrap();
/// manager.start().unwrap();
/// manager.add_order(Order::limit(Uuid::from_u128(7), instrument, Side::Buy, 100, 5)).unwrap();
/// manager.stop().unwrap();
/// assert_eq!(counters.snapshot().accepted, 1);
/// ```
pub struct OrderbookManagerBuilder {
    instruments: Vec<Uuid>,
    config: ManagerConfig,
    subscribers: Vec<Box<dyn Subscriber>>,
}

impl OrderbookManagerBuilder {
    /// Replaces the whole configuration.
    #[must_use]
    pub fn config(mut self, config: ManagerConfig) -> Self {
        self.config = config;
        self
    }

    /// How idle pipeline threads wait.
    #[must_use]
    pub fn wait_strategy(mut self, wait: WaitStrategy) -> Self {
        self.config.wait_strategy = wait;
        self
    }

    /// How the stages map onto threads (see [`Stages`](crate::Stages)).
    #[must_use]
    pub fn stages(mut self, stages: crate::Stages) -> Self {
        self.config.stages = stages;
        self
    }

    /// How many book consumer threads share the books.
    #[must_use]
    pub fn consumers(mut self, consumers: usize) -> Self {
        self.config.consumers = consumers;
        self
    }

    /// Pins pipeline threads to these cores (sequencer, consumers, event manager).
    #[must_use]
    pub fn cores(mut self, cores: Vec<usize>) -> Self {
        self.config.cores = Some(cores);
        self
    }

    /// Sets every ring to `size` slots (a power of two, at least 64).
    #[must_use]
    pub fn ring_size(mut self, size: usize) -> Self {
        self.config = self.config.with_ring_size(size);
        self
    }

    /// How long a caller waits on a full ingress ring; `None`: as long as it takes.
    #[must_use]
    pub fn publish_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.publish_timeout = timeout;
        self
    }

    /// Adds a subscriber; the event manager calls subscribers in the order added.
    #[must_use]
    pub fn subscriber(mut self, subscriber: impl Subscriber + 'static) -> Self {
        self.subscribers.push(Box::new(subscriber));
        self
    }

    /// Adds a boxed subscriber.
    #[must_use]
    pub fn boxed_subscriber(mut self, subscriber: Box<dyn Subscriber>) -> Self {
        self.subscribers.push(subscriber);
        self
    }

    /// Builds the manager (not started).
    ///
    /// # Errors
    ///
    /// [`OrderbookManagerError::Config`] when the configuration cannot work;
    /// [`OrderbookManagerError::Journal`] when the journal cannot be recovered or opened.
    pub fn build(self) -> Result<OrderbookManagerServiceImpl, OrderbookManagerError> {
        // Before recovery touches the journal (takes its lock, may truncate a torn tail):
        // a configuration that cannot work is refused without side effects. Checked again
        // below against the recovered registry.
        self.config
            .validate(InstrumentRegistry::new(self.instruments.iter().copied()).len())?;
        let mut recovery = None;
        let (registry, books, last_seq, events, journal, snapshots) = match &self.config.journal {
            None => {
                let registry = InstrumentRegistry::new(self.instruments);
                let books = registry
                    .instruments()
                    .iter()
                    .map(|&id| OrderBook::new(id))
                    .collect();
                (registry, books, 0, 0, None, None)
            }
            Some(options) => {
                let journal_error = |source| OrderbookManagerError::Journal {
                    dir: options.dir.clone(),
                    source,
                };
                let recovered = recover_in_mode(
                    &options.dir,
                    self.instruments,
                    options.recovery,
                    &mut |_| {},
                )
                .map_err(journal_error)?;
                let mut writer =
                    JournalWriter::open(&options.dir, options.config).map_err(journal_error)?;
                if writer.last_seq() != recovered.last_seq {
                    writer
                        .set_next_seq(recovered.last_seq.saturating_add(1))
                        .map_err(journal_error)?;
                }
                if recovered.last_seq > 0 {
                    tracing::info!(
                        dir = %options.dir.display(),
                        last_seq = recovered.last_seq,
                        replayed = recovered.replayed,
                        warnings = recovered.warnings.len(),
                        "recovered from the journal"
                    );
                }
                recovery = Some(RecoveryInfo {
                    last_seq: recovered.last_seq,
                    events: recovered.events,
                    replayed: recovered.replayed,
                    snapshot: recovered.snapshot.clone(),
                    warnings: recovered.warnings.iter().map(ToString::to_string).collect(),
                    state_hash: recovered.state_hash(),
                });
                (
                    recovered.registry,
                    recovered.books,
                    recovered.last_seq,
                    recovered.events,
                    Some(writer),
                    Some(SnapshotPlan {
                        dir: options.dir.clone(),
                        every: options.snapshot_every,
                        keep: options.keep_snapshots,
                    }),
                )
            }
        };
        self.config.validate(registry.len())?;
        let (producer, poller) = ingress_ring(self.config.ingress_ring_size);
        let slots = registry.len();
        let flags = SlotFlags::new(slots);
        for (slot, book) in books.iter().enumerate() {
            if book.is_halted() {
                flags.set(slot as u32, SlotFlag::HALTED);
            }
        }
        let intake_failed = Arc::new(AtomicBool::new(false));
        Ok(OrderbookManagerServiceImpl {
            registry: Arc::new(registry),
            config: self.config,
            flags: Arc::new(flags),
            state: AtomicU8::new(CREATED),
            handles: Handles::new(producer),
            lifecycle: Mutex::new(Lifecycle {
                poller: Some(poller),
                subscribers: self.subscribers,
                pipeline: None,
                pending: Vec::new(),
                start: Some(Start {
                    books,
                    last_seq,
                    events,
                    journal,
                    snapshots,
                    intake_failed: Arc::clone(&intake_failed),
                }),
                final_books: None,
            }),
            epoch: Instant::now(),
            sequencer_bell: OnceLock::new(),
            ingress_room: Arc::new(RoomBell::default()),
            backpressure: Arc::new(BackpressureCounters::default()),
            intake_failed,
            recovery,
        })
    }

    /// Journals every command to `options.dir` (recovering what is there first).
    #[must_use]
    pub fn journal(mut self, options: JournalOptions) -> Self {
        self.config.journal = Some(options);
        self
    }
}

/// The order-book manager over the ring pipeline. See [`OrderbookManagerService`] for
/// the operations and the crate documentation for the data flow.
///
/// Dropping a running manager stops it (errors are logged).
pub struct OrderbookManagerServiceImpl {
    pub(super) registry: Arc<InstrumentRegistry>,
    pub(super) config: ManagerConfig,
    /// Each slot's halted bit (the callers' view) and failed bit, tested in one load.
    pub(super) flags: Arc<SlotFlags>,
    pub(super) state: AtomicU8,
    pub(super) handles: Handles,
    pub(super) lifecycle: Mutex<Lifecycle>,
    epoch: Instant,
    /// The sequencer's bell, rung after every publish; set when the pipeline starts.
    pub(super) sequencer_bell: OnceLock<Arc<Doorbell>>,
    /// Rung by the sequencer as it frees ingress slots: callers wait on it when the ring
    /// is full.
    pub(super) ingress_room: Arc<RoomBell>,
    /// Waits on a full ring, counted by every producer (callers on the ingress ring).
    pub(super) backpressure: Arc<BackpressureCounters>,
    /// Set by the sequencer if the journal fails: callers are refused from then on.
    pub(super) intake_failed: Arc<AtomicBool>,
    /// What recovery found, for a manager built on an existing journal.
    recovery: Option<RecoveryInfo>,
}

impl std::fmt::Debug for OrderbookManagerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderbookManagerBuilder")
            .field("instruments", &self.instruments.len())
            .field("config", &self.config)
            .field(
                "subscribers",
                &self
                    .subscribers
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl std::fmt::Debug for OrderbookManagerServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state.load(Ordering::Acquire) {
            CREATED => "created",
            RUNNING => "running",
            STOPPING => "stopping",
            _ => "stopped",
        };
        f.debug_struct("OrderbookManagerServiceImpl")
            .field("instruments", &self.registry.len())
            .field("state", &state)
            .field("config", &self.config)
            .field("recovery", &self.recovery)
            .finish_non_exhaustive()
    }
}

impl OrderbookManagerServiceImpl {
    /// A manager for `instruments` with the default configuration and no subscribers.
    pub fn new(instruments: impl IntoIterator<Item = Uuid>) -> OrderbookManagerServiceImpl {
        OrderbookManagerServiceImpl::builder(instruments)
            .build()
            .expect("the default configuration is valid")
    }

    /// A builder for a manager of `instruments`.
    pub fn builder(instruments: impl IntoIterator<Item = Uuid>) -> OrderbookManagerBuilder {
        OrderbookManagerBuilder {
            instruments: instruments.into_iter().collect(),
            config: ManagerConfig::default(),
            subscribers: Vec::new(),
        }
    }

    /// The registered instruments and their slots.
    pub fn registry(&self) -> &InstrumentRegistry {
        &self.registry
    }

    /// The configuration.
    pub fn config(&self) -> &ManagerConfig {
        &self.config
    }

    /// Whether the halt bit of `instrument` is set (`None`: not registered). This is the
    /// callers' view; the book's own flag changes when the halt reaches it in sequence.
    pub fn is_halted(&self, instrument: &Uuid) -> Option<bool> {
        self.registry
            .slot(instrument)
            .map(|slot| self.flags.any(slot, SlotFlag::HALTED))
    }

    /// What recovery found, when the manager was built on an existing journal.
    pub fn recovery(&self) -> Option<&RecoveryInfo> {
        self.recovery.as_ref()
    }

    /// The state hash of every book ([`state_hash_of`](crate::state_hash_of)), once the
    /// manager has stopped (the books live on their threads until then); `None` before.
    pub fn state_hash(&self) -> Option<u64> {
        let lifecycle = self.lifecycle.lock();
        lifecycle
            .final_books
            .as_ref()
            .map(|books| state_hash_of(&books.iter().collect::<Vec<_>>()))
    }

    /// Calls `f` with the books as they were when the manager stopped (in slot order; a
    /// book whose thread panicked is missing); `None` before `stop`.
    pub fn with_final_books<R>(&self, f: impl FnOnce(&[OrderBook]) -> R) -> Option<R> {
        self.lifecycle.lock().final_books.as_deref().map(f)
    }

    /// Asks for a snapshot of every book after the commands sequenced so far: the journal
    /// is synced, each book is imaged in sequence, and the snapshot is written atomically
    /// into the journal directory.
    ///
    /// # Errors
    ///
    /// [`OrderbookManagerError::Config`] ([`ConfigError::SnapshotsNeedJournal`]) without
    /// a journal; as any publish otherwise.
    pub fn request_snapshot(&self) -> Result<(), OrderbookManagerError> {
        if self.config.journal.is_none() {
            return Err(ConfigError::SnapshotsNeedJournal.into());
        }
        self.publish(
            IngressEntry::new(NO_SLOT, Envelope::Checkpoint),
            Uuid::nil(),
            None,
        )
    }

    /// Backpressure so far: how often each ring's producers found it full (callers on the
    /// ingress ring, the sequencer on the books' rings, the book consumers on the outbound
    /// ring) and the longest wait. Counted since the manager was built; read at any time,
    /// final once it has stopped.
    pub fn backpressure(&self) -> Backpressure {
        self.backpressure.snapshot()
    }

    /// The ingress ring as a publisher waits on it.
    fn ingress(&self) -> Ingress<'_> {
        Ingress {
            room: &self.ingress_room,
            counters: &self.backpressure,
        }
    }

    fn start_pipeline(&self) -> Result<(), OrderbookManagerError> {
        let mut lifecycle = self.lifecycle.lock();
        if self.state.load(Ordering::Acquire) != CREATED {
            return Err(OrderbookManagerError::AlreadyStarted);
        }
        let poller = lifecycle
            .poller
            .take()
            .expect("a manager that was never started still has its ingress poller");
        let shared = Shared {
            ingress_room: Arc::clone(&self.ingress_room),
            registry: Arc::clone(&self.registry),
            flags: Arc::clone(&self.flags),
            epoch: self.epoch,
            backpressure: Arc::clone(&self.backpressure),
        };
        let subscribers = std::mem::take(&mut lifecycle.subscribers);
        let start = lifecycle
            .start
            .take()
            .expect("a manager that was never started has its start state");
        let layout = self.config.pipeline(self.registry.len());
        let pipeline = Pipeline::start(shared, &layout, poller, subscribers, start)?;
        let bell = pipeline.sequencer_bell();
        let _ = self.sequencer_bell.set(Arc::clone(&bell));
        lifecycle.pipeline = Some(pipeline);
        // The halts and resumes called before start go in before any caller's command can:
        // callers are refused until the state says RUNNING.
        let pending = std::mem::take(&mut lifecycle.pending);
        if !pending.is_empty() {
            let mut master = self.handles.master();
            let producer = master
                .as_mut()
                .expect("a manager that was never started has its master producer");
            for (entry, instrument_id) in pending {
                publish_with(producer, &self.ingress(), entry, instrument_id, None)?;
            }
            bell.ring();
        }
        self.state.store(RUNNING, Ordering::Release);
        tracing::info!(
            instruments = self.registry.len(),
            consumers = self.config.consumers.min(self.registry.len()),
            wait = ?self.config.effective_wait_strategies(self.registry.len()),
            cores = ?self.config.cores,
            "orderbook manager started"
        );
        Ok(())
    }

    fn stop_pipeline(&self) -> Result<(), OrderbookManagerError> {
        let mut lifecycle = self.lifecycle.lock();
        match self.state.load(Ordering::Acquire) {
            CREATED => {
                self.state.store(STOPPED, Ordering::Release);
                return Ok(());
            }
            RUNNING => {}
            _ => return Ok(()),
        }
        self.state.store(STOPPING, Ordering::SeqCst);
        let mut master = self
            .handles
            .retire()
            .expect("a running manager has its master producer");
        let stop = IngressEntry::new(NO_SLOT, Envelope::Stop);
        let _ = publish_with(&mut master, &self.ingress(), stop, Uuid::nil(), None);
        if let Some(bell) = self.sequencer_bell.get() {
            bell.ring();
        }
        drop(master);
        let (errors, books) = lifecycle
            .pipeline
            .take()
            .map(Pipeline::join)
            .unwrap_or_default();
        lifecycle.final_books = Some(books);
        self.state.store(STOPPED, Ordering::Release);
        for error in &errors {
            tracing::error!(%error, "pipeline failure reported at stop");
        }
        tracing::info!(failures = errors.len(), "orderbook manager stopped");
        match errors.into_iter().next() {
            None => Ok(()),
            Some(first) => Err(first.into()),
        }
    }
}

impl OrderbookManagerService for OrderbookManagerServiceImpl {
    #[inline]
    fn submit(&self, command: Command) -> Result<(), OrderbookManagerError> {
        OrderbookManagerServiceImpl::submit(self, command)
    }

    fn submit_batch(
        &self,
        commands: &[Command],
        refused: &mut dyn FnMut(usize, OrderbookManagerError),
    ) {
        OrderbookManagerServiceImpl::submit_batch(self, commands, refused);
    }

    fn start(&self) -> Result<(), OrderbookManagerError> {
        self.start_pipeline()
    }

    fn stop(&self) -> Result<(), OrderbookManagerError> {
        self.stop_pipeline()
    }
}

impl Drop for OrderbookManagerServiceImpl {
    fn drop(&mut self) {
        if self.state.load(Ordering::Acquire) == RUNNING
            && let Err(error) = self.stop_pipeline()
        {
            tracing::error!(%error, "stopping the orderbook manager on drop");
        }
    }
}
