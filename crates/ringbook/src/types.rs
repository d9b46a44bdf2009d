//! Domain types: sides, order kinds, orders, and the integer units they are priced in.

use std::fmt;

use uuid::Uuid;

/// A price in integer ticks. Signed: spreads and some instruments trade below zero.
pub type Price = i64;

/// A quantity in integer lots.
pub type Qty = u64;

/// The side of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// A bid: buys from resting sells priced at or below its limit.
    Buy,
    /// An offer: sells to resting buys priced at or above its limit.
    Sell,
}

impl Side {
    /// The other side.
    #[inline]
    #[must_use]
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// The word used for this side in flow files and event streams (`buy`, `sell`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    /// Parses `buy` or `sell`.
    #[must_use]
    pub fn parse(word: &str) -> Option<Side> {
        match word {
            "buy" => Some(Side::Buy),
            "sell" => Some(Side::Sell),
            _ => None,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an order behaves on arrival and what happens to its unfilled rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// Matches up to its limit, then the rest rests at its price.
    Limit,
    /// Matches at any price; the rest expires. Its price field is ignored.
    Market,
    /// Immediate-or-cancel: matches up to its limit; the rest expires.
    Ioc,
    /// Fill-or-kill: trades its whole quantity up to its limit, or nothing.
    Fok,
    /// Rests like a limit order, but is rejected if it would match on arrival.
    PostOnly,
}

impl OrderKind {
    /// Every kind, in the order the flow format lists them.
    pub const ALL: [OrderKind; 5] = [
        OrderKind::Limit,
        OrderKind::Market,
        OrderKind::Ioc,
        OrderKind::Fok,
        OrderKind::PostOnly,
    ];

    /// The word used for this kind in flow files and event streams.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderKind::Limit => "limit",
            OrderKind::Market => "market",
            OrderKind::Ioc => "ioc",
            OrderKind::Fok => "fok",
            OrderKind::PostOnly => "post_only",
        }
    }

    /// Parses one of `limit`, `market`, `ioc`, `fok`, `post_only`.
    #[must_use]
    pub fn parse(word: &str) -> Option<OrderKind> {
        OrderKind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// Whether this kind carries a limit price (every kind but `market`).
    #[inline]
    #[must_use]
    pub const fn has_price(self) -> bool {
        !matches!(self, OrderKind::Market)
    }

    /// Whether an unfilled rest of this kind stays in the book.
    #[inline]
    #[must_use]
    pub const fn rests(self) -> bool {
        matches!(self, OrderKind::Limit | OrderKind::PostOnly)
    }
}

impl fmt::Display for OrderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new order for one instrument.
///
/// # Examples
///
/// ```
/// use ringbook::{Order, OrderKind, Side};
/// use uuid::Uuid;
///
/// let order = Order::new(Uuid::from_u128(7), Uuid::from_u128(1), Side::Buy, OrderKind::Limit, 100, 5);
/// assert_eq!(order.limit_price(), Some(100));
/// let market = Order::market(Uuid::from_u128(8), Uuid::from_u128(1), Side::Sell, 5);
/// assert_eq!(market.limit_price(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Order {
    // The instrument first: with the compiler as it lays enums out today, every command
    // then has it at the same offset (the other variants of `Command` declare it first
    // too), so routing reads it with one load and no branch on the kind of command. Rust
    // does not promise field order: a layout change costs speed, never correctness.
    /// The instrument whose book the order goes to.
    pub instrument_id: Uuid,
    /// The order's id: unique among the orders resting in its book.
    pub order_id: Uuid,
    /// Buy or sell.
    pub side: Side,
    /// Limit, market, ioc, fok or post-only.
    pub kind: OrderKind,
    /// The limit price in ticks; ignored for [`OrderKind::Market`].
    pub price: Price,
    /// The quantity in lots. Zero is rejected with `invalid_quantity`.
    pub quantity: Qty,
}

impl Order {
    /// An order of any kind. For [`OrderKind::Market`] the price is ignored.
    #[must_use]
    pub const fn new(
        order_id: Uuid,
        instrument_id: Uuid,
        side: Side,
        kind: OrderKind,
        price: Price,
        quantity: Qty,
    ) -> Order {
        Order {
            order_id,
            instrument_id,
            side,
            kind,
            price,
            quantity,
        }
    }

    /// A limit order.
    #[must_use]
    pub const fn limit(
        order_id: Uuid,
        instrument_id: Uuid,
        side: Side,
        price: Price,
        quantity: Qty,
    ) -> Order {
        Order::new(
            order_id,
            instrument_id,
            side,
            OrderKind::Limit,
            price,
            quantity,
        )
    }

    /// A market order: it matches at any price and its rest expires.
    #[must_use]
    pub const fn market(order_id: Uuid, instrument_id: Uuid, side: Side, quantity: Qty) -> Order {
        Order::new(
            order_id,
            instrument_id,
            side,
            OrderKind::Market,
            0,
            quantity,
        )
    }

    /// The limit price, or `None` for a market order.
    #[inline]
    #[must_use]
    pub const fn limit_price(&self) -> Option<Price> {
        if self.kind.has_price() {
            Some(self.price)
        } else {
            None
        }
    }
}
