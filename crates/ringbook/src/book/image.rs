//! Book images and the state hash.
//!
//! A [`BookImage`] is the whole state of one book as plain data: its instrument, its halted
//! flag and every resting order in priority order. [`OrderBook::image`] takes one and
//! [`OrderBook::from_image`] rebuilds a book that is indistinguishable from the original:
//! every later command produces the same events. Snapshots store images.
//!
//! The state hash ([`OrderBook::state_hash`] and friends) is a fixed algorithm, FNV-1a 64
//! over a canonical encoding of that state, specified on [`OrderBook::state_hash`].

use std::ops::ControlFlow;

use uuid::Uuid;

use super::ids::Own;
use super::slab::NIL;
use super::{IntegrityError, OrderBook};
use crate::types::Order;
use crate::types::{OrderKind, Price, Qty, Side, StpMode};

/// One resting order in a [`BookImage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RestingOrderImage {
    /// The order's id.
    pub order_id: Uuid,
    /// Its side.
    pub side: Side,
    /// The price level it rests at.
    pub price: Price,
    /// Its whole open quantity, an iceberg's hidden part included (never 0 in a valid
    /// image).
    pub qty: Qty,
    /// Whether it was entered as `post_only` (matters when it is modified).
    pub post_only: bool,
    /// The quantity shown in its level: `qty` for a plain order, an iceberg's current
    /// slice (1 to `min(display, qty)`).
    pub shown: Qty,
    /// An iceberg's display quantity (long form).
    pub display: Option<Qty>,
    /// Its owner (long form).
    pub owner: Option<u64>,
    /// Its self-trade-prevention mode (long form; only with an owner).
    pub stp: Option<StpMode>,
    /// Its acceptance number: mass cancels go in increasing order of it. Unique among a
    /// book's resting and parked orders; only the order of the numbers matters.
    pub accepted: u64,
}

impl RestingOrderImage {
    /// A plain resting order (no display, no owner) showing its whole quantity.
    #[must_use]
    pub const fn plain(
        order_id: Uuid,
        side: Side,
        price: Price,
        qty: Qty,
        post_only: bool,
        accepted: u64,
    ) -> RestingOrderImage {
        RestingOrderImage {
            order_id,
            side,
            price,
            qty,
            post_only,
            shown: qty,
            display: None,
            owner: None,
            stp: None,
            accepted,
        }
    }

    /// Whether the order has any long-form state: a slice, a display or an owner.
    #[must_use]
    pub fn is_plain(&self) -> bool {
        self.shown == self.qty && self.display.is_none() && self.owner.is_none()
    }
}

/// One parked stop order in a [`BookImage`] (long form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParkedStopImage {
    /// The order's id.
    pub order_id: Uuid,
    /// Its side.
    pub side: Side,
    /// [`OrderKind::Stop`] or [`OrderKind::StopLimit`].
    pub kind: OrderKind,
    /// The last trade price that activates it.
    pub trigger: Price,
    /// A stop-limit order's limit price; `None` for a stop-market order.
    pub price: Option<Price>,
    /// Its quantity (never 0).
    pub qty: Qty,
    /// Its owner.
    pub owner: Option<u64>,
    /// Its self-trade-prevention mode.
    pub stp: Option<StpMode>,
    /// A stop-limit iceberg's display quantity.
    pub display: Option<Qty>,
    /// Its acceptance number (see [`RestingOrderImage::accepted`]).
    pub accepted: u64,
}

/// The whole state of one book, as plain data.
///
/// `orders` lists the bids, best (highest) level first, then the asks, best (lowest) level
/// first; the orders of one level in time priority, earliest first. Appending the orders in
/// this order to an empty book restores every queue exactly.
///
/// # Examples
///
/// ```
/// use ringbook::{Command, Order, OrderBook, Side};
/// use uuid::Uuid;
///
/// let instrument = Uuid::from_u128(1);
/// let mut book = OrderBook::new(instrument);
/// book.apply(&Command::Add(Order::limit(Uuid::from_u128(10), instrument, Side::Buy, 99, 5)), &mut |_| {});
/// book.apply(&Command::Add(Order::limit(Uuid::from_u128(11), instrument, Side::Sell, 101, 2)), &mut |_| {});
///
/// let image = book.image();
/// assert_eq!(image.orders.len(), 2);
/// let restored = OrderBook::from_image(&image).unwrap();
/// assert_eq!(restored.image(), image);
/// assert_eq!(restored.state_hash(), book.state_hash());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BookImage {
    /// The book's instrument.
    pub instrument_id: Uuid,
    /// Whether the book is halted.
    pub halted: bool,
    /// Every resting order: bids best level first, then asks best level first, each level
    /// in time priority.
    pub orders: Vec<RestingOrderImage>,
    /// The price of the book's most recent trade, `None` before the first.
    pub last_trade_price: Option<Price>,
    /// Parked stop orders, in acceptance order (long form).
    pub stops: Vec<ParkedStopImage>,
}

