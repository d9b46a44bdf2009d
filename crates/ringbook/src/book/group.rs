//! Books that share one id index: how a consumer thread holds its books (issues 18 and
//! 21), and [`BookGroup`], the same for a caller that drives many books on one thread.
//!
//! A book's ids move into the shared index when it joins ([`OrderBook::share_ids`]) and
//! back into an index of its own when it leaves ([`OrderBook::own_ids`]): what leaves is a
//! whole book again, with the same events to every later command. While shared, the book's
//! own index is empty and its commands go through [`OrderBook::apply_shared`].

use super::ids::InShared;
use super::index::IdIndex;
use super::prefetch::{Fetch, PREFETCH_FROM_BOOKS, Staged};
use super::shared_index::SharedIdIndex;
use super::shared_slots::{Lent, Slots};
use super::slab::Slab;
use super::{BookImage, OrderBook};
use crate::command::Command;
use crate::result::EventSink;

impl OrderBook {
    /// Moves the book's ids into `ids` as book number `book` (which holds none yet), and
    /// its orders into `ids`' shared slots (see `shared_slots.rs`); from now on its
    /// commands go through [`Self::apply_shared`] with the same `ids` and `book`, until
    /// [`Self::own_ids`]. O(orders).
    pub(crate) fn share_ids(&mut self, ids: &mut SharedIdIndex, book: u32) {
        debug_assert!(!self.ids_shared, "the book's ids are shared already");
        ids.join(book);
        let mut slots = std::mem::replace(&mut self.orders, Slab::with_capacity(0));
        let mut owners = std::mem::take(&mut self.long.owners);
        let mut ices = std::mem::take(&mut self.long.ices);
        let mut own = Slots {
            slots: &mut slots,
            owners: &mut owners,
            ices: &mut ices,
        };
        let moved = self.move_orders(&mut own, &mut Slots::shared(ids));
        for (id, _, slot) in moved {
            ids.insert(book, &id, slot);
        }
        self.index = IdIndex::with_capacity(0);
        self.ids_shared = true;
    }

    /// Moves the book's ids out of `ids` (where it is book number `book`) into an index
    /// of its own, and its orders out of `ids`' shared slots into a slab of its own: it is
    /// a whole book again. O(orders).
    pub(crate) fn own_ids(&mut self, ids: &mut SharedIdIndex, book: u32) {
        debug_assert!(self.ids_shared, "the book's ids are its own already");
        let mut slots = Slab::with_capacity(ids.count(book));
        let (mut owners, mut ices) = (Vec::new(), Vec::new());
        let mut own = Slots {
            slots: &mut slots,
            owners: &mut owners,
            ices: &mut ices,
        };
        let moved = self.move_orders(&mut Slots::shared(ids), &mut own);
        let mut index = IdIndex::with_capacity(0);
        for (id, shared, slot) in moved {
            ids.remove(book, &id, shared);
            let id_of = |s: u32| slots[s].order_id.uuid();
            match index.vacancy(&id, id_of) {
                Ok(vacancy) => index.insert_at(vacancy, &id, slot, id_of),
                Err(_) => debug_assert!(false, "id {id} indexed twice in one book"),
            }
        }
        self.orders = slots;
        (self.long.owners, self.long.ices) = (owners, ices);
        self.index = index;
        self.ids_shared = false;
    }

    /// [`Self::apply`] to a book whose ids and orders are in `ids` as book number `book`
    /// (see [`Self::share_ids`]).
    #[inline(always)]
    pub(crate) fn apply_shared<S: EventSink + ?Sized>(
        &mut self,
        ids: &mut SharedIdIndex,
        book: u32,
        command: &Command,
        sink: &mut S,
    ) {
        debug_assert!(self.ids_shared, "the book's ids are its own");
        self.apply_with(&mut InShared { ids, book }, command, sink);
    }

    /// [`Self::image`] of a book whose ids and orders are in `ids` (see
    /// [`Self::share_ids`]).
    pub(crate) fn image_shared(&mut self, ids: &mut SharedIdIndex) -> BookImage {
        Lent::new(self, ids).book.image()
    }
}

/// Order books that share one id index, as the books of one engine consumer thread do:
/// for a caller that applies the commands of many books on one thread.
///
/// The books of an engine share one sequence of order ids, so each of N books sees about
/// every Nth id: one index over all of them stays dense where N indexes of their own
/// would be mostly empty. Events are exactly those of the books on their own. An order id
/// is still unique only within one book: the same id may rest in two books, and a cancel
/// never finds another book's order.
///
/// # Examples
///
/// ```
/// use ringbook::{BookGroup, Command, NoSuchBook, Order, OrderBook, OrderbookResult, Side};
/// use uuid::Uuid;
///
/// # fn main() -> Result<(), NoSuchBook> {
/// let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
/// let mut group = BookGroup::new(vec![OrderBook::new(a), OrderBook::new(b)]);
/// let mut events = Vec::new();
/// let mut sink = |e| events.push(e);
/// // The same order id rests in both books.
/// group.apply(0, &Command::Add(Order::limit(Uuid::from_u128(7), a, Side::Buy, 100, 5)), &mut sink)?;
/// group.apply(1, &Command::Add(Order::limit(Uuid::from_u128(7), b, Side::Buy, 90, 3)), &mut sink)?;
/// group.apply(0, &Command::Cancel { order_id: Uuid::from_u128(7), instrument_id: a }, &mut sink)?;
/// // A book number the group does not have is an error, and nothing is applied.
/// let missing = group.apply(2, &Command::Cancel { order_id: Uuid::from_u128(7), instrument_id: b }, &mut sink);
/// assert_eq!(missing, Err(NoSuchBook { book: 2, books: 2 }));
/// assert!(matches!(events[2], OrderbookResult::Cancelled { remaining_qty: 5, .. }));
/// assert_eq!(events.len(), 3);
/// let books = group.into_books();
/// assert_eq!(books[1].best_bid(), Some((90, 3)));
/// books[1].check_integrity().unwrap();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct BookGroup {
    pub(super) books: Vec<OrderBook>,
    /// The books' ids and their order slots (see `shared_slots.rs`).
    pub(super) ids: SharedIdIndex,
}

