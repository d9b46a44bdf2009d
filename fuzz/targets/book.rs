//! Fuzz body: the order book ([`ringbook::OrderBook`]) against the naive reference book
//! ([`ringbook_testkit::reference::NaiveBook`]).
//!
//! The input decodes into a bounded sequence of commands over two instruments, twelve
//! order ids and prices mostly in a band of ten ticks (so orders cross, queue and match),
//! with every order kind, cancel, modify, halt, resume, status and snapshot, quantities up
//! to `u64::MAX` and a few prices at the ends of `i64`. Each command goes to the book and
//! to the reference: the events must be equal, the book must pass `check_integrity()`, and
//! its queries must agree with the reference's state. One more op rebuilds the book from
//! its image, which must change nothing that follows.

use ringbook::{Command, Order, OrderBook, OrderKind, OrderbookResult, Side, Uuid};

use ringbook_testkit::reference::NaiveBook;

/// The most commands one input decodes to.
pub(crate) const MAX_COMMANDS: usize = 1024;

/// Order ids are 1 to this.
const IDS: u8 = 12;

/// Prices off the band: far away, around zero, and at the ends of `i64`.
const PRICES: [i64; 16] = [
    -1,
    0,
    1,
    -100,
    90,
    110,
    1_000,
    -1_000_000,
    1 << 40,
    -(1 << 40),
    i64::MIN,
    i64::MIN + 1,
    i64::MAX,
    i64::MAX - 1,
    50,
    150,
];

/// Quantities off the small range: large, near 2^62 and near `u64::MAX`.
const QTYS: [u64; 8] = [
    1_000,
    999_999,
    1 << 62,
    (1 << 62) + 1,
    u64::MAX / 2,
    u64::MAX - 1,
    u64::MAX,
    1 << 32,
];

/// What one input did: for the corpus replay to check that the corpus reaches the rules.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Commands applied.
    pub(crate) commands: usize,
    /// Trades.
    pub(crate) trades: usize,
    /// Rejects.
    pub(crate) rejects: usize,
    /// Books rebuilt from their image.
    pub(crate) rebuilds: usize,
}

/// The input, read a byte at a time; 0 once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
}

/// One decoded step: a command for a book, or rebuilding a book from its image.
#[derive(Debug)]
enum Step {
    Apply(usize, Command),
    Rebuild(usize),
}

fn instrument(book: usize) -> Uuid {
    Uuid::from_u128(0xB00C + book as u128)
}

fn price(b: u8) -> i64 {
    if b < 224 {
        96 + i64::from(b % 10)
    } else {
        PRICES[usize::from(b - 224) % PRICES.len()]
    }
}

fn qty(b: u8) -> u64 {
    match b {
        0..200 => 1 + u64::from(b % 12),
        200..216 => 0,
        _ => QTYS[usize::from(b - 216) % QTYS.len()],
    }
}

/// Decodes the next step, `None` at the end of the input.
fn step(input: &mut Bytes) -> Option<Step> {
    let (&op, _) = input.0.split_first()?;
    input.next();
    // Mostly the first book; one in eight steps the second.
    let book = usize::from(op >> 5 == 7);
    let instrument_id = instrument(book);
    let order_id = |b: u8| Uuid::from_u128(u128::from(1 + b % IDS));
    let command = match op % 32 {
        0..=13 | 31 => {
            let id = order_id(input.next());
            let shape = input.next();
            let side = if shape & 1 == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let kind = OrderKind::ALL[usize::from(shape >> 1) % OrderKind::ALL.len()];
            let price = price(input.next());
            let qty = qty(input.next());
            Command::Add(Order::new(id, instrument_id, side, kind, price, qty))
        }
        14..=18 => Command::Cancel {
            instrument_id,
            order_id: order_id(input.next()),
        },
        19..=25 => Command::Modify {
            instrument_id,
            order_id: order_id(input.next()),
            price: price(input.next()),
            qty: qty(input.next()),
        },
        26 => Command::Halt { instrument_id },
        27 => Command::Resume { instrument_id },
        28 => Command::Status { instrument_id },
        29 => Command::Snapshot { instrument_id },
        _ => return Some(Step::Rebuild(book)),
    };
    Some(Step::Apply(book, command))
}

/// The book's queries agree with the reference's state.
fn check_queries(book: &OrderBook, naive: &NaiveBook, at: usize) {
    assert_eq!(book.best_bid(), naive.best_bid(), "best_bid, step {at}");
    assert_eq!(book.best_ask(), naive.best_ask(), "best_ask, step {at}");
    assert_eq!(book.len(), naive.len(), "len, step {at}");
    assert_eq!(book.is_empty(), naive.is_empty(), "is_empty, step {at}");
    assert_eq!(book.is_halted(), naive.is_halted(), "halted, step {at}");
    assert_eq!(book.status(), naive.status(), "status, step {at}");
    for side in [Side::Buy, Side::Sell] {
        assert_eq!(book.levels(side), naive.levels(side), "levels, step {at}");
        for price in naive.level_prices(side) {
            assert_eq!(
                book.depth_at(side, price),
                naive.depth_at(side, price),
                "depth_at({side:?}, {price}), step {at}"
            );
        }
    }
    for n in 1..=u128::from(IDS) {
        let id = Uuid::from_u128(n);
        assert_eq!(
            book.resting_order(&id),
            naive.resting_order(&id),
            "order {n}, step {at}"
        );
    }
}

/// Runs one input; panics (a finding) if the book and the reference disagree or the book
/// breaks its invariants.
pub(crate) fn run(data: &[u8]) -> Outcome {
    let mut input = Bytes(data);
    let mut books: Vec<OrderBook> = (0..2)
        .map(|b| OrderBook::with_capacity(instrument(b), data.len() % 4))
        .collect();
    let mut naives: Vec<NaiveBook> = (0..2).map(|b| NaiveBook::new(instrument(b))).collect();
    let mut outcome = Outcome::default();
    let mut events: Vec<OrderbookResult> = Vec::new();
    for at in 0..MAX_COMMANDS {
        let Some(step) = step(&mut input) else { break };
        let b = match step {
            Step::Apply(b, command) => {
                events.clear();
                books[b].apply(&command, &mut |e| events.push(e));
                let expected = naives[b].apply(&command);
                assert_eq!(
                    events, expected,
                    "events differ at step {at} for {command:?}"
                );
                assert!(!events.is_empty(), "step {at}: no event for {command:?}");
                for e in &events {
                    match e {
                        OrderbookResult::Trade { .. } => outcome.trades += 1,
                        OrderbookResult::Rejected { .. } => outcome.rejects += 1,
                        _ => {}
                    }
                }
                outcome.commands += 1;
                b
            }
            Step::Rebuild(b) => {
                let image = books[b].image();
                let rebuilt = OrderBook::from_image(&image)
                    .unwrap_or_else(|e| panic!("step {at}: a book's own image fails: {e}"));
                assert_eq!(rebuilt.state_hash(), books[b].state_hash(), "step {at}");
                assert_eq!(rebuilt.image(), image, "step {at}");
                books[b] = rebuilt;
                outcome.rebuilds += 1;
                b
            }
        };
        if let Err(e) = books[b].check_integrity() {
            panic!("step {at}: integrity broken: {e}");
        }
        check_queries(&books[b], &naives[b], at);
    }
    for (book, naive) in books.iter().zip(&naives) {
        assert_eq!(
            book.snapshot(),
            naive.snapshot(),
            "the final snapshots differ"
        );
    }
    outcome
}
