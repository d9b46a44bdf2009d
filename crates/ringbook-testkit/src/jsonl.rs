//! A strict decoder of the JSON Lines event stream (`docs/FLOW-FORMAT.md`), for tests that
//! run the binary: every field the contract gives an event is required and checked for
//! its JSON type (canonical lowercase UUIDs, integers that are never floats), and
//! quantities that may exceed `u64::MAX` are read from the raw text, never through a
//! float. Each function panics, naming the line, on anything the contract does not allow.

use ringbook::{
    BookSnapshot, BookStatus, EndReason, Op, OrderKind, OrderbookResult, RejectReason, Side,
    SnapshotLevel, SnapshotOrder, SnapshotStop, Uuid,
};
use serde_json::{Map, Value};
use std::num::NonZeroU64;

type Obj = Map<String, Value>;

fn field<'a>(obj: &'a Obj, key: &str, line: &str) -> &'a Value {
    obj.get(key)
        .unwrap_or_else(|| panic!("missing field {key:?} in {line}"))
}

/// A UUID string in canonical lowercase hyphenated form.
fn canonical_uuid(value: &Value, key: &str, line: &str) -> Uuid {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{key}: expected a UUID string in {line}"));
    let id = Uuid::parse_str(text).unwrap_or_else(|e| panic!("{key}: {e} in {line}"));
    assert_eq!(
        text,
        id.hyphenated().to_string(),
        "{key}: not a canonical lowercase hyphenated UUID in {line}"
    );
    id
}

fn uuid_of(obj: &Obj, key: &str, line: &str) -> Uuid {
    canonical_uuid(field(obj, key, line), key, line)
}

fn opt_uuid_of(obj: &Obj, key: &str, line: &str) -> Option<Uuid> {
    match field(obj, key, line) {
        Value::Null => None,
        value => Some(canonical_uuid(value, key, line)),
    }
}

/// A JSON integer that fits in u64 (a float, even an integral one, is refused).
fn u64_of(obj: &Obj, key: &str, line: &str) -> u64 {
    field(obj, key, line)
        .as_u64()
        .unwrap_or_else(|| panic!("{key}: expected an unsigned JSON integer in {line}"))
}

fn i64_of(obj: &Obj, key: &str, line: &str) -> i64 {
    field(obj, key, line)
        .as_i64()
        .unwrap_or_else(|| panic!("{key}: expected a signed 64-bit JSON integer in {line}"))
}

fn opt_i64_of(obj: &Obj, key: &str, line: &str) -> Option<i64> {
    match field(obj, key, line) {
        Value::Null => None,
        _ => Some(i64_of(obj, key, line)),
    }
}

/// An optional field of the long form: absent is `None`; present, it must be a JSON
/// integer (null is refused: the writer omits the field instead).
fn maybe_u64_of(obj: &Obj, key: &str, line: &str) -> Option<u64> {
    obj.contains_key(key).then(|| u64_of(obj, key, line))
}

/// An optional display quantity: absent is `None`; present, a positive JSON integer.
fn display_of(obj: &Obj, line: &str) -> Option<NonZeroU64> {
    maybe_u64_of(obj, "display", line)
        .map(|d| NonZeroU64::new(d).unwrap_or_else(|| panic!("display: 0 in {line}")))
}

fn maybe_i64_of(obj: &Obj, key: &str, line: &str) -> Option<i64> {
    obj.contains_key(key).then(|| i64_of(obj, key, line))
}

/// The optional `reason` of `cancelled` and `expired`: absent is the plain reason; present,
/// it must be one of the long form's two words.
fn end_reason_of(obj: &Obj, line: &str) -> EndReason {
    if !obj.contains_key("reason") {
        return EndReason::Plain;
    }
    match str_of(obj, "reason", line) {
        "self_trade_prevention" => EndReason::SelfTradePrevention,
        "mass_cancel" => EndReason::MassCancel,
        other => panic!("reason: unknown reason {other:?} in {line}"),
    }
}

fn kind_of(obj: &Obj, line: &str) -> OrderKind {
    let word = str_of(obj, "kind", line);
    OrderKind::parse(word).unwrap_or_else(|| panic!("kind: unknown kind {word:?} in {line}"))
}

