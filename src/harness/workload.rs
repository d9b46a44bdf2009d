//! The benchmark workload: a generated flow whose order ids are renumbered so an event's
//! order id says which command it answers.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use uuid::Uuid;

use crate::command::Command;
use crate::flow::{FlowGenerator, GenConfig};

/// Commands to drive through an engine, with the bookkeeping latency needs.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The instruments the commands trade.
    pub instruments: Vec<Uuid>,
    /// The commands, in send order.
    pub commands: Vec<Command>,
    /// For the `n`-th add (0-based), the index of its command. Order ids are renumbered
    /// `n + 1`, so an event's order id finds its add, and the add its send time.
    pub add_command: Vec<u32>,
}

impl Workload {
    /// A generated workload of `orders` new orders over `instruments` instruments (the
    /// generator's cancels, modifies and the rest come on top).
    ///
    /// # Panics
    ///
    /// Panics with more than `u32::MAX` commands.
    pub fn generate(seed: u64, instruments: u32, orders: u64) -> Workload {
        let generator = FlowGenerator::new(GenConfig {
            seed,
            instruments: instruments.max(1),
            orders,
            ..GenConfig::default()
        });
        let instrument_ids = generator.instruments().to_vec();
        let mut renumber: HashMap<Uuid, Uuid, FixedState> =
            HashMap::with_capacity_and_hasher(orders as usize, FixedState::default());
        let mut commands = Vec::with_capacity(orders as usize * 2);
        let mut add_command = Vec::with_capacity(orders as usize);
        for command in generator {
            let index = u32::try_from(commands.len()).expect("more than u32::MAX commands");
            let command = match command {
                Command::Add(mut order) => {
                    let id = Uuid::from_u128(add_command.len() as u128 + 1);
                    add_command.push(index);
                    renumber.insert(order.order_id, id);
                    order.order_id = id;
                    Command::Add(order)
                }
                Command::Cancel {
                    instrument_id,
                    order_id,
                } => Command::Cancel {
                    instrument_id,
                    order_id: renumbered(&renumber, order_id),
                },
                Command::Modify {
                    instrument_id,
                    order_id,
                    price,
                    qty,
                } => Command::Modify {
                    instrument_id,
                    order_id: renumbered(&renumber, order_id),
                    price,
                    qty,
                },
                other => other,
            };
            commands.push(command);
        }
        Workload {
            instruments: instrument_ids,
            commands,
            add_command,
        }
    }

    /// The index of the add whose (renumbered) order id is `order_id`, if it is one.
    #[inline]
    pub fn add_index(&self, order_id: &Uuid) -> Option<usize> {
        let n = order_id.as_u128();
        (n >= 1 && n <= self.add_command.len() as u128).then(|| (n - 1) as usize)
    }
}

/// An id the generator never issued keeps a value no renumbered add has (the high bit).
fn renumbered(map: &HashMap<Uuid, Uuid, FixedState>, id: Uuid) -> Uuid {
    map.get(&id)
        .copied()
        .unwrap_or_else(|| Uuid::from_u128(id.as_u128() | 1 << 127))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_point_back_at_their_adds() {
        let w = Workload::generate(3, 4, 2_000);
        assert_eq!(w.add_command.len(), 2_000);
        for (n, &index) in w.add_command.iter().enumerate() {
            let Command::Add(order) = w.commands[index as usize] else {
                panic!("add {n} points at a non-add");
            };
            assert_eq!(w.add_index(&order.order_id), Some(n));
        }
        let cancels = w
            .commands
            .iter()
            .filter(|c| matches!(c, Command::Cancel { .. }))
            .count();
        assert!(
            cancels > 1_000,
            "a cancel-heavy flow, got {cancels} cancels"
        );
        for c in &w.commands {
            if let Command::Cancel { order_id, .. } = c {
                assert!(
                    w.add_index(order_id).is_some(),
                    "cancels target renumbered adds"
                );
            }
        }
    }
}
