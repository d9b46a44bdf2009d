//! The baseline: the original module's design, kept to measure the pipeline against.
//!
//! `parking_lot::RwLock<HashMap<Uuid, Sender>>` routes orders, an `RwLock<HashSet<Uuid>>`
//! holds halts, every book has its own thread and bounded channel, and one result channel
//! feeds the event manager thread. It implements [`OrderbookManagerService`] with the same
//! semantics (the same events per instrument), so a benchmark can drive both the same way.

use std::collections::{HashMap, HashSet};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};
use parking_lot::{Mutex, RwLock};
use uuid::Uuid;

use crate::panic_message;
use ringbook::Command;
use ringbook::Order;
use ringbook::OrderBook;
use ringbook::{ManagerState, OrderbookManagerError, OrderbookManagerService, SendFailure};
use ringbook::{OrderbookResult, RejectReason};
use ringbook::{PublishedEvent, Subscriber};

/// Capacity of the result channel, and of a book's channel with few books.
const CHANNEL: usize = 1 << 16;

/// A book's channel capacity for `books` books: about a million slots shared out, between
/// 1,024 and [`CHANNEL`] each ("buffer sizes based on expected throughput").
fn book_channel(books: usize) -> usize {
    ((1usize << 20) / books.max(1)).clamp(1024, CHANNEL)
}

/// The event thread's name.
const EVENTS_THREAD: &str = "baseline-events";

/// What the event thread hands back when it ends: the subscribers, and a message for each
/// one whose `finish()` failed.
type EventsOutcome = (Vec<Box<dyn Subscriber>>, Vec<String>);

struct Running {
    books: Vec<JoinHandle<()>>,
    events: JoinHandle<EventsOutcome>,
}

/// Starts the baseline's threads: [`OsThreads`], or in tests one that fails on demand.
trait Spawn {
    /// Starts a thread named `name` running `body`.
    fn spawn<T: Send + 'static>(
        &mut self,
        name: &str,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<JoinHandle<T>>;
}

/// Spawns threads with the standard library.
struct OsThreads;

impl Spawn for OsThreads {
    fn spawn<T: Send + 'static>(
        &mut self,
        name: &str,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<JoinHandle<T>> {
        thread::Builder::new().name(name.into()).spawn(body)
    }
}

/// The original design: a thread and a channel per book, locks for routing and halts.
pub struct BaselineManager {
    instruments: Vec<Uuid>,
    orderbook_channels: Arc<RwLock<HashMap<Uuid, Sender<Command>>>>,
    halted_orderbooks: Arc<RwLock<HashSet<Uuid>>>,
    result_sender: RwLock<Option<Sender<OrderbookResult>>>,
    is_running: Arc<AtomicBool>,
    subscribers: Mutex<Vec<Box<dyn Subscriber>>>,
    running: Mutex<Option<Running>>,
    publish_timeout: Option<Duration>,
    cores: Vec<usize>,
}

impl std::fmt::Debug for BaselineManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaselineManager")
            .field("instruments", &self.instruments.len())
            .finish_non_exhaustive()
    }
}

impl BaselineManager {
    /// A baseline manager for `instruments`, publishing to `subscribers`.
    pub fn new(
        instruments: impl IntoIterator<Item = Uuid>,
        subscribers: Vec<Box<dyn Subscriber>>,
        publish_timeout: Option<Duration>,
    ) -> BaselineManager {
        let mut seen = HashSet::new();
        let instruments = instruments
            .into_iter()
            .filter(|i| seen.insert(*i))
            .collect();
        BaselineManager {
            instruments,
            orderbook_channels: Arc::new(RwLock::new(HashMap::new())),
            halted_orderbooks: Arc::new(RwLock::new(HashSet::new())),
            result_sender: RwLock::new(None),
            is_running: Arc::new(AtomicBool::new(false)),
            subscribers: Mutex::new(subscribers),
            running: Mutex::new(None),
            publish_timeout,
            cores: Vec::new(),
        }
    }

    /// Pins the threads to these cores, round-robin (event manager first, then each book),
    /// so a benchmark can give both designs the same cores. The original design pins
    /// nothing; this is for like-for-like comparisons only. Cores outside the process's
    /// allowed set are ignored.
    #[must_use]
    pub fn with_cores(mut self, cores: Vec<usize>) -> BaselineManager {
        self.cores = cores;
        self
    }