impl BookImage {
    /// The state hash of the book this image describes: equal to
    /// [`OrderBook::state_hash`] of that book, which specifies the algorithm.
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        let mut h = Fnv1a64::new();
        self.hash_into(&mut h);
        h.finish()
    }

    /// Whether the book holds any state: a fresh book (empty, running, never traded)
    /// holds none.
    #[must_use]
    pub fn holds_state(&self) -> bool {
        self.halted
            || !self.orders.is_empty()
            || !self.stops.is_empty()
            || self.last_trade_price.is_some()
    }

    /// Whether the book has any long-form state: a last trade price, a parked stop, or an
    /// order with a slice, a display or an owner. Such a book's hash ends with the
    /// long-form section ([`OrderBook::state_hash`]).
    #[must_use]
    pub fn has_long_form_state(&self) -> bool {
        self.last_trade_price.is_some()
            || !self.stops.is_empty()
            || self.orders.iter().any(|o| !o.is_plain())
    }

    fn hash_into(&self, h: &mut Fnv1a64) {
        hash_book(h, self.instrument_id, self.halted, self.orders.len(), |f| {
            self.orders.iter().for_each(f)
        });
        if !self.has_long_form_state() {
            return;
        }
        // Acceptance numbers are hashed as ranks: only their order matters.
        let mut numbers: Vec<u64> = self
            .orders
            .iter()
            .map(|o| o.accepted)
            .chain(self.stops.iter().map(|s| s.accepted))
            .collect();
        numbers.sort_unstable();
        let rank = |accepted: u64| numbers.partition_point(|&n| n < accepted) as u64;
        h.write_u8(b'L');
        hash_opt_i64(h, self.last_trade_price);
        for o in &self.orders {
            h.write_u64(o.shown);
            hash_extras(h, o.owner, o.stp, o.display);
            h.write_u64(rank(o.accepted));
        }
        h.write_u64(self.stops.len() as u64);
        for s in &self.stops {
            h.write(s.order_id.as_bytes());
            h.write_u8(side_byte(s.side));
            h.write_u8(u8::from(s.kind == OrderKind::StopLimit));
            h.write(&s.trigger.to_le_bytes());
            hash_opt_i64(h, s.price);
            h.write_u64(s.qty);
            hash_extras(h, s.owner, s.stp, s.display);
            h.write_u64(rank(s.accepted));
        }
    }
}

fn side_byte(side: Side) -> u8 {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

fn hash_opt_i64(h: &mut Fnv1a64, value: Option<i64>) {
    match value {
        None => h.write_u8(0),
        Some(v) => {
            h.write_u8(1);
            h.write(&v.to_le_bytes());
        }
    }
}

/// Owner, stp mode and display: a flag byte (bit 0 owner, bits 1-2 the stp mode 0 none
/// 1 cancel_newest 2 cancel_oldest 3 cancel_both, bit 3 display), then the owner and the
/// display (`u64` LE, 0 when absent).
fn hash_extras(h: &mut Fnv1a64, owner: Option<u64>, stp: Option<StpMode>, display: Option<Qty>) {
    h.write_u8(extras_flags(owner, stp, display));
    h.write_u64(owner.unwrap_or(0));
    h.write_u64(display.unwrap_or(0));
}

/// The flag byte of an order's long-form extras (see `hash_extras`); the snapshot format
/// uses the same byte.
pub(crate) fn extras_flags(owner: Option<u64>, stp: Option<StpMode>, display: Option<Qty>) -> u8 {
    let stp = match stp {
        None => 0,
        Some(StpMode::CancelNewest) => 1,
        Some(StpMode::CancelOldest) => 2,
        Some(StpMode::CancelBoth) => 3,
    };
    u8::from(owner.is_some()) | (stp << 1) | (u8::from(display.is_some()) << 3)
}

/// The stp mode of a flag byte's bits 1-2 (see `hash_extras`).
pub(crate) fn stp_of_flags(flags: u8) -> Option<StpMode> {
    match (flags >> 1) & 0b11 {
        0 => None,
        1 => Some(StpMode::CancelNewest),
        2 => Some(StpMode::CancelOldest),
        _ => Some(StpMode::CancelBoth),
    }
}

/// Why an image cannot be rebuilt into a book.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// An order with open quantity zero.
    #[error("book image {instrument}: order {order_id} (entry {index}) has quantity 0")]
    ZeroQuantity {
        /// The book.
        instrument: Uuid,
        /// The order.
        order_id: Uuid,
        /// Its position in the image's order list.
        index: usize,
    },
    /// The same order id twice.
    #[error("book image {instrument}: order {order_id} (entry {index}) is listed twice")]
    DuplicateOrderId {
        /// The book.
        instrument: Uuid,
        /// The order.
        order_id: Uuid,
        /// The position of its second occurrence.
        index: usize,
    },
    /// The orders are not in image order (bids best first, then asks best first).
    #[error("book image {instrument}: entry {index} is out of order: {what}")]
    OutOfOrder {
        /// The book.
        instrument: Uuid,
        /// The position of the misplaced order.
        index: usize,
        /// What is wrong.
        what: String,
    },
    /// A resting order whose long-form fields do not fit together: a shown slice of 0 or
    /// above its quantity, a hidden part without a display or a slice above it, a display
    /// of 0, or an stp mode without an owner.
    #[error(
        "book image {instrument}: order {order_id} (entry {index}) has an impossible slice, display or stp"
    )]
    BadSlice {
        /// The book.
        instrument: Uuid,
        /// The order.
        order_id: Uuid,
        /// Its position in the image's order list.
        index: usize,
    },
    /// A parked stop that no add could have parked: quantity 0, not a stop kind, a price
    /// against its kind, a display of 0 or on a stop-market order, an stp mode without an
    /// owner.
    #[error(
        "book image {instrument}: stop {order_id} (stop entry {index}) is not a valid parked stop"
    )]
    BadStop {
        /// The book.
        instrument: Uuid,
        /// The order.
        order_id: Uuid,
        /// Its position in the image's stop list.
        index: usize,
    },
    /// The best bid is at or above the best ask.
    #[error("book image {instrument} is crossed: best bid {bid} >= best ask {ask}")]
    Crossed {
        /// The book.
        instrument: Uuid,
        /// Best bid price.
        bid: Price,
        /// Best ask price.
        ask: Price,
    },
    /// The rebuilt book failed its integrity check (a bug: the checks above should catch
    /// every bad image).
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
}

