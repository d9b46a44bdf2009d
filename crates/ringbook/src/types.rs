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
    /// A stop-market order (long form): parked until the last trade price reaches its
    /// trigger, then matched as a [`OrderKind::Market`] order.
    Stop,
    /// A stop-limit order (long form): parked until the last trade price reaches its
    /// trigger, then matched as a [`OrderKind::Limit`] order at its price.
    StopLimit,
}

impl OrderKind {
    /// The kinds of the seven-column flow format, in the order it lists them.
    pub const ALL: [OrderKind; 5] = [
        OrderKind::Limit,
        OrderKind::Market,
        OrderKind::Ioc,
        OrderKind::Fok,
        OrderKind::PostOnly,
    ];

    /// Every kind, the long form's stops included, in the order the flow format lists
    /// them ([`OrderKind::ALL`] first).
    pub const LONG_FORM: [OrderKind; 7] = [
        OrderKind::Limit,
        OrderKind::Market,
        OrderKind::Ioc,
        OrderKind::Fok,
        OrderKind::PostOnly,
        OrderKind::Stop,
        OrderKind::StopLimit,
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
            OrderKind::Stop => "stop",
            OrderKind::StopLimit => "stop_limit",
        }
    }

    /// Parses one of `limit`, `market`, `ioc`, `fok`, `post_only`, `stop`, `stop_limit`.
    /// (A seven-column flow file refuses the last two: see the flow reader.)
    #[must_use]
    pub fn parse(word: &str) -> Option<OrderKind> {
        OrderKind::LONG_FORM
            .into_iter()
            .find(|k| k.as_str() == word)
    }

    /// Whether this kind carries a limit price (every kind but `market` and `stop`).
    #[inline]
    #[must_use]
    pub const fn has_price(self) -> bool {
        !matches!(self, OrderKind::Market | OrderKind::Stop)
    }

    /// Whether this kind is a stop order, parked until its trigger (`stop`, `stop_limit`).
    #[inline]
    #[must_use]
    pub const fn is_stop(self) -> bool {
        matches!(self, OrderKind::Stop | OrderKind::StopLimit)
    }

    /// The kind a stop order matches as once activated: [`OrderKind::Market`] for
    /// [`OrderKind::Stop`], [`OrderKind::Limit`] for [`OrderKind::StopLimit`]; any other
    /// kind is itself.
    #[inline]
    #[must_use]
    pub const fn activated(self) -> OrderKind {
        match self {
            OrderKind::Stop => OrderKind::Market,
            OrderKind::StopLimit => OrderKind::Limit,
            other => other,
        }
    }

    /// Whether an order of this kind may carry a `display` (an iceberg): `limit`,
    /// `post_only` and `stop_limit`.
    #[inline]
    #[must_use]
    pub const fn may_display(self) -> bool {
        matches!(
            self,
            OrderKind::Limit | OrderKind::PostOnly | OrderKind::StopLimit
        )
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

/// Self-trade prevention: what happens when a taker with an owner meets a resting order of
/// the same owner. Only the taker's mode counts.
///
/// The discriminants are the codes [`Order`] stores in its flags byte, so reading the mode
/// back is a shift and a mask (a match from codes to modes cost 15 instructions a
/// long-form add).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StpMode {
    /// The taker stops; its rest ends (`expired`, or `cancelled` for a modified order).
    CancelNewest = 1,
    /// The resting order is cancelled and matching goes on.
    CancelOldest = 2,
    /// The resting order is cancelled, then the taker ends.
    CancelBoth = 3,
}

impl StpMode {
    /// Every mode, in the order the flow format lists them.
    pub const ALL: [StpMode; 3] = [
        StpMode::CancelNewest,
        StpMode::CancelOldest,
        StpMode::CancelBoth,
    ];

