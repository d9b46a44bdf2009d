//! The ring pipeline, through the public API only: every command has exactly one outcome,
//! backpressure never loses anything, per-instrument streams equal the direct engine's,
//! halts stop trading, shutdown drains everything, and the market-data view agrees with
//! the books.
//!
//! The machine these run on may have two shared cores: no test asserts on timing except
//! generous upper bounds on things that must finish, and every pipeline waits by yielding
//! or sleeping (never busy-spinning).

use ringbook_testkit::rng::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use ringbook::flow::{FlowGenerator, GenConfig};
use ringbook::{
    Command, DepthLevel, DirectEngine, ManagerState, MarketDataSubscriber, Op, Order, OrderKind,
    OrderbookManagerBuilder, OrderbookManagerError, OrderbookManagerService,
    OrderbookManagerServiceImpl, OrderbookResult, PublishedEvent, RejectReason, Side, Stages,
    Subscriber, TopOfBook, Uuid, WaitStrategy,
};

/// The upper bound on anything that must finish: generous, for a noisy two-core machine.
const LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Draws of the pipeline tests' own: sides and order kinds.
trait Draws {
    fn side(&mut self) -> Side;
    fn kind(&mut self) -> OrderKind;
}

impl Draws for Rng {
    fn side(&mut self) -> Side {
        if self.next() & 1 == 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    fn kind(&mut self) -> OrderKind {
        match self.below(100) {
            0..55 => OrderKind::Limit,
            55..65 => OrderKind::Market,
            65..75 => OrderKind::Ioc,
            75..85 => OrderKind::Fok,
            _ => OrderKind::PostOnly,
        }
    }
}

fn instrument(i: u128) -> Uuid {
    Uuid::from_u128(0x1_0000 + i)
}

fn unregistered(i: u128) -> Uuid {
    Uuid::from_u128(0x9_0000 + i)
}

/// A manager builder that waits by yielding and sleeping (the default strategy).
fn builder(instruments: impl IntoIterator<Item = Uuid>) -> OrderbookManagerBuilder {
    OrderbookManagerServiceImpl::builder(instruments).wait_strategy(WaitStrategy::default())
}

/// Sends `command` through the trait operation that matches it.
fn send(
    manager: &impl OrderbookManagerService,
    command: Command,
) -> Result<(), OrderbookManagerError> {
    match command {
        Command::Add(order) => manager.add_order(order),
        Command::Cancel {
            instrument_id,
            order_id,
        } => manager.cancel_order(&instrument_id, order_id),
        Command::Modify {
            instrument_id,
            order_id,
            price,
            qty,
        } => manager.modify_order(&instrument_id, order_id, price, qty),
        Command::Halt { instrument_id } => {
            manager.halt_orderbooks(vec![instrument_id]);
            Ok(())
        }
        Command::Resume { instrument_id } => {
            manager.resume_orderbooks(vec![instrument_id]);
            Ok(())
        }
        Command::MassCancel {
            instrument_id,
            owner,
            side,
        } => manager.mass_cancel(&instrument_id, owner, side),
        Command::Status { instrument_id } => manager.publish_orderbook_status(instrument_id),
        Command::Snapshot { instrument_id } => manager.publish_orderbook_snapshot(instrument_id),
    }
}

/// Sends `command` and checks that the call was taken (possibly as a caller reject, which
/// is an outcome in the stream too).
fn send_taken(manager: &impl OrderbookManagerService, command: Command) {
    if let Err(error) = send(manager, command) {
        assert!(
            error.is_rejected_command(),
            "{command:?} was not taken: {error}"
        );
    }
}

/// What identifies a command's one primary event: op, instrument and order id.
type Key = (Op, Uuid, Option<Uuid>);

fn command_key(command: &Command) -> Key {
    (command.op(), command.instrument_id(), command.order_id())
}

/// The key of a primary event (the one outcome of its command); `None` for the secondary
/// events `trade` and `expired`.
fn primary_key(result: &OrderbookResult) -> Option<Key> {
    let instrument = result.instrument_id();
    match result {
        OrderbookResult::Accepted { order_id, .. } => Some((Op::Add, instrument, Some(*order_id))),
        OrderbookResult::Rejected { op, order_id, .. } => Some((*op, instrument, *order_id)),
        OrderbookResult::Cancelled { order_id, .. } => {
            Some((Op::Cancel, instrument, Some(*order_id)))
        }
        OrderbookResult::Modified { order_id, .. } => {
            Some((Op::Modify, instrument, Some(*order_id)))
        }
        OrderbookResult::Halted { .. } => Some((Op::Halt, instrument, None)),
        OrderbookResult::Resumed { .. } => Some((Op::Resume, instrument, None)),
        OrderbookResult::Status { .. } => Some((Op::Status, instrument, None)),
        OrderbookResult::Snapshot { .. } => Some((Op::Snapshot, instrument, None)),
        OrderbookResult::MassCancelled { .. } => Some((Op::MassCancel, instrument, None)),
        OrderbookResult::Triggered { .. } => None,
        OrderbookResult::Trade { .. } | OrderbookResult::Expired { .. } => None,
    }
}

/// One event as a subscriber saw it.
#[derive(Clone, Debug)]
struct Recorded {
    seq: u64,
    input_seq: u64,
    result: OrderbookResult,
}

/// The shared record of a [`Recorder`]: readable from the test thread at any time.
#[derive(Clone, Default)]
struct Recording {
    events: Arc<Mutex<Vec<Recorded>>>,
    finished: Arc<AtomicBool>,
}

impl Recording {
    /// A subscriber recording into this.
    fn subscriber(&self) -> Recorder {
        Recorder {
            recording: self.clone(),
            gate: None,
        }
    }

    /// A subscriber recording into this that blocks before each event while `gate` is held.
    fn gated(&self, gate: &Gate) -> Recorder {
        Recorder {
            recording: self.clone(),
            gate: Some(Arc::clone(&gate.0)),
        }
    }

    fn events(&self) -> Vec<Recorded> {
        self.events.lock().unwrap().clone()
    }

    fn len(&self) -> usize {
        self.events.lock().unwrap().len()
    }

    fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
}

/// Records every event it is given.
struct Recorder {
    recording: Recording,
    gate: Option<Arc<Mutex<()>>>,
}

impl Subscriber for Recorder {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        if let Some(gate) = &self.gate {
            drop(gate.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        }
        self.recording.events.lock().unwrap().push(Recorded {
            seq: event.seq,
            input_seq: event.input_seq,
            result: event.result.clone(),
        });
    }

    fn finish(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.recording.finished.store(true, Ordering::Release);
        Ok(())
    }

    fn name(&self) -> &str {
        "recorder"
    }
}

/// A gate the test closes to stall a subscriber, and opens again.
#[derive(Default)]
struct Gate(Arc<Mutex<()>>);

impl Gate {
    fn close(&self) -> MutexGuard<'_, ()> {
        self.0.lock().unwrap()
    }
}

/// Waits until `counter` stops moving for `quiet`, and returns its value.
///
/// # Panics
///
/// If it is still moving after [`LIMIT`].
fn wait_for_plateau(counter: &AtomicUsize, quiet: Duration) -> usize {
    let started = Instant::now();
    let mut last = counter.load(Ordering::Acquire);
    loop {
        thread::sleep(quiet);
        let now = counter.load(Ordering::Acquire);
        if now == last {
            return now;
        }
        assert!(started.elapsed() < LIMIT, "counter still moving at {now}");
        last = now;
    }
}

/// Waits for `condition`, for at most [`LIMIT`].
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < LIMIT, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `body` on its own thread and fails if it does not finish within [`LIMIT`].
fn within_limit<T: Send + 'static>(what: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(value) => {
            handle.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not finish within {LIMIT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(handle.join().unwrap_err())
        }
    }
}

/// Checks the output numbering (1, 2, 3, ... without gaps or repeats) and that the
/// primary events are exactly one per command of `sent` (as a multiset of keys).
fn assert_exactly_once(sent: &[Command], events: &[Recorded]) {
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1, "output seq has a gap or repeat");
    }
    let mut balance: HashMap<Key, i64> = HashMap::new();
    for command in sent {
        *balance.entry(command_key(command)).or_default() += 1;
    }
    let mut primary = 0;
    for event in events {
        if let Some(key) = primary_key(&event.result) {
            primary += 1;
            *balance.entry(key).or_default() -= 1;
        }
    }
    let mut wrong: Vec<_> = balance.into_iter().filter(|(_, n)| *n != 0).collect();
    wrong.sort_by_key(|(key, _)| format!("{key:?}"));
    assert!(
        wrong.is_empty(),
        "{} commands without exactly one outcome (positive: missing, negative: extra), \
         first: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    assert_eq!(primary, sent.len(), "primary events != commands sent");
}