impl OrderBook {
    /// The book's whole state as plain data: see [`BookImage`]. O(orders).
    #[must_use]
    pub fn image(&self) -> BookImage {
        let mut orders = Vec::with_capacity(self.len());
        self.for_each_resting(|order| orders.push(*order));
        let mut image = BookImage {
            instrument_id: self.instrument_id,
            halted: self.halted,
            orders,
            last_trade_price: self.last_trade_price,
            stops: self
                .long
                .stops
                .iter()
                .map(|(accepted, o)| ParkedStopImage {
                    order_id: o.order_id,
                    side: o.side,
                    kind: o.kind,
                    trigger: o.trigger().expect("a parked order is a stop"),
                    price: o.limit_price(),
                    qty: o.quantity,
                    owner: o.owner(),
                    stp: o.stp(),
                    display: o.display(),
                    accepted,
                })
                .collect(),
        };
        // Acceptance numbers as ranks (0 for the earliest accepted): an image does not
        // depend on how many orders came and went before.
        let mut numbers: Vec<u64> = image
            .orders
            .iter()
            .map(|o| o.accepted)
            .chain(image.stops.iter().map(|s| s.accepted))
            .collect();
        numbers.sort_unstable();
        let rank = |n: u64| numbers.partition_point(|&m| m < n) as u64;
        for o in &mut image.orders {
            o.accepted = rank(o.accepted);
        }
        for s in &mut image.stops {
            s.accepted = rank(s.accepted);
        }
        image
    }

    /// Rebuilds a book from an image: same instrument, halted flag, orders, prices,
    /// quantities, post-only flags and queue priorities, so every later command produces
    /// the same events as on the book the image was taken from. The result passes
    /// [`OrderBook::check_integrity`].
    ///
    /// # Errors
    ///
    /// An [`ImageError`] naming the order at fault if the image is not one a valid book
    /// could have produced: an order with quantity zero, an order id listed twice, orders
    /// out of image order (a bid after an ask, or a level listed after a worse one of the
    /// same side), or a crossed book (best bid at or above best ask).
    pub fn from_image(image: &BookImage) -> Result<OrderBook, ImageError> {
        let instrument = image.instrument_id;
        let mut book = OrderBook::with_capacity(instrument, image.orders.len());
        book.halted = image.halted;
        book.last_trade_price = image.last_trade_price;
        let mut previous: Option<(Side, Price)> = None;
        for (index, order) in image.orders.iter().enumerate() {
            if order.qty == 0 {
                return Err(ImageError::ZeroQuantity {
                    instrument,
                    order_id: order.order_id,
                    index,
                });
            }
            if let Some((side, price)) = previous {
                let what = match (side, order.side) {
                    (Side::Sell, Side::Buy) => Some(format!(
                        "bid {} at {} follows an ask",
                        order.order_id, order.price
                    )),
                    (Side::Buy, Side::Buy) if order.price > price => Some(format!(
                        "bid {} at {} follows the lower bid level {price}",
                        order.order_id, order.price
                    )),
                    (Side::Sell, Side::Sell) if order.price < price => Some(format!(
                        "ask {} at {} follows the higher ask level {price}",
                        order.order_id, order.price
                    )),
                    _ => None,
                };
                if let Some(what) = what {
                    return Err(ImageError::OutOfOrder {
                        instrument,
                        index,
                        what,
                    });
                }
            }
            if book.find(&order.order_id).is_some() {
                return Err(ImageError::DuplicateOrderId {
                    instrument,
                    order_id: order.order_id,
                    index,
                });
            }
            if order.shown == 0
                || order.shown > order.qty
                || order.display == Some(0)
                || order.shown < order.qty && order.display.is_none_or(|d| order.shown > d)
                || order.stp.is_some() && order.owner.is_none()
            {
                return Err(ImageError::BadSlice {
                    instrument,
                    order_id: order.order_id,
                    index,
                });
            }
            let slot = book.rest(
                &mut super::ids::Own,
                order.order_id,
                order.side,
                order.price,
                order.shown,
                order.post_only,
            );
            book.set_accepted(&mut Own, slot, order.accepted);
            if !order.is_plain() {
                book.restore_extra(
                    &mut Own,
                    slot,
                    order.owner,
                    order.stp,
                    order.display,
                    order.qty - order.shown,
                );
            }
            previous = Some((order.side, order.price));
        }
        for (index, stop) in image.stops.iter().enumerate() {
            let order_id = stop.order_id;
            if stop.qty == 0
                || !stop.kind.is_stop()
                || stop.price.is_some() != (stop.kind == OrderKind::StopLimit)
                || stop.display == Some(0)
                || stop.display.is_some() && stop.kind != OrderKind::StopLimit
                || stop.stp.is_some() && stop.owner.is_none()
            {
                return Err(ImageError::BadStop {
                    instrument,
                    order_id,
                    index,
                });
            }
            // A parked stop's id is indexed too.
            if book.find(&order_id).is_some() {
                return Err(ImageError::DuplicateOrderId {
                    instrument,
                    order_id,
                    index: image.orders.len() + index,
                });
            }
            let mut order = match stop.price {
                Some(price) => Order::stop_limit(
                    order_id,
                    instrument,
                    stop.side,
                    price,
                    stop.trigger,
                    stop.qty,
                ),
                None => Order::stop(order_id, instrument, stop.side, stop.trigger, stop.qty),
            };
            if let Some(owner) = stop.owner {
                order = order.with_owner(owner, stop.stp);
            }
            if let Some(display) = stop.display {
                order = order.with_display(display);
            }
            book.park_restored(&mut super::ids::Own, stop.accepted, &order);
        }
        let last = image
            .orders
            .iter()
            .map(|o| o.accepted)
            .chain(image.stops.iter().map(|s| s.accepted))
            .max();
        book.next_accepted = last.map_or(0, |n| n.saturating_add(1));
        if let (Some((bid, _)), Some((ask, _))) = (book.best_bid(), book.best_ask())
            && bid >= ask
        {
            return Err(ImageError::Crossed {
                instrument,
                bid,
                ask,
            });
        }
        book.check_integrity()?;
        Ok(book)
    }

