//! Order ids renumbered as an order-entry session assigns them.

use std::collections::HashMap;

use uuid::Uuid;

use crate::command::Command;

/// Renumbers a flow's order ids in the order its adds come: the first add's id becomes 1,
/// the second's 2, and so on, as an order-entry session numbers its orders (and as
/// `ringbook bench` sends them); a cancel or a modify then names its order's new id. An id
/// that no add carried keeps its value with the high bit set, which no renumbered add
/// has, so it still names no order. An id reused by a later add (the ids of finished
/// orders may be reused) gets a new number there, and later commands follow the new one.
///
/// ```
/// use ringbook::flow::IdRenumbering;
/// use ringbook::{Command, Order, Side, Uuid};
///
/// let instrument = Uuid::from_u128(7);
/// let mut renumbering = IdRenumbering::new();
/// let add = Command::Add(Order::limit(Uuid::from_u128(0xabc), instrument, Side::Buy, 100, 5));
/// let cancel = Command::Cancel { instrument_id: instrument, order_id: Uuid::from_u128(0xabc) };
/// assert_eq!(renumbering.renumber(add).order_id(), Some(Uuid::from_u128(1)));
/// assert_eq!(renumbering.renumber(cancel).order_id(), Some(Uuid::from_u128(1)));
/// assert_eq!(renumbering.adds(), 1);
/// ```
#[derive(Debug, Default)]
pub struct IdRenumbering {
    /// Each original id's number, as its latest add gave it.
    numbers: HashMap<Uuid, Uuid>,
    adds: u64,
}

impl IdRenumbering {
    /// A renumbering that has seen no add yet.
    #[must_use]
    pub fn new() -> IdRenumbering {
        IdRenumbering::default()
    }

    /// How many adds it has numbered: the last number given.
    #[must_use]
    pub fn adds(&self) -> u64 {
        self.adds
    }

    /// `command` with its order id renumbered (an add numbered next); commands without
    /// an order id are returned as they are.
    pub fn renumber(&mut self, command: Command) -> Command {
        match command {
            Command::Add(mut order) => {
                self.adds += 1;
                let number = Uuid::from_u128(u128::from(self.adds));
                self.numbers.insert(order.order_id, number);
                order.order_id = number;
                Command::Add(order)
            }
            Command::Cancel {
                instrument_id,
                order_id,
            } => Command::Cancel {
                instrument_id,
                order_id: self.number_of(order_id),
            },
            Command::Modify {
                instrument_id,
                order_id,
                price,
                qty,
            } => Command::Modify {
                instrument_id,
                order_id: self.number_of(order_id),
                price,
                qty,
            },
            other => other,
        }
    }

    /// The number of the order `id` names, or `id` with the high bit set if no add
    /// carried it.
    fn number_of(&self, id: Uuid) -> Uuid {
        self.numbers
            .get(&id)
            .copied()
            .unwrap_or_else(|| Uuid::from_u128(id.as_u128() | 1 << 127))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Order, Side};

    const BOOK: Uuid = Uuid::from_u128(9);

    fn add(id: u128) -> Command {
        Command::Add(Order::limit(Uuid::from_u128(id), BOOK, Side::Sell, 10, 1))
    }

    fn cancel(id: u128) -> Command {
        Command::Cancel {
            instrument_id: BOOK,
            order_id: Uuid::from_u128(id),
        }
    }

    #[test]
    fn adds_are_numbered_in_order_and_cancels_follow_their_orders() {
        let mut renumbering = IdRenumbering::new();
        let ids: Vec<Option<Uuid>> = [add(500), add(40), cancel(500), cancel(40)]
            .into_iter()
            .map(|c| renumbering.renumber(c).order_id())
            .collect();
        let n = |v: u128| Some(Uuid::from_u128(v));
        assert_eq!(ids, [n(1), n(2), n(1), n(2)]);
    }

    #[test]
    fn an_unknown_id_gets_the_high_bit_and_a_reused_id_its_new_number() {
        let mut renumbering = IdRenumbering::new();
        assert_eq!(
            renumbering.renumber(cancel(3)).order_id(),
            Some(Uuid::from_u128(3 | 1 << 127))
        );
        renumbering.renumber(add(3));
        renumbering.renumber(add(3));
        assert_eq!(
            renumbering.renumber(cancel(3)).order_id(),
            Some(Uuid::from_u128(2))
        );
        assert_eq!(renumbering.adds(), 2);
    }
}
