//! Failure handling inside the pipeline, as the manager reports it: a book that panics
//! fails alone and is reported by `stop()`; so is a subscriber that panics, while the
//! other subscribers get every event. The book panic is injected through the pipeline's
//! test hook ([`crate::pipeline::PANIC_ORDER_ID`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{
    OrderbookManagerError, OrderbookManagerService, OrderbookManagerServiceImpl, SendFailure,
};
use crate::pipeline::{PANIC_ORDER_ID, Stages, WaitStrategy};
use crate::result::OrderbookResult;
use crate::subscriber::{PublishedEvent, Subscriber};
use crate::types::{Order, Side};

/// The upper bound on anything that must finish, on a noisy two-core machine.
const LIMIT: Duration = Duration::from_secs(120);

/// Records `(seq, result)` of every event.
#[derive(Clone, Default)]
struct Recording {
    events: Arc<Mutex<Vec<(u64, OrderbookResult)>>>,
    finished: Arc<AtomicBool>,
}

impl Recording {
    fn events(&self) -> Vec<(u64, OrderbookResult)> {
        self.events.lock().unwrap().clone()
    }

    /// The results of `instrument`, in stream order.
    fn of(&self, instrument: Uuid) -> Vec<OrderbookResult> {
        self.events()
            .into_iter()
            .map(|(_, result)| result)
            .filter(|result| result.instrument_id() == instrument)
            .collect()
    }
}

impl Subscriber for Recording {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        self.events
            .lock()
            .unwrap()
            .push((event.seq, event.result.clone()));
    }

    fn finish(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.finished.store(true, Ordering::Release);
        Ok(())
    }

    fn name(&self) -> &str {
        "recording"
    }
}

/// Panics on its `at`-th event.
struct Panicky {
    seen: u64,
    at: u64,
}

impl Subscriber for Panicky {
    fn on_event(&mut self, _event: &PublishedEvent<'_>) {
        self.seen += 1;
        if self.seen == self.at {
            panic!("injected subscriber panic");
        }
    }

    fn name(&self) -> &str {
        "panicky"
    }
}

/// A resting buy that crosses nothing (every test order is a buy).
fn buy(n: u128, instrument: Uuid) -> Order {
    Order::limit(
        Uuid::from_u128(0x1000 + n),
        instrument,
        Side::Buy,
        100 + (n % 10) as i64,
        1 + (n % 5) as u64,
    )
}

