//! The benchmark workload: a generated flow whose order ids are renumbered so an event's
//! order id says which command it answers (a market flow's ids already are).

use std::collections::HashMap;

use foldhash::fast::FixedState;

use uuid::Uuid;

use ringbook::Command;
use ringbook::flow::{
    Activity, FlowGenerator, GenConfig, IdRenumbering, LongFormMix, MarketConfig, MarketGenerator,
    MarketRegime, with_instrument,
};

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
    #[must_use]
    pub fn generate(seed: u64, instruments: u32, orders: u64) -> Workload {
        Workload::generate_with(seed, instruments, orders, Activity::Uniform, None, None)
    }

    /// [`Workload::generate`] with the ops spread over the instruments as `activity`
    /// says (uniformly, or by Zipf's law: a few instruments carry most of the flow).
    ///
    /// # Panics
    ///
    /// Panics with more than `u32::MAX` commands.
    #[must_use]
    pub fn generate_active(
        seed: u64,
        instruments: u32,
        orders: u64,
        activity: Activity,
    ) -> Workload {
        Workload::generate_with(seed, instruments, orders, activity, None, None)
    }

    /// [`Workload::generate_active`] with the long form's order types mixed in (issue 22:
    /// stops, icebergs, owners with self-trade prevention, mass cancels).
    ///
    /// # Panics
    ///
    /// Panics with more than `u32::MAX` commands.
    #[must_use]
    pub fn generate_long_form(
        seed: u64,
        instruments: u32,
        orders: u64,
        activity: Activity,
        mix: LongFormMix,
    ) -> Workload {
        Workload::generate_with(seed, instruments, orders, activity, None, Some(mix))
    }

    /// A generated workload of `orders` new orders over the given instruments (from an
    /// instruments file, say): the flow [`Workload::generate`] makes for as many
    /// instruments, its `n`-th instrument renamed `instruments[n]`.
    ///
    /// # Panics
    ///
    /// Panics with no instruments, more than `u32::MAX` commands or instruments, or
    /// duplicate instruments.
    #[must_use]
    pub fn generate_on(seed: u64, instruments: &[Uuid], orders: u64) -> Workload {
        Workload::generate_on_active(seed, instruments, orders, Activity::Uniform)
    }

    /// [`Workload::generate_on`] with the ops spread over the instruments as `activity`
    /// says (the first listed is the busiest under Zipf's law).
    ///
    /// # Panics
    ///
    /// As [`Workload::generate_on`].
    #[must_use]
    pub fn generate_on_active(
        seed: u64,
        instruments: &[Uuid],
        orders: u64,
        activity: Activity,
    ) -> Workload {
        let count = u32::try_from(instruments.len()).expect("more than u32::MAX instruments");
        Workload::generate_with(seed, count, orders, activity, Some(instruments), None)
    }

    /// One instrument's market flow ([`MarketGenerator`]) of `orders` new orders in
    /// `regime`. Its order ids are already dense (`n` for the `n`-th add), as
    /// [`Workload::add_index`] wants them; cancels and modifies of gone orders name adds
    /// of the flow too.
    ///
    /// # Panics
    ///
    /// Panics with more than `u32::MAX` commands.
    pub fn market(seed: u64, regime: MarketRegime, orders: u64) -> Workload {
        let config = MarketConfig {
            seed,
            regime,
            orders,
            ..MarketConfig::default()
        };
        let mut commands = Vec::with_capacity(orders as usize * 2);
        let mut add_command = Vec::with_capacity(orders as usize);
        for command in MarketGenerator::new(config) {
            let index = u32::try_from(commands.len()).expect("more than u32::MAX commands");
            if let Command::Add(order) = &command {
                add_command.push(index);
                debug_assert_eq!(order.order_id.as_u128(), add_command.len() as u128);
            }
            commands.push(command);
        }
        Workload {
            instruments: vec![config.instrument],
            commands,
            add_command,
        }
    }

    fn generate_with(
        seed: u64,
        instruments: u32,
        orders: u64,
        activity: Activity,
        ids: Option<&[Uuid]>,
        long_form: Option<LongFormMix>,
    ) -> Workload {
        let config = GenConfig::new(seed, instruments.max(1), orders)
            .with_activity(activity)
            .with_long_form(long_form);
        let generator = FlowGenerator::new(config);
        let rename: Option<HashMap<Uuid, Uuid, FixedState>> = ids.map(|ids| {
            generator
                .instruments()
                .iter()
                .copied()
                .zip(ids.iter().copied())
                .collect()
        });
        let instrument_ids = match ids {
            Some(ids) => {
                assert_eq!(
                    rename.as_ref().map(HashMap::len),
                    Some(ids.len()),
                    "duplicate instruments"
                );
                ids.to_vec()
            }
            None => generator.instruments().to_vec(),
        };
        let mut renumbering = IdRenumbering::new();
        let mut commands = Vec::with_capacity(orders as usize * 2);
        let mut add_command = Vec::with_capacity(orders as usize);
        for command in generator {
            let command = match &rename {
                Some(rename) => {
                    let id = rename[&command.instrument_id()];
                    with_instrument(command, id)
                }
                None => command,
            };
            let index = u32::try_from(commands.len()).expect("more than u32::MAX commands");
            let command = renumbering.renumber(command);
            if matches!(command, Command::Add(_)) {
                add_command.push(index);
            }
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
    #[must_use]
    pub fn add_index(&self, order_id: &Uuid) -> Option<usize> {
        let n = order_id.as_u128();
        (n >= 1 && n <= self.add_command.len() as u128).then(|| (n - 1) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workload_on_given_instruments_is_the_same_flow_renamed() {
        let ids: Vec<Uuid> = (0..3u128).map(|n| Uuid::from_u128(n << 100 | 7)).collect();
        let plain = Workload::generate(5, 3, 500);
        let named = Workload::generate_on(5, &ids, 500);
        assert_eq!(named.instruments, ids);
        assert_eq!(named.add_command, plain.add_command);
        assert_eq!(named.commands.len(), plain.commands.len());
        for (a, b) in plain.commands.iter().zip(&named.commands) {
            let n = plain
                .instruments
                .iter()
                .position(|i| *i == a.instrument_id())
                .unwrap();
            assert_eq!(b.instrument_id(), ids[n]);
            assert_eq!(&with_instrument(*b, a.instrument_id()), a);
        }
    }

    #[test]
    fn a_zipf_workload_loads_its_first_instrument_most_and_uniform_is_the_default() {
        let share = |w: &Workload, n: usize| {
            let on = w.commands.iter();
            on.filter(|c| c.instrument_id() == w.instruments[n]).count() * 1000 / w.commands.len()
        };
        let zipf = Workload::generate_active(2, 100, 5_000, Activity::Zipf);
        let uniform = Workload::generate_active(2, 100, 5_000, Activity::Uniform);
        // 1/H(100) = 19% under Zipf, 1% under uniform activity.
        assert!(share(&zipf, 0) > 150, "{} per mille", share(&zipf, 0));
        assert!(share(&zipf, 99) < 10, "{} per mille", share(&zipf, 99));
        assert!(share(&uniform, 0) < 30, "{} per mille", share(&uniform, 0));
        assert_eq!(uniform.commands, Workload::generate(2, 100, 5_000).commands);
    }

    #[test]
    fn a_market_workload_points_back_at_its_adds() {
        for regime in MarketRegime::ALL {
            let w = Workload::market(4, regime, 3_000);
            assert_eq!(w.add_command.len(), 3_000);
            assert_eq!(w.instruments, vec![ringbook::flow::MARKET_INSTRUMENT]);
            for (n, &index) in w.add_command.iter().enumerate() {
                let Command::Add(order) = w.commands[index as usize] else {
                    panic!("{regime}: add {n} points at a non-add");
                };
                assert_eq!(w.add_index(&order.order_id), Some(n));
            }
            let expected: Vec<Command> = MarketGenerator::new(MarketConfig {
                seed: 4,
                regime,
                orders: 3_000,
                ..MarketConfig::default()
            })
            .collect();
            assert_eq!(w.commands, expected, "{regime}: the flow unchanged");
            for c in &w.commands {
                if let Command::Cancel { order_id, .. } | Command::Modify { order_id, .. } = c {
                    assert!(w.add_index(order_id).is_some(), "{regime}: {c:?}");
                }
            }
        }
    }

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
