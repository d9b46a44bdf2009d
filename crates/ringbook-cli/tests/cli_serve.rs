//! `ringbook serve` as a process on 127.0.0.1: the listening line, OUCH sessions, a
//! graceful stop on SIGTERM (End of Day, End of Session, state hash), logins checked
//! against `--users`, the loopback rule without it, a restart with `--journal`, and a
//! flow sent through OUCH giving the state hash and fills of `ringbook replay` of the same
//! commands.

use std::net::SocketAddr;
use std::process::Command as Process;
use std::time::Duration;

use ringbook::flow::{write_long_flow_header, write_long_flow_line};
use ringbook::{Command, DirectEngine, Order, OrderKind, OrderbookResult, Side, Uuid};
use ringbook_gateway::order_entry::engine_order::engine_owner_id;
use ringbook_gateway::order_entry::engine_order_id;
use ringbook_gateway::soup::{ClientError, ServerPacket};
use ringbook_testkit::ouch_client::{encode, enter_order, login, next_sequenced};
use ringbook_testkit::rng::Rng;
use ringbook_testkit::scratch::TempDir;
use ringbook_testkit::serve_process::{ServeProcess, serve_refused};
use ringbook_wire::ouch::inbound::{CancelOrder, Inbound, ReplaceOrder};
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::ouch::{Appendage, cl_ord_id};
use ringbook_wire::soup::login::LoginRejectReason;

fn serve(args: &[&str]) -> ServeProcess {
    ServeProcess::spawn(
        env!("CARGO_BIN_EXE_ringbook"),
        args,
        &["ouch listening on "],
    )
}

fn enter(urn: u32, side: u8, qty: u32, sym: &str, price: u64, tif: u8) -> Vec<u8> {
    encode(&Inbound::EnterOrder(enter_order(
        urn, side, qty, sym, price, tif, "t",
    )))
}

fn symbols(dir: &TempDir) -> String {
    dir.write("symbols.csv", b"symbol,instrument\nAAPL,1\nMSFT,2\n")
        .display()
        .to_string()
}