    fn pin(cores: &[usize], index: usize) {
        if !cores.is_empty() {
            let core = cores[index % cores.len()];
            if ringbook::available_cores().contains(&core) {
                core_affinity::set_for_current(core_affinity::CoreId { id: core });
            }
        }
    }

    /// Sends `command` to its book, after the same caller checks as the pipeline.
    ///
    /// # Errors
    ///
    /// As [`OrderbookManagerService`] describes.
    pub fn submit(&self, command: Command) -> Result<(), OrderbookManagerError> {
        if !self.is_running.load(Ordering::Acquire) {
            return Err(OrderbookManagerError::NotRunning {
                instrument_id: Some(command.instrument_id()),
                state: ManagerState::NotRunning,
            });
        }
        let instrument_id = command.instrument_id();
        let channels = self.orderbook_channels.read();
        let Some(sender) = channels.get(&instrument_id) else {
            self.publish_reject(&command, RejectReason::InstrumentNotRegistered);
            return Err(OrderbookManagerError::InstrumentNotRegistered {
                instrument_id,
                order_id: command.order_id(),
            });
        };
        match command {
            Command::Halt { .. } => {
                self.halted_orderbooks.write().insert(instrument_id);
            }
            Command::Resume { .. } => {
                self.halted_orderbooks.write().remove(&instrument_id);
            }
            Command::Add(Order { quantity: qty, .. }) | Command::Modify { qty, .. } => {
                if self.halted_orderbooks.read().contains(&instrument_id) {
                    // Sent in sequence so the reject sits where the book would put it.
                    return self.refuse(sender, command, RejectReason::OrderbookHalted);
                }
                if qty == 0 {
                    return self.refuse(sender, command, RejectReason::InvalidQuantity);
                }
            }
            _ => {}
        }
        self.send(sender, command)
    }

    fn refuse(
        &self,
        sender: &Sender<Command>,
        command: Command,
        reason: RejectReason,
    ) -> Result<(), OrderbookManagerError> {
        // The book re-checks and rejects for the same reason: halted, or quantity zero.
        self.send(sender, command)?;
        // The same errors as the pipeline's caller checks.
        Err(OrderbookManagerError::refused(&command, reason))
    }

    fn send(
        &self,
        sender: &Sender<Command>,
        command: Command,
    ) -> Result<(), OrderbookManagerError> {
        let instrument_id = command.instrument_id();
        match self.publish_timeout {
            Some(timeout) => sender.send_timeout(command, timeout).map_err(|e| match e {
                crossbeam_channel::SendTimeoutError::Timeout(_) => OrderbookManagerError::Timeout {
                    instrument_id,
                    waited: timeout,
                },
                crossbeam_channel::SendTimeoutError::Disconnected(_) => {
                    OrderbookManagerError::ChannelSendError {
                        instrument_id,
                        reason: SendFailure::BookThreadGone,
                    }
                }
            }),
            None => sender
                .send(command)
                .map_err(|_| OrderbookManagerError::ChannelSendError {
                    instrument_id,
                    reason: SendFailure::BookThreadGone,
                }),
        }
    }