    /// A deterministic hash of the book's state: instrument, halted flag and every resting
    /// order in priority order with its side, price, quantity and post-only flag. Equal
    /// states hash equal on every platform and in every run, whatever the memory layout,
    /// slab slot numbers or hasher seeds. O(orders), allocates nothing.
    ///
    /// The algorithm is fixed and is part of the snapshot format:
    ///
    /// - The hash function is **FNV-1a 64**: offset basis `0xcbf29ce484222325`, prime
    ///   `0x100000001b3`, one byte at a time (`h ^= byte; h = h.wrapping_mul(prime)`).
    /// - A book is encoded as its instrument id (16 bytes, RFC 4122 byte order, as
    ///   [`Uuid::as_bytes`]), its halted flag (1 byte, 0 or 1), its resting order count
    ///   (`u64` little-endian), then each resting order in [`BookImage`] order (bids best
    ///   level first, then asks best level first, each level in time priority): order id
    ///   (16 bytes), side (1 byte: 0 buy, 1 sell), price (`i64` LE), open quantity (`u64`
    ///   LE) and the post-only flag (1 byte, 0 or 1). That is 25 + 34 × orders bytes.
    /// - A book with long-form state ([`BookImage::has_long_form_state`]: a last trade
    ///   price, a parked stop, or an order with a slice, a display or an owner) appends:
    ///   the byte `L`; the last trade price (1 byte 0 for none, or 1 and the `i64` LE);
    ///   for each resting order in image order its shown quantity (`u64` LE), its extras
    ///   (a flag byte: bit 0 owner, bits 1-2 stp mode 0 none 1 cancel_newest
    ///   2 cancel_oldest 3 cancel_both, bit 3 display; then owner and display as `u64` LE,
    ///   0 when absent) and its acceptance rank (`u64` LE: its place among the book's
    ///   resting and parked orders by acceptance number, from 0); the parked stop count
    ///   (`u64` LE), then each stop in acceptance order: id (16), side (1), kind (1 byte:
    ///   0 stop, 1 stop_limit), trigger (`i64` LE), price (as the last trade price),
    ///   quantity (`u64` LE), extras, acceptance rank. A plain book hashes as before the
    ///   long form.
    /// - A book's hash is FNV-1a 64 of its encoding ([`BookImage::state_hash`] gives the
    ///   same value from an image).
    /// - The hash of a set of books ([`state_hash_of`], [`state_hash_of_images`]) is
    ///   FNV-1a 64 of the book count (`u64` LE) followed by the encodings of the books in
    ///   ascending instrument id order (as `u128`), so it does not depend on the order the
    ///   books are given in.
    ///
    /// FNV-1a detects divergence (a replay against the original, recovered books against
    /// live ones); it is not a cryptographic hash and does not resist deliberate collisions.
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        let mut h = Fnv1a64::new();
        self.hash_into(&mut h);
        h.finish()
    }

    fn hash_into(&self, h: &mut Fnv1a64) {
        if self.has_long_form_state() {
            // Long-form state: hashed from the image (this allocates).
            return self.image().hash_into(h);
        }
        hash_book(h, self.instrument_id, self.halted, self.len(), |f| {
            self.for_each_resting(f)
        });
    }

    /// Whether the book has any long-form state (see [`BookImage::has_long_form_state`]).
    fn has_long_form_state(&self) -> bool {
        self.last_trade_price.is_some() || !self.long.stops.is_empty() || self.any_resting_extras()
    }

    /// Calls `f` with every resting order in image order: bids best level first, then
    /// asks best level first, each level in time priority.
    fn for_each_resting(&self, mut f: impl FnMut(&RestingOrderImage)) {
        for side in [Side::Buy, Side::Sell] {
            self.ladder(side).walk_best_first(|price, level| {
                let mut slot = level.head;
                while slot != NIL {
                    let s = &self.orders[slot];
                    let mut image = RestingOrderImage::plain(
                        s.order_id.uuid(),
                        s.side(),
                        price,
                        s.qty,
                        s.post_only(),
                        s.accepted(),
                    );
                    if s.extra() != 0 {
                        let (owner, stp, display, hidden) = self.extras_of(&Own, slot);
                        (image.qty, image.owner, image.stp, image.display) =
                            (s.qty + hidden, owner, stp, display);
                    }
                    f(&image);
                    slot = s.next;
                }
                ControlFlow::Continue(())
            });
        }
    }
}