fn accepted(order: &Order) -> OrderbookResult {
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

/// Stops `manager` on another thread and fails if that takes longer than [`LIMIT`].
fn stop_within_limit(manager: OrderbookManagerServiceImpl) -> Result<(), OrderbookManagerError> {
    let (tx, rx) = mpsc::channel();
    let stopper = thread::spawn(move || {
        let _ = tx.send(manager.stop());
    });
    let result = rx
        .recv_timeout(LIMIT)
        .expect("stop() did not return within the limit");
    stopper.join().unwrap();
    result
}

#[test]
fn a_panicking_book_fails_alone_and_stop_reports_it() {
    // Two consumers: books are dealt out by slot, so a and c share rb-book-0, b and d
    // are on rb-book-1.
    a_panicking_book_fails_alone(2, Stages::Pipelined, "rb-book-0");
}

#[test]
fn a_panicking_book_fails_alone_on_a_fused_engine() {
    // Every book on the one engine thread: the others go on on it.
    a_panicking_book_fails_alone(1, Stages::Fused, "rb-engine");
}

/// Book a panics on an injected order; stop reports it from `expected_thread`, with every command
/// lost after the panic, while books b, c and d get every event.
fn a_panicking_book_fails_alone(consumers: usize, stages: Stages, expected_thread: &str) {
    let [a, b, c, d] = [1u128, 2, 3, 4].map(Uuid::from_u128);
    let recording = Recording::default();
    let manager = OrderbookManagerServiceImpl::builder([a, b, c, d])
        .consumers(consumers)
        .stages(stages)
        .wait_strategy(WaitStrategy::default())
        .publish_timeout(None)
        .subscriber(recording.clone())
        .build()
        .unwrap();
    manager.start().unwrap();

    let mut sent: Vec<Order> = Vec::new();
    let mut n = 0u128;
    let mut add = |manager: &OrderbookManagerServiceImpl, instrument| {
        n += 1;
        let order = buy(n, instrument);
        let result = manager.add_order(order);
        (order, result)
    };
    for _ in 0..50 {
        for instrument in [a, b, c, d] {
            let (order, result) = add(&manager, instrument);
            result.unwrap();
            sent.push(order);
        }
    }
    let poison = Order::limit(Uuid::from_u128(PANIC_ORDER_ID), a, Side::Buy, 100, 1);
    manager.add_order(poison).unwrap();
    // Until the book's failure is seen by callers, commands to it are taken and lost.
    let mut lost_after = 0u64;
    let started = Instant::now();
    loop {
        let (order, result) = add(&manager, a);
        match result {
            Ok(()) => lost_after += 1,
            Err(OrderbookManagerError::ChannelSendError {
                instrument_id,
                reason,
            }) => {
                assert_eq!(instrument_id, a);
                assert_eq!(reason, SendFailure::BookFailed);
                break;
            }
            Err(error) => panic!("{order:?}: {error}"),
        }
        // The other books keep working meanwhile.
        for instrument in [b, c, d] {
            let (order, result) = add(&manager, instrument);
            result.unwrap();
            sent.push(order);
        }
        assert!(
            started.elapsed() < LIMIT,
            "the failed book was never closed"
        );
        thread::sleep(Duration::from_millis(1));
    }
    // Every later command to the failed book is refused.
    let refused = [
        manager.add_order(buy(9999, a)),
        manager.cancel_order(&a, buy(1, a).order_id),
        manager.modify_order(&a, buy(1, a).order_id, 100, 1),
        manager.publish_orderbook_status(a),
        manager.publish_orderbook_snapshot(a),
    ];
    for result in refused {
        assert!(
            matches!(result, Err(OrderbookManagerError::ChannelSendError { instrument_id, reason: SendFailure::BookFailed }) if instrument_id == a),
            "{result:?}"
        );
    }
    // A command for an unregistered instrument is still answered: its reject goes through
    // the first book's ring, which is the failed book's here.
    let stranger = Uuid::from_u128(0x5757);
    let unregistered = buy(8888, stranger);
    assert!(matches!(
        manager.add_order(unregistered),
        Err(OrderbookManagerError::InstrumentNotRegistered { .. })
    ));
    // And the others, on both threads, still work.
    for _ in 0..50 {
        for instrument in [b, c, d] {
            let (order, result) = add(&manager, instrument);
            result.unwrap();
            sent.push(order);
        }
    }

    let error = stop_within_limit(manager).expect_err("stop() must report the failed book");
    let text = error.to_string();
    match error {
        OrderbookManagerError::CloseOrderbookError {
            thread,
            instruments,
            lost_commands,
            message,
        } => {
            assert_eq!(thread, expected_thread);
            assert_eq!(instruments, [a]);
            // The poisoned add itself and every command that reached the book after it.
            assert_eq!(lost_commands, 1 + lost_after);
            assert!(message.contains("injected book panic"), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(
        text.contains(expected_thread) && text.contains(&a.to_string()),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} commands lost", 1 + lost_after)),
        "{text}"
    );

    assert!(recording.finished.load(Ordering::Acquire));
    let events = recording.events();
    for (i, (seq, _)) in events.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
    }
    // Every other book got all its events; the failed one those before the panic only.
    for instrument in [a, b, c, d] {
        let want: Vec<OrderbookResult> = sent
            .iter()
            .filter(|o| o.instrument_id == instrument)
            .map(accepted)
            .collect();
        assert_eq!(recording.of(instrument), want, "events of {instrument}");
    }
    assert_eq!(sent.iter().filter(|o| o.instrument_id == a).count(), 50);
    assert_eq!(
        recording.of(stranger),
        [OrderbookResult::rejected(
            &crate::Command::Add(unregistered),
            crate::RejectReason::InstrumentNotRegistered
        )]
    );
}

#[test]
fn a_panicking_subscriber_is_reported_and_the_others_get_every_event() {
    for (stages, thread) in [
        (Stages::Pipelined, "rb-events"),
        (Stages::Fused, "rb-engine"),
    ] {
        a_panicking_subscriber_is_reported(stages, thread);
    }
}

/// A subscriber panics at event 10: stop reports it from `expected_thread`; its neighbours get
/// every event.
fn a_panicking_subscriber_is_reported(stages: Stages, expected_thread: &str) {
    let instrument = Uuid::from_u128(7);
    let (first, last) = (Recording::default(), Recording::default());
    let manager = OrderbookManagerServiceImpl::builder([instrument])
        .stages(stages)
        .wait_strategy(WaitStrategy::default())
        .publish_timeout(None)
        .subscriber(first.clone())
        .subscriber(Panicky { seen: 0, at: 10 })
        .subscriber(last.clone())
        .build()
        .unwrap();
    manager.start().unwrap();
    let orders: Vec<Order> = (0..500).map(|n| buy(n, instrument)).collect();
    for order in &orders {
        manager.add_order(*order).unwrap();
    }
    let error = stop_within_limit(manager).expect_err("stop() must report the subscriber");
    match error {
        OrderbookManagerError::CloseOrderbookError {
            thread,
            instruments,
            lost_commands,
            message,
        } => {
            assert_eq!(thread, expected_thread);
            assert!(instruments.is_empty());
            assert_eq!(lost_commands, 0);
            assert!(
                message.contains("subscriber panicky")
                    && message.contains("panicked at event 10")
                    && message.contains("injected subscriber panic"),
                "{message}"
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    // Both neighbours of the panicking subscriber saw every event, the tenth included.
    let want: Vec<(u64, OrderbookResult)> = orders
        .iter()
        .enumerate()
        .map(|(i, order)| (i as u64 + 1, accepted(order)))
        .collect();
    for recording in [&first, &last] {
        assert_eq!(recording.events(), want);
        assert!(recording.finished.load(Ordering::Acquire));
    }
}

#[test]
fn a_manager_without_books_still_answers_every_command() {
    for stages in [Stages::Pipelined, Stages::Fused] {
        answers_every_command_without_books(stages);
    }
}

/// No book: pipelined, the sequencer is the outbound ring's only producer and publishes
/// the rejects itself; fused, it hands them to the subscribers.
fn answers_every_command_without_books(stages: Stages) {
    let recording = Recording::default();
    let manager = OrderbookManagerServiceImpl::builder([])
        .stages(stages)
        .publish_timeout(None)
        .subscriber(recording.clone())
        .build()
        .unwrap();
    manager.start().unwrap();
    let orders: Vec<Order> = (1..=20).map(|n| buy(n, Uuid::from_u128(0x77))).collect();
    for order in &orders {
        assert!(matches!(
            manager.add_order(*order),
            Err(OrderbookManagerError::InstrumentNotRegistered { .. })
        ));
    }
    stop_within_limit(manager).unwrap();
    assert!(recording.finished.load(Ordering::Acquire));
    let want: Vec<OrderbookResult> = orders
        .iter()
        .map(|o| {
            OrderbookResult::rejected(
                &crate::Command::Add(*o),
                crate::RejectReason::InstrumentNotRegistered,
            )
        })
        .collect();
    assert_eq!(recording.of(Uuid::from_u128(0x77)), want);
}
