//! Prefetching by stages: the walk's order ([`Staged`]), and a [`BookGroup`] of many books
//! whose batches prefetch giving the events of books applied one command at a time.

use uuid::Uuid;

use super::prefetch::{AHEAD, Fetch, PREFETCH_FROM_BOOKS, Stage, Staged};
use super::{BookGroup, OrderBook};
use crate::command::Command;
use crate::flow::{
    Activity, FlowGenerator, GenConfig, IdRenumbering, LongFormMix, with_instrument,
};
use crate::types::{Order, Side};

/// What [`staged`] did, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Fetch(usize, Stage),
    Apply(usize),
}

fn walk(items: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut walk = Staged::new(0..items, true);
    while let Some(item) = walk.next(|item, stage| steps.push(Step::Fetch(item, stage))) {
        steps.push(Step::Apply(item));
    }
    steps
}

#[test]
fn staged_applies_every_item_in_order_each_stage_once_and_ahead_by_its_distance() {
    for items in [0, 1, 2, 3, 4, 6, 7, 11, 12, 13, 16, 17, 40, 1000] {
        let steps = walk(items);
        let applied: Vec<usize> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Apply(i) => Some(*i),
                Step::Fetch(..) => None,
            })
            .collect();
        assert_eq!(applied, (0..items).collect::<Vec<_>>(), "{items} items");
        for item in 0..items {
            let at = |want: Step| {
                let found: Vec<usize> = (0..steps.len()).filter(|&n| steps[n] == want).collect();
                assert_eq!(
                    found.len(),
                    1,
                    "{items} items: {want:?} {} times",
                    found.len()
                );
                found[0]
            };
            let applied_at = at(Step::Apply(item));
            let mut previous = None;
            for (stage, ahead) in Stage::ALL.into_iter().zip(AHEAD) {
                let fetched_at = at(Step::Fetch(item, stage));
                assert!(
                    fetched_at < applied_at,
                    "{items} items: {item} {stage:?} late"
                );
                // The stages of one item come furthest ahead first.
                assert!(
                    previous < Some(fetched_at),
                    "{items} items: {item} {stage:?} early"
                );
                previous = Some(fetched_at);
                // How many items were applied before the fetch: `ahead` fewer than the
                // item's own number (the first items' stages all come at the start).
                let applied_before = steps[..fetched_at]
                    .iter()
                    .filter(|s| matches!(s, Step::Apply(_)))
                    .count();
                assert_eq!(
                    applied_before,
                    item.saturating_sub(ahead),
                    "{items}: {item} {stage:?}"
                );
            }
        }
    }
}

#[test]
fn staged_stops_at_the_first_missing_item_of_an_iterator_that_resumes() {
    // An iterator that yields 0..5, then nothing once, then more: the walk ends at the gap
    // and applies nothing after it, as a plain `for` loop over it would.
    let mut n = 0;
    let items = std::iter::from_fn(|| {
        n += 1;
        (n != 6).then_some(n)
    });
    let mut applied = Vec::new();
    let mut walk = Staged::new(items.take(20), true);
    while let Some(item) = walk.next(|_, _| {}) {
        applied.push(item);
    }
    assert_eq!(applied, vec![1, 2, 3, 4, 5]);
}

/// A [`Fetch`] that records its calls: the contents stage of an odd item finds ten times
/// the item, of an even one nothing.
struct Recorder<'s>(&'s mut Vec<(usize, Stage, Option<u32>)>);

impl Fetch<usize> for Recorder<'_> {
    fn header(&mut self, item: usize) {
        self.0.push((item, Stage::Header, None));
    }

    fn contents(&mut self, item: usize) -> Option<u32> {
        self.0.push((item, Stage::Contents, None));
        (item % 2 == 1).then_some(item as u32 * 10)
    }

    fn order(&mut self, item: usize, found: u32) {
        self.0.push((item, Stage::Order, Some(found)));
    }
}

#[test]
fn the_order_stage_gets_what_the_contents_stage_found_and_only_if_it_found_something() {
    for items in [0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 16, 17, 40, 1000] {
        let mut calls = Vec::new();
        let mut applied = Vec::new();
        let mut walk = Staged::new(0..items, true);
        while let Some(item) = walk.next_with(Recorder(&mut calls)) {
            applied.push(item);
            // The items ahead by each stage's distance have had that stage (the order
            // stage only if their contents stage found something).
            for (stage, ahead) in Stage::ALL.into_iter().zip(AHEAD) {
                let item_ahead = item + ahead;
                if item_ahead < items {
                    let got: Vec<_> = calls
                        .iter()
                        .filter(|&&(i, s, _)| i == item_ahead && s == stage)
                        .collect();
                    let want = usize::from(stage != Stage::Order || item_ahead % 2 == 1);
                    assert_eq!(got.len(), want, "{items}: {item_ahead} {stage:?}");
                }
            }
        }
        assert_eq!(applied, (0..items).collect::<Vec<_>>());
        for item in 0..items {
            let stages: Vec<_> = calls
                .iter()
                .filter(|&&(i, ..)| i == item)
                .map(|&(_, stage, found)| (stage, found))
                .collect();
            let mut want = vec![(Stage::Header, None), (Stage::Contents, None)];
            if item % 2 == 1 {
                want.push((Stage::Order, Some(item as u32 * 10)));
            }
            assert_eq!(stages, want, "{items} items: item {item}'s stages");
        }
    }
}