/// The events of each instrument, in stream order.
fn by_instrument(
    results: impl IntoIterator<Item = OrderbookResult>,
) -> HashMap<Uuid, Vec<OrderbookResult>> {
    let mut streams: HashMap<Uuid, Vec<OrderbookResult>> = HashMap::new();
    for result in results {
        streams
            .entry(result.instrument_id())
            .or_default()
            .push(result);
    }
    streams
}

/// Runs `commands` through a direct engine of `instruments`: its per-instrument streams
/// and its final books.
fn direct_run(
    instruments: &[Uuid],
    commands: &[Command],
) -> (HashMap<Uuid, Vec<OrderbookResult>>, DirectEngine) {
    let mut engine = DirectEngine::new(instruments.iter().copied());
    let mut results = Vec::new();
    for command in commands {
        engine.apply(command, &mut |result| results.push(result));
    }
    (by_instrument(results), engine)
}

/// How a test lays the engine out: its book consumers and whether its stages are fused.
#[derive(Clone, Copy, Debug)]
struct Layout {
    consumers: usize,
    stages: Stages,
}

impl Layout {
    /// Every stage on one thread.
    const FUSED: Layout = Layout {
        consumers: 1,
        stages: Stages::Fused,
    };

    /// A thread per stage, `consumers` book consumers.
    const fn pipelined(consumers: usize) -> Layout {
        Layout {
            consumers,
            stages: Stages::Pipelined,
        }
    }

    /// The layouts the equivalence tests run: fused, and a thread per stage with 1, 2 and
    /// 3 book consumers (the default picks by the machine's cores, so both are named).
    const ALL: [Layout; 4] = [
        Layout::FUSED,
        Layout::pipelined(1),
        Layout::pipelined(2),
        Layout::pipelined(3),
    ];
}

/// Submits `commands` from this thread through a pipeline of `instruments` laid out as
/// `layout`, stops it, and returns what a subscriber saw. `extra` is added as a further
/// subscriber.
fn pipeline_run(
    instruments: &[Uuid],
    commands: &[Command],
    layout: Layout,
    extra: Option<Box<dyn Subscriber>>,
) -> Vec<Recorded> {
    let recording = Recording::default();
    let mut builder = builder(instruments.iter().copied())
        .consumers(layout.consumers)
        .stages(layout.stages)
        .publish_timeout(None)
        .subscriber(recording.subscriber());
    if let Some(extra) = extra {
        builder = builder.boxed_subscriber(extra);
    }
    let manager = builder.build().unwrap();
    manager.start().unwrap();
    for &command in commands {
        let registered = manager.registry().slot(&command.instrument_id()).is_some();
        match manager.submit(command) {
            Ok(()) => assert!(
                registered || matches!(command, Command::Halt { .. } | Command::Resume { .. }),
                "{command:?} on an unregistered instrument was taken"
            ),
            Err(OrderbookManagerError::InstrumentNotRegistered { instrument_id, .. }) => {
                assert!(!registered);
                assert_eq!(instrument_id, command.instrument_id());
            }
            Err(error) => assert!(error.is_rejected_command(), "{command:?}: {error}"),
        }
    }
    within_limit("stop", move || manager.stop()).unwrap();
    assert!(recording.finished(), "the subscriber was not finished");
    let events = recording.events();
    assert_exactly_once(commands, &events);
    events
}

/// Asserts the pipeline's per-instrument streams equal the direct engine's.
fn assert_same_streams(
    pipeline: &HashMap<Uuid, Vec<OrderbookResult>>,
    direct: &HashMap<Uuid, Vec<OrderbookResult>>,
) {
    let mut instruments: Vec<&Uuid> = pipeline.keys().chain(direct.keys()).collect();
    instruments.sort_unstable();
    instruments.dedup();
    for instrument in instruments {
        let empty = Vec::new();
        let got = pipeline.get(instrument).unwrap_or(&empty);
        let want = direct.get(instrument).unwrap_or(&empty);
        if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
            panic!(
                "instrument {instrument}: streams differ at event {i} of {} (pipeline) / {} \
                 (direct)\n pipeline: {:?}\n   direct: {:?}",
                got.len(),
                want.len(),
                got.get(i),
                want.get(i)
            );
        }
    }
}

/// A random flow over `registered` and `unregistered` instruments: adds of every kind
/// (some quantity 0, some duplicate ids), cancels and modifies of known and unknown ids,
/// halts and resumes, status and snapshot ops.
fn random_flow(seed: u64, len: usize, registered: &[Uuid], unregistered: &[Uuid]) -> Vec<Command> {
    let mut rng = Rng::new(seed);
    let mut flow = Vec::with_capacity(len);
    for _ in 0..len {
        let instrument_id = if rng.permille(30) {
            unregistered[rng.index(unregistered.len())]
        } else {
            registered[rng.index(registered.len())]
        };
        // Instrument 0 trades around zero, to see negative prices.
        let mid = if instrument_id == registered[0] {
            0
        } else {
            100
        };
        let price = mid + rng.below(11) as i64 - 5;
        let qty = if rng.permille(20) {
            0
        } else {
            1 + rng.below(12)
        };
        // A small pool of ids: duplicates and unknown orders happen.
        let order_id = Uuid::from_u128(0x5_0000 + u128::from(rng.below(300)));
        let command = match rng.below(1000) {
            0..550 => Command::Add(Order::new(
                order_id,
                instrument_id,
                rng.side(),
                rng.kind(),
                price,
                qty,
            )),
            550..750 => Command::Cancel {
                instrument_id,
                order_id,
            },
            750..900 => Command::Modify {
                instrument_id,
                order_id,
                price,
                qty,
            },
            900..958 => Command::Status { instrument_id },
            958..975 => Command::Snapshot { instrument_id },
            975..983 => Command::Halt { instrument_id },
            _ => Command::Resume { instrument_id },
        };
        flow.push(command);
    }
    flow
}

// ---------------------------------------------------------------------------------------
// 1. Exactly once
// ---------------------------------------------------------------------------------------

/// Registered instruments in the exactly-once run.
const EO_INSTRUMENTS: u128 = 64;
/// Caller threads in the exactly-once run.
const EO_THREADS: usize = 4;

/// The order id a caller thread gives its command number `index`.
fn eo_order_id(thread: usize, index: usize) -> Uuid {
    Uuid::from_u128(((thread as u128 + 1) << 64) | index as u128)
}

/// `(thread, index)` of an id made by [`eo_order_id`].
fn eo_decode(id: Uuid, per_thread: usize) -> Option<(usize, usize)> {
    let v = id.as_u128();
    let thread = (v >> 64).checked_sub(1)? as usize;
    let index = (v & u128::from(u64::MAX)) as usize;
    (thread < EO_THREADS && index < per_thread).then_some((thread, index))
}

/// Where the tally counts the primary event of op `op` on the id of command `index` of
/// `thread`; `None` for ops without an order id.
fn eo_slot(op: Op, thread: usize, index: usize, per_thread: usize) -> Option<usize> {
    let class = match op {
        Op::Add => 0,
        Op::Cancel => 1,
        Op::Modify => 2,
        _ => return None,
    };
    Some((thread * per_thread + index) * 3 + class)
}

/// One caller thread's commands: a realistic mix in which every `(op, order id)` pair
/// occurs at most once, so each has exactly one primary event.
fn eo_commands(thread: usize, count: usize) -> Vec<Command> {
    let mut rng = Rng::new(1000 + thread as u64);
    let mut commands = Vec::with_capacity(count);
    // Ids added and not yet cancelled / not yet modified, with their instrument.
    let mut cancellable: Vec<(Uuid, Uuid)> = Vec::new();
    let mut modifiable: Vec<(Uuid, Uuid)> = Vec::new();
    // (command index at which to resume, instrument)
    let mut resumes: Vec<(usize, Uuid)> = Vec::new();
    for index in 0..count {
        if let Some(at) = resumes.iter().position(|&(at, _)| at <= index) {
            let (_, instrument_id) = resumes.swap_remove(at);
            commands.push(Command::Resume { instrument_id });
            continue;
        }
        let own_id = eo_order_id(thread, index);
        let registered = instrument(u128::from(rng.below(EO_INSTRUMENTS as u64)));
        let price = 1000 + rng.below(17) as i64 - 8;
        let qty = if rng.permille(20) {
            0
        } else {
            1 + rng.below(20)
        };
        let command = match rng.below(1000) {
            0..450 => {
                let order = Order::new(own_id, registered, rng.side(), rng.kind(), price, qty);
                cancellable.push((own_id, registered));
                modifiable.push((own_id, registered));
                Command::Add(order)
            }
            450..470 => {
                let elsewhere = unregistered(u128::from(rng.below(8)));
                let order = Order::new(own_id, elsewhere, rng.side(), rng.kind(), price, qty);
                cancellable.push((own_id, elsewhere));
                Command::Add(order)
            }
            470..700 => {
                let (order_id, instrument_id) = if !cancellable.is_empty() && rng.permille(900) {
                    cancellable.swap_remove(rng.index(cancellable.len()))
                } else {
                    (own_id, registered) // never added: unknown_order
                };
                Command::Cancel {
                    instrument_id,
                    order_id,
                }
            }
            700..850 => {
                let (order_id, instrument_id) = if !modifiable.is_empty() && rng.permille(900) {
                    modifiable.swap_remove(rng.index(modifiable.len()))
                } else {
                    (own_id, registered)
                };
                Command::Modify {
                    instrument_id,
                    order_id,
                    price,
                    qty,
                }
            }
            850..990 => Command::Status {
                instrument_id: registered,
            },
            990..992 => Command::Snapshot {
                instrument_id: registered,
            },
            992..993 => Command::Halt {
                instrument_id: unregistered(0),
            },
            993..996 => {
                resumes.push((index + 50 + rng.index(100), registered));
                Command::Halt {
                    instrument_id: registered,
                }
            }
            _ => Command::Status {
                instrument_id: unregistered(1),
            },
        };
        commands.push(command);
    }
    commands
}