    /// The word for this mode in flow files (`cancel_newest`, `cancel_oldest`,
    /// `cancel_both`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            StpMode::CancelNewest => "cancel_newest",
            StpMode::CancelOldest => "cancel_oldest",
            StpMode::CancelBoth => "cancel_both",
        }
    }

    /// Parses a mode word.
    #[must_use]
    pub fn parse(word: &str) -> Option<StpMode> {
        StpMode::ALL.into_iter().find(|m| m.as_str() == word)
    }

    /// Whether the taker ends when it meets a same-owner maker.
    #[inline]
    #[must_use]
    pub const fn cancels_taker(self) -> bool {
        matches!(self, StpMode::CancelNewest | StpMode::CancelBoth)
    }

    /// Whether the same-owner maker is removed.
    #[inline]
    #[must_use]
    pub const fn cancels_maker(self) -> bool {
        matches!(self, StpMode::CancelOldest | StpMode::CancelBoth)
    }

    const fn code(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for StpMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bits of [`Order`]'s `flags` byte.
const HAS_OWNER: u8 = 1;
const STP_SHIFT: u32 = 1;
const STP_MASK: u8 = 0b110;
const HAS_DISPLAY: u8 = 8;

/// A new order for one instrument.
///
/// The long form's extras (an owner with a self-trade-prevention mode, a stop's trigger,
/// an iceberg's display quantity) are set with builder methods and read with accessors;
/// a plain order leaves them unset and [`Order::is_plain`] says so with one compare.
///
/// # Examples
///
/// ```
/// use ringbook::{Order, OrderKind, Side, StpMode};
/// use uuid::Uuid;
///
/// let order = Order::new(Uuid::from_u128(7), Uuid::from_u128(1), Side::Buy, OrderKind::Limit, 100, 5);
/// assert_eq!(order.limit_price(), Some(100));
/// assert!(order.is_plain());
/// let market = Order::market(Uuid::from_u128(8), Uuid::from_u128(1), Side::Sell, 5);
/// assert_eq!(market.limit_price(), None);
///
/// // An iceberg showing 10 of 100, owned by account 42, which never trades with itself.
/// let iceberg = Order::limit(Uuid::from_u128(9), Uuid::from_u128(1), Side::Sell, 101, 100)
///     .with_display(10)
///     .with_owner(42, Some(StpMode::CancelOldest));
/// assert_eq!((iceberg.display(), iceberg.owner(), iceberg.stp()), (Some(10), Some(42), Some(StpMode::CancelOldest)));
///
/// // A buy stop-limit: parked until a trade at 105 or above, then a limit buy at 106.
/// let stop = Order::stop_limit(Uuid::from_u128(10), Uuid::from_u128(1), Side::Buy, 106, 105, 3);
/// assert_eq!((stop.kind, stop.trigger(), stop.limit_price()), (OrderKind::StopLimit, Some(105), Some(106)));
/// let stop_market = Order::stop(Uuid::from_u128(11), Uuid::from_u128(1), Side::Sell, 95, 3);
/// assert_eq!((stop_market.trigger(), stop_market.limit_price()), (Some(95), None));
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
    /// Limit, market, ioc, fok, post-only, stop or stop-limit.
    pub kind: OrderKind,
    /// The limit price in ticks; ignored for [`OrderKind::Market`] and [`OrderKind::Stop`].
    pub price: Price,
    /// The quantity in lots. Zero is rejected with `invalid_quantity`.
    pub quantity: Qty,
    // The long form's extras, packed: 8 + 8 + 8 + 1 bytes. 0 when unset.
    owner: u64,
    trigger: Price,
    display: Qty,
    /// [`HAS_OWNER`], the stp mode's code in [`STP_MASK`], [`HAS_DISPLAY`].
    flags: u8,
}

impl Order {
    /// An order of any kind. For [`OrderKind::Market`] the price is ignored; a stop kind
    /// needs its trigger set with [`Order::with_trigger`] (0 until then).
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
            owner: 0,
            trigger: 0,
            display: 0,
            flags: 0,
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

    /// A stop-market order: parked until the last trade price reaches `trigger` (at or
    /// above it for a buy, at or below for a sell), then matched as a market order.
    #[must_use]
    pub const fn stop(
        order_id: Uuid,
        instrument_id: Uuid,
        side: Side,
        trigger: Price,
        quantity: Qty,
    ) -> Order {
        Order::new(order_id, instrument_id, side, OrderKind::Stop, 0, quantity)
            .with_trigger(trigger)
    }

    /// A stop-limit order: parked until the last trade price reaches `trigger`, then
    /// matched as a limit order at `price`.
    #[must_use]
    pub const fn stop_limit(
        order_id: Uuid,
        instrument_id: Uuid,
        side: Side,
        price: Price,
        trigger: Price,
        quantity: Qty,
    ) -> Order {
        Order::new(
            order_id,
            instrument_id,
            side,
            OrderKind::StopLimit,
            price,
            quantity,
        )
        .with_trigger(trigger)
    }

    /// This order owned by account `owner`, with self-trade prevention `stp` (`None`: it
    /// may trade with its owner's other orders).
    #[must_use]
    pub const fn with_owner(mut self, owner: u64, stp: Option<StpMode>) -> Order {
        self.owner = owner;
        self.flags = (self.flags & !STP_MASK) | HAS_OWNER;
        if let Some(mode) = stp {
            self.flags |= mode.code() << STP_SHIFT;
        }
        self
    }

    /// This order as an iceberg showing `display` lots at a time. Only `limit`,
    /// `post_only` and `stop_limit` orders may show slices ([`OrderKind::may_display`]);
    /// a display of 0 is rejected with `invalid_quantity`.
    #[must_use]
    pub const fn with_display(mut self, display: Qty) -> Order {
        self.display = display;
        self.flags |= HAS_DISPLAY;
        self
    }

