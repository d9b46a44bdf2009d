//! Books rebuilt from ITCH 5.0 messages, as a feed receiver keeps them: per locate code
//! its symbol, trading state and price levels, each level's orders in reference-number
//! (time) order.

use std::collections::{BTreeMap, HashMap};

use ringbook::{BookSnapshot, Side};
use ringbook_wire::itch::{ItchMessage, ItchSide, Stock, TradingState};
use thiserror::Error;

/// A message the books cannot apply: the feed contradicts itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApplyError {
    /// A message names an order reference that does not rest.
    #[error("message {seq} ('{}'): order reference {order_ref} does not rest", *kind as char)]
    UnknownOrder {
        /// The message's sequence number.
        seq: u64,
        /// Its type.
        kind: u8,
        /// The reference.
        order_ref: u64,
    },
    /// An Add Order or Order Replace reuses a reference that rests.
    #[error("message {seq}: order reference {order_ref} is already resting")]
    DuplicateOrder {
        /// The message's sequence number.
        seq: u64,
        /// The reference.
        order_ref: u64,
    },
    /// More shares executed or cancelled than the order has.
    #[error("message {seq}: {shares} shares taken from order {order_ref}, which has {open}")]
    TooManyShares {
        /// The message's sequence number.
        seq: u64,
        /// The reference.
        order_ref: u64,
        /// The shares taken.
        shares: u32,
        /// The order's open shares.
        open: u32,
    },
    /// A message about a locate code no Stock Directory announced.
    #[error("message {seq}: stock locate {locate} has no Stock Directory")]
    UnknownLocate {
        /// The message's sequence number.
        seq: u64,
        /// The locate code.
        locate: u16,
    },
}

/// One order resting in a rebuilt book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Order {
    locate: u16,
    side: ItchSide,
    price: u32,
    shares: u32,
}

/// One rebuilt book.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebuiltBook {
    /// The symbol from its Stock Directory.
    pub stock: Option<Stock>,
    /// Whether its last Stock Trading Action was a halt.
    pub halted: bool,
    /// Bid levels: price to orders (reference number to shares).
    pub bids: BTreeMap<u32, BTreeMap<u64, u32>>,
    /// Ask levels: price to orders (reference number to shares).
    pub asks: BTreeMap<u32, BTreeMap<u64, u32>>,
}

/// A price level as compared: its price and its orders' quantities in time priority.
pub type Level = (i64, Vec<u64>);

impl RebuiltBook {
    /// The best bid: price and total shares.
    #[must_use]
    pub fn best_bid(&self) -> Option<(u32, u64)> {
        self.bids
            .iter()
            .next_back()
            .map(|(p, orders)| (*p, orders.values().map(|&s| u64::from(s)).sum()))
    }

    /// The best ask: price and total shares.
    #[must_use]
    pub fn best_ask(&self) -> Option<(u32, u64)> {
        self.asks
            .iter()
            .next()
            .map(|(p, orders)| (*p, orders.values().map(|&s| u64::from(s)).sum()))
    }

    /// The levels of one side, best first.
    #[must_use]
    pub fn levels(&self, side: Side) -> Vec<Level> {
        let level = |(p, orders): (&u32, &BTreeMap<u64, u32>)| {
            (
                i64::from(*p),
                orders.values().map(|&s| u64::from(s)).collect(),
            )
        };
        match side {
            Side::Buy => self.bids.iter().rev().map(level).collect(),
            Side::Sell => self.asks.iter().map(level).collect(),
        }
    }

    /// How many orders rest.
    #[must_use]
    pub fn orders(&self) -> usize {
        self.bids
            .values()
            .chain(self.asks.values())
            .map(BTreeMap::len)
            .sum()
    }

    fn side_mut(&mut self, side: ItchSide) -> &mut BTreeMap<u32, BTreeMap<u64, u32>> {
        match side {
            ItchSide::Buy => &mut self.bids,
            ItchSide::Sell => &mut self.asks,
        }
    }
}

/// The levels of an engine's book snapshot, in the form [`RebuiltBook::levels`] gives.
#[must_use]
pub fn snapshot_levels(snapshot: &BookSnapshot, side: Side) -> Vec<Level> {
    let levels = match side {
        Side::Buy => &snapshot.bids,
        Side::Sell => &snapshot.asks,
    };
    levels
        .iter()
        .map(|l| (l.price, l.orders.iter().map(|o| o.qty).collect()))
        .collect()
}

/// Every book of a feed, by locate code.
#[derive(Clone, Debug, Default)]
pub struct RebuiltBooks {
    books: BTreeMap<u16, RebuiltBook>,
    orders: HashMap<u64, Order>,
    trading_actions: u64,
    executions: u64,
}