/// What the tally subscriber counts, compactly: a byte per `(order id, op)` and per input
/// sequence number, a map for the ops without an order id.
struct Tally {
    per_thread: usize,
    last_seq: u64,
    seq_errors: u64,
    orders: Vec<u8>,
    inputs: Vec<u8>,
    controls: HashMap<(Op, Uuid), u64>,
    foreign: u64,
    primary: u64,
    /// `trade` and `expired` events.
    secondary: u64,
}

impl Tally {
    fn new(per_thread: usize) -> Tally {
        Tally {
            per_thread,
            last_seq: 0,
            seq_errors: 0,
            orders: vec![0; EO_THREADS * per_thread * 3],
            inputs: vec![0; EO_THREADS * per_thread + 2],
            controls: HashMap::new(),
            foreign: 0,
            primary: 0,
            secondary: 0,
        }
    }

    /// Counts the primary event (or expected outcome) `key`.
    fn count(&mut self, key: Key) {
        let (op, instrument_id, order_id) = key;
        match order_id {
            Some(id) => {
                let slot = eo_decode(id, self.per_thread)
                    .and_then(|(thread, index)| eo_slot(op, thread, index, self.per_thread));
                match slot {
                    Some(slot) => self.orders[slot] = self.orders[slot].saturating_add(1),
                    None => self.foreign += 1,
                }
            }
            None => *self.controls.entry((op, instrument_id)).or_default() += 1,
        }
    }
}

/// Counts every event into a [`Tally`] and hands it over when the manager stops.
struct TallySubscriber {
    tally: Option<Tally>,
    out: mpsc::Sender<Tally>,
}

impl Subscriber for TallySubscriber {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        let tally = self.tally.as_mut().expect("events after finish");
        if event.seq != tally.last_seq + 1 {
            tally.seq_errors += 1;
        }
        tally.last_seq = event.seq;
        if let Some(key) = primary_key(event.result) {
            tally.primary += 1;
            tally.count(key);
            match tally.inputs.get_mut(event.input_seq as usize) {
                Some(n) => *n = n.saturating_add(1),
                None => tally.foreign += 1,
            }
        } else {
            tally.secondary += 1;
        }
    }

    fn finish(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(tally) = self.tally.take() {
            self.out.send(tally)?;
        }
        Ok(())
    }

    fn name(&self) -> &str {
        "tally"
    }
}

/// `EO_THREADS` callers send `per_thread` commands each, concurrently, over 64
/// instruments; every command has exactly one primary event and the output seq runs
/// 1..N.
fn exactly_once(per_thread: usize) {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let manager = builder((0..EO_INSTRUMENTS).map(instrument))
        .consumers(2)
        .publish_timeout(None)
        .subscriber(TallySubscriber {
            tally: Some(Tally::new(per_thread)),
            out: tx,
        })
        .build()
        .unwrap();
    manager.start().unwrap();
    let manager = Arc::new(manager);
    let barrier = Arc::new(Barrier::new(EO_THREADS));
    let callers: Vec<_> = (0..EO_THREADS)
        .map(|thread| {
            let manager = Arc::clone(&manager);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let commands = eo_commands(thread, per_thread);
                barrier.wait();
                for &command in &commands {
                    match send(&*manager, command) {
                        Ok(()) => {}
                        Err(OrderbookManagerError::InstrumentNotRegistered { .. }) => {
                            assert!(command.instrument_id().as_u128() >= 0x9_0000)
                        }
                        Err(OrderbookManagerError::OrderbookHalted { .. }) => {}
                        Err(OrderbookManagerError::OrderbookError { reason, .. }) => {
                            assert_eq!(reason, RejectReason::InvalidQuantity)
                        }
                        Err(error) => panic!("{command:?}: {error}"),
                    }
                }
                commands
            })
        })
        .collect();
    let mut expected = Tally::new(per_thread);
    let mut sent = 0usize;
    for caller in callers {
        for command in caller.join().unwrap() {
            expected.count(command_key(&command));
            sent += 1;
        }
    }
    let manager = Arc::into_inner(manager).expect("callers are done");
    within_limit("stop", move || manager.stop()).unwrap();
    let tally = rx
        .recv_timeout(LIMIT)
        .expect("the tally subscriber finished");

    assert_eq!(sent, EO_THREADS * per_thread);
    assert_eq!(expected.foreign, 0, "test bug: undecodable ids");
    assert!(
        expected.orders.iter().all(|&n| n <= 1),
        "test bug: an (op, order id) pair was sent twice"
    );
    assert_eq!(tally.seq_errors, 0, "output seq has gaps or repeats");
    assert_eq!(tally.foreign, 0, "events for ids or input seqs never sent");
    assert_eq!(
        tally.primary, sent as u64,
        "primary events != commands sent"
    );
    let wrong = (0..tally.orders.len())
        .filter(|&i| tally.orders[i] != expected.orders[i])
        .count();
    assert_eq!(wrong, 0, "(op, order id) pairs without exactly one outcome");
    assert_eq!(
        tally.controls, expected.controls,
        "halt/resume/status/snapshot outcomes"
    );
    // The sequencer numbered every command once: each input seq 1..=N has one outcome.
    assert_eq!(tally.inputs[0], 0);
    let bad_inputs = tally.inputs[1..=sent].iter().filter(|&&n| n != 1).count();
    assert_eq!(
        bad_inputs, 0,
        "input seqs without exactly one primary event"
    );
    assert_eq!(tally.inputs[sent + 1], 0);
    eprintln!(
        "exactly once: {sent} commands, {} events in {:?}",
        tally.last_seq,
        started.elapsed()
    );
}

#[test]
fn exactly_once_4_threads_x_250k() {
    // The full size runs in a few seconds even in a debug build.
    exactly_once(250_000);
}

// ---------------------------------------------------------------------------------------
// 2. Backpressure
// ---------------------------------------------------------------------------------------

/// Resting buys that never cross, each with a price and quantity of its own.
fn resting_buys(count: usize, instruments: &[Uuid]) -> Vec<Command> {
    (0..count)
        .map(|i| {
            Command::Add(Order::limit(
                Uuid::from_u128(0x7_0000_0000 + i as u128),
                instruments[i % instruments.len()],
                Side::Buy,
                1000 - (i % 50) as i64,
                1 + (i % 7) as u64,
            ))
        })
        .collect()
}

/// The `accepted` event an add of a resting order gets.
fn accepted(command: &Command) -> OrderbookResult {
    let Command::Add(order) = command else {
        panic!("not an add: {command:?}")
    };
    OrderbookResult::Accepted {
        instrument_id: order.instrument_id,
        order_id: order.order_id,
        side: order.side,
        kind: order.kind,
        price: order.limit_price(),
        qty: order.quantity,
        display: None,
        trigger: None,
    }
}