    /// This order with stop trigger `trigger` (read only for the stop kinds).
    #[must_use]
    pub const fn with_trigger(mut self, trigger: Price) -> Order {
        self.trigger = trigger;
        self
    }

    /// The limit price, or `None` for a market or stop-market order.
    #[inline]
    #[must_use]
    pub const fn limit_price(&self) -> Option<Price> {
        if self.kind.has_price() {
            Some(self.price)
        } else {
            None
        }
    }

    /// The owning account, if set.
    #[inline]
    #[must_use]
    pub const fn owner(&self) -> Option<u64> {
        if self.flags & HAS_OWNER != 0 {
            Some(self.owner)
        } else {
            None
        }
    }

    /// The self-trade-prevention mode, if set (only with an owner).
    #[inline]
    #[must_use]
    pub const fn stp(&self) -> Option<StpMode> {
        match (self.flags & STP_MASK) >> STP_SHIFT {
            1 => Some(StpMode::CancelNewest),
            2 => Some(StpMode::CancelOldest),
            3 => Some(StpMode::CancelBoth),
            _ => None,
        }
    }

    /// The stop trigger of a stop or stop-limit order; `None` for other kinds.
    #[inline]
    #[must_use]
    pub const fn trigger(&self) -> Option<Price> {
        if self.kind.is_stop() {
            Some(self.trigger)
        } else {
            None
        }
    }

    /// The display quantity of an iceberg, if set.
    #[inline]
    #[must_use]
    pub const fn display(&self) -> Option<Qty> {
        if self.flags & HAS_DISPLAY != 0 {
            Some(self.display)
        } else {
            None
        }
    }

    /// The owner, 0 when none is set (bit 0 of [`Order::long_bits`] tells): for the book's
    /// paths that read the long form's fields without a branch on whether they are set.
    #[inline]
    #[must_use]
    pub(crate) const fn owner_or_zero(&self) -> u64 {
        self.owner
    }

    /// The long form's flag byte: bit 0 an owner is set, bits 1-2 the self-trade-prevention
    /// mode's code ([`StpMode`]'s discriminant, 0 none), bit 3 a display is set (the layout
    /// of the snapshot format's extras byte). The book copies it into a resting order's
    /// slot with one shift.
    #[inline]
    #[must_use]
    pub(crate) const fn long_bits(&self) -> u8 {
        self.flags
    }

    /// Whether a display is set.
    #[inline]
    #[must_use]
    pub(crate) const fn has_display(&self) -> bool {
        self.flags & HAS_DISPLAY != 0
    }

    /// The display quantity, 0 when none is set (a display set to 0, which the book
    /// rejects, reads 0 too: [`Order::display`] tells them apart).
    #[inline]
    #[must_use]
    pub(crate) const fn display_or_zero(&self) -> Qty {
        self.display
    }

    /// Whether the order has an owner or a display set (a stop kind may still have
    /// neither): one byte compare, the book's first test of an add.
    #[inline]
    #[must_use]
    pub(crate) const fn has_extras(&self) -> bool {
        self.flags != 0
    }

    /// Whether the order uses none of the long form's features: no owner, no display, not
    /// a stop. The book's fast path.
    #[inline]
    #[must_use]
    pub const fn is_plain(&self) -> bool {
        self.flags == 0 && !self.kind.is_stop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_read_back_and_plain_orders_stay_plain() {
        let i = Uuid::from_u128(1);
        let plain = Order::limit(Uuid::from_u128(2), i, Side::Buy, 5, 6);
        assert!(plain.is_plain());
        assert_eq!(
            (plain.owner(), plain.stp(), plain.trigger(), plain.display()),
            (None, None, None, None)
        );
        let owned = plain.with_owner(0, None);
        assert_eq!((owned.owner(), owned.stp()), (Some(0), None));
        assert!(!owned.is_plain());
        for mode in StpMode::ALL {
            let o = plain.with_owner(u64::MAX, Some(mode)).with_display(0);
            assert_eq!(
                (o.owner(), o.stp(), o.display()),
                (Some(u64::MAX), Some(mode), Some(0))
            );
            assert_eq!(StpMode::parse(mode.as_str()), Some(mode));
        }
        let stop = Order::stop(Uuid::from_u128(3), i, Side::Sell, -7, 1);
        assert!(!stop.is_plain());
        assert_eq!((stop.trigger(), stop.limit_price()), (Some(-7), None));
        for kind in OrderKind::LONG_FORM {
            assert_eq!(OrderKind::parse(kind.as_str()), Some(kind));
        }
    }
}
