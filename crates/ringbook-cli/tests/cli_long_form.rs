//! `ringbook replay` and `ringbook gen --long-form` on the long form (issue 22): a
//! generated long-form flow replayed by the binary, with either engine, gives per
//! instrument exactly the naive reference book's events (status and snapshot with the long
//! form's fields); the stream carries the long form's events and fields as the contract
//! writes them; a malformed long-form line stops the run with its number and status 2.

use std::collections::HashMap;
use std::process::Command as Process;

use ringbook::flow::{FlowReader, LONG_FLOW_HEADER};
use ringbook::{Command, OrderbookResult, Uuid};
use ringbook_testkit::jsonl::{decode_stream, stream_lines};
use ringbook_testkit::reference::NaiveBook;
use ringbook_testkit::scratch::TempDir;

fn ringbook(args: &[&str]) -> std::process::Output {
    Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .args(args)
        .output()
        .expect("cannot run the ringbook binary")
}

/// The events of `commands` by the reference, one naive book per instrument.
fn reference(commands: &[Command]) -> HashMap<Uuid, Vec<OrderbookResult>> {
    let mut books: HashMap<Uuid, NaiveBook> = HashMap::new();
    let mut events: HashMap<Uuid, Vec<OrderbookResult>> = HashMap::new();
    for command in commands {
        let id = command.instrument_id();
        let book = books.entry(id).or_insert_with(|| NaiveBook::new(id));
        events.entry(id).or_default().extend(book.apply(command));
    }
    events
}

fn by_instrument(events: Vec<OrderbookResult>) -> HashMap<Uuid, Vec<OrderbookResult>> {
    let mut map: HashMap<Uuid, Vec<OrderbookResult>> = HashMap::new();
    for event in events {
        map.entry(event.instrument_id()).or_default().push(event);
    }
    map
}

#[test]
fn a_generated_long_form_flow_replays_as_the_reference_book_says() {
    let dir = TempDir::new("long-form");
    let flow = dir.path().join("flow.csv");
    let generated = ringbook(&[
        "gen",
        "--long-form",
        "--seed",
        "5",
        "--instruments",
        "3",
        "--orders",
        "3000",
        "--output",
        flow.to_str().unwrap(),
    ]);
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let text = std::fs::read(&flow).unwrap();
    assert!(text.starts_with(LONG_FLOW_HEADER.as_bytes()));
    let commands: Vec<Command> = FlowReader::new(text.as_slice())
        .map(|r| r.unwrap().1)
        .collect();
    // Status and snapshot ops, so the long form's fields are compared too.
    let mut probed = Vec::new();
    for (n, command) in commands.iter().enumerate() {
        probed.push(*command);
        if n % 97 == 0 {
            let instrument_id = command.instrument_id();
            probed.push(Command::Status { instrument_id });
            probed.push(Command::Snapshot { instrument_id });
        }
    }
    let mut file = Vec::new();
    ringbook::flow::write_long_flow_header(&mut file).unwrap();
    for c in &probed {
        ringbook::flow::write_long_flow_line(&mut file, c).unwrap();
    }
    std::fs::write(&flow, &file).unwrap();
    let want = reference(&probed);
    let kinds: std::collections::BTreeSet<&str> = want
        .values()
        .flatten()
        .map(OrderbookResult::type_name)
        .collect();
    for kind in [
        "triggered",
        "mass_cancelled",
        "trade",
        "cancelled",
        "expired",
    ] {
        assert!(kinds.contains(kind), "no {kind} event in the flow");
    }
    for engine in ["pipeline", "direct"] {
        let run = ringbook(&["replay", "--engine", engine, flow.to_str().unwrap()]);
        assert!(
            run.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let got = by_instrument(decode_stream(&run.stdout));
        assert_eq!(got.len(), want.len(), "{engine}");
        for (instrument, events) in &want {
            assert_eq!(
                &got[instrument], events,
                "{engine}: instrument {instrument}"
            );
        }
        // The long form's fields as the contract writes them.
        let lines = stream_lines(&run.stdout);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("\"reason\":\"self_trade_prevention\""))
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("\"reason\":\"mass_cancel\""))
        );
        assert!(
            lines
                .iter()
                .filter(|l| l.contains("\"type\":\"status\""))
                .all(|l| l.contains("\"stops\":") && l.contains("\"last_trade_price\":"))
        );
        assert!(
            lines
                .iter()
                .filter(|l| l.contains("\"type\":\"accepted\"") && l.contains("\"kind\":\"stop"))
                .all(|l| l.contains("\"trigger\":"))
        );
        assert!(!lines.iter().any(|l| l.contains("\"reason\":\"plain\"")));
    }
}

#[test]
fn a_seven_column_flow_has_no_long_form_fields() {
    let dir = TempDir::new("seven");
    let flow = dir.write(
        "flow.csv",
        b"op,instrument,order_id,side,kind,price,qty\nadd,1,1,sell,limit,100,5\nadd,1,2,buy,limit,100,2\nstatus,1,,,,,\nsnapshot,1,,,,,\ncancel,1,1,,,,\n",
    );
    let run = ringbook(&["replay", flow.to_str().unwrap()]);
    assert!(run.status.success());
    let text = String::from_utf8(run.stdout).unwrap();
    for field in ["stops", "last_trade_price", "reason", "trigger", "display"] {
        assert!(!text.contains(&format!("\"{field}\"")), "{field} in {text}");
    }
}

#[test]
fn a_malformed_long_form_line_stops_the_run_with_its_number() {
    let dir = TempDir::new("malformed");
    let flow = dir.write(
        "flow.csv",
        format!(
            "{LONG_FLOW_HEADER}\n# a comment\nadd,1,1,sell,limit,100,5,7,,,2\n\nadd,1,2,buy,limit,100,1,,cancel_both,,\nstatus,1,,,,,,,,,\n"
        )
        .as_bytes(),
    );
    for engine in ["pipeline", "direct"] {
        let run = ringbook(&["replay", "--engine", engine, flow.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(2), "{engine}");
        assert_eq!(
            String::from_utf8_lossy(&run.stderr).trim(),
            "line 5: stp: must be empty without an owner, got \"cancel_both\"",
            "{engine}"
        );
        // The line before it was applied and written.
        let events = decode_stream(&run.stdout);
        assert!(matches!(
            events.as_slice(),
            [OrderbookResult::Accepted { display: Some(d), .. }] if d.get() == 2
        ));
    }
}
