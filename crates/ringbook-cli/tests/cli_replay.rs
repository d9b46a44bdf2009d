//! Integration tests of `ringbook replay`, run as a process, against the contract in
//! `docs/FLOW-FORMAT.md`:
//!
//! - malformed flow files stop the run with exit status 2 and `line N: ...` on stderr,
//!   after the events of the lines before the bad one;
//! - the event stream has the contract's shape (seq, canonical UUIDs, JSON types, exact
//!   integers beyond 2^53 and beyond 2^64);
//! - `--instruments`, `--output` and `-` (stdin) behave as documented;
//! - seeded random flows give, per instrument, the events of the naive reference book in
//!   `tests/common/reference.rs`.
//!
//! Events are decoded strictly (see `ringbook_testkit::jsonl`) back into `OrderbookResult`s so they can
//! be compared with expected values; quantities that may exceed `u64::MAX` are read from
//! the raw text, never through a float.
//!
//! The contract lets events of different instruments interleave in any way and lets
//! rejects appear out of place within their instrument, so multi-instrument outputs are
//! compared per instrument (events other than rejects in order, rejects as a multiset);
//! byte-for-byte comparisons use single-instrument flows without rejects, whose order the
//! contract fixes completely.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::process::{Command as Process, Stdio};

use ringbook::{
    BookSnapshot, BookStatus, Command, Op, Order, OrderKind, OrderbookResult, RejectReason, Side,
    SnapshotLevel, SnapshotOrder, Uuid,
};
use ringbook_testkit::jsonl::{
    decode_stream, line_of, raw_scalar, seven_column_view, stream_lines,
};
use ringbook_testkit::reference::NaiveBook;
use ringbook_testkit::rng::Rng;
use ringbook_testkit::scratch::TempDir;

const HEADER: &str = "op,instrument,order_id,side,kind,price,qty";

// ---------------------------------------------------------------------------------------
// Temporary directories and running the binary
// ---------------------------------------------------------------------------------------