#[test]
fn backpressure_publishers_wait_and_nothing_is_dropped() {
    let instruments = [instrument(0), instrument(1)];
    let recording = Recording::default();
    let gate = Gate::default();
    let closed = gate.close();
    let manager = builder(instruments)
        .consumers(2)
        .ring_size(64)
        .publish_timeout(None)
        .subscriber(recording.gated(&gate))
        .build()
        .unwrap();
    manager.start().unwrap();
    let manager = Arc::new(manager);
    let commands = resting_buys(3000, &instruments);
    let published = Arc::new(AtomicUsize::new(0));
    let publisher = {
        let (manager, commands, published) = (
            Arc::clone(&manager),
            commands.clone(),
            Arc::clone(&published),
        );
        thread::spawn(move || {
            for command in commands {
                send(&*manager, command).unwrap();
                published.fetch_add(1, Ordering::Release);
            }
        })
    };
    // The subscriber is stalled: the publisher fills every ring and then waits.
    let blocked_at = wait_for_plateau(&published, Duration::from_millis(300));
    assert!(!publisher.is_finished(), "the publisher did not wait");
    // In flight at most: ingress 64 + two inbound rings of 64 + the consumers' results
    // taken from those rings (128) + outbound 64, and the one in the caller's hands.
    assert!(
        blocked_at <= 512,
        "{blocked_at} commands published past a stalled subscriber and 64-slot rings"
    );
    assert_eq!(recording.len(), 0, "the stalled subscriber got events");

    drop(closed);
    within_limit("the publisher", move || publisher.join().unwrap());
    let manager = Arc::into_inner(manager).unwrap();
    within_limit("stop", move || manager.stop()).unwrap();
    let events = recording.events();
    assert_exactly_once(&commands, &events);
    // Nothing was overwritten: each instrument got exactly its adds, in the order sent,
    // each with its own price and quantity.
    let got = by_instrument(events.into_iter().map(|e| e.result));
    let want = by_instrument(commands.iter().map(accepted));
    assert_same_streams(&got, &want);
}