    /// Starts a thread per book, then the event thread, with `spawner`. If a thread cannot
    /// be spawned, the threads already started are stopped and joined, the subscribers
    /// stay with the manager (no `finish()` is called), and the error names the thread.
    fn start_with(&self, spawner: &mut impl Spawn) -> Result<(), OrderbookManagerError> {
        let mut running = self.running.lock();
        if running.is_some() || self.is_running.load(Ordering::Acquire) {
            return Err(OrderbookManagerError::AlreadyStarted);
        }
        let (result_tx, result_rx) = bounded(CHANNEL);
        let mut books = Vec::with_capacity(self.instruments.len());
        let mut senders = Vec::with_capacity(self.instruments.len());
        for (i, &instrument) in self.instruments.iter().enumerate() {
            let (tx, rx) = bounded(book_channel(self.instruments.len()));
            let results = result_tx.clone();
            let cores = self.cores.clone();
            let name = format!("baseline-book-{i}");
            let spawned = spawner.spawn(&name, move || {
                Self::pin(&cores, i + 1);
                book_thread(OrderBook::new(instrument), rx, results)
            });
            match spawned {
                Ok(handle) => {
                    books.push(handle);
                    senders.push((instrument, tx));
                }
                Err(source) => {
                    drop((senders, result_tx));
                    return Err(Self::abandon(books, name, source));
                }
            }
        }
        // The subscribers go to the event thread once it runs: if it cannot be spawned,
        // they are still here.
        let (handoff_tx, handoff_rx) = bounded::<Vec<Box<dyn Subscriber>>>(1);
        let cores = self.cores.clone();
        let spawned = spawner.spawn(EVENTS_THREAD, move || {
            Self::pin(&cores, 0);
            let subscribers = handoff_rx.recv().unwrap_or_default();
            event_thread(result_rx, subscribers)
        });
        let events = match spawned {
            Ok(events) => events,
            Err(source) => {
                drop((senders, result_tx));
                return Err(Self::abandon(books, EVENTS_THREAD.into(), source));
            }
        };
        let subscribers = std::mem::take(&mut *self.subscribers.lock());
        if let Err(returned) = handoff_tx.send(subscribers) {
            // Only a dead event thread drops its end; keep the subscribers.
            *self.subscribers.lock() = returned.into_inner();
        }
        self.orderbook_channels.write().extend(senders);
        *self.result_sender.write() = Some(result_tx);
        *running = Some(Running { books, events });
        self.is_running.store(true, Ordering::Release);
        Ok(())
    }

    /// Joins the book threads a failed start left running (their command channels are
    /// closed, so they end at once) and returns the spawn error for `thread`.
    fn abandon(
        books: Vec<JoinHandle<()>>,
        thread: String,
        source: io::Error,
    ) -> OrderbookManagerError {
        for handle in books {
            // A book thread that panicked has nothing left to stop; the spawn error is the
            // one the caller needs.
            let _ = handle.join();
        }
        OrderbookManagerError::ThreadSpawn { thread, source }
    }

    fn publish_reject(&self, command: &Command, reason: RejectReason) {
        if let Some(sender) = self.result_sender.read().as_ref() {
            let _ = sender.send(OrderbookResult::rejected(command, reason));
        }
    }
}

fn book_thread(book: OrderBook, commands: Receiver<Command>, results: Sender<OrderbookResult>) {
    let mut book = book;
    for command in commands {
        book.apply(&command, &mut |result| {
            let _ = results.send(result);
        });
    }
}

/// Publishes results until every sender is gone, then finishes each subscriber; returns
/// the subscribers and a message for each `finish()` that failed or panicked.
fn event_thread(
    results: Receiver<OrderbookResult>,
    mut subscribers: Vec<Box<dyn Subscriber>>,
) -> EventsOutcome {
    let mut seq = 0u64;
    // Block for one result, then take whatever else is queued as the same batch.
    while let Ok(first) = results.recv() {
        let mut next = Some(first);
        while let Some(result) = next {
            seq += 1;
            let event = PublishedEvent {
                seq,
                input_seq: 0,
                timestamp_ns: 0,
                result: &result,
            };
            for subscriber in &mut subscribers {
                subscriber.on_event(&event);
            }
            next = results.try_recv().ok();
        }
        for subscriber in &mut subscribers {
            subscriber.on_batch_end();
        }
    }
    let mut failures = Vec::new();
    for subscriber in &mut subscribers {
        let failure = match panic::catch_unwind(AssertUnwindSafe(|| subscriber.finish())) {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => error.to_string(),
            Err(payload) => panic_message(payload.as_ref()),
        };
        let name = subscriber.name();
        tracing::error!(subscriber = name, message = failure, "subscriber failed");
        failures.push(format!("subscriber {name}: {failure}"));
    }
    (subscribers, failures)
}

impl OrderbookManagerService for BaselineManager {
    #[inline]
    fn submit(&self, command: Command) -> Result<(), OrderbookManagerError> {
        BaselineManager::submit(self, command)
    }

    fn start(&self) -> Result<(), OrderbookManagerError> {
        self.start_with(&mut OsThreads)
    }