fn stops_of(obj: &Obj, line: &str) -> Vec<SnapshotStop> {
    let Some(stops) = obj.get("stops") else {
        return Vec::new();
    };
    let stops = stops
        .as_array()
        .unwrap_or_else(|| panic!("stops: expected a JSON array in {line}"));
    stops
        .iter()
        .map(|stop| {
            let stop = stop
                .as_object()
                .unwrap_or_else(|| panic!("stops: a stop is not an object in {line}"));
            let kind = kind_of(stop, line);
            assert!(kind.is_stop(), "stops: a {kind} order parked in {line}");
            let price = opt_i64_of(stop, "price", line);
            assert_eq!(
                price.is_none(),
                kind == OrderKind::Stop,
                "stops: price must be null exactly for stop orders: {line}"
            );
            SnapshotStop {
                order_id: uuid_of(stop, "order_id", line),
                side: side_of(stop, "side", line),
                kind,
                trigger: i64_of(stop, "trigger", line),
                price,
                qty: u64_of(stop, "qty", line),
            }
        })
        .collect()
}

fn bool_of(obj: &Obj, key: &str, line: &str) -> bool {
    field(obj, key, line)
        .as_bool()
        .unwrap_or_else(|| panic!("{key}: expected a JSON boolean in {line}"))
}

fn str_of<'a>(obj: &'a Obj, key: &str, line: &str) -> &'a str {
    field(obj, key, line)
        .as_str()
        .unwrap_or_else(|| panic!("{key}: expected a JSON string in {line}"))
}

/// The raw text of the scalar value of top-level-unique `key` in `line` (whitespace
/// around the colon tolerated): a number's exact digits, `null`, `true`, ...
#[must_use]
pub fn raw_scalar<'a>(line: &'a str, key: &str) -> &'a str {
    let pattern = format!("\"{key}\"");
    let mut values = line.match_indices(&pattern).filter_map(|(at, _)| {
        line[at + pattern.len()..]
            .trim_start()
            .strip_prefix(':')
            .map(str::trim_start)
    });
    let rest = values
        .next()
        .unwrap_or_else(|| panic!("no key {key:?} in {line}"));
    assert!(values.next().is_none(), "key {key:?} twice in {line}");
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    rest[..end].trim_end()
}

/// A JSON integer that may exceed u64::MAX: read from the raw text so no float rounds it.
fn u128_of(obj: &Obj, key: &str, line: &str) -> u128 {
    let value = field(obj, key, line);
    assert!(value.is_number(), "{key}: expected a JSON number in {line}");
    let raw = raw_scalar(line, key);
    let exact = raw
        .parse::<u128>()
        .unwrap_or_else(|e| panic!("{key}: {raw:?} is not an exact JSON integer ({e}) in {line}"));
    if let Some(small) = value.as_u64() {
        assert_eq!(u128::from(small), exact, "{key} in {line}");
    }
    exact
}

fn side_of(obj: &Obj, key: &str, line: &str) -> Side {
    let word = str_of(obj, key, line);
    Side::parse(word).unwrap_or_else(|| panic!("{key}: unknown side {word:?} in {line}"))
}

fn reason_of(word: &str, line: &str) -> RejectReason {
    match word {
        "instrument_not_registered" => RejectReason::InstrumentNotRegistered,
        "orderbook_halted" => RejectReason::OrderbookHalted,
        "invalid_quantity" => RejectReason::InvalidQuantity,
        "duplicate_order_id" => RejectReason::DuplicateOrderId,
        "unknown_order" => RejectReason::UnknownOrder,
        "not_modifiable" => RejectReason::NotModifiable,
        "post_only_would_cross" => RejectReason::PostOnlyWouldCross,
        other => panic!("unknown reject reason {other:?} in {line}"),
    }
}

