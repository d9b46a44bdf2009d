//! The engine's order for an OUCH order: its id from (user, UserRefNum), its owner from
//! the user, and an iceberg's display from the MaxFloor option.
//!
//! Every order a user enters carries the user's owner id, so the engine's mass cancel by
//! owner (what a Mass Cancel Request becomes) reaches that user's orders only.

use ringbook::{Order, OrderKind, Price, Side, Uuid};

use super::order_id::{UserKey, order_id};

/// The engine owner id of a user: the user's key (the username's 6 padded bytes as an
/// integer), so it is the same after a restart and distinct for every user.
#[must_use]
pub const fn owner_id(user: UserKey) -> u64 {
    user
}

/// The engine owner id of the orders `username` enters (for tools and tests).
#[must_use]
pub fn engine_owner_id(username: &str) -> u64 {
    owner_id(super::order_id::user_key(username.as_bytes()))
}

/// What an OUCH order becomes in the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EngineOrder {
    /// The user who entered it.
    pub(crate) user: UserKey,
    /// Its UserRefNum.
    pub(crate) user_ref_num: u32,
    /// Its book.
    pub(crate) instrument: Uuid,
    /// Its side.
    pub(crate) side: Side,
    /// Its kind.
    pub(crate) kind: OrderKind,
    /// Its limit price in ticks.
    pub(crate) price: Price,
    /// Its quantity.
    pub(crate) quantity: u32,
    /// Its MaxFloor (0: none): the engine's display quantity.
    pub(crate) max_floor: u32,
}

impl EngineOrder {
    /// The engine order: owned by the user (no self-trade prevention: OUCH 5.0 has no
    /// field for it), an iceberg showing `max_floor` when that is not 0.
    pub(crate) fn order(&self) -> Order {
        let order = Order::new(
            order_id(self.user, self.user_ref_num),
            self.instrument,
            self.side,
            self.kind,
            self.price,
            u64::from(self.quantity),
        )
        .with_owner(owner_id(self.user), None);
        if self.max_floor == 0 {
            order
        } else {
            order.with_display(u64::from(self.max_floor))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_entry::order_id::user_key;

    #[test]
    fn orders_carry_their_users_owner_and_max_floor_as_display() {
        let alice = user_key(b"alice");
        let bob = user_key(b"bob");
        assert_ne!(owner_id(alice), owner_id(bob));
        assert_eq!(owner_id(alice), owner_id(user_key(b"alice")));
        let mut o = EngineOrder {
            user: alice,
            user_ref_num: 7,
            instrument: Uuid::from_u128(1),
            side: Side::Buy,
            kind: OrderKind::Limit,
            price: 100,
            quantity: 500,
            max_floor: 100,
        };
        let order = o.order();
        assert_eq!(order.owner(), Some(owner_id(alice)));
        assert_eq!(order.stp(), None);
        assert_eq!(order.display(), Some(100));
        assert_eq!(order.order_id, order_id(alice, 7));
        o.max_floor = 0;
        assert_eq!(o.order().display(), None);
        assert_eq!(o.order().owner(), Some(owner_id(alice)));
    }
}