    fn stop(&self) -> Result<(), OrderbookManagerError> {
        let Some(running) = self.running.lock().take() else {
            return Ok(());
        };
        self.is_running.store(false, Ordering::Release);
        self.orderbook_channels.write().clear();
        let mut failure = None;
        for (i, handle) in running.books.into_iter().enumerate() {
            if handle.join().is_err() {
                failure.get_or_insert(OrderbookManagerError::CloseOrderbookError {
                    thread: format!("baseline-book-{i}"),
                    instruments: vec![self.instruments[i]],
                    lost_commands: 0,
                    message: "panicked".into(),
                });
            }
        }
        self.result_sender.write().take();
        match running.events.join() {
            Ok((subscribers, failures)) => {
                *self.subscribers.lock() = subscribers;
                if let Some(message) = failures.into_iter().next() {
                    failure.get_or_insert(OrderbookManagerError::CloseOrderbookError {
                        thread: EVENTS_THREAD.into(),
                        instruments: Vec::new(),
                        lost_commands: 0,
                        message,
                    });
                }
            }
            Err(_) => {
                failure.get_or_insert(OrderbookManagerError::CloseOrderbookError {
                    thread: EVENTS_THREAD.into(),
                    instruments: Vec::new(),
                    lost_commands: 0,
                    message: "panicked".into(),
                });
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

impl Drop for BaselineManager {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use ringbook::Op;

    /// Records the results it sees and whether it was finished; `finish()` fails with
    /// `fail_with` when set.
    #[derive(Clone, Default)]
    struct Recording {
        results: Arc<Mutex<Vec<OrderbookResult>>>,
        finished: Arc<AtomicBool>,
        fail_with: Option<&'static str>,
    }

    impl Subscriber for Recording {
        fn on_event(&mut self, event: &PublishedEvent<'_>) {
            self.results.lock().push(event.result.clone());
        }

        fn finish(&mut self) -> Result<(), Box<dyn Error + Send + Sync>> {
            self.finished.store(true, Ordering::Release);
            match self.fail_with {
                Some(message) => Err(message.into()),
                None => Ok(()),
            }
        }

        fn name(&self) -> &str {
            "recording"
        }
    }

    /// Spawns `allowed` threads, then fails; counts the threads of its own still running.
    struct FailingSpawner {
        allowed: usize,
        live: Arc<AtomicUsize>,
    }

    impl FailingSpawner {
        fn new(allowed: usize) -> FailingSpawner {
            FailingSpawner {
                allowed,
                live: Arc::new(AtomicUsize::new(0)),
            }
        }
    }

    impl Spawn for FailingSpawner {
        fn spawn<T: Send + 'static>(
            &mut self,
            name: &str,
            body: impl FnOnce() -> T + Send + 'static,
        ) -> io::Result<JoinHandle<T>> {
            if self.allowed == 0 {
                return Err(io::Error::other("injected spawn failure"));
            }
            self.allowed -= 1;
            /// Counts its thread out when the thread's body ends.
            struct Live(Arc<AtomicUsize>);
            impl Drop for Live {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::AcqRel);
                }
            }
            self.live.fetch_add(1, Ordering::AcqRel);
            let live = Live(Arc::clone(&self.live));
            OsThreads.spawn(name, move || {
                let _live = live;
                body()
            })
        }
    }

    fn instruments(n: u128) -> Vec<Uuid> {
        (1..=n).map(|i| Uuid::from_u128(0x1000 + i)).collect()
    }

    fn buy(order: u128, instrument: Uuid) -> Order {
        Order::limit(
            Uuid::from_u128(order),
            instrument,
            ringbook::Side::Buy,
            100,
            5,
        )
    }

    /// A halted book refuses adds and modifies with `OrderbookHalted`, as the engine does
    /// (it was `OrderbookError`), and the reject is in the stream.
    #[test]
    fn a_halted_add_or_modify_is_refused_with_orderbook_halted() {
        let instrument = instruments(1)[0];
        let recording = Recording::default();
        let manager = BaselineManager::new([instrument], vec![Box::new(recording.clone())], None);
        manager.start().unwrap();
        manager.add_order(buy(1, instrument)).unwrap();
        manager.halt_orderbooks(vec![instrument]);
        match manager.add_order(buy(2, instrument)) {
            Err(OrderbookManagerError::OrderbookHalted {
                instrument_id,
                order_id,
            }) => assert_eq!((instrument_id, order_id), (instrument, Uuid::from_u128(2))),
            other => panic!("expected OrderbookHalted, got {other:?}"),
        }
        match manager.modify_order(&instrument, Uuid::from_u128(1), 101, 3) {
            Err(OrderbookManagerError::OrderbookHalted {
                instrument_id,
                order_id,
            }) => assert_eq!((instrument_id, order_id), (instrument, Uuid::from_u128(1))),
            other => panic!("expected OrderbookHalted, got {other:?}"),
        }
        // A zero quantity on a running book is still the generic refusal.
        manager.resume_orderbooks(vec![instrument]);
        let mut zero = buy(3, instrument);
        zero.quantity = 0;
        assert!(matches!(
            manager.add_order(zero),
            Err(OrderbookManagerError::OrderbookError {
                reason: RejectReason::InvalidQuantity,
                ..
            })
        ));
        manager.stop().unwrap();
        let halted_rejects: Vec<(Op, Option<Uuid>)> = recording
            .results
            .lock()
            .iter()
            .filter_map(|result| match *result {
                OrderbookResult::Rejected {
                    op,
                    order_id,
                    reason: RejectReason::OrderbookHalted,
                    ..
                } => Some((op, order_id)),
                _ => None,
            })
            .collect();
        assert_eq!(
            halted_rejects,
            vec![
                (Op::Add, Some(Uuid::from_u128(2))),
                (Op::Modify, Some(Uuid::from_u128(1)))
            ]
        );
    }

    /// A subscriber whose `finish()` fails is reported by `stop()`, naming the event
    /// thread and the subscriber (it was swallowed); the others are still finished.
    #[test]
    fn stop_reports_a_subscriber_whose_finish_fails() {
        let instrument = instruments(1)[0];
        let failing = Recording {
            fail_with: Some("disk full"),
            ..Recording::default()
        };
        let fine = Recording::default();
        let manager = BaselineManager::new(
            [instrument],
            vec![Box::new(failing.clone()), Box::new(fine.clone())],
            None,
        );
        manager.start().unwrap();
        manager.add_order(buy(1, instrument)).unwrap();
        match manager.stop() {
            Err(OrderbookManagerError::CloseOrderbookError {
                thread,
                instruments,
                lost_commands,
                message,
            }) => {
                assert_eq!(thread, EVENTS_THREAD);
                assert!(instruments.is_empty());
                assert_eq!(lost_commands, 0);
                assert_eq!(message, "subscriber recording: disk full");
            }
            other => panic!("expected CloseOrderbookError, got {other:?}"),
        }
        for recording in [&failing, &fine] {
            assert!(recording.finished.load(Ordering::Acquire));
            assert_eq!(recording.results.lock().len(), 1, "the accepted event");
        }
    }

    /// A start that fails at the `n`th spawn: the error names the thread, every thread
    /// it started has ended when `start()` returns, nothing was finished, the manager is
    /// not running, and a later start with the subscribers intact works.
    fn start_failing_at(allowed: usize, thread: &str) {
        let ids = instruments(4);
        let recording = Recording::default();
        let manager = BaselineManager::new(ids.clone(), vec![Box::new(recording.clone())], None);
        let mut spawner = FailingSpawner::new(allowed);
        match manager.start_with(&mut spawner) {
            Err(OrderbookManagerError::ThreadSpawn {
                thread: name,
                source,
            }) => {
                assert_eq!(name, thread);
                assert_eq!(source.to_string(), "injected spawn failure");
            }
            other => panic!("expected ThreadSpawn, got {other:?}"),
        }
        assert_eq!(
            spawner.live.load(Ordering::Acquire),
            0,
            "threads left running after a failed start"
        );
        assert!(!recording.finished.load(Ordering::Acquire));
        assert!(matches!(
            manager.add_order(buy(1, ids[0])),
            Err(OrderbookManagerError::NotRunning { .. })
        ));
        manager.start().unwrap();
        manager.add_order(buy(1, ids[3])).unwrap();
        manager.stop().unwrap();
        assert_eq!(recording.results.lock().len(), 1, "the subscriber was kept");
        assert!(recording.finished.load(Ordering::Acquire));
    }

    #[test]
    fn a_start_failing_at_a_book_thread_joins_the_threads_it_started() {
        start_failing_at(2, "baseline-book-2");
    }

    #[test]
    fn a_start_failing_at_the_event_thread_joins_the_book_threads() {
        start_failing_at(4, EVENTS_THREAD);
    }
}