fn levels_of(obj: &Obj, key: &str, line: &str) -> Vec<SnapshotLevel> {
    let levels = field(obj, key, line)
        .as_array()
        .unwrap_or_else(|| panic!("{key}: expected a JSON array in {line}"));
    levels
        .iter()
        .map(|level| {
            let level = level
                .as_object()
                .unwrap_or_else(|| panic!("{key}: a level is not an object in {line}"));
            let orders = field(level, "orders", line)
                .as_array()
                .unwrap_or_else(|| panic!("{key}: orders is not an array in {line}"));
            SnapshotLevel {
                price: i64_of(level, "price", line),
                orders: orders
                    .iter()
                    .map(|order| {
                        let order = order.as_object().unwrap_or_else(|| {
                            panic!("{key}: an order is not an object in {line}")
                        });
                        SnapshotOrder {
                            order_id: uuid_of(order, "order_id", line),
                            qty: u64_of(order, "qty", line),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Decodes one event line, checking every field the contract gives its type: its seq and
/// the event.
#[must_use]
pub fn decode(line: &str) -> (u64, OrderbookResult) {
    let value: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
    let obj = value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {line}"));
    let seq = u64_of(obj, "seq", line);
    let instrument_id = uuid_of(obj, "instrument", line);
    let event = match str_of(obj, "type", line) {
        "accepted" => {
            let kind = kind_of(obj, line);
            let price = opt_i64_of(obj, "price", line);
            assert_eq!(
                price.is_none(),
                !kind.has_price(),
                "price must be null exactly for market and stop orders: {line}"
            );
            let trigger = maybe_i64_of(obj, "trigger", line);
            assert_eq!(
                trigger.is_some(),
                kind.is_stop(),
                "trigger must be given exactly for stop orders: {line}"
            );
            let display = display_of(obj, line);
            assert!(
                display.is_none() || kind.may_display(),
                "display on a {kind} order: {line}"
            );
            OrderbookResult::Accepted {
                instrument_id,
                order_id: uuid_of(obj, "order_id", line),
                side: side_of(obj, "side", line),
                kind,
                price,
                qty: u64_of(obj, "qty", line),
                trigger,
                display,
            }
        }
        "rejected" => {
            let word = str_of(obj, "op", line);
            let op = Op::parse(word).unwrap_or_else(|| panic!("op: unknown op {word:?} in {line}"));
            let order_id = opt_uuid_of(obj, "order_id", line);
            assert_eq!(
                order_id.is_some(),
                matches!(op, Op::Add | Op::Cancel | Op::Modify),
                "order_id must be null exactly for ops without one: {line}"
            );
            OrderbookResult::Rejected {
                instrument_id,
                op,
                order_id,
                reason: reason_of(str_of(obj, "reason", line), line),
            }
        }
        "trade" => OrderbookResult::Trade {
            instrument_id,
            taker_order_id: uuid_of(obj, "taker_order_id", line),
            maker_order_id: uuid_of(obj, "maker_order_id", line),
            taker_side: side_of(obj, "taker_side", line),
            price: i64_of(obj, "price", line),
            qty: u64_of(obj, "qty", line),
            taker_remaining: u64_of(obj, "taker_remaining", line),
            maker_remaining: u64_of(obj, "maker_remaining", line),
        },
        "cancelled" => OrderbookResult::Cancelled {
            instrument_id,
            order_id: uuid_of(obj, "order_id", line),
            side: side_of(obj, "side", line),
            price: opt_i64_of(obj, "price", line),
            remaining_qty: u64_of(obj, "remaining_qty", line),
            reason: end_reason_of(obj, line),
        },
        // `price` is null for a market order's rest (the decoder cannot tell the kind
        // here; the comparisons with expected events check which).
        "expired" => OrderbookResult::Expired {
            instrument_id,
            order_id: uuid_of(obj, "order_id", line),
            side: side_of(obj, "side", line),
            price: opt_i64_of(obj, "price", line),
            remaining_qty: u64_of(obj, "remaining_qty", line),
            reason: end_reason_of(obj, line),
        },
        "modified" => OrderbookResult::Modified {
            instrument_id,
            order_id: uuid_of(obj, "order_id", line),
            side: side_of(obj, "side", line),
            price: i64_of(obj, "price", line),
            qty: u64_of(obj, "qty", line),
            old_price: i64_of(obj, "old_price", line),
            old_qty: u64_of(obj, "old_qty", line),
            priority_kept: bool_of(obj, "priority_kept", line),
            display: display_of(obj, line),
        },
        "halted" => OrderbookResult::Halted { instrument_id },
        "resumed" => OrderbookResult::Resumed { instrument_id },
        "status" => {
            let status = BookStatus {
                halted: bool_of(obj, "halted", line),
                best_bid: opt_i64_of(obj, "best_bid", line),
                best_bid_qty: u128_of(obj, "best_bid_qty", line),
                best_ask: opt_i64_of(obj, "best_ask", line),
                best_ask_qty: u128_of(obj, "best_ask_qty", line),
                bid_levels: u64_of(obj, "bid_levels", line),
                ask_levels: u64_of(obj, "ask_levels", line),
                orders: u64_of(obj, "orders", line),
                stops: maybe_u64_of(obj, "stops", line).unwrap_or(0),
                last_trade_price: if obj.contains_key("last_trade_price") {
                    opt_i64_of(obj, "last_trade_price", line)
                } else {
                    None
                },
            };
            assert_eq!(
                obj.contains_key("stops"),
                obj.contains_key("last_trade_price"),
                "a long-form status has both stops and last_trade_price: {line}"
            );
            if status.best_bid.is_none() {
                assert_eq!(status.best_bid_qty, 0, "empty bid side: {line}");
            }
            if status.best_ask.is_none() {
                assert_eq!(status.best_ask_qty, 0, "empty ask side: {line}");
            }
            OrderbookResult::Status {
                instrument_id,
                status: Box::new(status),
            }
        }
        "snapshot" => OrderbookResult::Snapshot {
            instrument_id,
            snapshot: Box::new(BookSnapshot {
                halted: bool_of(obj, "halted", line),
                bids: levels_of(obj, "bids", line),
                asks: levels_of(obj, "asks", line),
                stops: stops_of(obj, line),
            }),
        },
        "triggered" => {
            let kind = kind_of(obj, line);
            assert!(kind.is_stop(), "triggered: a {kind} order in {line}");
            OrderbookResult::Triggered {
                instrument_id,
                order_id: uuid_of(obj, "order_id", line),
                side: side_of(obj, "side", line),
                kind,
                trigger: i64_of(obj, "trigger", line),
            }
        }
        "mass_cancelled" => OrderbookResult::MassCancelled {
            instrument_id,
            owner: match field(obj, "owner", line) {
                Value::Null => None,
                _ => Some(u64_of(obj, "owner", line)),
            },
            count: u64_of(obj, "count", line),
        },
        other => panic!("unknown event type {other:?} in {line}"),
    };
    (seq, event)
}

/// `event` as a seven-column run writes it: a `status` without `stops` and
/// `last_trade_price`, a `snapshot` without `stops` (decoded, they read as 0, null and
/// empty). To compare the reference book's events with a seven-column stream.
#[must_use]
pub fn seven_column_view(event: OrderbookResult) -> OrderbookResult {
    match event {
        OrderbookResult::Status {
            instrument_id,
            mut status,
        } => {
            status.stops = 0;
            status.last_trade_price = None;
            OrderbookResult::Status {
                instrument_id,
                status,
            }
        }
        OrderbookResult::Snapshot {
            instrument_id,
            mut snapshot,
        } => {
            snapshot.stops.clear();
            OrderbookResult::Snapshot {
                instrument_id,
                snapshot,
            }
        }
        other => other,
    }
}

/// The lines of an event stream (UTF-8, one object per line, no blank lines).
#[must_use]
pub fn stream_lines(stdout: &[u8]) -> Vec<&str> {
    let text = std::str::from_utf8(stdout).expect("the event stream is not UTF-8");
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    for line in &lines {
        assert!(!line.trim().is_empty(), "blank line in the event stream");
    }
    lines
}

/// The raw line of the first event in `events` equal to `wanted` (`lines` and `events`
/// come from the same stream).
#[must_use]
pub fn line_of<'a>(
    lines: &[&'a str],
    events: &[OrderbookResult],
    wanted: &OrderbookResult,
) -> &'a str {
    let at = events
        .iter()
        .position(|e| e == wanted)
        .unwrap_or_else(|| panic!("no event {wanted:?} in the stream"));
    lines[at]
}

/// Decodes a whole stream and checks `seq` runs 1, 2, 3, ... without gaps or repeats.
#[must_use]
pub fn decode_stream(stdout: &[u8]) -> Vec<OrderbookResult> {
    stream_lines(stdout)
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let (seq, event) = decode(line);
            assert_eq!(seq, i as u64 + 1, "seq of event {} in {line}", i + 1);
            event
        })
        .collect()
}