#[test]
fn backpressure_publish_times_out_when_stalled() {
    let instrument_id = instrument(0);
    let timeout = Duration::from_millis(100);
    let recording = Recording::default();
    let gate = Gate::default();
    let closed = gate.close();
    let manager = builder([instrument_id])
        .ring_size(64)
        .publish_timeout(Some(timeout))
        .subscriber(recording.gated(&gate))
        .build()
        .unwrap();
    manager.start().unwrap();
    let mut taken = Vec::new();
    let mut timed_out = Vec::new();
    for command in resting_buys(5000, &[instrument_id]) {
        match send(&manager, command) {
            Ok(()) => taken.push(command),
            Err(OrderbookManagerError::Timeout {
                instrument_id: named,
                waited,
            }) => {
                assert_eq!(named, instrument_id);
                assert!(waited >= timeout, "gave up after {waited:?} < {timeout:?}");
                timed_out.push(command);
                if timed_out.len() == 3 {
                    break;
                }
            }
            Err(error) => panic!("{command:?}: {error}"),
        }
    }
    assert_eq!(
        timed_out.len(),
        3,
        "publishing past a stalled subscriber never timed out"
    );
    assert!(
        taken.len() <= 512,
        "{} commands taken past a stall",
        taken.len()
    );
    assert_eq!(recording.len(), 0);

    drop(closed);
    within_limit("stop", move || manager.stop()).unwrap();
    let events = recording.events();
    // Every taken command has its outcome; the timed-out ones have none.
    assert_exactly_once(&taken, &events);
    for command in &timed_out {
        let key = command_key(command);
        assert!(
            !events.iter().any(|e| primary_key(&e.result) == Some(key)),
            "the timed-out {command:?} has an outcome"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. A thousand instruments on two consumer threads
// ---------------------------------------------------------------------------------------

#[test]
fn thousand_instruments_on_two_consumers_match_the_direct_engine() {
    let config = GenConfig::new(42, 1000, 100_000)
        .with_depth(20)
        .with_snapshot_permille(3)
        .with_halt_per_million(5_000);
    let generator = FlowGenerator::new(config);
    let instruments = generator.instruments().to_vec();
    let flow: Vec<Command> = generator.collect();
    assert_eq!(instruments.len(), 1000);
    let events = pipeline_run(&instruments, &flow, Layout::pipelined(2), None);
    let (direct, _) = direct_run(&instruments, &flow);
    let pipeline = by_instrument(events.into_iter().map(|e| e.result));
    assert!(
        pipeline.len() > 900,
        "only {} instruments traded",
        pipeline.len()
    );
    assert_same_streams(&pipeline, &direct);
}

// ---------------------------------------------------------------------------------------
// 4. Halt race
// ---------------------------------------------------------------------------------------

#[test]
fn no_trade_between_halted_and_resumed() {
    let instruments: Vec<Uuid> = (0..4).map(instrument).collect();
    let recording = Recording::default();
    let manager = builder(instruments.iter().copied())
        .consumers(2)
        .publish_timeout(None)
        .subscriber(recording.subscriber())
        .build()
        .unwrap();
    manager.start().unwrap();
    let manager = Arc::new(manager);
    let adders = 3;
    const CYCLES: usize = 30;
    // Set once the halts are over; counts the adds the caller's check refused.
    let stop_adding = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..adders)
        .map(|t| {
            let (manager, instruments, stop_adding, refused) = (
                Arc::clone(&manager),
                instruments.clone(),
                Arc::clone(&stop_adding),
                Arc::clone(&refused),
            );
            thread::spawn(move || {
                let mut rng = Rng::new(77 + t as u64);
                let mut i = 0u128;
                while i < 2_000 || !stop_adding.load(Ordering::Acquire) {
                    let id = Uuid::from_u128(((t as u128 + 1) << 64) | i);
                    i += 1;
                    let instrument_id = instruments[rng.index(instruments.len())];
                    // Crossing limit orders: a buy at 101 meets sells at 99 and vice versa.
                    let (side, price) = if rng.next() & 1 == 0 {
                        (Side::Buy, 101)
                    } else {
                        (Side::Sell, 99)
                    };
                    let order = Order::limit(id, instrument_id, side, price, 1 + rng.below(5));
                    match manager.add_order(order) {
                        Ok(()) => {}
                        Err(OrderbookManagerError::OrderbookHalted { .. }) => {
                            refused.fetch_add(1, Ordering::Release);
                        }
                        Err(error) => panic!("{order:?}: {error}"),
                    }
                }
            })
        })
        .collect();
    {
        let (manager, instruments) = (Arc::clone(&manager), instruments.clone());
        let (stop_adding, refused) = (Arc::clone(&stop_adding), Arc::clone(&refused));
        thread::spawn(move || {
            // Halt and resume every book, over and over, while the adders run; each halt
            // lasts until some add has run into it.
            for _ in 0..CYCLES {
                let before = refused.load(Ordering::Acquire);
                manager.halt_orderbooks(instruments.clone());
                wait_until("an add to meet the halt", || {
                    refused.load(Ordering::Acquire) > before
                });
                manager.resume_orderbooks(instruments.clone());
                thread::sleep(Duration::from_millis(1));
            }
            stop_adding.store(true, Ordering::Release);
        })
        .join()
        .unwrap();
    }
    for adder in threads {
        adder.join().unwrap();
    }
    let manager = Arc::into_inner(manager).unwrap();
    within_limit("stop", move || manager.stop()).unwrap();

    let events = recording.events();
    let streams = by_instrument(events.into_iter().map(|e| e.result));
    let mut trades = 0;
    let mut rejected_halted = 0;
    for instrument_id in &instruments {
        let stream = &streams[instrument_id];
        let mut halted = false;
        let (mut halts, mut resumes) = (0, 0);
        for (i, event) in stream.iter().enumerate() {
            match event {
                OrderbookResult::Halted { .. } => {
                    assert!(!halted, "{instrument_id}: halted twice in a row at {i}");
                    halted = true;
                    halts += 1;
                }
                OrderbookResult::Resumed { .. } => {
                    assert!(halted, "{instrument_id}: resumed while running at {i}");
                    halted = false;
                    resumes += 1;
                }
                OrderbookResult::Trade { .. } => {
                    assert!(
                        !halted,
                        "{instrument_id}: trade while halted, event {i}: {event:?}"
                    );
                    trades += 1;
                }
                OrderbookResult::Accepted { .. } => {
                    assert!(!halted, "{instrument_id}: add accepted while halted at {i}");
                }
                OrderbookResult::Rejected {
                    reason: RejectReason::OrderbookHalted,
                    ..
                } => rejected_halted += 1,
                _ => {}
            }
        }
        assert_eq!((halts, resumes), (CYCLES, CYCLES), "{instrument_id}");
    }
    assert!(trades > 0, "the crossing orders never traded");
    assert!(
        rejected_halted >= CYCLES,
        "{rejected_halted} adds met a halt"
    );
}

// ---------------------------------------------------------------------------------------
// 5. Pipeline == direct engine
// ---------------------------------------------------------------------------------------

#[test]
fn pipeline_streams_equal_the_direct_engine_fused_and_with_1_2_3_consumers() {
    let registered: Vec<Uuid> = (0..7).map(instrument).collect();
    let others = [unregistered(0), unregistered(1)];
    let len = 30_000;
    for (n, layout) in (0u64..).zip(Layout::ALL) {
        for seed in [n, 100 + n] {
            let flow = random_flow(seed, len, &registered, &others);
            let (direct, engine) = direct_run(&registered, &flow);
            let events = pipeline_run(&registered, &flow, layout, None);
            let pipeline = by_instrument(events.into_iter().map(|e| e.result));
            assert_same_streams(&pipeline, &direct);
            // The flow exercised what it should.
            let all: Vec<&OrderbookResult> = direct.values().flatten().collect();
            for name in [
                "trade",
                "expired",
                "modified",
                "cancelled",
                "halted",
                "snapshot",
            ] {
                assert!(all.iter().any(|e| e.type_name() == name), "no {name} event");
            }
            // not_modifiable needs a parked stop, which this flow has none of.
            for reason in RejectReason::ALL
                .into_iter()
                .filter(|r| *r != RejectReason::NotModifiable)
            {
                assert!(
                    all.iter().any(
                        |e| matches!(e, OrderbookResult::Rejected { reason: r, .. } if *r == reason)
                    ),
                    "no {reason} reject"
                );
            }
            assert!(
                registered
                    .iter()
                    .any(|i| !engine.book(i).unwrap().is_empty())
            );
        }
    }
}

#[test]
fn pipeline_streams_equal_the_direct_engine_on_a_generated_flow() {
    let config = GenConfig::new(9, 5, 50_000)
        .with_depth(200)
        .with_snapshot_permille(5)
        .with_halt_per_million(3_000);
    let generator = FlowGenerator::new(config);
    let instruments = generator.instruments().to_vec();
    let flow: Vec<Command> = generator.collect();
    let (direct, _) = direct_run(&instruments, &flow);
    for layout in Layout::ALL {
        let events = pipeline_run(&instruments, &flow, layout, None);
        let pipeline = by_instrument(events.into_iter().map(|e| e.result));
        assert_same_streams(&pipeline, &direct);
    }
}

#[test]
fn the_fused_engine_of_many_books_fetching_ahead_equals_the_direct_engine() {
    // From 64 books the fused sequencer fetches each command's book a few commands before
    // it applies it (`book::prefetch`): the events must be those of the direct engine.
    let registered: Vec<Uuid> = (0..100).map(instrument).collect();
    let others = [unregistered(0), unregistered(1)];
    for seed in [21, 22] {
        let flow = random_flow(seed, 30_000, &registered, &others);
        let (direct, _) = direct_run(&registered, &flow);
        let events = pipeline_run(&registered, &flow, Layout::FUSED, None);
        assert_same_streams(
            &by_instrument(events.into_iter().map(|e| e.result)),
            &direct,
        );
    }
    let generator = FlowGenerator::new(GenConfig::new(23, 100, 30_000).with_depth(50));
    let instruments = generator.instruments().to_vec();
    let flow: Vec<Command> = generator.collect();
    let (direct, _) = direct_run(&instruments, &flow);
    let events = pipeline_run(&instruments, &flow, Layout::FUSED, None);
    assert_same_streams(
        &by_instrument(events.into_iter().map(|e| e.result)),
        &direct,
    );
}

// ---------------------------------------------------------------------------------------
// 6. Shutdown
// ---------------------------------------------------------------------------------------

#[test]
fn stop_with_full_rings_loses_nothing() {
    let instruments = [instrument(0), instrument(1)];
    let recording = Recording::default();
    let gate = Gate::default();
    let closed = gate.close();
    let manager = builder(instruments)
        .consumers(2)
        .ring_size(64)
        .publish_timeout(Some(Duration::from_millis(20)))
        .subscriber(recording.gated(&gate))
        .build()
        .unwrap();
    manager.start().unwrap();
    let manager = Arc::new(manager);
    let timeouts = Arc::new(AtomicUsize::new(0));
    let publisher = {
        let (manager, timeouts) = (Arc::clone(&manager), Arc::clone(&timeouts));
        thread::spawn(move || {
            let mut taken = Vec::new();
            for command in resting_buys(1_000_000, &instruments) {
                match send(&*manager, command) {
                    Ok(()) => taken.push(command),
                    Err(OrderbookManagerError::Timeout { .. }) => {
                        timeouts.fetch_add(1, Ordering::Release);
                    }
                    Err(OrderbookManagerError::NotRunning { .. }) => return taken,
                    Err(error) => panic!("{command:?}: {error}"),
                }
            }
            panic!("the publisher never saw the stop");
        })
    };
    // Every ring is full once a publish times out.
    wait_until("a full ingress ring", || {
        timeouts.load(Ordering::Acquire) > 0
    });
    let stopper = {
        let manager = Arc::clone(&manager);
        thread::spawn(move || manager.stop())
    };
    // Wait until the stop has begun (intake refused) before the subscriber moves on.
    let mut probes = Vec::new();
    let probe = Command::Status {
        instrument_id: instruments[0],
    };
    wait_until("the stop to begin", || match send(&*manager, probe) {
        Err(OrderbookManagerError::NotRunning { state, .. }) => {
            assert_eq!(state, ManagerState::Stopped);
            true
        }
        Err(OrderbookManagerError::Timeout { .. }) => false,
        Ok(()) => {
            probes.push(probe);
            false
        }
        Err(error) => panic!("{error}"),
    });
    assert_eq!(recording.len(), 0, "the stalled subscriber got events");
    drop(closed);
    within_limit("stop", move || stopper.join().unwrap()).unwrap();
    let mut taken = within_limit("the publisher", move || publisher.join().unwrap());
    assert!(!taken.is_empty());
    taken.extend(probes);
    assert!(recording.finished());
    assert_exactly_once(&taken, &recording.events());
}

/// Callers publishing as fast as they can, with room in every ring, while `stop` runs:
/// each command a caller was told was taken has exactly one outcome, and the others none.
/// (A caller that published after the stop marker would be lost: the test fails if callers
/// skip the admission check.)
#[test]
fn callers_racing_stop_with_room_in_the_rings_lose_nothing() {
    for round in 0..24u64 {
        let instruments = [instrument(0), instrument(1), instrument(2)];
        let (manager, recording) = started_and_recorded(instruments);
        let manager = Arc::new(manager);
        let started = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..3usize)
            .map(|caller| {
                let (manager, started) = (Arc::clone(&manager), Arc::clone(&started));
                thread::spawn(move || {
                    let mut taken = Vec::new();
                    for i in (caller..).step_by(3) {
                        let command = Command::Add(Order::limit(
                            Uuid::from_u128(0x7_0000_0000 + i as u128),
                            instruments[i % instruments.len()],
                            Side::Buy,
                            1000 - (i % 50) as i64,
                            1 + (i % 7) as u64,
                        ));
                        match send(&*manager, command) {
                            Ok(()) => taken.push(command),
                            Err(OrderbookManagerError::NotRunning { .. }) => return taken,
                            Err(error) => panic!("{command:?}: {error}"),
                        }
                        if taken.len() == 1_000 {
                            started.fetch_add(1, Ordering::AcqRel);
                        }
                    }
                    unreachable!("caller {caller} ran out of order ids")
                })
            })
            .collect();
        wait_until("every caller under way", || {
            started.load(Ordering::Acquire) == 3
        });
        // Stop at a different point of the callers' stride each round.
        thread::sleep(Duration::from_micros(round * 150));
        let stopper = Arc::clone(&manager);
        within_limit("stop", move || stopper.stop()).unwrap();
        let mut taken = Vec::new();
        for caller in callers {
            taken.extend(within_limit("a caller", move || caller.join().unwrap()));
        }
        assert!(recording.finished());
        assert_exactly_once(&taken, &recording.events());
    }
}

/// The caller's checks, op by op, on a live book and then a halted one: adds and modifies
/// are refused for a zero quantity and on a halted book, cancels, status and snapshots
/// pass either way, and every call has its outcome in the stream, in call order.
#[test]
fn the_callers_checks_by_op_on_a_live_and_a_halted_book() {
    let instrument_id = instrument(0);
    let (manager, recording) = started_and_recorded([instrument_id]);
    let id = Uuid::from_u128;
    let order = |n, qty| Order::limit(id(n), instrument_id, Side::Buy, 100, qty);
    let modify = |n, qty| Command::Modify {
        instrument_id,
        order_id: id(n),
        price: 101,
        qty,
    };
    let cancel = |n| Command::Cancel {
        instrument_id,
        order_id: id(n),
    };
    let status = Command::Status { instrument_id };
    let snapshot = Command::Snapshot { instrument_id };
    let halted = |n: u128| move |result: &Result<(), OrderbookManagerError>| matches!(result, Err(OrderbookManagerError::OrderbookHalted { order_id, .. }) if *order_id == id(n));
    let zero_qty = |result: &Result<(), OrderbookManagerError>| {
        matches!(
            result,
            Err(OrderbookManagerError::OrderbookError {
                reason: RejectReason::InvalidQuantity,
                ..
            })
        )
    };
    let ok = |result: &Result<(), OrderbookManagerError>| result.is_ok();
    type Check<'a> = Box<dyn Fn(&Result<(), OrderbookManagerError>) -> bool + 'a>;
    let live: Vec<(Command, Check)> = vec![
        (Command::Add(order(1, 5)), Box::new(ok)),
        (Command::Add(order(2, 0)), Box::new(zero_qty)),
        (Command::Add(order(3, 5)), Box::new(ok)),
        (modify(1, 0), Box::new(zero_qty)),
        (modify(1, 3), Box::new(ok)),
        (cancel(3), Box::new(ok)),
        (status, Box::new(ok)),
        (snapshot, Box::new(ok)),
    ];
    let on_halted: Vec<(Command, Check)> = vec![
        (Command::Add(order(4, 5)), Box::new(halted(4))),
        (Command::Add(order(5, 0)), Box::new(halted(5))),
        (modify(1, 2), Box::new(halted(1))),
        (modify(1, 0), Box::new(halted(1))),
        (cancel(9), Box::new(ok)),
        (status, Box::new(ok)),
        (snapshot, Box::new(ok)),
        (cancel(1), Box::new(ok)),
    ];
    let mut sent = Vec::new();
    for (command, check) in &live {
        let result = send(&manager, *command);
        assert!(check(&result), "live book, {command:?}: {result:?}");
        sent.push(*command);
    }
    manager.halt_orderbooks(vec![instrument_id]);
    sent.push(Command::Halt { instrument_id });
    for (command, check) in &on_halted {
        let result = send(&manager, *command);
        assert!(check(&result), "halted book, {command:?}: {result:?}");
        sent.push(*command);
    }
    manager.stop().unwrap();
    assert_exactly_once(&sent, &recording.events());
}

/// A started manager for `instruments`, with a recording of its events.
fn started_and_recorded(
    instruments: impl IntoIterator<Item = Uuid>,
) -> (OrderbookManagerServiceImpl, Recording) {
    let recording = Recording::default();
    let manager = builder(instruments)
        .subscriber(recording.subscriber())
        .build()
        .unwrap();
    manager.start().unwrap();
    (manager, recording)
}

#[test]
fn stop_is_idempotent_and_later_calls_are_refused() {
    let instrument_id = instrument(0);
    let (manager, recording) = started_and_recorded([instrument_id]);
    let commands = random_flow(5, 500, &[instrument_id], &[unregistered(0)]);
    for &command in &commands {
        send_taken(&manager, command);
    }
    manager.stop().unwrap();
    assert!(recording.finished());
    let seen = recording.len();
    assert_exactly_once(&commands, &recording.events());

    manager.stop().unwrap();
    manager.stop().unwrap();
    let order = Order::limit(Uuid::from_u128(1), instrument_id, Side::Buy, 10, 1);
    let calls = [
        manager.add_order(order),
        manager.add_order(Order::limit(
            order.order_id,
            instrument_id,
            Side::Buy,
            10,
            0,
        )),
        manager.add_order(Order::limit(
            order.order_id,
            unregistered(0),
            Side::Buy,
            10,
            1,
        )),
        manager.cancel_order(&instrument_id, order.order_id),
        manager.modify_order(&instrument_id, order.order_id, 11, 1),
        manager.publish_orderbook_status(instrument_id),
        manager.publish_orderbook_snapshot(instrument_id),
    ];
    for result in calls {
        assert!(
            matches!(
                result,
                Err(OrderbookManagerError::NotRunning {
                    state: ManagerState::Stopped,
                    ..
                })
            ),
            "after stop: {result:?}"
        );
    }
    manager.halt_orderbooks(vec![instrument_id]);
    manager.resume_orderbooks(vec![instrument_id]);
    assert!(matches!(
        manager.start(),
        Err(OrderbookManagerError::AlreadyStarted)
    ));
    manager.stop().unwrap();
    assert_eq!(recording.len(), seen, "events after stop");
}

#[test]
fn calls_before_start_are_refused_and_early_halts_come_first() {
    let (a, b) = (instrument(0), instrument(1));
    let recording = Recording::default();
    let manager = builder([a, b])
        .consumers(2)
        .subscriber(recording.subscriber())
        .build()
        .unwrap();
    manager.halt_orderbooks(vec![a, unregistered(0)]);
    assert_eq!(manager.is_halted(&a), Some(true));
    let order =
        |n: u128, instrument_id| Order::limit(Uuid::from_u128(n), instrument_id, Side::Buy, 10, 1);
    let calls = [
        manager.add_order(order(1, a)),
        manager.add_order(order(2, b)),
        manager.add_order(order(3, unregistered(1))),
        manager.cancel_order(&b, Uuid::from_u128(2)),
        manager.modify_order(&b, Uuid::from_u128(2), 11, 1),
        manager.publish_orderbook_status(b),
        manager.publish_orderbook_snapshot(a),
    ];
    for result in calls {
        assert!(
            matches!(
                result,
                Err(OrderbookManagerError::NotRunning {
                    state: ManagerState::NotStarted,
                    ..
                })
            ),
            "before start: {result:?}"
        );
    }
    manager.start().unwrap();
    assert!(matches!(
        manager.start(),
        Err(OrderbookManagerError::AlreadyStarted)
    ));
    assert!(matches!(
        manager.add_order(order(4, a)),
        Err(OrderbookManagerError::OrderbookHalted { instrument_id, .. }) if instrument_id == a
    ));
    manager.add_order(order(5, b)).unwrap();
    manager.resume_orderbooks(vec![a]);
    manager.add_order(order(6, a)).unwrap();
    within_limit("stop", move || manager.stop()).unwrap();

    let events = recording.events();
    // The early halts were sequenced first, in the order called.
    let mut first: Vec<_> = events.iter().filter(|e| e.input_seq <= 2).collect();
    first.sort_by_key(|e| e.input_seq);
    assert_eq!(first.len(), 2, "{events:#?}");
    assert_eq!(
        first[0].result,
        OrderbookResult::Halted { instrument_id: a }
    );
    assert_eq!(
        first[1].result,
        OrderbookResult::Rejected {
            instrument_id: unregistered(0),
            op: Op::Halt,
            order_id: None,
            reason: RejectReason::InstrumentNotRegistered,
        }
    );
    let streams = by_instrument(events.into_iter().map(|e| e.result));
    let types = |i: &Uuid| streams[i].iter().map(|e| e.type_name()).collect::<Vec<_>>();
    assert_eq!(types(&a), ["halted", "rejected", "resumed", "accepted"]);
    assert_eq!(types(&b), ["accepted"]);
    assert!(
        !streams.contains_key(&unregistered(1)),
        "a refused call was published"
    );
}

#[test]
fn early_halts_come_before_calls_racing_start() {
    // A caller hammers the halted book while `start` runs: whatever it gets in must be
    // sequenced after the halt that was called before start.
    for round in 0..200 {
        let a = instrument(0);
        let recording = Recording::default();
        let manager = Arc::new(
            builder([a])
                .subscriber(recording.subscriber())
                .build()
                .unwrap(),
        );
        manager.halt_orderbooks(vec![a]);
        let go = Arc::new(Barrier::new(2));
        let racer = {
            let (manager, go) = (Arc::clone(&manager), Arc::clone(&go));
            thread::spawn(move || {
                go.wait();
                let started = Instant::now();
                loop {
                    match manager.publish_orderbook_status(a) {
                        Ok(()) => return,
                        Err(OrderbookManagerError::NotRunning { .. }) => thread::yield_now(),
                        Err(error) => panic!("{error}"),
                    }
                    assert!(started.elapsed() < LIMIT);
                }
            })
        };
        go.wait();
        manager.start().unwrap();
        racer.join().unwrap();
        let manager = Arc::into_inner(manager).unwrap();
        within_limit("stop", move || manager.stop()).unwrap();
        let types: Vec<_> = recording
            .events()
            .iter()
            .map(|e| e.result.type_name())
            .collect();
        assert_eq!(types, ["halted", "status"], "round {round}");
    }
}

#[test]
fn dropping_a_running_manager_stops_it_and_publishes_everything() {
    let instruments: Vec<Uuid> = (0..3).map(instrument).collect();
    let recording = Recording::default();
    let manager = builder(instruments.iter().copied())
        .consumers(2)
        .ring_size(64)
        .publish_timeout(None)
        .subscriber(recording.subscriber())
        .build()
        .unwrap();
    manager.start().unwrap();
    let commands = random_flow(11, 3_000, &instruments, &[unregistered(0)]);
    for &command in &commands {
        send_taken(&manager, command);
    }
    within_limit("drop", move || drop(manager));
    assert!(
        recording.finished(),
        "the subscriber was not finished on drop"
    );
    assert_exactly_once(&commands, &recording.events());
}

// ---------------------------------------------------------------------------------------
// 7. Market data
// ---------------------------------------------------------------------------------------

/// The aggregated levels of one side of a snapshot, best first.
fn aggregated(levels: &[ringbook::SnapshotLevel]) -> Vec<DepthLevel> {
    levels
        .iter()
        .map(|level| DepthLevel {
            price: level.price,
            qty: level.orders.iter().map(|o| u128::from(o.qty)).sum(),
        })
        .collect()
}

fn assert_market_data_matches(instruments: &[Uuid], flow: &[Command], layout: Layout) {
    let market = MarketDataSubscriber::new();
    let view = market.view();
    pipeline_run(instruments, flow, layout, Some(Box::new(market)));
    let (direct, engine) = direct_run(instruments, flow);
    let mut resting = 0;
    for instrument_id in instruments {
        let book = engine.book(instrument_id).unwrap();
        let Some(top) = view.top_of_book(instrument_id) else {
            assert!(
                !direct.contains_key(instrument_id),
                "{instrument_id} has events"
            );
            assert!(book.is_empty());
            continue;
        };
        assert_eq!(
            top,
            TopOfBook {
                halted: book.is_halted(),
                best_bid: book.best_bid(),
                best_ask: book.best_ask(),
            },
            "top of book of {instrument_id}"
        );
        let snapshot = book.snapshot();
        let (bids, asks) = view.depth(instrument_id, usize::MAX).unwrap();
        assert_eq!(bids, aggregated(&snapshot.bids), "bids of {instrument_id}");
        assert_eq!(asks, aggregated(&snapshot.asks), "asks of {instrument_id}");
        let (bids3, asks3) = view.depth(instrument_id, 3).unwrap();
        assert_eq!(bids3, bids[..bids.len().min(3)]);
        assert_eq!(asks3, asks[..asks.len().min(3)]);
        resting += book.len();
    }
    assert!(resting > 0, "every book ended empty: nothing to compare");
}

#[test]
fn market_data_view_agrees_with_the_direct_engine_books() {
    let registered: Vec<Uuid> = (0..6).map(instrument).collect();
    let others = [unregistered(0)];
    for (seed, layout) in (21..).zip(Layout::ALL) {
        let flow = random_flow(seed, 8_000, &registered, &others);
        assert_market_data_matches(&registered, &flow, layout);
    }
    // A generated flow, cut before its end (which cancels everything) so books are full,
    // and without snapshots (which reset the view) so the view tracks every event.
    let config = GenConfig::new(3, 40, 20_000)
        .with_depth(100)
        .with_halt_per_million(2_000);
    let generator = FlowGenerator::new(config);
    let instruments = generator.instruments().to_vec();
    let flow: Vec<Command> = generator.take(25_000).collect();
    assert_market_data_matches(&instruments, &flow, Layout::pipelined(2));
}

/// The latest `status` of each book, and how many statuses have arrived.
#[derive(Clone, Default)]
struct StatusLog {
    latest: Arc<Mutex<HashMap<Uuid, bool>>>,
    count: Arc<AtomicUsize>,
}

impl Subscriber for StatusLog {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        if let OrderbookResult::Status {
            instrument_id,
            status,
        } = &event.result
        {
            self.latest
                .lock()
                .unwrap()
                .insert(*instrument_id, status.halted);
            self.count.fetch_add(1, Ordering::Release);
        }
    }

    fn name(&self) -> &str {
        "status log"
    }
}

