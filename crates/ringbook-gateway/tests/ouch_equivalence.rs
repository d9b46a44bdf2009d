//! A generated flow sent through one OUCH session produces the same books (state hash)
//! and the same fills as the engine commands it maps to, applied directly
//! ([`ringbook::DirectEngine`], the definition of what the pipeline must produce).
//!
//! The test keeps its own direct engine in step with what it sends: it cancels,
//! partially cancels or replaces only orders that rest there, so every request it sends
//! is one the gateway acts on (a request for an order that is not live is ignored by the
//! gateway, as the spec says), and the commands applied directly are exactly the ones
//! the gateway submits.

mod ouch_common;

use std::collections::BTreeMap;
use std::thread;

use ouch_common::*;
use ringbook::{Command, DirectEngine, Order, OrderKind, OrderbookResult, Side, Uuid};
use ringbook_gateway::order_entry::engine_order::engine_owner_id;
use ringbook_gateway::order_entry::{OrderEntryConfig, engine_order_id};
use ringbook_gateway::soup::ServerPacket;
use ringbook_wire::ouch::outbound::Outbound;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn a_flow_through_ouch_gives_the_books_and_fills_of_the_same_commands_applied_directly() {
    let h = start(OrderEntryConfig::default(), None);
    let user = "eq";
    let client = login(h.addr, user, 1);

    // One thread owns the connection: it sends what the test produces and reads
    // everything the server sends, so neither side ever blocks the other.
    let mut soup = client.soup;
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let (send_tx, send_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let io = thread::spawn(move || {
        // This thread owns the client: it sends what it is given and reads until End of
        // Session.
        let mut sending = true;
        soup.set_read_timeout(Some(std::time::Duration::from_millis(1)))
            .unwrap();
        loop {
            if sending {
                loop {
                    match send_rx.try_recv() {
                        Ok(m) => soup.queue(&m).unwrap(),
                        Err(std::sync::mpsc::TryRecvError::Empty) => break,
                        Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                            sending = false;
                            break;
                        }
                    }
                }
                if soup.queued() > 0 {
                    soup.flush().unwrap();
                }
            }
            match soup.recv() {
                Ok(ServerPacket::Sequenced(m)) => tx.send(m.to_vec()).unwrap(),
                Ok(ServerPacket::EndOfSession) => break,
                Ok(_) => {}
                Err(ringbook_gateway::soup::ClientError::Io(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    });
    // Everything the server sent, as it arrives.
    let mut messages: Vec<Vec<u8>> = Vec::new();

    let instruments = instruments();
    let mut direct = DirectEngine::new(instruments.clone());
    // (price, qty, instrument, taker, maker) of every trade applied directly.
    type Trades = Vec<(i64, u64, Uuid, Uuid, Uuid)>;
    let mut direct_trades: Trades = Vec::new();
    let apply = |direct: &mut DirectEngine, command: Command, trades: &mut Trades| {
        direct.apply(&command, &mut |r: OrderbookResult| {
            if let OrderbookResult::Trade {
                price,
                qty,
                instrument_id,
                taker_order_id,
                maker_order_id,
                ..
            } = r
            {
                trades.push((price, qty, instrument_id, taker_order_id, maker_order_id));
            }
        });
    };
    // Shares executed on each order's replace chain before that order (a replace's
    // Quantity is the chain's total liability, executions included).
    let mut chain_base: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    let chain_executed = |trades: &Trades, base: &std::collections::HashMap<u32, u64>, urn: u32| {
        let id = engine_order_id(user, urn);
        base.get(&urn).copied().unwrap_or(0)
            + trades
                .iter()
                .filter(|t| t.3 == id || t.4 == id)
                .map(|t| t.1)
                .sum::<u64>()
    };
    let symbols = [("AAPL", 1u64), ("MSFT", 100u64)];
    let mut rng = Lcg(7);
    let mut next_urn = 1u32;
    let mut entered: Vec<(u32, usize)> = Vec::new(); // (urn, symbol index) of orders that may rest
    for _ in 0..4_000 {
        let roll = rng.below(100);
        let live: Vec<(u32, usize, u64)> = entered
            .iter()
            .filter_map(|&(urn, s)| {
                direct
                    .book(&instruments[s])
                    .and_then(|b| b.order_qty(&engine_order_id(user, urn)))
                    .map(|q| (urn, s, q))
            })
            .collect();
        entered.retain(|(urn, s)| live.iter().any(|(u, t, _)| u == urn && t == s));
        if roll < 60 || live.is_empty() {
            let s = rng.below(2) as usize;
            let side = if rng.below(2) == 0 { b'B' } else { b'S' };
            let ticks = 990 + rng.below(21) as i64;
            let qty = 1 + rng.below(100) as u32;
            let ioc = rng.below(100) < 15;
            let urn = next_urn;
            next_urn += 1;
            send_tx
                .send(enter(
                    urn,
                    side,
                    qty,
                    symbols[s].0,
                    ticks as u64 * symbols[s].1,
                    if ioc { b'3' } else { b'0' },
                ))
                .unwrap();
            let kind = if ioc {
                OrderKind::Ioc
            } else {
                OrderKind::Limit
            };
            let side = if side == b'B' { Side::Buy } else { Side::Sell };
            apply(
                &mut direct,
                Command::Add(
                    Order::new(
                        engine_order_id(user, urn),
                        instruments[s],
                        side,
                        kind,
                        ticks,
                        u64::from(qty),
                    )
                    .with_owner(engine_owner_id(user), None),
                ),
                &mut direct_trades,
            );
            if !ioc {
                entered.push((urn, s));
            }
        } else {
            let (urn, s, open) = live[rng.below(live.len() as u64) as usize];
            let id = engine_order_id(user, urn);
            let (side, price, _) = direct
                .book(&instruments[s])
                .unwrap()
                .resting_order(&id)
                .unwrap();
            // The order leaving the book (a cancel, or a replace's first half).
            let pull = Command::Cancel {
                instrument_id: instruments[s],
                order_id: id,
            };
            if roll < 80 {
                send_tx.send(cancel(urn, 0)).unwrap();
                apply(&mut direct, pull, &mut direct_trades);
            } else if roll < 90 && open > 1 {
                let keep = 1 + rng.below(open - 1);
                send_tx.send(cancel(urn, keep as u32)).unwrap();
                apply(
                    &mut direct,
                    Command::Modify {
                        instrument_id: instruments[s],
                        order_id: id,
                        price,
                        qty: keep,
                    },
                    &mut direct_trades,
                );
            } else {
                let new = next_urn;
                next_urn += 1;
                let ticks = 990 + rng.below(21) as i64;
                let qty = 1 + rng.below(100);
                let executed = chain_executed(&direct_trades, &chain_base, urn);
                chain_base.insert(new, executed);
                send_tx
                    .send(replace(
                        urn,
                        new,
                        (executed + qty) as u32,
                        ticks as u64 * symbols[s].1,
                    ))
                    .unwrap();
                // The replacement is added once the old order's cancel is confirmed:
                // wait for its Order Replaced, so that the next request follows it.
                loop {
                    let m = rx
                        .recv_timeout(std::time::Duration::from_secs(10))
                        .expect("Order Replaced");
                    let done = matches!(
                        Outbound::decode(&m).unwrap(),
                        Outbound::OrderReplaced { user_ref_num, .. } if user_ref_num == new
                    );
                    messages.push(m);
                    if done {
                        break;
                    }
                }
                apply(&mut direct, pull, &mut direct_trades);
                apply(
                    &mut direct,
                    Command::Add(
                        Order::new(
                            engine_order_id(user, new),
                            instruments[s],
                            side,
                            OrderKind::Limit,
                            ticks,
                            qty,
                        )
                        .with_owner(engine_owner_id(user), None),
                    ),
                    &mut direct_trades,
                );
                entered.push((new, s));
            }
        }
    }
    drop(send_tx);
    // Let the session take everything in before the engine stops.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h
        .registry
        .users()
        .iter()
        .map(|u| u.stream().len())
        .sum::<u64>()
        < 4_000
        && std::time::Instant::now() < deadline
    {
        thread::sleep(std::time::Duration::from_millis(20));
    }
    thread::sleep(std::time::Duration::from_millis(300));
    let hash = h.stop();
    io.join().unwrap();
    messages.extend(rx);

    assert_eq!(hash, direct.state_hash(), "books differ");
    // Fills: one Executed per side, both with the trade's match number.
    let mut by_match: BTreeMap<u64, Vec<(u64, u32, u8)>> = BTreeMap::new();
    let mut rejected = 0;
    for m in &messages {
        match Outbound::decode(m).unwrap() {
            Outbound::OrderExecuted {
                match_number,
                price,
                quantity,
                liquidity_flag,
                ..
            } => {
                by_match
                    .entry(match_number)
                    .or_default()
                    .push((price, quantity, liquidity_flag));
            }
            Outbound::Rejected { .. } | Outbound::CancelReject { .. } => rejected += 1,
            _ => {}
        }
    }
    assert_eq!(rejected, 0, "every request was one the engine takes");
    let ouch_trades: Vec<(u64, u64)> = by_match
        .values()
        .map(|sides| {
            assert_eq!(sides.len(), 2, "both sides of a self-trade are reported");
            assert_eq!(sides[0].0, sides[1].0);
            assert_eq!(sides[0].1, sides[1].1);
            let mut flags = [sides[0].2, sides[1].2];
            flags.sort_unstable();
            assert_eq!(flags, [b'A', b'R']);
            (sides[0].0, u64::from(sides[0].1))
        })
        .collect();
    let expected: Vec<(u64, u64)> = direct_trades
        .iter()
        .map(|&(price, qty, instrument, _, _)| {
            let tick = if instrument == instruments[0] { 1 } else { 100 };
            (price as u64 * tick, qty)
        })
        .collect();
    assert!(
        expected.len() > 100,
        "the flow trades ({} trades)",
        expected.len()
    );
    // The pipeline keeps each book's order; books interleave as their threads run. AAPL
    // trades at 990 to 1,010 units, MSFT at 99,000 to 101,000: split by book.
    let per_book = |trades: &[(u64, u64)]| -> [Vec<(u64, u64)>; 2] {
        [
            trades.iter().copied().filter(|t| t.0 < 10_000).collect(),
            trades.iter().copied().filter(|t| t.0 >= 10_000).collect(),
        ]
    };
    assert_eq!(per_book(&ouch_trades), per_book(&expected));
}
