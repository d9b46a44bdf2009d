//! The long form's rules (`docs/FLOW-FORMAT.md`, "Order types beyond the basics"), one
//! test per rule or example: stops, icebergs, self-trade prevention, mass cancel and the
//! last trade price. Each flow is read by the flow reader (the long header is added) and
//! applied to both the naive reference book and the engine's book; both must publish
//! exactly the expected events, written compactly by [`show`], and the engine's book must
//! survive an image round trip.

use ringbook::flow::{FlowReader, LONG_FLOW_HEADER};
use ringbook::{Command, OrderBook, OrderbookResult, Uuid};
use ringbook_testkit::reference::NaiveBook;

/// One event in a compact form: ids as integers, `-` for a null price.
fn show(event: &OrderbookResult) -> String {
    let id = |u: &Uuid| u.as_u128().to_string();
    let price = |p: &Option<i64>| p.map_or("-".to_string(), |p| p.to_string());
    let reason = |r: &ringbook::EndReason| r.as_str().map_or(String::new(), |r| format!(" {r}"));
    match event {
        OrderbookResult::Accepted {
            order_id,
            side,
            kind,
            price: p,
            qty,
            trigger,
            display,
            ..
        } => {
            let mut s = format!("accepted {} {side} {kind} {} {qty}", id(order_id), price(p));
            if let Some(t) = trigger {
                s += &format!(" trigger {t}");
            }
            if let Some(d) = display {
                s += &format!(" display {d}");
            }
            s
        }
        OrderbookResult::Rejected {
            op,
            order_id,
            reason,
            ..
        } => format!(
            "rejected {op} {} {reason}",
            order_id.as_ref().map_or("-".to_string(), id)
        ),
        OrderbookResult::Trade {
            taker_order_id,
            maker_order_id,
            price,
            qty,
            taker_remaining,
            maker_remaining,
            ..
        } => format!(
            "trade {}x{} {price} {qty} ({taker_remaining}/{maker_remaining})",
            id(taker_order_id),
            id(maker_order_id)
        ),
        OrderbookResult::Cancelled {
            order_id,
            side,
            price: p,
            remaining_qty,
            reason: r,
            ..
        } => format!(
            "cancelled {} {side} {} {remaining_qty}{}",
            id(order_id),
            price(p),
            reason(r)
        ),
        OrderbookResult::Expired {
            order_id,
            side,
            price: p,
            remaining_qty,
            reason: r,
            ..
        } => format!(
            "expired {} {side} {} {remaining_qty}{}",
            id(order_id),
            price(p),
            reason(r)
        ),
        OrderbookResult::Modified {
            order_id,
            price,
            qty,
            old_price,
            old_qty,
            priority_kept,
            display,
            ..
        } => {
            let mut s = format!(
                "modified {} {price} {qty} from {old_price} {old_qty}{}",
                id(order_id),
                if *priority_kept { " kept" } else { "" }
            );
            if let Some(d) = display {
                s += &format!(" display {d}");
            }
            s
        }
        OrderbookResult::Halted { .. } => "halted".to_string(),
        OrderbookResult::Resumed { .. } => "resumed".to_string(),
        OrderbookResult::Status { status, .. } => format!(
            "status bid {}x{} ask {}x{} levels {}/{} orders {} stops {} last {}",
            price(&status.best_bid),
            status.best_bid_qty,
            price(&status.best_ask),
            status.best_ask_qty,
            status.bid_levels,
            status.ask_levels,
            status.orders,
            status.stops,
            price(&status.last_trade_price)
        ),
        OrderbookResult::Snapshot { snapshot, .. } => {
            let side = |levels: &[ringbook::SnapshotLevel]| {
                levels
                    .iter()
                    .map(|l| {
                        let orders: Vec<String> = l
                            .orders
                            .iter()
                            .map(|o| format!("{}:{}", id(&o.order_id), o.qty))
                            .collect();
                        format!("{}[{}]", l.price, orders.join(" "))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let stops: Vec<String> = snapshot
                .stops
                .iter()
                .map(|s| {
                    format!(
                        "{} {} {} {} {} {}",
                        id(&s.order_id),
                        s.side,
                        s.kind,
                        s.trigger,
                        price(&s.price),
                        s.qty
                    )
                })
                .collect();
            format!(
                "snapshot bids {} | asks {} | stops {}",
                side(&snapshot.bids),
                side(&snapshot.asks),
                stops.join(", ")
            )
        }
        OrderbookResult::Triggered {
            order_id,
            side,
            kind,
            trigger,
            ..
        } => format!("triggered {} {side} {kind} {trigger}", id(order_id)),
        OrderbookResult::MassCancelled { owner, count, .. } => format!(
            "mass_cancelled {} {count}",
            owner.map_or("-".to_string(), |o| o.to_string())
        ),
    }
}

/// The commands of a long-form flow body (the header is added).
fn commands(body: &str) -> Vec<Command> {
    let text = format!("{LONG_FLOW_HEADER}\n{body}\n");
    let mut reader = FlowReader::new(text.as_bytes());
    let mut out = Vec::new();
    while let Some((_, command)) = reader.next_command().expect("a well-formed flow") {
        out.push(command);
    }
    assert!(reader.is_long_form());
    out
}

/// Applies `body` (long-form lines, instrument 1) to the naive book and to the engine's
/// book; both must publish `expected`, in order.
fn check(body: &str, expected: &[&str]) {
    let commands = commands(body);
    let instrument = Uuid::from_u128(1);
    let mut naive = NaiveBook::new(instrument);
    let naive_events: Vec<String> = commands
        .iter()
        .flat_map(|c| naive.apply(c))
        .map(|e| show(&e))
        .collect();
    assert_eq!(naive_events, expected, "the naive book");
    let mut book = OrderBook::new(instrument);
    let mut events = Vec::new();
    for command in &commands {
        book.apply(command, &mut |e| events.push(show(&e)));
    }
    assert_eq!(events, expected, "the engine's book");
    book.check_integrity().expect("the book's integrity");
    // An image of the book at the end rebuilds it exactly.
    let image = book.image();
    let restored = OrderBook::from_image(&image).expect("a valid image");
    assert_eq!(restored.image(), image);
    assert_eq!(restored.state_hash(), book.state_hash());
    assert_eq!(restored.snapshot(), book.snapshot());
    assert_eq!(restored.status(), book.status());
}

mod generated;
mod icebergs;
mod mass_cancel;
mod stops;
mod stp;