/// Two threads halting and resuming the same books at once, round after round: once both
/// calls have returned, every book's halt bit (`is_halted`, the callers' check) agrees
/// with the book's own state as its `status` publishes it. The bit was once flipped and
/// the command published in two steps, so the two threads' steps could interleave and
/// leave the bit opposite to the book (`manager/halt.rs`; the protocol is model-checked
/// there under loom).
#[test]
fn concurrent_halts_and_resumes_leave_the_halt_bit_agreeing_with_the_book() {
    const BOOKS: u128 = 64;
    const ROUNDS: usize = 3_000;
    let instruments: Vec<Uuid> = (0..BOOKS).map(instrument).collect();
    let log = StatusLog::default();
    let manager = Arc::new(
        builder(instruments.clone())
            .subscriber(log.clone())
            .build()
            .unwrap(),
    );
    manager.start().unwrap();
    let start = Arc::new(Barrier::new(3));
    let racers: Vec<_> = [true, false]
        .into_iter()
        .map(|halt| {
            let (manager, start, instruments) = (
                Arc::clone(&manager),
                Arc::clone(&start),
                instruments.clone(),
            );
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    start.wait();
                    if halt {
                        manager.halt_orderbooks(instruments.clone());
                    } else {
                        manager.resume_orderbooks(instruments.iter().rev().copied().collect());
                    }
                    start.wait();
                }
            })
        })
        .collect();
    let mut disagreements = Vec::new();
    for round in 0..ROUNDS {
        start.wait(); // the racers go
        start.wait(); // both calls have returned
        let before = log.count.load(Ordering::Acquire);
        for &instrument_id in &instruments {
            manager.publish_orderbook_status(instrument_id).unwrap();
        }
        wait_until("this round's statuses", || {
            log.count.load(Ordering::Acquire) >= before + instruments.len()
        });
        let latest = log.latest.lock().unwrap();
        for instrument_id in &instruments {
            let bit = manager.is_halted(instrument_id).unwrap();
            if bit != latest[instrument_id] {
                disagreements.push((round, *instrument_id, bit));
            }
        }
    }
    for racer in racers {
        racer.join().unwrap();
    }
    manager.stop().unwrap();
    assert!(
        disagreements.is_empty(),
        "{} books whose halt bit disagreed with the book after the calls returned \
         (round, book, bit), first: {:?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(5)]
    );
}