fn instrument(book: usize) -> Uuid {
    Uuid::from_u128(0xB00C_0000 + book as u128)
}

/// `flow` to `books` books: [`BookGroup::apply_all`] against books of their own applied one
/// command at a time (the same events in the same order, the same books handed back).
fn same_events_in_a_batch(books: usize, flow: &[(usize, Command)]) {
    let mut own: Vec<OrderBook> = (0..books).map(|b| OrderBook::new(instrument(b))).collect();
    let mut want = Vec::new();
    for (book, command) in flow {
        own[*book].apply(command, &mut |e| want.push((*book, e)));
    }
    let mut group = BookGroup::new((0..books).map(|b| OrderBook::new(instrument(b))).collect());
    let mut got = Vec::new();
    // In batches of uneven sizes, as the sequencer's ingress batches come.
    let mut rest = flow;
    for size in [1, 2, 5, 13, 64, 4096].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (batch, later) = rest.split_at(size.min(rest.len()));
        group
            .apply_all(
                batch.iter().map(|(b, c)| (*b, c)),
                &mut |e: crate::result::OrderbookResult| {
                    // The book an event comes from is its instrument's.
                    let book = (e.instrument_id().as_u128() - 0xB00C_0000) as usize;
                    got.push((book, e));
                },
            )
            .expect("every command names one of the group's books");
        rest = later;
    }
    assert_eq!(got.len(), want.len());
    for (at, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "event {at}");
    }
    for (b, book) in group.into_books().iter().enumerate() {
        book.check_integrity()
            .unwrap_or_else(|e| panic!("book {b} handed back: {e}"));
        assert_eq!(book.image(), own[b].image(), "book {b}'s image");
    }
}

/// The generator's flow over `books` books, each command renamed to its book's instrument.
fn generated(books: u32, config: GenConfig) -> Vec<(usize, Command)> {
    let generator = FlowGenerator::new(config);
    let ids = generator.instruments().to_vec();
    let mut renumbering = IdRenumbering::new();
    let mut flow = Vec::new();
    for command in generator {
        let book = ids
            .iter()
            .position(|&i| i == command.instrument_id())
            .expect("a generated instrument");
        let command = renumbering.renumber(command);
        flow.push((book, with_instrument(command, instrument(book))));
    }
    assert_eq!(ids.len(), books as usize);
    flow
}

#[test]
fn a_group_of_many_books_applies_generated_batches_as_one_command_at_a_time() {
    let books = PREFETCH_FROM_BOOKS as u32 + 36;
    for config in [
        GenConfig::new(3, books, 20_000),
        GenConfig::new(4, books, 20_000).with_activity(Activity::Zipf),
        GenConfig::new(5, books, 10_000).with_long_form(Some(LongFormMix::standard())),
    ] {
        same_events_in_a_batch(books as usize, &generated(books, config));
    }
}

#[test]
fn prefetching_ids_the_window_does_not_hold_changes_no_event() {
    // Ids far apart (the table), the largest id, one id in two books, cancels and
    // modifies of ids no book holds, and commands that name no order: each prefetched
    // ahead of the commands that rest, cancel and trade them.
    let books = PREFETCH_FROM_BOOKS + 1;
    let add = |book: usize, id: u128, side, price, qty| {
        (
            book,
            Command::Add(Order::limit(
                Uuid::from_u128(id),
                instrument(book),
                side,
                price,
                qty,
            )),
        )
    };
    let cancel = |book: usize, id: u128| {
        (
            book,
            Command::Cancel {
                order_id: Uuid::from_u128(id),
                instrument_id: instrument(book),
            },
        )
    };
    let modify = |book: usize, id: u128, price, qty| {
        (
            book,
            Command::Modify {
                order_id: Uuid::from_u128(id),
                instrument_id: instrument(book),
                price,
                qty,
            },
        )
    };
    let far = [1u128, 1 << 40, 1 << 100, u128::MAX, u128::MAX - 1, 77];
    let mut flow = Vec::new();
    for (n, &id) in far.iter().enumerate() {
        flow.push(add(n % 3, id, Side::Buy, 100 - n as i64, 5));
        flow.push(add(books - 1, id, Side::Sell, 200 + n as i64, 4));
    }
    for (n, &id) in far.iter().enumerate() {
        flow.push(cancel(1, id.wrapping_add(1)));
        flow.push(modify(n % 3, id, 101 + n as i64, 3));
        flow.push((
            n,
            Command::Status {
                instrument_id: instrument(n),
            },
        ));
        flow.push(add(books - 1, 1 << 90, Side::Buy, 300, 2));
        flow.push(cancel(books - 1, id));
        flow.push(cancel(n % 3, id));
        flow.push(cancel(n % 3, id));
    }
    same_events_in_a_batch(books, &flow);
}