#[test]
fn serve_answers_ouch_and_stops_on_sigterm_with_end_of_day_and_end_of_session() {
    let dir = TempDir::new("serve-basic");
    let server = serve(&[
        "--instruments-file",
        &symbols(&dir),
        "--ouch",
        "127.0.0.1:0",
    ]);
    let mut c = login(server.addr(0), "u1", "x", 1).unwrap();
    assert!(matches!(
        Outbound::decode(&next_sequenced(&mut c)).unwrap(),
        Outbound::SystemEvent {
            event_code: b'S',
            ..
        }
    ));
    c.send(&enter(1, b'B', 10, "AAPL", 100, b'0')).unwrap();
    assert!(matches!(
        Outbound::decode(&next_sequenced(&mut c)).unwrap(),
        Outbound::OrderAccepted {
            user_ref_num: 1,
            ..
        }
    ));
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
    assert!(stderr.contains("state hash: "), "{stderr}");
    assert!(stderr.contains("any login is accepted"), "{stderr}");
    assert!(matches!(
        Outbound::decode(&next_sequenced(&mut c)).unwrap(),
        Outbound::SystemEvent {
            event_code: b'E',
            ..
        }
    ));
    loop {
        match c.recv().unwrap() {
            ServerPacket::EndOfSession => break,
            ServerPacket::Heartbeat => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn logins_are_checked_against_the_users_file_and_without_one_only_loopback_may_be_bound() {
    let dir = TempDir::new("serve-users");
    let symbols = symbols(&dir);
    serve_refused(
        env!("CARGO_BIN_EXE_ringbook"),
        &["--instruments-file", &symbols, "--ouch", "0.0.0.0:0"],
        1,
        "only a loopback address",
    );

    let users = dir
        .write("users.csv", b"username,password\nalice,secret\n")
        .display()
        .to_string();
    let server = serve(&[
        "--instruments-file",
        &symbols,
        "--ouch",
        "127.0.0.1:0",
        "--users",
        &users,
    ]);
    assert!(matches!(
        login(server.addr(0), "alice", "wrong", 1),
        Err(ClientError::LoginRejected(LoginRejectReason::NotAuthorized))
    ));
    assert!(matches!(
        login(server.addr(0), "eve", "secret", 1),
        Err(ClientError::LoginRejected(LoginRejectReason::NotAuthorized))
    ));
    let mut ok = login(server.addr(0), "alice", "secret", 1).unwrap();
    assert!(matches!(
        Outbound::decode(&next_sequenced(&mut ok)).unwrap(),
        Outbound::SystemEvent { .. }
    ));
    let (stopped, stderr) = server.stop();
    assert!(stopped, "{stderr}");

    let bad = dir
        .write("bad.csv", b"alice,secret\nthisnameistoolong,x\n")
        .display()
        .to_string();
    serve_refused(
        env!("CARGO_BIN_EXE_ringbook"),
        &[
            "--instruments-file",
            &symbols,
            "--ouch",
            "127.0.0.1:0",
            "--users",
            &bad,
        ],
        2,
        "line 2",
    );
    let bad_symbols = dir
        .write("bad-symbols.csv", b"AAPL,1\nAAPL,2\n")
        .display()
        .to_string();
    serve_refused(
        env!("CARGO_BIN_EXE_ringbook"),
        &["--instruments-file", &bad_symbols, "--ouch", "127.0.0.1:0"],
        2,
        "line 2: symbol \"AAPL\" is listed twice",
    );
}

#[test]
fn after_a_restart_with_a_journal_a_relogin_gets_every_message_from_its_sequence_number() {
    let dir = TempDir::new("serve-journal");
    let symbols = symbols(&dir);
    let journal = dir.join("journal").display().to_string();
    let args = [
        "--instruments-file",
        &symbols,
        "--ouch",
        "127.0.0.1:0",
        "--journal",
        &journal,
    ];
    let server = serve(&args);
    let mut c = login(server.addr(0), "j", "x", 1).unwrap();
    next_sequenced(&mut c);
    c.send(&enter(1, b'B', 10, "AAPL", 100, b'0')).unwrap();
    c.send(&enter(2, b'S', 4, "AAPL", 100, b'0')).unwrap();
    let before: Vec<Vec<u8>> = (0..4).map(|_| next_sequenced(&mut c)).collect();
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
    drop(c);

    let server = serve(&args);
    let mut c = login(server.addr(0), "j", "x", 2).unwrap();
    for expected in &before {
        assert_eq!(&next_sequenced(&mut c), expected);
    }
    // Then End of Day from the first run's stop.
    assert!(matches!(
        Outbound::decode(&next_sequenced(&mut c)).unwrap(),
        Outbound::SystemEvent {
            event_code: b'E',
            ..
        }
    ));
    // Order 1 rests with 6 open after the restart.
    let mut cancel = Vec::new();
    Inbound::CancelOrder(CancelOrder {
        user_ref_num: 1,
        quantity: 0,
        appendage: Appendage::EMPTY,
    })
    .encode(&mut cancel);
    c.send(&cancel).unwrap();
    assert!(matches!(
        Outbound::decode(&next_sequenced(&mut c)).unwrap(),
        Outbound::OrderCanceled {
            user_ref_num: 1,
            quantity: 6,
            ..
        }
    ));
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
    assert!(stderr.contains("recovered: "), "{stderr}");
}

#[test]
fn a_flow_through_ouch_gives_the_state_hash_and_fills_of_ringbook_replay() {
    let dir = TempDir::new("serve-replay");
    let server = serve(&[
        "--instruments-file",
        &symbols(&dir),
        "--ouch",
        "127.0.0.1:0",
    ]);
    let user = "flow";
    // Every order a user enters over OUCH carries the user's engine owner (docs/OUCH.md), so
    // the replayed flow is in the long form with that owner on each add.
    let owner = engine_owner_id(user);
    let mut c = login(server.addr(0), user, "x", 1).unwrap();
    let instruments = [Uuid::from_u128(1), Uuid::from_u128(2)];
    let syms = ["AAPL", "MSFT"];
    // The test's own engine says which orders rest, so every request it sends is one
    // the gateway acts on; the commands it applies are the flow replay runs.
    let mut direct = DirectEngine::new(instruments);
    let mut flow = Vec::new();
    write_long_flow_header(&mut flow).unwrap();
    let mut rng = Rng::new(11);
    let mut next_urn = 1u32;
    let mut entered: Vec<(u32, usize)> = Vec::new();
    let mut sent = 0;
    // Executions read so far (taker side), and the replacements seen replaced.
    let mut taker_fills = Vec::new();
    let mut replaced = std::collections::HashSet::new();
    // (taker, maker, qty) of every trade applied directly, and each order's shares
    // executed on its replace chain before it (a replace's Quantity is the chain's total).
    let mut trades: Vec<(Uuid, Uuid, u64)> = Vec::new();
    let mut chain_base: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    for _ in 0..1_500 {
        entered.retain(|&(urn, s)| {
            direct
                .book(&instruments[s])
                .unwrap()
                .order_qty(&engine_order_id(user, urn))
                .is_some()
        });
        let roll = rng.below(100);
        let command_list: Vec<Command> = if roll < 65 || entered.is_empty() {
            let s = rng.below(2) as usize;
            let side = if rng.below(2) == 0 { b'B' } else { b'S' };
            let price = 95 + rng.below(11);
            let qty = 1 + rng.below(50) as u32;
            let ioc = rng.below(10) == 0;
            let urn = next_urn;
            next_urn += 1;
            c.queue(&enter(
                urn,
                side,
                qty,
                syms[s],
                price,
                if ioc { b'3' } else { b'0' },
            ))
            .unwrap();
            if !ioc {
                entered.push((urn, s));
            }
            let side = if side == b'B' { Side::Buy } else { Side::Sell };
            let kind = if ioc {
                OrderKind::Ioc
            } else {
                OrderKind::Limit
            };
            vec![Command::Add(
                Order::new(
                    engine_order_id(user, urn),
                    instruments[s],
                    side,
                    kind,
                    price as i64,
                    u64::from(qty),
                )
                .with_owner(owner, None),
            )]
        } else {
            let (urn, s) = entered[rng.below(entered.len() as u64) as usize];
            let id = engine_order_id(user, urn);
            let (side, _, _) = direct
                .book(&instruments[s])
                .unwrap()
                .resting_order(&id)
                .unwrap();
            if roll < 85 {
                let mut m = Vec::new();
                Inbound::CancelOrder(CancelOrder {
                    user_ref_num: urn,
                    quantity: 0,
                    appendage: Appendage::EMPTY,
                })
                .encode(&mut m);
                c.queue(&m).unwrap();
                vec![Command::Cancel {
                    instrument_id: instruments[s],
                    order_id: id,
                }]
            } else {
                let new = next_urn;
                next_urn += 1;
                let price = 95 + rng.below(11);
                let qty = 1 + rng.below(50);
                let executed = chain_base.get(&urn).copied().unwrap_or(0)
                    + trades
                        .iter()
                        .filter(|t| t.0 == id || t.1 == id)
                        .map(|t| t.2)
                        .sum::<u64>();
                chain_base.insert(new, executed);
                let mut m = Vec::new();
                Inbound::ReplaceOrder(ReplaceOrder {
                    orig_user_ref_num: urn,
                    user_ref_num: new,
                    quantity: (executed + qty) as u32,
                    price,
                    time_in_force: b'0',
                    display: b'Y',
                    intermarket_sweep: b'N',
                    cl_ord_id: cl_ord_id("r").unwrap(),
                    appendage: Appendage::EMPTY,
                })
                .encode(&mut m);
                c.queue(&m).unwrap();
                c.flush().unwrap();
                // The replacement is added once the old order's cancel is confirmed:
                // read up to its Order Replaced, so that the next request follows it.
                loop {
                    match Outbound::decode(&next_sequenced(&mut c)).unwrap() {
                        Outbound::OrderExecuted {
                            quantity,
                            price,
                            liquidity_flag: b'R',
                            ..
                        } => taker_fills.push((price, u64::from(quantity))),
                        Outbound::OrderReplaced { user_ref_num, .. } if user_ref_num == new => {
                            replaced.insert(new);
                            break;
                        }
                        Outbound::Rejected { .. } | Outbound::CancelReject { .. } => {
                            panic!("a request was refused")
                        }
                        _ => {}
                    }
                }
                entered.push((new, s));
                vec![
                    Command::Cancel {
                        instrument_id: instruments[s],
                        order_id: id,
                    },
                    Command::Add(
                        Order::new(
                            engine_order_id(user, new),
                            instruments[s],
                            side,
                            OrderKind::Limit,
                            price as i64,
                            qty,
                        )
                        .with_owner(owner, None),
                    ),
                ]
            }
        };
        for command in command_list {
            direct.apply(&command, &mut |r| {
                if let OrderbookResult::Trade {
                    taker_order_id,
                    maker_order_id,
                    qty,
                    ..
                } = r
                {
                    trades.push((taker_order_id, maker_order_id, qty));
                }
            });
            write_long_flow_line(&mut flow, &command).unwrap();
        }
        sent += 1;
        if sent % 50 == 0 {
            c.flush().unwrap();
        }
    }
    c.flush().unwrap();
    // Read until every request is answered: count executions meanwhile.
    let last_urn = next_urn - 1;
    let mut seen_final = replaced.contains(&last_urn);
    c.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    loop {
        match c.recv() {
            Ok(ServerPacket::Sequenced(m)) => match Outbound::decode(m).unwrap() {
                Outbound::OrderExecuted {
                    quantity,
                    price,
                    liquidity_flag: b'R',
                    ..
                } => taker_fills.push((price, u64::from(quantity))),
                Outbound::OrderAccepted { user_ref_num, .. }
                | Outbound::OrderReplaced { user_ref_num, .. }
                    if user_ref_num == last_urn =>
                {
                    seen_final = true
                }
                Outbound::Rejected { .. } | Outbound::CancelReject { .. } => {
                    panic!("a request was refused")
                }
                _ => {}
            },
            Ok(_) => {}
            Err(ClientError::Io(_)) if seen_final => break,
            Err(ClientError::Io(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
    let served_hash = stderr
        .lines()
        .find_map(|l| l.strip_prefix("state hash: "))
        .unwrap()
        .to_string();

    let flow_path = dir.write("flow.csv", &flow);
    let events = dir.join("events.jsonl");
    let out = Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .args([
            "replay",
            &flow_path.display().to_string(),
            "--instruments",
            "1,2",
            "--summary",
            "-o",
            &events.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let replay_stderr = String::from_utf8_lossy(&out.stderr);
    let replay_hash = replay_stderr
        .lines()
        .find_map(|l| l.strip_prefix("state hash: "))
        .unwrap();
    assert_eq!(served_hash, replay_hash);
    assert_eq!(format!("{:016x}", direct.state_hash()), replay_hash);
    // The same fills: every trade of replay's stream, one taker execution each.
    let text = std::fs::read_to_string(&events).unwrap();
    let mut replay_fills: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["type"] == "trade")
                .then(|| (v["price"].as_u64().unwrap(), v["qty"].as_u64().unwrap()))
        })
        .collect();
    assert!(replay_fills.len() > 50, "the flow trades");
    replay_fills.sort_unstable();
    taker_fills.sort_unstable();
    assert_eq!(taker_fills, replay_fills);
}

/// Runs `ringbook client` against `addr` with `args`; the Answered column of the table
/// row starting with `row` (sessions).
fn client_answered(addr: SocketAddr, symbols: &str, args: &[&str], row: &str) -> u64 {
    let out = Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .args([
            "client",
            "--ouch",
            &addr.to_string(),
            "--instruments-file",
            symbols,
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with(row))
        .unwrap_or_else(|| panic!("no row {row:?} in {text}"));
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[test]
fn ringbook_client_loads_a_server_and_reports_wire_to_wire_latency() {
    let dir = TempDir::new("serve-client");
    let symbols = symbols(&dir);
    let server = serve(&["--instruments-file", &symbols, "--ouch", "127.0.0.1:0"]);
    let hgrm = dir.join("hgrm");
    let plot = dir.join("latency.svg");
    let out = Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .args([
            "client",
            "--ouch",
            &server.addr(0).to_string(),
            "--instruments-file",
            &symbols,
        ])
        .args([
            "--sessions",
            "2",
            "--orders",
            "2000",
            "--rate",
            "20000",
            "--seed",
            "3",
        ])
        .args([
            "--hgrm-dir",
            &hgrm.display().to_string(),
            "--plot",
            &plot.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 session(s)"), "{text}");
    assert!(text.contains("p99"), "{text}");
    // The second line of the table: sessions, rate, answered (> 0), percentiles.
    let row = text.lines().find(|l| l.starts_with("2 ")).unwrap();
    let answered: u64 = row.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(answered > 1_000, "{text}");
    assert!(
        std::fs::read_to_string(hgrm.join("client-2s.hgrm"))
            .unwrap()
            .contains("Percentile")
    );
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
    // A second run against the same server takes UserRefNums past the first run's.
    let answered = client_answered(
        server.addr(0),
        &symbols,
        &["--sessions", "2", "--orders", "500"],
        "2 ",
    );
    assert!(answered > 250, "{answered}");
    // Any flow file `ringbook gen` writes.
    let flow = dir.join("gen.csv");
    let generated = Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .args([
            "gen",
            "--seed",
            "5",
            "--instruments",
            "2",
            "--orders",
            "1000",
            "--output",
            &flow.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(generated.status.success(), "{generated:?}");
    let answered = client_answered(
        server.addr(0),
        &symbols,
        &["--flow", &flow.display().to_string()],
        "1 ",
    );
    assert!(answered > 500, "{answered}");
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
}

/// The threads of process `pid` now (0 once it has exited).
fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, Iterator::count)
}

#[test]
fn ringbook_client_runs_any_number_of_sessions_on_two_threads_and_reports_its_send_lateness() {
    let dir = TempDir::new("serve-client-threads");
    let symbols = symbols(&dir);
    let server = serve(&["--instruments-file", &symbols, "--ouch", "127.0.0.1:0"]);
    let mut child = Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .args([
            "client",
            "--ouch",
            &server.addr(0).to_string(),
            "--instruments-file",
            &symbols,
        ])
        .args(["--sessions", "8", "--orders", "8000", "--rate", "20000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A pacer and one receiver for every session: not a receiver thread per session.
    let mut most = 0;
    while child.try_wait().unwrap().is_none() {
        most = most.max(threads_of(child.id()));
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        most >= 2,
        "the run was not seen: {most} threads at most\n{text}"
    );
    assert!(most <= 2, "{most} threads for 8 sessions\n{text}");
    let row = text.lines().find(|l| l.starts_with("8 ")).unwrap();
    let answered: u64 = row.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(answered > 7_000, "{text}");
    // The client's own share of the latency, from the same run.
    let lateness = text
        .lines()
        .find(|l| l.starts_with("send lateness: p50 "))
        .unwrap_or_else(|| panic!("no send lateness in {text}"));
    assert!(
        lateness.contains("p99 ") && lateness.contains("max "),
        "{lateness}"
    );
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
}
