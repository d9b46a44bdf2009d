//! The market regimes against the naive reference book: for every regime and a few
//! seeds, a short market flow applied to `OrderBook` and to `NaiveBook` gives identical
//! events after every command, and the book passes `check_integrity` after each.
//!
//! Short flows swing the mid as far as long ones (the swing is over the run), so these
//! flows move it many ticks per order: every level the book has gets swept, re-formed and
//! swept again, far from where it started.

use ringbook::flow::{MarketConfig, MarketGenerator, MarketRegime};
use ringbook::{Command, OrderBook, OrderbookResult, Side};
use ringbook_testkit::reference::NaiveBook;

/// New orders per flow.
const ORDERS: u64 = 3_000;

/// Seeds per regime.
const SEEDS: [u64; 3] = [1, 2, 3];

/// What one flow did, to check the flows exercise what they should.
#[derive(Debug, Default)]
struct Seen {
    commands: usize,
    trades: u64,
    unknown: u64,
    modified: u64,
    levels: usize,
}

fn check(regime: MarketRegime, seed: u64) -> Seen {
    let config = MarketConfig {
        seed,
        regime,
        orders: ORDERS,
        ..MarketConfig::default()
    };
    let mut book = OrderBook::new(config.instrument);
    let mut naive = NaiveBook::new(config.instrument);
    let mut events: Vec<OrderbookResult> = Vec::new();
    let mut seen = Seen::default();
    for (step, command) in MarketGenerator::new(config).enumerate() {
        events.clear();
        book.apply(&command, &mut |e| events.push(e));
        let expected = naive.apply(&command);
        assert_eq!(
            events, expected,
            "{regime} seed {seed}: events differ at step {step} for {command:?}"
        );
        if let Err(e) = book.check_integrity() {
            panic!("{regime} seed {seed}: integrity broken at step {step} after {command:?}: {e}");
        }
        assert_eq!(book.best_bid(), naive.best_bid(), "{regime} step {step}");
        assert_eq!(book.best_ask(), naive.best_ask(), "{regime} step {step}");
        assert_eq!(book.len(), naive.len(), "{regime} step {step}");
        for event in &events {
            match event {
                OrderbookResult::Trade { .. } => seen.trades += 1,
                OrderbookResult::Rejected { .. } => seen.unknown += 1,
                OrderbookResult::Modified { .. } => seen.modified += 1,
                _ => {}
            }
        }
        seen.levels = seen
            .levels
            .max(book.levels(Side::Buy) + book.levels(Side::Sell));
        seen.commands += 1;
        if let Command::Add(order) = command {
            assert!(order.price > 0, "{regime}: {order:?}");
        }
    }
    seen
}

/// Checks every seed of `regime`.
fn check_regime(regime: MarketRegime) {
    for seed in SEEDS {
        let seen = check(regime, seed);
        assert!(seen.commands > 5_000, "{regime} seed {seed}: {seen:?}");
        assert!(seen.unknown > 0 && seen.modified > 0, "{regime}: {seen:?}");
        assert!(seen.levels > 20, "{regime}: {seen:?}");
        if regime == MarketRegime::Static {
            assert_eq!(seen.trades, 0, "static never trades: {seen:?}");
        } else {
            assert!(seen.trades > 100, "{regime} seed {seed}: {seen:?}");
        }
    }
}

#[test]
fn static_matches_the_reference_book() {
    check_regime(MarketRegime::Static);
}

#[test]
fn normal_matches_the_reference_book() {
    check_regime(MarketRegime::Normal);
}

#[test]
fn swing_25_matches_the_reference_book() {
    check_regime(MarketRegime::Swing25);
}

#[test]
fn swing_40_matches_the_reference_book() {
    check_regime(MarketRegime::Swing40);
}

#[test]
fn flash_crash_matches_the_reference_book() {
    check_regime(MarketRegime::FlashCrash);
}