/// The state hash of a set of books (an engine): FNV-1a 64 over the count of books that
/// hold state and each one's canonical encoding, in ascending instrument id order, so the
/// order of `books` does not matter. [`OrderBook::state_hash`] specifies the algorithm.
///
/// A book that is empty and not halted holds no state (it is what a fresh book is), so it
/// is left out: an engine that registered an instrument it never traded hashes like one
/// that did not register it, and a recovery that only learns of instruments from the
/// journal and snapshot agrees with the engine that crashed.
///
/// # Examples
///
/// ```
/// use ringbook::{OrderBook, state_hash_of, state_hash_of_images};
/// use uuid::Uuid;
///
/// let a = OrderBook::new(Uuid::from_u128(1));
/// let b = OrderBook::new(Uuid::from_u128(2));
/// assert_eq!(state_hash_of(&[&a, &b]), state_hash_of(&[&b, &a]));
/// assert_eq!(state_hash_of(&[&a, &b]), state_hash_of_images(&[a.image(), b.image()]));
/// ```
#[must_use]
pub fn state_hash_of(books: &[&OrderBook]) -> u64 {
    let mut sorted: Vec<&OrderBook> = books
        .iter()
        .copied()
        .filter(|b| {
            b.halted || !b.is_empty() || b.last_trade_price.is_some() || !b.long.stops.is_empty()
        })
        .collect();
    sorted.sort_by_cached_key(|b| (b.instrument_id.as_u128(), b.state_hash()));
    let mut h = Fnv1a64::new();
    h.write_u64(sorted.len() as u64);
    for book in sorted {
        book.hash_into(&mut h);
    }
    h.finish()
}

/// The state hash of the books these images describe: equal to [`state_hash_of`] of the
/// books themselves.
#[must_use]
pub fn state_hash_of_images(images: &[BookImage]) -> u64 {
    let mut sorted: Vec<&BookImage> = images.iter().filter(|b| b.holds_state()).collect();
    sorted.sort_by_cached_key(|b| (b.instrument_id.as_u128(), b.state_hash()));
    let mut h = Fnv1a64::new();
    h.write_u64(sorted.len() as u64);
    for image in sorted {
        image.hash_into(&mut h);
    }
    h.finish()
}

/// Feeds one book's canonical encoding to `h`; `orders` calls its argument with each
/// resting order in image order.
fn hash_book(
    h: &mut Fnv1a64,
    instrument: Uuid,
    halted: bool,
    count: usize,
    orders: impl FnOnce(&mut dyn FnMut(&RestingOrderImage)),
) {
    h.write(instrument.as_bytes());
    h.write_u8(u8::from(halted));
    h.write_u64(count as u64);
    orders(&mut |o: &RestingOrderImage| {
        h.write(o.order_id.as_bytes());
        h.write_u8(side_byte(o.side));
        h.write(&o.price.to_le_bytes());
        h.write_u64(o.qty);
        h.write_u8(u8::from(o.post_only));
    });
}

/// FNV-1a, 64-bit.
struct Fnv1a64(u64);