impl RebuiltBooks {
    /// No books.
    #[must_use]
    pub fn new() -> RebuiltBooks {
        RebuiltBooks::default()
    }

    /// The book of a locate code.
    #[must_use]
    pub fn book(&self, locate: u16) -> Option<&RebuiltBook> {
        self.books.get(&locate)
    }

    /// Every book by locate code.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &RebuiltBook)> {
        self.books.iter().map(|(l, b)| (*l, b))
    }

    /// How many Stock Trading Actions were applied.
    #[must_use]
    pub fn trading_actions(&self) -> u64 {
        self.trading_actions
    }

    /// How many Order Executed messages were applied.
    #[must_use]
    pub fn executions(&self) -> u64 {
        self.executions
    }

    fn known(&mut self, seq: u64, locate: u16) -> Result<&mut RebuiltBook, ApplyError> {
        self.books
            .get_mut(&locate)
            .ok_or(ApplyError::UnknownLocate { seq, locate })
    }

    fn add(&mut self, seq: u64, order_ref: u64, order: Order) -> Result<(), ApplyError> {
        if self.orders.contains_key(&order_ref) {
            return Err(ApplyError::DuplicateOrder { seq, order_ref });
        }
        self.known(seq, order.locate)?
            .side_mut(order.side)
            .entry(order.price)
            .or_default()
            .insert(order_ref, order.shares);
        self.orders.insert(order_ref, order);
        Ok(())
    }

    /// Takes `shares` from an order (all of them with `None`), removing it when none are
    /// left.
    fn take(
        &mut self,
        seq: u64,
        kind: u8,
        order_ref: u64,
        shares: Option<u32>,
    ) -> Result<Order, ApplyError> {
        let order = *self
            .orders
            .get(&order_ref)
            .ok_or(ApplyError::UnknownOrder {
                seq,
                kind,
                order_ref,
            })?;
        let shares = shares.unwrap_or(order.shares);
        if shares > order.shares {
            return Err(ApplyError::TooManyShares {
                seq,
                order_ref,
                shares,
                open: order.shares,
            });
        }
        let left = order.shares - shares;
        let book = self.known(seq, order.locate)?;
        let levels = book.side_mut(order.side);
        if let Some(level) = levels.get_mut(&order.price) {
            if left == 0 {
                level.remove(&order_ref);
                if level.is_empty() {
                    levels.remove(&order.price);
                }
            } else {
                level.insert(order_ref, left);
            }
        }
        if left == 0 {
            self.orders.remove(&order_ref);
        } else if let Some(o) = self.orders.get_mut(&order_ref) {
            o.shares = left;
        }
        Ok(order)
    }

    /// Applies one message, numbered `seq` (for errors).
    ///
    /// # Errors
    ///
    /// [`ApplyError`] when the message contradicts the books; the books are unchanged.
    pub fn apply(&mut self, seq: u64, message: &ItchMessage) -> Result<(), ApplyError> {
        let locate = message.header().stock_locate;
        match message {
            ItchMessage::SystemEvent(_) => {}
            ItchMessage::StockDirectory(m) => {
                self.books.entry(locate).or_default().stock = Some(m.stock);
            }
            ItchMessage::StockTradingAction(m) => {
                self.known(seq, locate)?.halted = m.state != TradingState::Trading;
                self.trading_actions += 1;
            }
            ItchMessage::AddOrder(m) => {
                let order = Order {
                    locate,
                    side: m.side,
                    price: m.price,
                    shares: m.shares,
                };
                self.add(seq, m.order_ref, order)?;
            }
            ItchMessage::OrderExecuted(m) => {
                self.take(seq, b'E', m.order_ref, Some(m.executed_shares))?;
                self.executions += 1;
            }
            ItchMessage::OrderCancel(m) => {
                self.take(seq, b'X', m.order_ref, Some(m.cancelled_shares))?;
            }
            ItchMessage::OrderDelete(m) => {
                self.take(seq, b'D', m.order_ref, None)?;
            }
            ItchMessage::OrderReplace(m) => {
                if self.orders.contains_key(&m.new_ref) {
                    return Err(ApplyError::DuplicateOrder {
                        seq,
                        order_ref: m.new_ref,
                    });
                }
                let old = self.take(seq, b'U', m.original_ref, None)?;
                let order = Order {
                    locate: old.locate,
                    side: old.side,
                    price: m.price,
                    shares: m.shares,
                };
                self.add(seq, m.new_ref, order)?;
            }
        }
        Ok(())
    }
}