/// After `stop` a halt or resume has no stream to go to: it changes nothing, not even the
/// callers' halt bit (which once flipped to halted while the book never heard of it).
#[test]
fn halts_and_resumes_after_stop_leave_the_halt_bit_alone() {
    let (halted, running) = (instrument(0), instrument(1));
    let (manager, recording) = started_and_recorded([halted, running]);
    manager.halt_orderbooks(vec![halted]);
    manager.stop().unwrap();
    let events = recording.len();
    manager.halt_orderbooks(vec![running]);
    manager.resume_orderbooks(vec![halted]);
    assert_eq!(manager.is_halted(&running), Some(false));
    assert_eq!(manager.is_halted(&halted), Some(true));
    assert_eq!(recording.len(), events, "nothing is published after stop");
}

/// A configuration that cannot work is refused before the journal is touched: no lock
/// taken, no file created, nothing truncated.
#[test]
fn an_invalid_configuration_is_refused_before_the_journal_is_opened() {
    let tmp = ringbook_testkit::scratch::TempDir::new("invalid-config-journal");
    let dir = tmp.join("journal");
    let refused = builder([instrument(0)])
        .ring_size(3)
        .journal(ringbook::JournalOptions::new(&dir))
        .build();
    assert!(refused.is_err(), "a ring of 3 slots is refused");
    assert!(
        !dir.exists(),
        "the journal directory was created: {:?}",
        std::fs::read_dir(&dir).map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>())
    );
}

/// Runs `flow` through a manager journaling to `dir` (snapshots every 97 commands, the 2
/// newest kept, 4 KiB segments so older ones are pruned) and returns its recording.
fn journaled_part(dir: &std::path::Path, instruments: &[Uuid], flow: &[Command]) -> Vec<Recorded> {
    let recording = Recording::default();
    let mut options = ringbook::JournalOptions::new(dir);
    options.snapshot_every = Some(97);
    options.keep_snapshots = Some(2);
    options.config.segment_bytes = 4096;
    let manager = builder(instruments.iter().copied())
        .journal(options)
        .subscriber(recording.subscriber())
        .build()
        .unwrap();
    manager.start().unwrap();
    for command in flow {
        send_taken(&manager, *command);
    }
    manager.stop().unwrap();
    recording.events()
}

/// The event stream is numbered gap-free across restarts on a journal: an engine that
/// recovers numbers its first event one past the last event of the engine before it, and
/// three runs on one journal number their events exactly as one run of the same flow.
/// Recovery relies on the count in the newest snapshot (the segments before it are
/// pruned), plus the events of the records replayed after it.
#[test]
fn event_numbering_goes_on_across_restarts_on_a_journal() {
    let instruments: Vec<Uuid> = (0..3).map(instrument).collect();
    let flow = random_flow(41, 1_500, &instruments, &[unregistered(0)]);
    let tmp = ringbook_testkit::scratch::TempDir::new("event-numbering");
    let mut numbered = Vec::new();
    for part in flow.chunks(500) {
        let events = journaled_part(&tmp.join("journal"), &instruments, part);
        let expected_first = numbered.len() as u64 + 1;
        assert_eq!(
            events.first().map(|e| e.seq),
            Some(expected_first),
            "the first event after a restart"
        );
        numbered.extend(events);
    }
    let seqs: Vec<u64> = numbered.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=numbered.len() as u64).collect::<Vec<_>>());
    let whole = journaled_part(&tmp.join("one-run"), &instruments, &flow);
    assert_eq!(numbered.len(), whole.len(), "as many events as one run");
    let input_seqs = |events: &[Recorded]| {
        let mut seqs: Vec<u64> = events.iter().map(|e| e.input_seq).collect();
        seqs.sort_unstable();
        seqs
    };
    assert_eq!(input_seqs(&numbered), input_seqs(&whole));
    let snapshots = std::fs::read_dir(tmp.join("journal"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".snap")
        })
        .count();
    assert!(snapshots >= 1, "the runs took snapshots");
    assert!(
        !tmp.join("journal")
            .join(format!("{:020}.journal", 1))
            .exists(),
        "the first segment was pruned: recovery counted from a snapshot"
    );
}