impl Fnv1a64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Fnv1a64 {
        Fnv1a64(Self::OFFSET_BASIS)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
        }
    }

    #[inline]
    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::result::OrderbookResult;
    use crate::types::{Order, OrderKind};

    const INSTRUMENT: Uuid = Uuid::from_u128(0x1D);

    /// SplitMix64: a tiny deterministic generator for the random command streams.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A random command for `INSTRUMENT`: ids from a small pool so cancels, modifies and
    /// duplicates hit; every kind, halts and resumes, zero quantities now and then.
    fn random_command(rng: &mut Rng) -> Command {
        let order_id = Uuid::from_u128(0x100 + u128::from(rng.below(60)));
        let qty = rng.below(12);
        match rng.below(100) {
            0..=59 => {
                // Buys mostly below 100, sells mostly above: deep books that still cross.
                let (side, price) = if rng.below(2) == 0 {
                    (Side::Buy, 92 + rng.below(10) as i64)
                } else {
                    (Side::Sell, 99 + rng.below(10) as i64)
                };
                let kind = match rng.below(10) {
                    0..=5 => OrderKind::Limit,
                    6 => OrderKind::PostOnly,
                    k => OrderKind::ALL[k as usize - 6],
                };
                Command::Add(Order::new(order_id, INSTRUMENT, side, kind, price, qty))
            }
            60..=69 => Command::Cancel {
                instrument_id: INSTRUMENT,
                order_id,
            },
            70..=89 => Command::Modify {
                instrument_id: INSTRUMENT,
                order_id,
                price: 92 + rng.below(17) as i64,
                qty,
            },
            90..=91 => Command::Halt {
                instrument_id: INSTRUMENT,
            },
            92..=95 => Command::Resume {
                instrument_id: INSTRUMENT,
            },
            96..=97 => Command::Status {
                instrument_id: INSTRUMENT,
            },
            _ => Command::Snapshot {
                instrument_id: INSTRUMENT,
            },
        }
    }

    fn apply(book: &mut OrderBook, command: &Command) -> Vec<OrderbookResult> {
        let mut events = Vec::new();
        book.apply(command, &mut |e| events.push(e));
        events
    }

    fn limit(book: &mut OrderBook, n: u128, side: Side, price: Price, qty: Qty) {
        let events = apply(
            book,
            &Command::Add(Order::limit(
                Uuid::from_u128(n),
                book.instrument_id(),
                side,
                price,
                qty,
            )),
        );
        assert!(
            matches!(events.as_slice(), [OrderbookResult::Accepted { .. }]),
            "{events:?}"
        );
    }

    fn cancel(book: &mut OrderBook, n: u128) {
        let command = Command::Cancel {
            instrument_id: book.instrument_id(),
            order_id: Uuid::from_u128(n),
        };
        let events = apply(book, &command);
        assert!(
            matches!(events.as_slice(), [OrderbookResult::Cancelled { .. }]),
            "{events:?}"
        );
    }

    fn order(n: u128, side: Side, price: Price, qty: Qty) -> RestingOrderImage {
        RestingOrderImage::plain(Uuid::from_u128(n), side, price, qty, false, 0)
    }

    #[test]
    fn restored_book_behaves_identically_on_random_commands() {
        let (mut resting, mut halted, mut trades) = (0, 0, 0);
        for seed in 0..8 {
            let mut rng = Rng(seed);
            let mut original = OrderBook::new(INSTRUMENT);
            for _ in 0..300 {
                apply(&mut original, &random_command(&mut rng));
            }
            let image = original.image();
            resting += image.orders.len();
            halted += usize::from(image.halted);
            let mut restored = OrderBook::from_image(&image).unwrap();
            restored.check_integrity().unwrap();
            assert_eq!(restored.image(), image, "seed {seed}");
            assert_eq!(restored.is_halted(), original.is_halted());
            assert_eq!(restored.state_hash(), original.state_hash());
            assert_eq!(image.state_hash(), original.state_hash());
            for step in 0..300 {
                let command = random_command(&mut rng);
                let want = apply(&mut original, &command);
                let got = apply(&mut restored, &command);
                assert_eq!(got, want, "seed {seed} step {step}: {command:?}");
                trades += want
                    .iter()
                    .filter(|e| matches!(e, OrderbookResult::Trade { .. }))
                    .count();
                restored.check_integrity().unwrap();
                assert_eq!(restored.state_hash(), original.state_hash());
                assert_eq!(restored.image(), original.image());
            }
        }
        // The streams exercised what matters: full books, halts, matching after restore.
        assert!(resting >= 80, "{resting} resting orders imaged");
        assert!(halted >= 1, "no halted book imaged");
        assert!(trades >= 100, "{trades} trades after restore");
    }

    #[test]
    fn image_lists_bids_then_asks_best_first_in_time_priority() {
        let mut book = OrderBook::new(INSTRUMENT);
        limit(&mut book, 1, Side::Buy, 98, 1);
        limit(&mut book, 2, Side::Sell, 103, 2);
        limit(&mut book, 3, Side::Buy, 99, 3);
        limit(&mut book, 4, Side::Buy, 98, 4);
        limit(&mut book, 5, Side::Sell, 101, 5);
        limit(&mut book, 6, Side::Sell, 103, 6);
        let post_only = Order::new(
            Uuid::from_u128(7),
            INSTRUMENT,
            Side::Sell,
            OrderKind::PostOnly,
            101,
            7,
        );
        apply(&mut book, &Command::Add(post_only));
        apply(
            &mut book,
            &Command::Halt {
                instrument_id: INSTRUMENT,
            },
        );
        let image = book.image();
        let mut seven = order(7, Side::Sell, 101, 7);
        seven.post_only = true;
        let mut orders = vec![
            order(3, Side::Buy, 99, 3),
            order(1, Side::Buy, 98, 1),
            order(4, Side::Buy, 98, 4),
            order(5, Side::Sell, 101, 5),
            seven,
            order(2, Side::Sell, 103, 2),
            order(6, Side::Sell, 103, 6),
        ];
        // Added in id order: acceptance ranks 0 to 6.
        for o in &mut orders {
            o.accepted = o.order_id.as_u128() as u64 - 1;
        }
        assert_eq!(
            image,
            BookImage {
                instrument_id: INSTRUMENT,
                halted: true,
                orders,
                last_trade_price: None,
                stops: Vec::new(),
            }
        );
        let restored = OrderBook::from_image(&image).unwrap();
        assert!(restored.is_halted());
        assert_eq!(restored.image(), image);
        assert_eq!(restored.snapshot(), book.snapshot());
        assert_eq!(restored.status(), book.status());
    }

    #[test]
    fn restored_post_only_flag_still_guards_modify() {
        let mut book = OrderBook::new(INSTRUMENT);
        limit(&mut book, 1, Side::Buy, 99, 1);
        let post_only = Order::new(
            Uuid::from_u128(2),
            INSTRUMENT,
            Side::Sell,
            OrderKind::PostOnly,
            101,
            1,
        );
        apply(&mut book, &Command::Add(post_only));
        let mut restored = OrderBook::from_image(&book.image()).unwrap();
        let modify = Command::Modify {
            instrument_id: INSTRUMENT,
            order_id: Uuid::from_u128(2),
            price: 99,
            qty: 1,
        };
        let events = apply(&mut restored, &modify);
        assert_eq!(events, apply(&mut book, &modify));
        assert!(matches!(
            events.as_slice(),
            [OrderbookResult::Rejected {
                reason: crate::result::RejectReason::PostOnlyWouldCross,
                ..
            }]
        ));
    }

    #[test]
    fn empty_book_round_trips() {
        let book = OrderBook::new(INSTRUMENT);
        let image = book.image();
        assert!(image.orders.is_empty());
        let restored = OrderBook::from_image(&image).unwrap();
        assert!(restored.is_empty());
        assert_eq!(restored.state_hash(), book.state_hash());
    }

    fn image_of(orders: Vec<RestingOrderImage>) -> BookImage {
        BookImage {
            instrument_id: INSTRUMENT,
            halted: false,
            orders,
            last_trade_price: None,
            stops: Vec::new(),
        }
    }

    #[test]
    fn from_image_rejects_a_crossed_or_locked_book() {
        for ask in [100, 99] {
            let err = OrderBook::from_image(&image_of(vec![
                order(1, Side::Buy, 100, 1),
                order(2, Side::Sell, ask, 1),
            ]))
            .unwrap_err();
            assert_eq!(
                err,
                ImageError::Crossed {
                    instrument: INSTRUMENT,
                    bid: 100,
                    ask
                }
            );
            assert!(err.to_string().contains("crossed"), "{err}");
        }
    }

    #[test]
    fn from_image_rejects_duplicate_ids() {
        let err = OrderBook::from_image(&image_of(vec![
            order(1, Side::Buy, 100, 1),
            order(1, Side::Sell, 101, 1),
        ]))
        .unwrap_err();
        assert_eq!(
            err,
            ImageError::DuplicateOrderId {
                instrument: INSTRUMENT,
                order_id: Uuid::from_u128(1),
                index: 1
            }
        );
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    #[test]
    fn from_image_rejects_zero_quantity() {
        let err = OrderBook::from_image(&image_of(vec![
            order(1, Side::Buy, 100, 1),
            order(2, Side::Buy, 100, 0),
        ]))
        .unwrap_err();
        assert_eq!(
            err,
            ImageError::ZeroQuantity {
                instrument: INSTRUMENT,
                order_id: Uuid::from_u128(2),
                index: 1
            }
        );
        assert!(err.to_string().contains("quantity 0"), "{err}");
    }

    #[test]
    fn from_image_rejects_orders_out_of_image_order() {
        let cases = [
            vec![order(1, Side::Sell, 101, 1), order(2, Side::Buy, 99, 1)],
            vec![order(1, Side::Buy, 98, 1), order(2, Side::Buy, 99, 1)],
            vec![order(1, Side::Sell, 102, 1), order(2, Side::Sell, 101, 1)],
        ];
        for orders in cases {
            let err = OrderBook::from_image(&image_of(orders)).unwrap_err();
            assert!(
                matches!(err, ImageError::OutOfOrder { index: 1, .. }),
                "{err:?}"
            );
            assert!(err.to_string().contains("out of order"), "{err}");
        }
    }

    /// Builds the same state twice, the second time with other orders added and cancelled
    /// in between so the slab slots (and the index's table) differ.
    #[test]
    fn state_hash_ignores_slab_layout() {
        let mut plain = OrderBook::new(INSTRUMENT);
        limit(&mut plain, 1, Side::Buy, 99, 5);
        limit(&mut plain, 2, Side::Buy, 99, 6);
        limit(&mut plain, 3, Side::Sell, 101, 7);
        limit(&mut plain, 4, Side::Sell, 102, 8);

        let mut churned = OrderBook::with_capacity(INSTRUMENT, 64);
        for n in 100..120 {
            limit(&mut churned, n, Side::Sell, 200 + n as i64, 1);
        }
        // The same orders in the same order (a mass cancel would follow it), in other
        // slots.
        limit(&mut churned, 1, Side::Buy, 99, 5);
        for n in (100..120).step_by(2) {
            cancel(&mut churned, n);
        }
        limit(&mut churned, 2, Side::Buy, 99, 6);
        limit(&mut churned, 3, Side::Sell, 101, 7);
        limit(&mut churned, 4, Side::Sell, 102, 8);
        for n in (101..120).step_by(2) {
            cancel(&mut churned, n);
        }
        assert_ne!(
            plain.find(&Uuid::from_u128(1)),
            churned.find(&Uuid::from_u128(1)),
            "the test needs different slots"
        );
        assert_eq!(plain.image(), churned.image());
        assert_eq!(plain.state_hash(), churned.state_hash());
        assert_eq!(
            state_hash_of(&[&plain]),
            state_hash_of(&[&churned]),
            "engine hash too"
        );
    }

    #[test]
    fn state_hash_differs_for_different_states() {
        let base = image_of(vec![
            order(1, Side::Buy, 99, 5),
            order(2, Side::Buy, 99, 6),
            order(3, Side::Sell, 101, 7),
        ]);
        let mut variants = Vec::new();
        let mut v = base.clone();
        v.halted = true;
        variants.push(v);
        let mut v = base.clone();
        v.instrument_id = Uuid::from_u128(0x1E);
        variants.push(v);
        let mut v = base.clone();
        v.orders[0].qty = 4;
        v.orders[0].shown = 4;
        variants.push(v);
        let mut v = base.clone();
        v.orders[2].price = 102;
        variants.push(v);
        let mut v = base.clone();
        v.orders[1].post_only = true;
        variants.push(v);
        let mut v = base.clone();
        v.orders.swap(0, 1); // same orders, other priority
        variants.push(v);
        let mut v = base.clone();
        v.orders[2].order_id = Uuid::from_u128(9);
        variants.push(v);
        let mut v = base.clone();
        v.orders.pop();
        variants.push(v);
        let mut v = base.clone();
        v.orders[2].side = Side::Buy;
        v.orders[2].price = 98;
        variants.push(v);

        let base_hash = base.state_hash();
        let built = OrderBook::from_image(&base).unwrap();
        assert_eq!(built.state_hash(), base_hash);
        let mut hashes = vec![base_hash];
        for v in &variants {
            let book = OrderBook::from_image(v).unwrap();
            assert_eq!(book.state_hash(), v.state_hash());
            hashes.push(v.state_hash());
        }
        let mut unique = hashes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), hashes.len(), "{hashes:x?}");
    }

    #[test]
    fn engine_hash_ignores_book_order_and_matches_images() {
        let mut a = OrderBook::new(Uuid::from_u128(1));
        let mut b = OrderBook::new(Uuid::from_u128(2));
        limit(&mut a, 10, Side::Buy, 5, 1);
        limit(&mut b, 10, Side::Sell, 5, 1);
        let ab = state_hash_of(&[&a, &b]);
        assert_eq!(ab, state_hash_of(&[&b, &a]));
        assert_eq!(ab, state_hash_of_images(&[b.image(), a.image()]));
        assert_ne!(ab, state_hash_of(&[&a]));
        assert_ne!(ab, state_hash_of(&[]));
        // Swapping the books' contents changes the engine hash.
        let mut a2 = OrderBook::new(Uuid::from_u128(1));
        let mut b2 = OrderBook::new(Uuid::from_u128(2));
        limit(&mut a2, 10, Side::Sell, 5, 1);
        limit(&mut b2, 10, Side::Buy, 5, 1);
        assert_ne!(ab, state_hash_of(&[&a2, &b2]));
    }

    /// The algorithm is part of the format: these values must never change.
    #[test]
    fn state_hash_is_pinned() {
        let mut h = Fnv1a64::new();
        assert_eq!(h.finish(), 0xcbf2_9ce4_8422_2325);
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 test vector");
        let mut h = Fnv1a64::new();
        h.write(b"foobar");
        assert_eq!(h.finish(), 0x8594_4171_f739_67e8, "FNV-1a 64 test vector");

        let mut image = image_of(vec![
            order(1, Side::Buy, -3, 5),
            order(2, Side::Sell, 7, u64::MAX),
        ]);
        image.orders[1].post_only = true;
        image.halted = true;
        // The encoding spelled out byte by byte, hashed independently.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(INSTRUMENT.as_bytes());
        bytes.push(1);
        bytes.extend_from_slice(&2u64.to_le_bytes());
        for (id, side, price, qty, post_only) in
            [(1u128, 0u8, -3i64, 5u64, 0u8), (2, 1, 7, u64::MAX, 1)]
        {
            bytes.extend_from_slice(&id.to_be_bytes());
            bytes.push(side);
            bytes.extend_from_slice(&price.to_le_bytes());
            bytes.extend_from_slice(&qty.to_le_bytes());
            bytes.push(post_only);
        }
        assert_eq!(bytes.len(), 25 + 34 * 2);
        let mut h = Fnv1a64::new();
        h.write(&bytes);
        assert_eq!(image.state_hash(), h.finish());
        assert_eq!(image.state_hash(), 0xad7b_e6ec_0b9b_6320);
    }
}