/// A command named a book number a [`BookGroup`] does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no book number {book} in a group of {books} books")]
pub struct NoSuchBook {
    /// The book number the command named.
    pub book: usize,
    /// How many books the group holds (numbered from 0).
    pub books: usize,
}

impl BookGroup {
    /// `books`, numbered from 0 in order, their ids moved into one index. O(orders).
    ///
    /// # Panics
    ///
    /// Panics if there are `u32::MAX` books or more.
    #[must_use]
    pub fn new(mut books: Vec<OrderBook>) -> BookGroup {
        assert!(
            books.len() < u32::MAX as usize,
            "{} books in one group (at most {})",
            books.len(),
            u32::MAX - 1
        );
        let mut ids = SharedIdIndex::default();
        for (book, number) in books.iter_mut().zip(0..) {
            book.share_ids(&mut ids, number);
        }
        BookGroup { books, ids }
    }

    /// How many books the group holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.books.len()
    }

    /// Whether the group holds no book.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.books.is_empty()
    }

    /// Applies `command` to book number `book`, as [`OrderBook::apply`] does.
    ///
    /// # Errors
    ///
    /// [`NoSuchBook`] if the group has no book number `book` (nothing is applied).
    #[inline]
    pub fn apply<S: EventSink + ?Sized>(
        &mut self,
        book: usize,
        command: &Command,
        sink: &mut S,
    ) -> Result<(), NoSuchBook> {
        let books = self.books.len();
        let Some(target) = self.books.get_mut(book) else {
            return Err(NoSuchBook { book, books });
        };
        target.apply_shared(&mut self.ids, book as u32, command, sink);
        Ok(())
    }

    /// Applies `commands` in order, each to the book its number names, as
    /// [`Self::apply`] one after another does (the same events). With many books, the
    /// lines a command will read are fetched a few commands before it is applied, so the
    /// cache misses of several commands overlap.
    ///
    /// # Errors
    ///
    /// [`NoSuchBook`] for the first command that names a book the group does not have;
    /// the commands before it are applied, it and those after it are not.
    pub fn apply_all<'c, S: EventSink + ?Sized>(
        &mut self,
        commands: impl IntoIterator<Item = (usize, &'c Command)>,
        sink: &mut S,
    ) -> Result<(), NoSuchBook> {
        let mut commands = Staged::new(
            commands.into_iter(),
            self.books.len() >= PREFETCH_FROM_BOOKS,
        );
        loop {
            let next = commands.next_with(Fetcher(self));
            let Some((book, command)) = next else {
                return Ok(());
            };
            self.apply(book, command, sink)?;
        }
    }

    /// Book number `book`'s image (see [`OrderBook::image`]), or `None` if the group has
    /// no such book. Takes the group mutably: the book's orders are in the group's shared
    /// slots, lent to it while its image is taken.
    #[must_use]
    pub fn image(&mut self, book: usize) -> Option<BookImage> {
        let ids = &mut self.ids;
        self.books
            .get_mut(book)
            .map(|target| target.image_shared(ids))
    }

    /// Bytes of heap the books and their shared index and order slots hold.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.books.iter().map(OrderBook::heap_bytes).sum::<usize>() + self.ids.heap_bytes()
    }

    /// The books, each with its ids back in an index of its own. O(orders).
    #[must_use]
    pub fn into_books(mut self) -> Vec<OrderBook> {
        for (book, number) in self.books.iter_mut().zip(0..) {
            book.own_ids(&mut self.ids, number);
        }
        debug_assert_eq!(self.ids.len(), 0, "ids left in the shared index");
        self.books
    }
}

/// A group's books and shared index, fetched by stages for the commands ahead
/// ([`BookGroup::apply_all`]): a command naming no book of the group fetches nothing. The
/// group by one reference, its fields read only by the stages: the books' and the index's
/// fields read as the walk is made, at every command, cost 8 books (which do not prefetch)
/// 2% more instructions.
struct Fetcher<'g>(&'g BookGroup);

impl<'c> Fetch<(usize, &'c Command)> for Fetcher<'_> {
    #[inline(always)]
    fn header(&mut self, (book, command): (usize, &'c Command)) {
        if let Some(target) = self.0.books.get(book) {
            target.prefetch_header(&self.0.ids, command);
        }
    }

    #[inline(always)]
    fn contents(&mut self, (book, command): (usize, &'c Command)) -> Option<u32> {
        self.0
            .books
            .get(book)?
            .prefetch_contents(&self.0.ids, book as u32, command)
    }

    #[inline(always)]
    fn order(&mut self, (book, command): (usize, &'c Command), slot: u32) {
        if let Some(target) = self.0.books.get(book) {
            target.prefetch_order(&self.0.ids, command, slot);
        }
    }
}
