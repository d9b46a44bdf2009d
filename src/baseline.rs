//! The baseline: the original module's design, kept to measure the pipeline against.
//!
//! `parking_lot::RwLock<HashMap<Uuid, Sender>>` routes orders, an `RwLock<HashSet<Uuid>>`
//! holds halts, every book has its own thread and bounded channel, and one result channel
//! feeds the event manager thread. It implements [`OrderbookManagerService`] with the same
//! semantics (the same events per instrument), so a benchmark can drive both the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};
use parking_lot::{Mutex, RwLock};
use uuid::Uuid;

use crate::book::OrderBook;
use crate::command::Command;
use crate::manager::{OrderbookManagerError, OrderbookManagerService};
use crate::result::{OrderbookResult, RejectReason};
use crate::subscriber::{PublishedEvent, Subscriber};
use crate::types::Order;

/// Capacity of the result channel, and of a book's channel with few books.
const CHANNEL: usize = 1 << 16;

/// A book's channel capacity for `books` books: about a million slots shared out, between
/// 1,024 and [`CHANNEL`] each ("buffer sizes based on expected throughput").
fn book_channel(books: usize) -> usize {
    ((1usize << 20) / books.max(1)).clamp(1024, CHANNEL)
}

struct Running {
    books: Vec<JoinHandle<()>>,
    events: JoinHandle<Vec<Box<dyn Subscriber>>>,
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
    pub fn with_cores(mut self, cores: Vec<usize>) -> BaselineManager {
        self.cores = cores;
        self
    }

    fn pin(cores: &[usize], index: usize) {
        if !cores.is_empty() {
            let core = cores[index % cores.len()];
            if crate::pipeline::validate_cores(&[core]).is_ok() {
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
                state: "not running",
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
        Err(OrderbookManagerError::OrderbookError {
            instrument_id: command.instrument_id(),
            order_id: command.order_id(),
            reason,
        })
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
                        reason: "book thread gone".into(),
                    }
                }
            }),
            None => sender
                .send(command)
                .map_err(|_| OrderbookManagerError::ChannelSendError {
                    instrument_id,
                    reason: "book thread gone".into(),
                }),
        }
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

fn event_thread(
    results: Receiver<OrderbookResult>,
    mut subscribers: Vec<Box<dyn Subscriber>>,
) -> Vec<Box<dyn Subscriber>> {
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
    for subscriber in &mut subscribers {
        let _ = subscriber.finish();
    }
    subscribers
}

impl OrderbookManagerService for BaselineManager {
    #[inline]
    fn submit(&self, command: Command) -> Result<(), OrderbookManagerError> {
        BaselineManager::submit(self, command)
    }

    fn start(&self) -> Result<(), OrderbookManagerError> {
        let mut running = self.running.lock();
        if running.is_some() || self.is_running.load(Ordering::Acquire) {
            return Err(OrderbookManagerError::AlreadyStarted);
        }
        let (result_tx, result_rx) = bounded(CHANNEL);
        let subscribers = std::mem::take(&mut *self.subscribers.lock());
        let spawn_err = |thread: &str| {
            let thread = thread.to_string();
            move |source| OrderbookManagerError::ThreadSpawn { thread, source }
        };
        let events = thread::Builder::new()
            .name("baseline-events".into())
            .spawn({
                let cores = self.cores.clone();
                move || {
                    Self::pin(&cores, 0);
                    event_thread(result_rx, subscribers)
                }
            })
            .map_err(spawn_err("baseline-events"))?;
        let mut books = Vec::with_capacity(self.instruments.len());
        let mut channels = self.orderbook_channels.write();
        for (i, &instrument) in self.instruments.iter().enumerate() {
            let (tx, rx) = bounded(book_channel(self.instruments.len()));
            let results = result_tx.clone();
            let name = format!("baseline-book-{i}");
            let handle = thread::Builder::new()
                .name(name.clone())
                .spawn({
                    let cores = self.cores.clone();
                    move || {
                        Self::pin(&cores, i + 1);
                        book_thread(OrderBook::new(instrument), rx, results)
                    }
                })
                .map_err(spawn_err(&name))?;
            channels.insert(instrument, tx);
            books.push(handle);
        }
        drop(channels);
        *self.result_sender.write() = Some(result_tx);
        *running = Some(Running { books, events });
        self.is_running.store(true, Ordering::Release);
        Ok(())
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
            Ok(subscribers) => *self.subscribers.lock() = subscribers,
            Err(_) => {
                failure.get_or_insert(OrderbookManagerError::CloseOrderbookError {
                    thread: "baseline-events".into(),
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
