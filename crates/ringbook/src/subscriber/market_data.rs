//! The market-data subscriber: top of book and aggregated depth per instrument, rebuilt
//! from the event stream alone and queryable from any thread while the engine runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;
use uuid::Uuid;

use super::{PublishedEvent, Subscriber};
use crate::result::{BookSnapshot, OrderbookResult};
use crate::types::{Price, Qty, Side};

/// The best price and total quantity of each side of one book.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TopOfBook {
    /// Whether the book is halted.
    pub halted: bool,
    /// Best bid price and the total quantity there.
    pub best_bid: Option<(Price, u128)>,
    /// Best ask price and the total quantity there.
    pub best_ask: Option<(Price, u128)>,
}

/// One aggregated price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthLevel {
    /// The price.
    pub price: Price,
    /// The total quantity resting there.
    pub qty: u128,
}

#[derive(Debug, Default)]
struct Depth {
    halted: bool,
    bids: BTreeMap<Price, u128>,
    asks: BTreeMap<Price, u128>,
    orders: HashMap<Uuid, (Side, Price, Qty)>,
}

impl Depth {
    fn side(&mut self, side: Side) -> &mut BTreeMap<Price, u128> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn add(&mut self, id: Uuid, side: Side, price: Price, qty: Qty) {
        *self.side(side).entry(price).or_insert(0) += u128::from(qty);
        self.orders.insert(id, (side, price, qty));
    }

    /// Removes the cancelled order `id`, which rested at `price` on `side` with `qty` open.
    /// An order this view never saw rest (one from before it subscribed) is ignored.
    fn cancel(&mut self, id: &Uuid, side: Side, price: Price, qty: Qty) {
        if self.orders.remove(id).is_some() {
            self.take(side, price, qty);
        }
    }

    /// Moves the modified order `id` from `old` to `new` (price, open quantity): one map
    /// lookup, the level arithmetic from the event's own fields. An order this view never
    /// saw rest is ignored.
    fn modify(&mut self, id: &Uuid, side: Side, old: (Price, Qty), new: (Price, Qty)) {
        let Some(order) = self.orders.get_mut(id) else {
            return;
        };
        *order = (side, new.0, new.1);
        self.take(side, old.0, old.1);
        *self.side(side).entry(new.0).or_insert(0) += u128::from(new.1);
    }

    /// Reduces `id` to `remaining` (removing it at 0) after a fill of `fill`.
    fn fill(&mut self, id: &Uuid, fill: Qty, remaining: Qty) {
        let Some(&(side, price, _)) = self.orders.get(id) else {
            return;
        };
        self.take(side, price, fill);
        if remaining == 0 {
            self.orders.remove(id);
        } else if let Some(order) = self.orders.get_mut(id) {
            order.2 = remaining;
        }
    }

    fn take(&mut self, side: Side, price: Price, qty: Qty) {
        let levels = self.side(side);
        if let Some(total) = levels.get_mut(&price) {
            *total -= u128::from(qty).min(*total);
            if *total == 0 {
                levels.remove(&price);
            }
        }
    }

    fn reset_from(&mut self, snapshot: &BookSnapshot) {
        *self = Depth {
            halted: snapshot.halted,
            ..Depth::default()
        };
        for (side, levels) in [(Side::Buy, &snapshot.bids), (Side::Sell, &snapshot.asks)] {
            for level in levels {
                for order in &level.orders {
                    self.add(order.order_id, side, level.price, order.qty);
                }
            }
        }
    }
}

/// The state shared between the subscriber and its views.
#[derive(Debug, Default)]
struct Market {
    books: HashMap<Uuid, Depth>,
}

/// A read handle on the market data the subscriber keeps. Cheap to clone; every query
/// takes a short read lock.
#[derive(Clone, Debug, Default)]
pub struct MarketDataView {
    market: Arc<RwLock<Market>>,
}

impl MarketDataView {
    /// The top of book of `instrument`, if any event for it has been seen.
    #[must_use]
    pub fn top_of_book(&self, instrument: &Uuid) -> Option<TopOfBook> {
        let market = self.market.read();
        market.books.get(instrument).map(|d| TopOfBook {
            halted: d.halted,
            best_bid: d.bids.last_key_value().map(|(&p, &q)| (p, q)),
            best_ask: d.asks.first_key_value().map(|(&p, &q)| (p, q)),
        })
    }

    /// Up to `levels` aggregated levels of each side of `instrument`, best first:
    /// `(bids, asks)`.
    #[must_use]
    pub fn depth(
        &self,
        instrument: &Uuid,
        levels: usize,
    ) -> Option<(Vec<DepthLevel>, Vec<DepthLevel>)> {
        let market = self.market.read();
        market.books.get(instrument).map(|d| {
            let level = |(&price, &qty): (&Price, &u128)| DepthLevel { price, qty };
            (
                d.bids.iter().rev().take(levels).map(level).collect(),
                d.asks.iter().take(levels).map(level).collect(),
            )
        })
    }

    /// The instruments seen so far, sorted.
    #[must_use]
    pub fn instruments(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self.market.read().books.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

/// Keeps top of book and depth per instrument from the events alone.
///
/// Resting orders are tracked from `accepted` (limit and post-only), `trade`,
/// `cancelled` and `modified` events; a `snapshot` event resets the instrument to the
/// snapshot's contents. Between two events of one command (an order and its trades) a
/// reader may briefly see the order before its fills.
///
/// # Examples
///
/// ```
/// use ringbook::MarketDataSubscriber;
/// use uuid::Uuid;
///
/// let subscriber = MarketDataSubscriber::new();
/// let view = subscriber.view(); // query this from any thread
/// assert_eq!(view.top_of_book(&Uuid::from_u128(1)), None);
/// ```
#[derive(Debug, Default)]
pub struct MarketDataSubscriber {
    view: MarketDataView,
}

impl MarketDataSubscriber {
    /// A subscriber with an empty market.
    #[must_use]
    pub fn new() -> MarketDataSubscriber {
        MarketDataSubscriber::default()
    }

    /// A read handle, to query from any thread.
    #[must_use]
    pub fn view(&self) -> MarketDataView {
        self.view.clone()
    }
}

impl Subscriber for MarketDataSubscriber {
    fn on_event(&mut self, event: &PublishedEvent<'_>) {
        let result = event.result;
        let mut market = self.view.market.write();
        let depth = market.books.entry(result.instrument_id()).or_default();
        match result {
            OrderbookResult::Accepted {
                order_id,
                side,
                kind,
                price: Some(price),
                qty,
                ..
            } if kind.rests() => depth.add(*order_id, *side, *price, *qty),
            OrderbookResult::Trade {
                taker_order_id,
                maker_order_id,
                qty,
                taker_remaining,
                maker_remaining,
                ..
            } => {
                depth.fill(maker_order_id, *qty, *maker_remaining);
                depth.fill(taker_order_id, *qty, *taker_remaining);
            }
            OrderbookResult::Cancelled {
                order_id,
                side,
                price: Some(price),
                remaining_qty,
                ..
            } => depth.cancel(order_id, *side, *price, *remaining_qty),
            OrderbookResult::Modified {
                order_id,
                side,
                price,
                qty,
                old_price,
                old_qty,
                ..
            } => depth.modify(order_id, *side, (*old_price, *old_qty), (*price, *qty)),
            OrderbookResult::Halted { .. } => depth.halted = true,
            OrderbookResult::Resumed { .. } => depth.halted = false,
            OrderbookResult::Snapshot { snapshot, .. } => depth.reset_from(snapshot),
            _ => {}
        }
    }

    fn name(&self) -> &str {
        "market-data"
    }
}