// ---------------------------------------------------------------------------------------
// 9. Batched submission
// ---------------------------------------------------------------------------------------

/// What a run gave: every event as a subscriber saw it, instrument by instrument in stream
/// order (input sequence numbers and results, printed), and each refused command's index
/// and error.
type RunOutcome = (Vec<String>, Vec<(usize, String)>);

/// Runs `commands` through a one-consumer pipeline of `instruments` with an ingress ring of
/// `ring_size` slots, in batches of the sizes `batches` yields (`None`: one `submit` each).
fn batched_run(
    instruments: &[Uuid],
    commands: &[Command],
    ring_size: usize,
    mut batches: Option<&mut dyn FnMut() -> usize>,
) -> RunOutcome {
    let recording = Recording::default();
    let manager = builder(instruments.iter().copied())
        .consumers(1)
        .ring_size(ring_size)
        .publish_timeout(None)
        .subscriber(recording.subscriber())
        .build()
        .unwrap();
    manager.start().unwrap();
    let mut refused = Vec::new();
    let mut next = 0;
    while next < commands.len() {
        match batches.as_mut() {
            None => {
                if let Err(error) = manager.submit(commands[next]) {
                    refused.push((next, format!("{error:?}")));
                }
                next += 1;
            }
            Some(size) => {
                let end = commands.len().min(next + size().max(1));
                manager.submit_batch(&commands[next..end], &mut |index, error| {
                    refused.push((next + index, format!("{error:?}")));
                });
                next = end;
            }
        }
    }
    within_limit("stop", move || manager.stop()).unwrap();
    let events = recording.events();
    assert_exactly_once(commands, &events);
    // The book consumer interleaves instruments as their rings fill, so the stream is
    // compared instrument by instrument (in stream order), with the sequencer's numbers.
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    let mut printed: Vec<(Uuid, usize, String)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let line = format!("{} {:?}", e.input_seq, e.result);
            (e.result.instrument_id(), i, line)
        })
        .collect();
    printed.sort_unstable();
    let printed = printed
        .into_iter()
        .map(|(instrument, _, line)| format!("{instrument} {line}"))
        .collect();
    (printed, refused)
}

/// Asserts two runs gave the same events in the same order and the same refusals.
fn assert_same_outcome(got: &RunOutcome, want: &RunOutcome, what: &str) {
    assert_eq!(got.1, want.1, "{what}: refused commands differ");
    if let Some(i) = (0..got.0.len().max(want.0.len())).find(|&i| got.0.get(i) != want.0.get(i)) {
        panic!(
            "{what}: streams differ at event {i} of {} / {}\n  batched: {:?}\n   single: {:?}",
            got.0.len(),
            want.0.len(),
            got.0.get(i),
            want.0.get(i)
        );
    }
}

/// Property: any split of a random flow (with rejects, halts, resumes and unregistered
/// instruments) into batches gives the stream and refusals of one `submit` per command.
#[test]
fn batched_submits_equal_single_submits_for_random_splits() {
    let registered: Vec<Uuid> = (0..4).map(instrument).collect();
    let unknown: Vec<Uuid> = (0..2).map(unregistered).collect();
    for seed in 1..=4_u64 {
        let flow = random_flow(seed, 3_000, &registered, &unknown);
        let single = batched_run(&registered, &flow, 1 << 13, None);
        assert!(!single.1.is_empty(), "seed {seed}: the flow has refusals");
        let mut rng = Rng::new(seed * 7919);
        // Sizes from 1 to well past a run's length, so runs are cut by refusals, by
        // the run limit and by batch ends.
        let mut sizes = move || 1 + rng.below(150) as usize;
        let batched = batched_run(&registered, &flow, 1 << 13, Some(&mut sizes));
        assert_same_outcome(&batched, &single, &format!("seed {seed}"));
    }
}

/// Refused commands inside one batch: each is reported with its index and the error
/// `submit` gives, its reject is in sequence, and the commands after it are taken.
#[test]
fn refused_commands_inside_a_batch_are_reported_in_place() {
    let instrument_id = instrument(0);
    let (manager, recording) = started_and_recorded([instrument_id]);
    let id = Uuid::from_u128;
    let add = |n, qty| Command::Add(Order::limit(id(n), instrument_id, Side::Buy, 100, qty));
    let batch = [
        add(1, 5),
        add(2, 0),
        Command::Add(Order::limit(id(3), unregistered(0), Side::Buy, 100, 5)),
        add(4, 5),
        Command::Halt { instrument_id },
        add(5, 5),
        Command::Cancel {
            instrument_id,
            order_id: id(1),
        },
        Command::Resume { instrument_id },
        add(6, 5),
    ];
    let mut refused = Vec::new();
    manager.submit_batch(&batch, &mut |index, error| refused.push((index, error)));
    manager.stop().unwrap();
    let indices: Vec<usize> = refused.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, [1, 2, 5]);
    assert!(matches!(
        refused[0].1,
        OrderbookManagerError::OrderbookError {
            reason: RejectReason::InvalidQuantity,
            ..
        }
    ));
    assert!(matches!(
        refused[1].1,
        OrderbookManagerError::InstrumentNotRegistered { order_id: Some(o), .. } if o == id(3)
    ));
    assert!(matches!(
        refused[2].1,
        OrderbookManagerError::OrderbookHalted { order_id, .. } if order_id == id(5)
    ));
    let events = recording.events();
    assert_exactly_once(&batch, &events);
    // Primary events in the batch's order: the rejects sit where their commands were.
    let keys: Vec<Key> = events
        .iter()
        .filter_map(|e| primary_key(&e.result))
        .collect();
    let want: Vec<Key> = batch.iter().map(command_key).collect();
    assert_eq!(keys, want);
}

/// A batch far larger than the ingress ring (64 slots, the smallest): runs are cut to what
/// fits, the rest waits for room, and the stream and refusals equal one `submit` each,
/// with nothing lost.
#[test]
fn a_batch_larger_than_the_ring_is_taken_whole() {
    let instruments: Vec<Uuid> = (0..3).map(instrument).collect();
    let mut flow = resting_buys(2_000, &instruments);
    flow.extend(random_flow(11, 2_000, &instruments, &[unregistered(0)]));
    let single = batched_run(&instruments, &flow, 1 << 13, None);
    let mut whole = || flow.len();
    let batched = batched_run(&instruments, &flow, 64, Some(&mut whole));
    assert_same_outcome(&batched, &single, "one batch through a 64-slot ring");
}

/// A batch before `start` and after `stop`: every command but the halt (queued for start)
/// is refused as not running, with its index, and nothing of them is published.
#[test]
fn a_batch_before_start_or_after_stop_is_refused_command_by_command() {
    let (a, b) = (instrument(0), instrument(1));
    let recording = Recording::default();
    let manager = builder([a, b])
        .subscriber(recording.subscriber())
        .build()
        .unwrap();
    let order =
        |n: u128, instrument_id| Order::limit(Uuid::from_u128(n), instrument_id, Side::Buy, 10, 1);
    let batch = [
        Command::Add(order(1, a)),
        Command::Halt { instrument_id: a },
        Command::Add(order(2, a)),
        Command::Add(order(3, b)),
        Command::Cancel {
            instrument_id: b,
            order_id: Uuid::from_u128(3),
        },
        Command::Status { instrument_id: b },
    ];
    let refusals = |manager: &OrderbookManagerServiceImpl, want: ManagerState| {
        let mut refused = Vec::new();
        manager.submit_batch(&batch, &mut |index, error| {
            assert!(
                matches!(error, OrderbookManagerError::NotRunning { state, .. } if state == want),
                "{index}: {error:?}"
            );
            refused.push(index);
        });
        refused
    };
    assert_eq!(
        refusals(&manager, ManagerState::NotStarted),
        [0, 2, 3, 4, 5]
    );
    manager.start().unwrap();
    manager.stop().unwrap();
    assert_eq!(refusals(&manager, ManagerState::Stopped), [0, 2, 3, 4, 5]);
    let types: Vec<&str> = recording
        .events()
        .iter()
        .map(|e| e.result.type_name())
        .collect();
    assert_eq!(types, ["halted"], "only the early halt was published");
}