/// What one run of the binary gave.
struct Run {
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `ringbook replay ARGS...`, feeding `stdin` if given (else stdin is empty).
fn ringbook<S: AsRef<OsStr>>(args: &[S], stdin: Option<&[u8]>) -> Run {
    let mut child = Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .arg("replay")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the ringbook binary");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            // The binary may stop reading early (a malformed line): ignore a broken pipe.
            let _ = pipe.write_all(&bytes);
        })
    });
    let output = child.wait_with_output().expect("cannot wait for ringbook");
    if let Some(feeder) = feeder {
        feeder.join().expect("the stdin feeder panicked");
    }
    Run {
        status: output.status.code(),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Writes `flow` to a fresh temp file and replays it with `extra` arguments.
fn replay_bytes(flow: &[u8], extra: &[&str]) -> Run {
    let dir = TempDir::new("flow");
    let path = dir.write("flow.csv", flow);
    let mut args: Vec<&OsStr> = vec![path.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    ringbook(&args, None)
}

/// Replays `flow` and requires success; returns the decoded events (seq checked).
fn replay_ok(flow: &str, extra: &[&str]) -> (Vec<u8>, Vec<OrderbookResult>) {
    let run = replay_bytes(flow.as_bytes(), extra);
    assert_eq!(
        run.status,
        Some(0),
        "replay failed: stderr {:?}\nflow:\n{flow}",
        run.stderr
    );
    let events = decode_stream(&run.stdout);
    (run.stdout, events)
}

// ---------------------------------------------------------------------------------------
// Building expected events
// ---------------------------------------------------------------------------------------

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn accepted(
    i: Uuid,
    o: u128,
    side: Side,
    kind: OrderKind,
    price: Option<i64>,
    qty: u64,
) -> OrderbookResult {
    OrderbookResult::Accepted {
        instrument_id: i,
        order_id: id(o),
        side,
        kind,
        price,
        qty,
        display: None,
        trigger: None,
    }
}

fn rejected(i: Uuid, op: Op, o: Option<u128>, reason: RejectReason) -> OrderbookResult {
    OrderbookResult::Rejected {
        instrument_id: i,
        op,
        order_id: o.map(id),
        reason,
    }
}

#[allow(clippy::too_many_arguments)]
fn trade(
    i: Uuid,
    taker: u128,
    maker: u128,
    taker_side: Side,
    price: i64,
    qty: u64,
    taker_remaining: u64,
    maker_remaining: u64,
) -> OrderbookResult {
    OrderbookResult::Trade {
        instrument_id: i,
        taker_order_id: id(taker),
        maker_order_id: id(maker),
        taker_side,
        price,
        qty,
        taker_remaining,
        maker_remaining,
    }
}

fn expired(
    i: Uuid,
    o: u128,
    side: Side,
    price: Option<i64>,
    remaining_qty: u64,
) -> OrderbookResult {
    OrderbookResult::Expired {
        instrument_id: i,
        order_id: id(o),
        side,
        price,
        remaining_qty,
        reason: ringbook::EndReason::Plain,
    }
}

fn cancelled(i: Uuid, o: u128, side: Side, price: i64, remaining_qty: u64) -> OrderbookResult {
    OrderbookResult::Cancelled {
        instrument_id: i,
        order_id: id(o),
        side,
        price: Some(price),
        remaining_qty,
        reason: ringbook::EndReason::Plain,
    }
}

/// A `modified` event: `now` and `before` are (price, open quantity) after and before it.
fn modified(
    i: Uuid,
    o: u128,
    side: Side,
    now: (i64, u64),
    before: (i64, u64),
    priority_kept: bool,
) -> OrderbookResult {
    OrderbookResult::Modified {
        instrument_id: i,
        order_id: id(o),
        side,
        price: now.0,
        qty: now.1,
        old_price: before.0,
        old_qty: before.1,
        priority_kept,
        display: None,
    }
}

fn level(price: i64, orders: &[(u128, u64)]) -> SnapshotLevel {
    SnapshotLevel {
        price,
        orders: orders
            .iter()
            .map(|&(o, qty)| SnapshotOrder {
                order_id: id(o),
                qty,
            })
            .collect(),
    }
}

fn empty_status(i: Uuid) -> OrderbookResult {
    OrderbookResult::Status {
        instrument_id: i,
        status: Box::default(),
    }
}

fn empty_snapshot(i: Uuid) -> OrderbookResult {
    OrderbookResult::Snapshot {
        instrument_id: i,
        snapshot: Box::default(),
    }
}

/// The events of `commands` by the reference: one naive book per instrument, and
/// `instrument_not_registered` rejects for instruments outside `registered` (if given).
fn reference_events(commands: &[Command], registered: Option<&[Uuid]>) -> Vec<OrderbookResult> {
    let mut books: HashMap<Uuid, NaiveBook> = HashMap::new();
    let mut events = Vec::new();
    for command in commands {
        let instrument = command.instrument_id();
        if registered.is_some_and(|list| !list.contains(&instrument)) {
            events.push(OrderbookResult::Rejected {
                instrument_id: instrument,
                op: command.op(),
                order_id: command.order_id(),
                reason: RejectReason::InstrumentNotRegistered,
            });
        } else {
            let book = books
                .entry(instrument)
                .or_insert_with(|| NaiveBook::new(instrument));
            // A seven-column stream: no long-form status and snapshot fields.
            events.extend(book.apply(command).into_iter().map(seven_column_view));
        }
    }
    events
}

/// Splits events by instrument, keeping each instrument's order.
fn by_instrument(events: &[OrderbookResult]) -> HashMap<Uuid, Vec<OrderbookResult>> {
    let mut map: HashMap<Uuid, Vec<OrderbookResult>> = HashMap::new();
    for event in events {
        map.entry(event.instrument_id())
            .or_default()
            .push(event.clone());
    }
    map
}

/// Compares per instrument as the contract allows: the events other than rejects in the
/// same order, and the rejects as a multiset (they may appear out of place, but each
/// exactly once).
fn assert_same_per_instrument(
    actual: &[OrderbookResult],
    expected: &[OrderbookResult],
    context: &str,
) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{context}: event count differs"
    );
    let actual = by_instrument(actual);
    let expected = by_instrument(expected);
    let mut instruments: Vec<&Uuid> = actual.keys().chain(expected.keys()).collect();
    instruments.sort();
    instruments.dedup();
    for instrument in instruments {
        let empty = Vec::new();
        let a = actual.get(instrument).unwrap_or(&empty);
        let e = expected.get(instrument).unwrap_or(&empty);
        if a == e {
            continue;
        }
        let is_reject = |r: &&OrderbookResult| matches!(r, OrderbookResult::Rejected { .. });
        let a_main: Vec<_> = a.iter().filter(|r| !is_reject(r)).collect();
        let e_main: Vec<_> = e.iter().filter(|r| !is_reject(r)).collect();
        if let Some(k) =
            (0..a_main.len().max(e_main.len())).find(|&k| a_main.get(k) != e_main.get(k))
        {
            panic!(
                "{context}: instrument {instrument}: non-reject event {k} differs\n  expected {:?}\n  actual   {:?}",
                e_main.get(k),
                a_main.get(k)
            );
        }
        let mut a_rej: Vec<String> = a
            .iter()
            .filter(is_reject)
            .map(|r| format!("{r:?}"))
            .collect();
        let mut e_rej: Vec<String> = e
            .iter()
            .filter(is_reject)
            .map(|r| format!("{r:?}"))
            .collect();
        a_rej.sort();
        e_rej.sort();
        assert_eq!(
            a_rej, e_rej,
            "{context}: instrument {instrument}: rejects differ"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Malformed files
// ---------------------------------------------------------------------------------------

/// A flow whose line 8 is `bad`: lines 1-7 hold comments, blanks, the header and two good
/// op lines (two events), and lines after the bad one would add events if read.
fn flow_with_bad_line_8(bad: &[u8], eol: &str) -> Vec<u8> {
    let mut flow = Vec::new();
    let mut line = |bytes: &[u8]| {
        flow.extend_from_slice(bytes);
        flow.extend_from_slice(eol.as_bytes());
    };
    line(b"# leading comment");
    line(b"");
    line(HEADER.as_bytes());
    line(b"add,1,100,buy,limit,-5,10");
    line(b"# a comment between");
    line(b"status,1,,,,,");
    line(b"   ");
    line(bad);
    line(b"halt,1,,,,,");
    line(b"add,1,101,sell,limit,-5,1");
    flow
}

/// The two events of lines 4 and 6 of [`flow_with_bad_line_8`].
fn events_before_line_8() -> Vec<OrderbookResult> {
    let i = id(1);
    vec![
        accepted(i, 100, Side::Buy, OrderKind::Limit, Some(-5), 10),
        OrderbookResult::Status {
            instrument_id: i,
            status: Box::new(BookStatus {
                best_bid: Some(-5),
                best_bid_qty: 10,
                bid_levels: 1,
                orders: 1,
                ..BookStatus::default()
            }),
        },
    ]
}

/// Checks a malformed run: status 2, `line N: <reason>` on stderr, and exactly
/// `expected` on stdout. Returns a description of what is wrong, if anything.
fn check_malformed(run: &Run, line: u64, expected: &[OrderbookResult]) -> Option<String> {
    let mut problems = Vec::new();
    if run.status != Some(2) {
        problems.push(format!("exit status {:?}, expected 2", run.status));
    }
    let marker = format!("line {line}: ");
    match run.stderr.find(&marker) {
        None => problems.push(format!("stderr lacks {marker:?}: {:?}", run.stderr)),
        Some(at) => {
            let reason = run.stderr[at + marker.len()..].lines().next().unwrap_or("");
            if reason.trim().is_empty() {
                problems.push(format!("no reason after {marker:?}: {:?}", run.stderr));
            }
        }
    }
    let events = std::panic::catch_unwind(|| decode_stream(&run.stdout));
    match events {
        Ok(events) if events == expected => {}
        Ok(events) => problems.push(format!("stdout events {events:?}, expected {expected:?}")),
        Err(_) => problems.push(format!(
            "stdout is not a valid event stream: {:?}",
            String::from_utf8_lossy(&run.stdout)
        )),
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Lines that break the table, each with what it breaks.
fn malformed_lines() -> Vec<(Vec<u8>, String)> {
    let mut cases: Vec<(Vec<u8>, String)> = Vec::new();
    let mut add = |line: &str, why: &str| cases.push((line.as_bytes().to_vec(), why.to_string()));

    // Wrong field count.
    add("add,1,101,buy,limit,1", "6 fields");
    add("add,1,101,buy,limit,1,1,", "8 fields (trailing comma)");
    add("halt,1,,,,", "6 fields");
    add("halt,1,,,,,,", "8 fields");
    add("halt", "1 field");
    add("add;1;101;buy;limit;1;1", "semicolons: 1 field");
    add("add,1,101,buy,limit,\"1,0\",1", "quoted comma: 8 fields");
    add("add,1,101,buy,limit,1,1,1,1", "9 fields");

    // Unknown words.
    add(",,,,,,", "empty op");
    add("buy,1,101,buy,limit,1,1", "unknown op");
    add("ADD,1,101,buy,limit,1,1", "op in capitals");
    add("Add,1,101,buy,limit,1,1", "op capitalised");
    add(" add,1,101,buy,limit,1,1", "op with a leading space");
    add("delete,1,101,,,,", "unknown op delete");
    add(HEADER, "a repeated header");
    add("add,1,101,up,limit,1,1", "unknown side");
    add("add,1,101,BUY,limit,1,1", "side in capitals");
    add("add,1,101,bid,limit,1,1", "side bid");
    add("add,1,101, buy,limit,1,1", "side with a space");
    add("add,1,101,buy,stop,1,1", "unknown kind");
    add("add,1,101,buy,LIMIT,1,1", "kind in capitals");
    add("add,1,101,buy,postonly,1,1", "kind postonly");
    add("add,1,101,buy,post-only,1,1", "kind post-only");
    add("add,1,101,buy,gtc,1,1", "kind gtc");

    // Numbers that do not parse or overflow, in the op lines that carry them (in turn).
    for (k, price) in [
        "1.5",
        "abc",
        "9223372036854775808",
        "-9223372036854775809",
        "1e3",
        "0x10",
        " 1",
        "1 ",
        "--1",
        "\u{2212}1",
        "1_0",
        "+1",
        "+-1",
        "-",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        let kind = ["limit", "ioc", "fok", "post_only"][k % 4];
        add(
            &format!("add,1,101,buy,{kind},{price},1"),
            &format!("{kind} price {price:?}"),
        );
        if k % 2 == 0 {
            add(
                &format!("modify,1,100,,,{price},1"),
                &format!("modify price {price:?}"),
            );
        }
    }
    for (k, qty) in [
        "-1",
        "18446744073709551616",
        "99999999999999999999999",
        "1.0",
        "1_000",
        " 5",
        "5 ",
        "0x5",
        "1e2",
        "+5",
        "+0",
    ]
    .into_iter()
    .enumerate()
    {
        let line = match k % 3 {
            0 => format!("add,1,101,buy,limit,1,{qty}"),
            1 => format!("add,1,101,sell,market,,{qty}"),
            _ => format!("modify,1,100,,,1,{qty}"),
        };
        add(&line, &format!("qty {qty:?}"));
    }

    // Ids that are neither a canonical UUID nor a decimal integer.
    for (k, bad_id) in [
        "x",
        "-1",
        "1.0",
        " 1",
        "340282366920938463463374607431768211456",
        "{00000000-0000-0000-0000-000000000001}",
        "urn:uuid:00000000-0000-0000-0000-000000000001",
        "0000000000000000000000000000000a",
        "00000000-0000-0000-0000-00000000000g",
        "00000000-0000-0000-0000-0000000000001",
        "0000000-00000-0000-0000-000000000001",
        "0x1",
    ]
    .into_iter()
    .enumerate()
    {
        add(
            &format!("add,{bad_id},101,buy,limit,1,1"),
            &format!("instrument {bad_id:?}"),
        );
        // And one of the other ops, in turn, to keep the run short.
        match k % 3 {
            0 => add(
                &format!("halt,{bad_id},,,,,"),
                &format!("halt instrument {bad_id:?}"),
            ),
            1 => add(
                &format!("cancel,1,{bad_id},,,,"),
                &format!("cancel order_id {bad_id:?}"),
            ),
            _ => add(
                &format!("modify,1,{bad_id},,,1,1"),
                &format!("modify order_id {bad_id:?}"),
            ),
        }
    }

    // Fields missing against the table.
    for line in [
        "add,,101,buy,limit,1,1",
        "cancel,,100,,,,",
        "modify,,100,,,1,1",
        "halt,,,,,,",
        "resume,,,,,,",
        "status,,,,,,",
        "snapshot,,,,,,",
    ] {
        add(line, "an op without instrument");
    }
    add("add,1,,buy,limit,1,1", "add without order_id");
    add("add,1,101,,limit,1,1", "add without side");
    add("add,1,101,buy,,1,1", "add without kind");
    for kind in ["limit", "ioc", "fok", "post_only"] {
        add(
            &format!("add,1,101,buy,{kind},,1"),
            &format!("{kind} add without price"),
        );
    }
    for kind in ["limit", "market", "ioc", "fok", "post_only"] {
        let price = if kind == "market" { "" } else { "1" };
        add(
            &format!("add,1,101,sell,{kind},{price},"),
            &format!("{kind} add without qty"),
        );
    }
    add("cancel,1,,,,,", "cancel without order_id");
    add("modify,1,,,,1,1", "modify without order_id");
    add("modify,1,100,,,,1", "modify without price");
    add("modify,1,100,,,1,", "modify without qty");

    // Fields present against the table.
    add("add,1,101,buy,market,5,1", "market add with a price");
    add("add,1,101,buy,market,0,1", "market add with price 0");
    add("cancel,1,100,buy,,,", "cancel with side");
    add("cancel,1,100,,limit,,", "cancel with kind");
    add("cancel,1,100,,,5,", "cancel with price");
    add("cancel,1,100,,,,5", "cancel with qty");
    add("modify,1,100,buy,,1,1", "modify with side");
    add("modify,1,100,,limit,1,1", "modify with kind");
    for op in ["halt", "resume", "status", "snapshot"] {
        add(&format!("{op},1,100,,,,"), &format!("{op} with order_id"));
        add(&format!("{op},1,,buy,,,"), &format!("{op} with side"));
        add(&format!("{op},1,,,limit,,"), &format!("{op} with kind"));
        add(&format!("{op},1,,,,5,"), &format!("{op} with price"));
        add(&format!("{op},1,,,,,0"), &format!("{op} with qty"));
        add(
            &format!("{op},1,,,,,\t"),
            &format!("{op} with a tab as qty"),
        );
    }

    // Not UTF-8.
    for bytes in [
        &b"add,1,101,buy,limit,1,\xff"[..],
        &b"add,1,101,b\xc3\x28y,limit,1,1"[..],
        &b"\xed\xa0\x80,1,,,,,"[..],
        &b"halt,1,,,,,\xc3"[..],
        &b"# a comment \xfe with a bad byte"[..],
    ] {
        cases.push((bytes.to_vec(), format!("invalid UTF-8 {bytes:?}")));
    }
    cases
}

#[test]
fn malformed_lines_stop_the_run_after_the_events_before_them() {
    let expected = events_before_line_8();
    let cases = malformed_lines();
    assert!(cases.len() >= 130, "the table shrank: {}", cases.len());
    // Every case with LF line ends, every fifth also with CRLF.
    let runs: Vec<(usize, &str)> = (0..cases.len())
        .flat_map(|k| {
            let eols: &[&str] = if k % 5 == 0 { &["\n", "\r\n"] } else { &["\n"] };
            eols.iter().map(move |eol| (k, *eol))
        })
        .collect();
    let dir = TempDir::new("malformed");
    // A few runs at a time: each is a process that mostly waits on its own start-up.
    let workers = 4;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (runs, cases, dir, expected) = (&runs, &cases, &dir, &expected);
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for (n, &(k, eol)) in runs.iter().enumerate().skip(w).step_by(workers) {
                        let (bad, why) = &cases[k];
                        let path =
                            dir.write(&format!("flow-{n}.csv"), &flow_with_bad_line_8(bad, eol));
                        let run = ringbook(&[path.as_os_str()], None);
                        if let Some(problem) = check_malformed(&run, 8, expected) {
                            failures.push(format!(
                                "{why} (line {:?}, eol {eol:?}): {problem}",
                                String::from_utf8_lossy(bad)
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} malformed runs misbehaved:\n{}",
        failures.len(),
        runs.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_or_missing_headers_are_malformed_at_their_line() {
    let cases: [(&[u8], &str); 9] = [
        (
            b"op,instrument,order_id,side,kind,price,quantity",
            "renamed column",
        ),
        (b"OP,INSTRUMENT,ORDER_ID,SIDE,KIND,PRICE,QTY", "capitals"),
        (
            b"op,instrument,order_id,side,kind,price,qty,",
            "trailing comma",
        ),
        (b"op, instrument,order_id,side,kind,price,qty", "a space"),
        (
            b"instrument,op,order_id,side,kind,price,qty",
            "columns swapped",
        ),
        (
            b"op,instrument,order_id,side,kind,price",
            "a column missing",
        ),
        (
            b"op,instrument,order_id,side,kind,price,q\xffy",
            "invalid UTF-8",
        ),
        (b"add,1,1,buy,limit,1,1", "no header: a data line first"),
        (b"halt,1,,,,,", "no header: a halt first"),
    ];
    let mut failures = Vec::new();
    for (bad, why) in cases {
        for eol in ["\n", "\r\n"] {
            let mut flow = Vec::new();
            for line in [
                &b"# comment"[..],
                b"",
                bad,
                b"add,1,1,buy,limit,1,1",
                b"status,1,,,,,",
            ] {
                flow.extend_from_slice(line);
                flow.extend_from_slice(eol.as_bytes());
            }
            let run = replay_bytes(&flow, &[]);
            if let Some(problem) = check_malformed(&run, 3, &[]) {
                failures.push(format!("{why}: {problem}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_file_without_any_header_is_malformed() {
    // An empty file, or only comments and blank lines: no header at all. The line number
    // of an error at the end of the file is read as the last line or the one after it.
    for (flow, lines) in [("", 0u64), ("# only a comment\n\n", 2), ("\n\n\n", 3)] {
        let run = replay_bytes(flow.as_bytes(), &[]);
        assert_eq!(run.status, Some(2), "{flow:?}: stderr {:?}", run.stderr);
        assert!(run.stdout.is_empty(), "{flow:?}");
        let n: u64 = run
            .stderr
            .match_indices("line ")
            .find_map(|(at, m)| {
                let rest = &run.stderr[at + m.len()..];
                let (n, _) = rest.split_once(": ")?;
                n.parse().ok()
            })
            .unwrap_or_else(|| panic!("{flow:?}: no `line N: ...` on stderr: {:?}", run.stderr));
        assert!(
            (lines.max(1)..=lines + 1).contains(&n),
            "{flow:?}: line {n}"
        );
    }
}

#[test]
fn malformed_input_on_stdin_and_with_output_file() {
    let expected = events_before_line_8();
    let flow = flow_with_bad_line_8(b"add,1,101,sideways,limit,1,1", "\n");
    let run = ringbook(&["-"], Some(&flow));
    assert_eq!(check_malformed(&run, 8, &expected), None, "stdin");

    let dir = TempDir::new("malformed-out");
    let input = dir.write("flow.csv", &flow);
    let out = dir.join("events.jsonl");
    let run = ringbook(
        &[input.as_os_str(), OsStr::new("--output"), out.as_os_str()],
        None,
    );
    assert_eq!(run.status, Some(2), "stderr {:?}", run.stderr);
    assert!(run.stderr.contains("line 8: "), "{:?}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "with --output nothing goes to stdout"
    );
    let written = fs::read(&out).expect("the output file exists");
    assert_eq!(decode_stream(&written), expected);
}

#[test]
fn zero_quantity_is_rejected_not_malformed() {
    let flow = format!(
        "{HEADER}\nadd,1,1,buy,limit,1,0\nadd,1,2,buy,market,,0\nadd,1,3,buy,limit,1,5\nmodify,1,3,,,1,0\n"
    );
    let (_, events) = replay_ok(&flow, &[]);
    let i = id(1);
    assert_same_per_instrument(
        &events,
        &[
            rejected(i, Op::Add, Some(1), RejectReason::InvalidQuantity),
            rejected(i, Op::Add, Some(2), RejectReason::InvalidQuantity),
            accepted(i, 3, Side::Buy, OrderKind::Limit, Some(1), 5),
            rejected(i, Op::Modify, Some(3), RejectReason::InvalidQuantity),
        ],
        "zero quantity",
    );
}

// ---------------------------------------------------------------------------------------
// The shape of the event stream
// ---------------------------------------------------------------------------------------

#[test]
fn every_event_type_has_its_fields_and_exact_integers() {
    const MAX: u64 = u64::MAX;
    const P53: u64 = (1 << 53) + 1;
    const P62: u64 = 1 << 62;
    // One instrument, 0xABCDEF, named in decimal, uppercase and lowercase UUID form.
    let flow = format!(
        "# every event type\n\n{HEADER}\n\
add,11259375,1,sell,limit,-7,18446744073709551615\n\
add,00000000-0000-0000-0000-000000ABCDEF,00000000-0000-0000-0000-0000000000FF,sell,limit,-7,18446744073709551614\n\
status,11259375,,,,,\n\
add,00000000-0000-0000-0000-000000abcdef,3,buy,market,,9007199254740993\n\
add,11259375,4,buy,fok,-8,5\n\
add,11259375,6,buy,post_only,-7,1\n\
add,11259375,7,buy,limit,-9,4611686018427387904\n\
modify,11259375,00000000-0000-0000-0000-000000000007,,,-9,3\n\
modify,11259375,7,,,-10,3\n\
modify,11259375,7,,,-10,3\n\
cancel,11259375,7,,,,\n\
cancel,11259375,7,,,,\n\
add,11259375,9,buy,limit,-9,2\n\
add,11259375,00000000-0000-0000-0000-00000000000E,buy,limit,-11,1\n\
add,11259375,10,sell,ioc,-10,5\n\
add,11259375,11,buy,limit,-12,6\n\
halt,11259375,,,,,\n\
add,11259375,12,buy,limit,1,1\n\
modify,11259375,11,,,-12,1\n\
cancel,11259375,99,,,,\n\
snapshot,11259375,,,,,\n\
status,11259375,,,,,\n\
resume,11259375,,,,,\n\
add,11259375,13,buy,limit,1,0\n\
add,11259375,1,buy,limit,-100,1\n\
modify,11259375,3,,,1,1\n\
add,11259375,3,buy,limit,-20,1\n\
add,11259375,15,sell,fok,-12,8\n\
add,11259375,16,sell,fok,-12,7\n\
add,11259375,17,sell,market,,2\n"
    );
    let i = id(0xAB_CDEF);
    let maker1_left = MAX - P53;
    let expected = vec![
        accepted(i, 1, Side::Sell, OrderKind::Limit, Some(-7), MAX),
        accepted(i, 0xFF, Side::Sell, OrderKind::Limit, Some(-7), MAX - 1),
        OrderbookResult::Status {
            instrument_id: i,
            status: Box::new(BookStatus {
                best_ask: Some(-7),
                best_ask_qty: 2 * u128::from(MAX) - 1,
                ask_levels: 1,
                orders: 2,
                ..BookStatus::default()
            }),
        },
        accepted(i, 3, Side::Buy, OrderKind::Market, None, P53),
        trade(i, 3, 1, Side::Buy, -7, P53, 0, maker1_left),
        accepted(i, 4, Side::Buy, OrderKind::Fok, Some(-8), 5),
        expired(i, 4, Side::Buy, Some(-8), 5),
        rejected(i, Op::Add, Some(6), RejectReason::PostOnlyWouldCross),
        accepted(i, 7, Side::Buy, OrderKind::Limit, Some(-9), P62),
        modified(i, 7, Side::Buy, (-9, 3), (-9, P62), true),
        modified(i, 7, Side::Buy, (-10, 3), (-9, 3), false),
        modified(i, 7, Side::Buy, (-10, 3), (-10, 3), true),
        cancelled(i, 7, Side::Buy, -10, 3),
        rejected(i, Op::Cancel, Some(7), RejectReason::UnknownOrder),
        accepted(i, 9, Side::Buy, OrderKind::Limit, Some(-9), 2),
        accepted(i, 14, Side::Buy, OrderKind::Limit, Some(-11), 1),
        accepted(i, 10, Side::Sell, OrderKind::Ioc, Some(-10), 5),
        trade(i, 10, 9, Side::Sell, -9, 2, 3, 0),
        expired(i, 10, Side::Sell, Some(-10), 3),
        accepted(i, 11, Side::Buy, OrderKind::Limit, Some(-12), 6),
        OrderbookResult::Halted { instrument_id: i },
        rejected(i, Op::Add, Some(12), RejectReason::OrderbookHalted),
        rejected(i, Op::Modify, Some(11), RejectReason::OrderbookHalted),
        rejected(i, Op::Cancel, Some(99), RejectReason::UnknownOrder),
        OrderbookResult::Snapshot {
            instrument_id: i,
            snapshot: Box::new(BookSnapshot {
                halted: true,
                bids: vec![level(-11, &[(14, 1)]), level(-12, &[(11, 6)])],
                asks: vec![level(-7, &[(1, maker1_left), (0xFF, MAX - 1)])],
                stops: Default::default(),
            }),
        },
        OrderbookResult::Status {
            instrument_id: i,
            status: Box::new(BookStatus {
                halted: true,
                best_bid: Some(-11),
                best_bid_qty: 1,
                best_ask: Some(-7),
                best_ask_qty: u128::from(maker1_left) + u128::from(MAX - 1),
                bid_levels: 2,
                ask_levels: 1,
                orders: 4,
                last_trade_price: None,
                stops: Default::default(),
            }),
        },
        OrderbookResult::Resumed { instrument_id: i },
        rejected(i, Op::Add, Some(13), RejectReason::InvalidQuantity),
        rejected(i, Op::Add, Some(1), RejectReason::DuplicateOrderId),
        rejected(i, Op::Modify, Some(3), RejectReason::UnknownOrder),
        accepted(i, 3, Side::Buy, OrderKind::Limit, Some(-20), 1),
        accepted(i, 15, Side::Sell, OrderKind::Fok, Some(-12), 8),
        expired(i, 15, Side::Sell, Some(-12), 8),
        accepted(i, 16, Side::Sell, OrderKind::Fok, Some(-12), 7),
        trade(i, 16, 14, Side::Sell, -11, 1, 6, 0),
        trade(i, 16, 11, Side::Sell, -12, 6, 0, 0),
        accepted(i, 17, Side::Sell, OrderKind::Market, None, 2),
        trade(i, 17, 3, Side::Sell, -20, 1, 1, 0),
        expired(i, 17, Side::Sell, None, 1),
    ];
    let (stdout, events) = replay_ok(&flow, &[]);
    assert_same_per_instrument(&events, &expected, "hand-written flow");
    // The same as the reference book gives.
    assert_eq!(
        expected,
        reference_events(&parse_commands(&flow), None),
        "the reference disagrees with the hand-written expectation"
    );

    // The raw text: exact integers, nulls, negative prices, lowercase ids only. `raw(k,
    // key)` reads the line of the k-th expected event, wherever the stream put it.
    let lines = stream_lines(&stdout);
    let raw = |k: usize, key: &str| {
        raw_scalar(line_of(&lines, &events, &expected[k - 1]), key).to_string()
    };
    assert_eq!(raw(1, "qty"), "18446744073709551615");
    assert_eq!(raw(1, "price"), "-7");
    assert_eq!(raw(2, "qty"), "18446744073709551614");
    assert_eq!(raw(3, "best_ask_qty"), "36893488147419103229");
    assert_eq!(raw(3, "best_bid"), "null");
    assert_eq!(raw(3, "best_bid_qty"), "0");
    assert_eq!(raw(3, "halted"), "false");
    assert_eq!(raw(4, "price"), "null");
    assert_eq!(raw(4, "qty"), "9007199254740993");
    assert_eq!(raw(5, "qty"), "9007199254740993");
    assert_eq!(raw(5, "maker_remaining"), "18437736874454810622");
    assert_eq!(raw(5, "price"), "-7");
    assert_eq!(raw(9, "qty"), "4611686018427387904");
    assert_eq!(raw(10, "priority_kept"), "true");
    assert_eq!(raw(11, "priority_kept"), "false");
    assert_eq!(raw(12, "priority_kept"), "true");
    assert_eq!(raw(7, "side"), "\"buy\"");
    assert_eq!(raw(7, "price"), "-8");
    assert_eq!(raw(10, "old_price"), "-9");
    assert_eq!(raw(10, "old_qty"), "4611686018427387904");
    assert_eq!(raw(11, "old_price"), "-9");
    assert_eq!(raw(13, "side"), "\"buy\"");
    assert_eq!(raw(13, "price"), "-10");
    assert_eq!(raw(expected.len(), "side"), "\"sell\"");
    assert_eq!(
        raw(expected.len(), "price"),
        "null",
        "a market order's expiry"
    );
    assert_eq!(raw(26, "best_ask_qty"), "36884480948164362236");
    assert_eq!(raw(26, "halted"), "true");
    let snapshot = line_of(&lines, &events, &expected[24]);
    assert!(
        snapshot.contains("18437736874454810622") && snapshot.contains("18446744073709551614"),
        "snapshot quantities: {snapshot}"
    );
    let text = std::str::from_utf8(&stdout).unwrap();
    assert!(
        !text.contains("ABCDEF") && !text.contains("00E\""),
        "uppercase ids in output"
    );
    assert_eq!(
        text.matches("\"00000000-0000-0000-0000-000000abcdef\"")
            .count(),
        expected.len(),
        "every event names the instrument in canonical form"
    );
    assert!(
        !text.contains('.') && !text.contains("e+") && !text.contains("E+"),
        "a float"
    );
}

/// The `cancelled`, `expired` and `modified` events of a small flow, byte for byte: every
/// field of the contract's table in its order, `price` null on a market order's expiry.
#[test]
fn cancelled_expired_and_modified_lines_carry_side_and_prices() {
    let flow = format!(
        "{HEADER}\n\
add,1,1,sell,limit,101,5\n\
add,1,2,sell,limit,102,4\n\
modify,1,1,,,101,3\n\
modify,1,2,,,-100,6\n\
add,1,3,buy,ioc,-100,8\n\
add,1,4,buy,market,,5\n\
add,1,5,buy,limit,-199,7\n\
add,1,6,buy,fok,200,1\n\
cancel,1,5,,,,\n\
add,1,7,sell,limit,105,2\n\
add,1,8,buy,limit,90,3\n\
modify,1,8,,,105,4\n\
cancel,1,8,,,,\n"
    );
    let u = |n: u128| id(n).hyphenated().to_string();
    let head = |seq: u64, kind: &str| {
        format!(
            "{{\"seq\":{seq},\"instrument\":\"{}\",\"type\":\"{kind}\"",
            u(1)
        )
    };
    let expected = [
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"sell\",\"kind\":\"limit\",\"price\":101,\"qty\":5}}",
            head(1, "accepted"),
            u(1)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"sell\",\"kind\":\"limit\",\"price\":102,\"qty\":4}}",
            head(2, "accepted"),
            u(2)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"sell\",\"price\":101,\"qty\":3,\"old_price\":101,\"old_qty\":5,\"priority_kept\":true}}",
            head(3, "modified"),
            u(1)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"sell\",\"price\":-100,\"qty\":6,\"old_price\":102,\"old_qty\":4,\"priority_kept\":false}}",
            head(4, "modified"),
            u(2)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"kind\":\"ioc\",\"price\":-100,\"qty\":8}}",
            head(5, "accepted"),
            u(3)
        ),
        format!(
            "{},\"taker_order_id\":\"{}\",\"maker_order_id\":\"{}\",\"taker_side\":\"buy\",\"price\":-100,\"qty\":6,\"taker_remaining\":2,\"maker_remaining\":0}}",
            head(6, "trade"),
            u(3),
            u(2)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"price\":-100,\"remaining_qty\":2}}",
            head(7, "expired"),
            u(3)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"kind\":\"market\",\"price\":null,\"qty\":5}}",
            head(8, "accepted"),
            u(4)
        ),
        format!(
            "{},\"taker_order_id\":\"{}\",\"maker_order_id\":\"{}\",\"taker_side\":\"buy\",\"price\":101,\"qty\":3,\"taker_remaining\":2,\"maker_remaining\":0}}",
            head(9, "trade"),
            u(4),
            u(1)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"price\":null,\"remaining_qty\":2}}",
            head(10, "expired"),
            u(4)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"kind\":\"limit\",\"price\":-199,\"qty\":7}}",
            head(11, "accepted"),
            u(5)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"kind\":\"fok\",\"price\":200,\"qty\":1}}",
            head(12, "accepted"),
            u(6)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"price\":200,\"remaining_qty\":1}}",
            head(13, "expired"),
            u(6)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"price\":-199,\"remaining_qty\":7}}",
            head(14, "cancelled"),
            u(5)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"sell\",\"kind\":\"limit\",\"price\":105,\"qty\":2}}",
            head(15, "accepted"),
            u(7)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"kind\":\"limit\",\"price\":90,\"qty\":3}}",
            head(16, "accepted"),
            u(8)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"price\":105,\"qty\":4,\"old_price\":90,\"old_qty\":3,\"priority_kept\":false}}",
            head(17, "modified"),
            u(8)
        ),
        format!(
            "{},\"taker_order_id\":\"{}\",\"maker_order_id\":\"{}\",\"taker_side\":\"buy\",\"price\":105,\"qty\":2,\"taker_remaining\":2,\"maker_remaining\":0}}",
            head(18, "trade"),
            u(8),
            u(7)
        ),
        format!(
            "{},\"order_id\":\"{}\",\"side\":\"buy\",\"price\":105,\"remaining_qty\":2}}",
            head(19, "cancelled"),
            u(8)
        ),
    ];
    // One instrument and no rejects: the contract fixes every line's place, with either
    // engine.
    for engine in ENGINES {
        let run = replay_bytes(flow.as_bytes(), engine);
        assert_eq!(run.status, Some(0), "{engine:?}: {:?}", run.stderr);
        let lines = stream_lines(&run.stdout);
        for (k, (got, want)) in lines.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{engine:?}: event {}", k + 1);
        }
        assert_eq!(lines.len(), expected.len(), "{engine:?}: event count");
        // The decoder reads the same events back.
        assert_eq!(
            decode_stream(&run.stdout),
            reference_events(&parse_commands(&flow), None),
            "{engine:?}: the stream disagrees with the reference book"
        );
    }
}

/// Parses a flow with the library's reader: used only to feed the reference book for
/// hand-written flows.
fn parse_commands(flow: &str) -> Vec<Command> {
    ringbook::flow::FlowReader::new(flow.as_bytes())
        .map(|r| r.expect("a well-formed flow").1)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------

#[test]
fn instruments_flag_registers_exactly_that_list() {
    let flow = format!(
        "{HEADER}\n\
add,7,1,buy,limit,5,1\n\
add,8,1,buy,limit,5,1\n\
cancel,8,1,,,,\n\
modify,8,00000000-0000-0000-0000-0000000000AB,,,5,2\n\
halt,8,,,,,\n\
resume,8,,,,,\n\
status,8,,,,,\n\
snapshot,8,,,,,\n\
add,00000000-0000-0000-0000-000000000008,2,sell,market,,0\n\
halt,10,,,,,\n\
add,00000000-0000-0000-0000-00000000000a,3,buy,limit,1,1\n\
snapshot,FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF,,,,,\n\
status,00000000-0000-0000-0000-000000000007,,,,,\n\
cancel,0,5,,,,\n\
resume,00000000-0000-0000-0000-00000000000A,,,,,\n\
status,11,,,,,\n"
    );
    let nr = RejectReason::InstrumentNotRegistered;
    let (i7, i8, i10, max) = (id(7), id(8), id(10), id(u128::MAX));
    let expected = vec![
        accepted(i7, 1, Side::Buy, OrderKind::Limit, Some(5), 1),
        rejected(i8, Op::Add, Some(1), nr),
        rejected(i8, Op::Cancel, Some(1), nr),
        rejected(i8, Op::Modify, Some(0xAB), nr),
        rejected(i8, Op::Halt, None, nr),
        rejected(i8, Op::Resume, None, nr),
        rejected(i8, Op::Status, None, nr),
        rejected(i8, Op::Snapshot, None, nr),
        rejected(i8, Op::Add, Some(2), nr),
        OrderbookResult::Halted { instrument_id: i10 },
        rejected(i10, Op::Add, Some(3), RejectReason::OrderbookHalted),
        empty_snapshot(max),
        OrderbookResult::Status {
            instrument_id: i7,
            status: Box::new(BookStatus {
                best_bid: Some(5),
                best_bid_qty: 1,
                bid_levels: 1,
                orders: 1,
                ..BookStatus::default()
            }),
        },
        rejected(id(0), Op::Cancel, Some(5), nr),
        OrderbookResult::Resumed { instrument_id: i10 },
        rejected(id(11), Op::Status, None, nr),
    ];
    // The list in both id forms, either case.
    for list in [
        "7,00000000-0000-0000-0000-00000000000A,340282366920938463463374607431768211455",
        "00000000-0000-0000-0000-000000000007,10,ffffffff-ffff-ffff-ffff-ffffffffffff",
    ] {
        let (stdout, events) = replay_ok(&flow, &["--instruments", list]);
        assert_same_per_instrument(&events, &expected, &format!("--instruments {list}"));
        let lines = stream_lines(&stdout);
        for k in [5, 6, 7, 8, 16] {
            let line = line_of(&lines, &events, &expected[k - 1]);
            assert_eq!(raw_scalar(line, "order_id"), "null", "{line}");
        }
        let line = line_of(&lines, &events, &expected[3]);
        assert_eq!(raw_scalar(line, "op"), "\"modify\"");
        assert_eq!(
            raw_scalar(line, "order_id"),
            "\"00000000-0000-0000-0000-0000000000ab\""
        );
        assert_eq!(raw_scalar(line, "reason"), "\"instrument_not_registered\"");
    }
    // The same list given as two repeated values of one instrument still registers it once
    // and nothing else.
    let (_, events) = replay_ok(
        &format!("{HEADER}\nhalt,7,,,,,\nhalt,8,,,,,\n"),
        &["--instruments", "7,00000000-0000-0000-0000-000000000007"],
    );
    assert_same_per_instrument(
        &events,
        &[
            OrderbookResult::Halted { instrument_id: i7 },
            rejected(i8, Op::Halt, None, nr),
        ],
        "a repeated instrument",
    );
}

#[test]
fn without_the_flag_every_instrument_in_the_file_is_registered() {
    let flow = format!(
        "{HEADER}\n\
cancel,5,1,,,,\n\
status,00000000-0000-0000-0000-000000000006,,,,,\n\
modify,7,1,,,1,1\n\
halt,8,,,,,\n\
snapshot,340282366920938463463374607431768211455,,,,,\n\
add,9,1,buy,market,,1\n\
resume,0,,,,,\n\
add,8,1,buy,limit,1,1\n\
status,00000000-0000-0000-0000-000000000005,,,,,\n"
    );
    let (stdout, events) = replay_ok(&flow, &[]);
    assert_same_per_instrument(
        &events,
        &[
            rejected(id(5), Op::Cancel, Some(1), RejectReason::UnknownOrder),
            empty_status(id(6)),
            rejected(id(7), Op::Modify, Some(1), RejectReason::UnknownOrder),
            OrderbookResult::Halted {
                instrument_id: id(8),
            },
            empty_snapshot(id(u128::MAX)),
            accepted(id(9), 1, Side::Buy, OrderKind::Market, None, 1),
            expired(id(9), 1, Side::Buy, None, 1),
            OrderbookResult::Resumed {
                instrument_id: id(0),
            },
            rejected(id(8), Op::Add, Some(1), RejectReason::OrderbookHalted),
            empty_status(id(5)),
        ],
        "default registration",
    );
    assert!(!String::from_utf8_lossy(&stdout).contains("instrument_not_registered"));
}

// ---------------------------------------------------------------------------------------
// Seeded random flows
// ---------------------------------------------------------------------------------------

/// An id written in one of the accepted forms, chosen at random.
fn id_text(rng: &mut Rng, id: Uuid) -> String {
    match rng.below(3) {
        0 => id.as_u128().to_string(),
        1 => id.hyphenated().to_string(),
        _ => id.hyphenated().to_string().to_uppercase(),
    }
}

/// One flow line for `command`, ids in random forms.
fn flow_line(rng: &mut Rng, command: &Command) -> String {
    let instrument = id_text(rng, command.instrument_id());
    match *command {
        Command::Add(order) => {
            let price = if order.kind.has_price() {
                order.price.to_string()
            } else {
                String::new()
            };
            format!(
                "add,{instrument},{},{},{},{price},{}",
                id_text(rng, order.order_id),
                order.side,
                order.kind,
                order.quantity
            )
        }
        Command::Cancel { order_id, .. } => {
            format!("cancel,{instrument},{},,,,", id_text(rng, order_id))
        }
        Command::Modify {
            order_id,
            price,
            qty,
            ..
        } => format!(
            "modify,{instrument},{},,,{price},{qty}",
            id_text(rng, order_id)
        ),
        _ => format!("{},{instrument},,,,,", command.op()),
    }
}

/// A seeded random flow: its text, commands, and the `--instruments` value and list if
/// the flow restricts registration.
struct RandomFlow {
    text: Vec<u8>,
    commands: Vec<Command>,
    instruments_arg: Option<String>,
    registered: Option<Vec<Uuid>>,
}

fn random_flow(seed: u64, ops: usize, restrict: bool) -> RandomFlow {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
    let registered = [
        id(1),
        id(42),
        id((0xDEAD_BEEF_u128 << 64) | 7),
        id(u128::MAX),
    ];
    let others = [id(43), id(1 << 127)];
    let mut order_ids: Vec<Uuid> = (1..=10).map(id).collect();
    order_ids.extend([
        id((1 << 100) + 1),
        id((1 << 100) + 2),
        id(u128::MAX - 1),
        id(0x00AB_CDEF_0000_0000_1234_5678_9ABC_DEF0),
    ]);
    let eol = if seed.is_multiple_of(3) { "\r\n" } else { "\n" };
    let mut text = format!("# random flow, seed {seed}{eol}{eol}{HEADER}{eol}");
    let mut commands = Vec::with_capacity(ops);
    // Every other pair of seeds gives a dense flow: few prices, ids and lots, so queues
    // are deep, modifies hit resting orders and fok checks land on exact totals.
    let dense = seed % 4 >= 2;
    if dense {
        order_ids.truncate(6);
        order_ids.push(id(u128::MAX - 1));
    }
    let price = |rng: &mut Rng| -> i64 {
        if rng.percent(if dense { 1 } else { 3 }) {
            rng.pick(&[i64::MIN, i64::MIN + 1, i64::MAX, -1_000_000_000_000])
        } else if dense {
            rng.below(3) as i64 - 1
        } else {
            rng.below(7) as i64 - 3
        }
    };
    let qty = |rng: &mut Rng| -> u64 {
        match (dense, rng.below(100)) {
            (true, 0..=79) => 1 + rng.below(3),
            (true, 80..=87) => (1 << 62) + rng.below(2),
            (true, 88..=94) => u64::MAX - rng.below(2),
            (false, 0..=64) => 1 + rng.below(10),
            (false, 65..=76) => (1 << 62) + rng.below(1000),
            (false, 77..=85) => u64::MAX - rng.below(3),
            (false, 86..=91) => (1 << 53) + rng.below(3),
            _ => 0,
        }
    };
    let op_weights: &[u64] = if dense {
        &[45, 10, 25, 2, 5, 4, 3]
    } else {
        &[50, 12, 16, 2, 5, 4, 3]
    };
    for _ in 0..ops {
        let instrument = if rng.percent(12) {
            rng.pick(&others)
        } else {
            rng.pick(&registered)
        };
        let order_id = rng.pick(&order_ids);
        let command = match rng.weighted(op_weights) {
            0 => {
                let side = if rng.percent(50) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let kind = OrderKind::ALL[rng.weighted(&[50, 10, 10, 10, 20])];
                let price = if kind.has_price() { price(&mut rng) } else { 0 };
                Command::Add(Order::new(
                    order_id,
                    instrument,
                    side,
                    kind,
                    price,
                    qty(&mut rng),
                ))
            }
            1 => Command::Cancel {
                instrument_id: instrument,
                order_id,
            },
            2 => Command::Modify {
                instrument_id: instrument,
                order_id,
                price: price(&mut rng),
                qty: qty(&mut rng),
            },
            3 => Command::Halt {
                instrument_id: instrument,
            },
            4 => Command::Resume {
                instrument_id: instrument,
            },
            5 => Command::Status {
                instrument_id: instrument,
            },
            _ => Command::Snapshot {
                instrument_id: instrument,
            },
        };
        if rng.percent(3) {
            text.push_str(&format!("# comment {}{eol}", rng.next()));
        }
        if rng.percent(2) {
            text.push_str(eol);
        }
        text.push_str(&flow_line(&mut rng, &command));
        text.push_str(eol);
        commands.push(command);
    }
    let (instruments_arg, registered) = if restrict {
        let arg: Vec<String> = registered.iter().map(|&i| id_text(&mut rng, i)).collect();
        (Some(arg.join(",")), Some(registered.to_vec()))
    } else {
        (None, None)
    };
    RandomFlow {
        text: text.into_bytes(),
        commands,
        instruments_arg,
        registered,
    }
}

impl RandomFlow {
    fn args(&self) -> Vec<&str> {
        match &self.instruments_arg {
            Some(list) => vec!["--instruments", list],
            None => vec![],
        }
    }
}

#[test]
fn random_flows_match_the_reference_book_per_instrument() {
    let mut totals = [0usize; 2];
    for seed in 1..=8u64 {
        let restrict = seed % 2 == 1;
        let flow = random_flow(seed, 400, restrict);
        let expected = reference_events(&flow.commands, flow.registered.as_deref());
        // The default engine on every seed, the direct one on every other.
        for engine in ENGINES.iter().take(if seed % 2 == 0 { 2 } else { 1 }) {
            let mut args = flow.args();
            args.extend(*engine);
            let run = replay_bytes(&flow.text, &args);
            assert_eq!(
                run.status,
                Some(0),
                "seed {seed} {engine:?}: stderr {:?}",
                run.stderr
            );
            let actual = decode_stream(&run.stdout);
            assert_same_per_instrument(&actual, &expected, &format!("seed {seed} {engine:?}"));
        }
        // The mix is rich enough to mean something.
        let count = |name: &str| expected.iter().filter(|e| e.type_name() == name).count();
        for name in [
            "accepted", "rejected", "trade", "modified", "status", "snapshot", "halted",
        ] {
            assert!(count(name) > 0, "seed {seed}: no {name} events");
        }
        let not_registered = expected
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    OrderbookResult::Rejected {
                        reason: RejectReason::InstrumentNotRegistered,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(not_registered > 0, restrict, "seed {seed}");
        let huge_status = expected.iter().any(|e| {
            matches!(e, OrderbookResult::Status { status, .. }
                if status.best_bid_qty > u128::from(u64::MAX) || status.best_ask_qty > u128::from(u64::MAX))
        });
        totals[usize::from(huge_status)] += 1;
    }
    assert!(
        totals[1] > 0,
        "no seed reached a level total above u64::MAX"
    );
}

#[test]
fn every_op_line_yields_its_event() {
    // Each op yields exactly one "primary" event (accepted/modified/cancelled/halted/
    // resumed/status/snapshot, or a reject naming the op); trades and expiries come on top.
    for (seed, restrict) in [(101, false), (102, true)] {
        let flow = random_flow(seed, 300, restrict);
        let text = String::from_utf8(flow.text.clone()).unwrap();
        let op_lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && *l != HEADER)
            .collect();
        assert_eq!(op_lines.len(), 300);
        let run = replay_bytes(&flow.text, &flow.args());
        assert_eq!(run.status, Some(0), "stderr {:?}", run.stderr);
        let events = decode_stream(&run.stdout);
        assert!(events.len() >= op_lines.len());
        for op in Op::ALL {
            let lines = op_lines
                .iter()
                .filter(|l| l.split(',').next() == Some(op.as_str()))
                .count();
            let primary = events
                .iter()
                .filter(|e| match (op, e) {
                    (_, OrderbookResult::Rejected { op: o, .. }) => *o == op,
                    (Op::Add, OrderbookResult::Accepted { .. })
                    | (Op::Cancel, OrderbookResult::Cancelled { .. })
                    | (Op::Modify, OrderbookResult::Modified { .. })
                    | (Op::Halt, OrderbookResult::Halted { .. })
                    | (Op::Resume, OrderbookResult::Resumed { .. })
                    | (Op::Status, OrderbookResult::Status { .. })
                    | (Op::Snapshot, OrderbookResult::Snapshot { .. }) => true,
                    _ => false,
                })
                .count();
            assert_eq!(primary, lines, "seed {seed}: {op} lines vs their events");
        }
    }
}

/// A random flow on one instrument in which no op is rejected (each candidate op is tried
/// on a copy of the reference book and kept only if it gives no reject): its events are
/// fully ordered by the contract, so every run must write the same bytes.
fn reject_free_flow(seed: u64, ops: usize) -> (Vec<u8>, Vec<OrderbookResult>) {
    let mut rng = Rng(seed ^ 0x0DDB_1A5E_5BAD_5EED);
    let instrument = id(0x5EED_0000_0000_0000_0000_0000_0000_0001);
    let mut book = NaiveBook::new(instrument);
    let mut text = format!("{HEADER}\n");
    let mut events = Vec::new();
    let mut next_id = 1u128;
    let mut kept = 0;
    while kept < ops {
        let qty = match rng.below(10) {
            0 => u64::MAX - rng.below(2),
            1 => (1 << 62) + rng.below(5),
            _ => 1 + rng.below(5),
        };
        let price = rng.below(5) as i64 - 2;
        let candidates: Vec<Command> = match rng.weighted(&[60, 10, 15, 3, 5, 3]) {
            0 => {
                next_id += 1;
                let side = if rng.percent(50) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let kind = OrderKind::ALL[rng.weighted(&[50, 10, 10, 10, 20])];
                vec![Command::Add(Order::new(
                    id(next_id),
                    instrument,
                    side,
                    kind,
                    if kind.has_price() { price } else { 0 },
                    qty,
                ))]
            }
            1 => vec![Command::Cancel {
                instrument_id: instrument,
                order_id: id(1 + u128::from(rng.below(next_id as u64))),
            }],
            2 => vec![Command::Modify {
                instrument_id: instrument,
                order_id: id(1 + u128::from(rng.below(next_id as u64))),
                price,
                qty,
            }],
            3 => vec![
                Command::Halt {
                    instrument_id: instrument,
                },
                Command::Snapshot {
                    instrument_id: instrument,
                },
                Command::Resume {
                    instrument_id: instrument,
                },
            ],
            4 => vec![Command::Status {
                instrument_id: instrument,
            }],
            _ => vec![Command::Snapshot {
                instrument_id: instrument,
            }],
        };
        let mut trial = book.clone();
        let produced: Vec<OrderbookResult> =
            candidates.iter().flat_map(|c| trial.apply(c)).collect();
        if produced
            .iter()
            .any(|e| matches!(e, OrderbookResult::Rejected { .. }))
        {
            continue;
        }
        book = trial;
        events.extend(produced.into_iter().map(seven_column_view));
        for command in &candidates {
            text.push_str(&flow_line(&mut rng, command));
            text.push('\n');
        }
        kept += candidates.len();
    }
    (text.into_bytes(), events)
}

/// The engines `replay` offers: the default (the pipeline) and `--engine direct`.
const ENGINES: [&[&str]; 2] = [&[], &["--engine", "direct"]];

#[test]
fn the_same_input_gives_the_same_events() {
    // One instrument, no rejects: the contract fixes every event's place, so the bytes of
    // two runs must be identical, with either engine.
    let (text, expected) = reject_free_flow(5, 300);
    assert!(expected.len() > 300);
    for engine in ENGINES {
        let first = replay_bytes(&text, engine);
        let second = replay_bytes(&text, engine);
        assert_eq!(first.status, Some(0), "{engine:?}: {:?}", first.stderr);
        assert_eq!(second.status, Some(0), "{engine:?}: {:?}", second.stderr);
        assert_eq!(decode_stream(&first.stdout), expected, "{engine:?}");
        assert!(
            first.stdout == second.stdout,
            "{engine:?}: two replays of one single-instrument flow differ"
        );
    }

    // Several instruments: the interleaving of instruments may differ between runs (the
    // contract allows it), each instrument's events may not.
    let flow = random_flow(7, 400, true);
    let mut args = flow.args();
    let first = replay_bytes(&flow.text, &args);
    let second = replay_bytes(&flow.text, &args);
    assert_eq!(first.status, Some(0), "{:?}", first.stderr);
    assert_eq!(second.status, Some(0), "{:?}", second.stderr);
    assert_same_per_instrument(
        &decode_stream(&second.stdout),
        &decode_stream(&first.stdout),
        "two replays of one flow",
    );
    // The direct engine runs strictly in input order: there, the bytes are identical.
    args.extend(ENGINES[1]);
    let first = replay_bytes(&flow.text, &args);
    let second = replay_bytes(&flow.text, &args);
    assert_eq!(first.status, Some(0), "{:?}", first.stderr);
    assert!(first.stdout.len() > 1000);
    assert!(
        first.stdout == second.stdout,
        "two direct replays of one flow differ"
    );
}

// ---------------------------------------------------------------------------------------
// Where input comes from and output goes
// ---------------------------------------------------------------------------------------

/// Runs `flow` read from a file (to stdout), with `--output FILE`, with `-o FILE`, from
/// stdin (`-`), and from stdin with `--output FILE`: the five outputs, in that order.
fn five_ways(flow: &[u8], extra: &[&str]) -> Vec<Vec<u8>> {
    let dir = TempDir::new("io");
    let input = dir.write("flow.csv", flow);
    let mut outputs = Vec::new();
    let run_with = |source: &OsStr, out: Option<(&str, &str)>, stdin: Option<&[u8]>| {
        let mut args: Vec<&OsStr> = vec![source];
        let out_path = out.map(|(flag, name)| (flag, dir.join(name)));
        if let Some((flag, path)) = &out_path {
            args.push(OsStr::new(flag));
            args.push(path.as_os_str());
        }
        args.extend(extra.iter().map(OsStr::new));
        let run = ringbook(&args, stdin);
        assert_eq!(run.status, Some(0), "{args:?}: {:?}", run.stderr);
        match out_path {
            None => run.stdout,
            Some((flag, path)) => {
                assert!(run.stdout.is_empty(), "{flag}: events also went to stdout");
                fs::read(&path).unwrap_or_else(|e| panic!("{flag}: no output file: {e}"))
            }
        }
    };
    outputs.push(run_with(input.as_os_str(), None, None));
    outputs.push(run_with(
        input.as_os_str(),
        Some(("--output", "a.jsonl")),
        None,
    ));
    outputs.push(run_with(input.as_os_str(), Some(("-o", "b.jsonl")), None));
    outputs.push(run_with(OsStr::new("-"), None, Some(flow)));
    outputs.push(run_with(
        OsStr::new("-"),
        Some(("--output", "c.jsonl")),
        Some(flow),
    ));
    outputs
}

const WAYS: [&str; 5] = [
    "file to stdout",
    "--output",
    "-o",
    "stdin",
    "stdin + --output",
];

#[test]
fn output_file_and_stdin_give_the_same_events_as_stdout() {
    // Fully ordered by the contract: the same bytes every way.
    let (text, expected) = reject_free_flow(9, 200);
    let outputs = five_ways(&text, &[]);
    assert_eq!(decode_stream(&outputs[0]), expected);
    for (way, bytes) in WAYS.iter().zip(&outputs).skip(1) {
        assert!(bytes == &outputs[0], "{way}: differs from file to stdout");
    }

    // Several instruments, with and without --instruments: the same events per instrument
    // every way, and the reference's.
    for restrict in [false, true] {
        let flow = random_flow(11, 300, restrict);
        let expected = reference_events(&flow.commands, flow.registered.as_deref());
        for (way, bytes) in WAYS.iter().zip(five_ways(&flow.text, &flow.args())) {
            assert_same_per_instrument(
                &decode_stream(&bytes),
                &expected,
                &format!("{way}, restrict {restrict}"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Byte order marks, a final bare carriage return, huge fields
// ---------------------------------------------------------------------------------------

#[test]
fn a_byte_order_mark_and_a_final_bare_carriage_return_are_accepted() {
    let lf = format!(
        "{HEADER}\nadd,1,1,buy,limit,5,3\nadd,2,2,sell,limit,6,1\nstatus,1,,,,,\nhalt,2,,,,,\n"
    );
    let (_, expected) = replay_ok(&lf, &["--engine", "direct"]);
    assert_eq!(expected.len(), 4);
    // A spreadsheet's CRLF export: a byte order mark first, the last line cut after its `\r`.
    let crlf = format!("\u{FEFF}{}", lf.replace('\n', "\r\n"));
    let cut = crlf.strip_suffix('\n').unwrap();
    for flow in [&crlf[..], cut] {
        for engine in ["pipeline", "direct"] {
            let (_, events) = replay_ok(flow, &["--engine", engine]);
            assert_same_per_instrument(&events, &expected, &format!("{engine}: {flow:?}"));
        }
        // From stdin the pipeline spools the flow and scans it for instruments.
        let run = ringbook(&["-"], Some(flow.as_bytes()));
        assert_eq!(run.status, Some(0), "stdin: {}", run.stderr);
        assert_same_per_instrument(&decode_stream(&run.stdout), &expected, "stdin");
    }
}

#[test]
fn a_huge_malformed_field_is_quoted_by_a_short_prefix_and_its_length() {
    let huge = "x".repeat(60_000); // as long as a field of a line may be
    for (bad, quoted) in [
        (format!("add,1,101,buy,limit,1,{huge}"), "qty: \"xxxx"),
        (
            format!("add,1,101,{huge},limit,1,1"),
            "side: expected buy or sell, got \"xxxx",
        ),
        (format!("{huge},1,,,,,"), "op: expected add"),
    ] {
        let run = replay_bytes(&flow_with_bad_line_8(bad.as_bytes(), "\n"), &[]);
        if let Some(problem) = check_malformed(&run, 8, &events_before_line_8()) {
            panic!("{problem:.400}");
        }
        assert!(
            run.stderr.len() < 300,
            "{} bytes on stderr: {:.300}",
            run.stderr.len(),
            run.stderr
        );
        assert!(run.stderr.contains(quoted), "{}", run.stderr);
        assert!(run.stderr.contains("... (60000 bytes)"), "{}", run.stderr);
    }
}

/// A line past the longest a flow file may have (no line break in 10 MB) stops the run
/// with its line number, after the events of the lines before it.
#[test]
fn an_overlong_line_stops_the_run_with_its_number() {
    let huge = "x".repeat(10 << 20);
    let run = replay_bytes(&flow_with_bad_line_8(huge.as_bytes(), "\n"), &[]);
    if let Some(problem) = check_malformed(&run, 8, &events_before_line_8()) {
        panic!("{problem:.400}");
    }
    assert!(
        run.stderr.contains("line 8: longer than 65536 bytes"),
        "{:.300}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------
// --instruments-file
// ---------------------------------------------------------------------------------------

#[test]
fn instruments_file_registers_exactly_its_list() {
    let flow = format!(
        "{HEADER}\nadd,7,1,buy,limit,5,1\nadd,8,1,buy,limit,5,1\nhalt,00000000-0000-0000-0000-00000000000a,,,,,\nstatus,11,,,,,\n"
    );
    let (_, expected) = replay_ok(&flow, &["--instruments", "7,10"]);
    let dir = TempDir::new("instruments");
    // A spreadsheet export: byte order mark, CRLF, a comment, a header, symbols.
    let file = dir.write(
        "instruments.csv",
        b"\xEF\xBB\xBF# desk A\r\ninstrument,symbol\r\n\r\n7,AAA\r\n00000000-0000-0000-0000-00000000000A , BBB\r",
    );
    for engine in ["pipeline", "direct"] {
        let (_, events) = replay_ok(
            &flow,
            &[
                "--instruments-file",
                file.to_str().unwrap(),
                "--engine",
                engine,
            ],
        );
        assert_same_per_instrument(&events, &expected, engine);
    }
    assert!(
        expected
            .iter()
            .filter(|e| matches!(e, OrderbookResult::Rejected { .. }))
            .count()
            == 2,
        "instruments 8 and 11 are not registered: {expected:?}"
    );
}

#[test]
fn ten_thousand_uuid_instruments_fit_in_a_file() {
    let ids: Vec<Uuid> = (1..=10_000u128)
        .map(|n| Uuid::from_u128(n << 64 | 0x5eed))
        .collect();
    let dir = TempDir::new("instruments");
    let list: String = ids.iter().map(|id| format!("{id}\n")).collect();
    let file = dir.write("ids.txt", list.as_bytes());
    let flow = format!(
        "{HEADER}\nadd,{},1,buy,limit,5,1\nstatus,{},,,,,\n",
        ids[9_999], ids[0]
    );
    let run = replay_bytes(
        flow.as_bytes(),
        &[
            "--instruments-file",
            file.to_str().unwrap(),
            "--ring-size",
            "64",
            "--summary",
        ],
    );
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("replayed 2 commands on 10000 instruments"),
        "{}",
        run.stderr
    );
    let events = decode_stream(&run.stdout);
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, OrderbookResult::Rejected { .. }))
    );
}

#[test]
fn a_bad_instruments_file_is_refused_with_its_name_and_line() {
    let flow = format!("{HEADER}\nstatus,1,,,,,\n");
    let dir = TempDir::new("instruments");
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "dup.txt",
            b"id\n1\n# again\n00000000-0000-0000-0000-000000000001\n",
            "line 4: instrument 00000000-0000-0000-0000-000000000001 is listed twice (first on line 2)",
        ),
        (
            "bad.txt",
            b"1,ONE\n\n2,TWO,extra\n",
            "line 3: expected id or id,symbol, got 3 fields",
        ),
        (
            "id.txt",
            b"1\nbanana\n",
            "line 2: instrument: expected a canonical UUID or a decimal integer, got \"banana\"",
        ),
        (
            "empty.txt",
            b"# nothing yet\n",
            "no instruments listed (1 lines)",
        ),
        (
            "symbols.txt",
            b"1,X\n2,X\n",
            "line 2: symbol \"X\" is listed twice (first on line 1)",
        ),
    ];
    for (name, contents, reason) in cases {
        let file = dir.write(name, contents);
        let run = replay_bytes(
            flow.as_bytes(),
            &["--instruments-file", file.to_str().unwrap()],
        );
        assert_eq!(run.status, Some(2), "{name}: {}", run.stderr);
        let expected = format!("instruments file {}: {reason}", file.display());
        assert!(run.stderr.contains(&expected), "{name}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{name}: nothing runs");
    }
    let missing = dir.join("missing.txt");
    let run = replay_bytes(
        flow.as_bytes(),
        &["--instruments-file", missing.to_str().unwrap()],
    );
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "cannot open instruments file {}",
            missing.display()
        )),
        "{}",
        run.stderr
    );
    let file = dir.write("ok.txt", b"1\n");
    let run = replay_bytes(
        flow.as_bytes(),
        &[
            "--instruments-file",
            file.to_str().unwrap(),
            "--instruments",
            "1",
        ],
    );
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}
