//! `ringbook serve --itch`: a flow sent through OUCH is published on the ITCH feed, and
//! the books a receiver rebuilds from it equal the engine's (a `DirectEngine` given the
//! same commands); prices ITCH cannot carry are rejected at entry with Invalid Price;
//! the feed flags are checked.

use std::time::{Duration, Instant};

use ringbook::{Command, DirectEngine, Order, OrderKind, Side, Uuid};
use ringbook_gateway::feed::{FeedReceiver, RebuiltBooks, ReceiverConfig, snapshot_levels};
use ringbook_gateway::order_entry::engine_order_id;
use ringbook_gateway::soup::ServerPacket;
use ringbook_testkit::ouch_client::{encode, enter_order, login};
use ringbook_testkit::rng::Rng;
use ringbook_testkit::scratch::TempDir;
use ringbook_testkit::serve_process::{ServeProcess, serve_refused};
use ringbook_wire::ouch::Appendage;
use ringbook_wire::ouch::inbound::{CancelOrder, Inbound};
use ringbook_wire::ouch::outbound::Outbound;
use ringbook_wire::ouch::reasons::RejectCode;

/// The ready lines of `ringbook serve --itch`, in order (the third is GLIMPSE's).
const OUCH: usize = 0;
const REREQUEST: usize = 1;

fn serve(args: &[&str]) -> ServeProcess {
    ServeProcess::spawn(
        env!("CARGO_BIN_EXE_ringbook"),
        args,
        &[
            "ouch listening on ",
            "rerequest listening on ",
            "glimpse listening on ",
        ],
    )
}

fn enter(urn: u32, side: u8, qty: u32, sym: &str, price: u64, tif: u8) -> Vec<u8> {
    encode(&Inbound::EnterOrder(enter_order(
        urn, side, qty, sym, price, tif, "f",
    )))
}

/// Runs `receiver` until its session is complete (30 s at most).
fn receive_to_the_end(receiver: &mut FeedReceiver) {
    assert!(
        receiver
            .run_until_complete(Instant::now() + Duration::from_secs(30))
            .unwrap(),
        "{:?}",
        receiver.stats()
    );
}

/// Whether the rebuilt books equal the engine's, level by level and order by order
/// (locate n is the symbols file's n-th line).
fn same(rebuilt: &RebuiltBooks, engine: &DirectEngine, ids: &[Uuid]) -> Result<(), String> {
    for (i, id) in ids.iter().enumerate() {
        let locate = u16::try_from(i + 1).unwrap();
        let book = engine.book(id).unwrap().snapshot();
        let mine = rebuilt.book(locate).ok_or(format!("no book {locate}"))?;
        for side in [Side::Buy, Side::Sell] {
            // Prices on the feed are ticks times the tick size.
            let tick = if i == 1 { 100 } else { 1 };
            let theirs: Vec<_> = snapshot_levels(&book, side)
                .into_iter()
                .map(|(p, q)| (p * tick, q))
                .collect();
            if mine.levels(side) != theirs {
                return Err(format!(
                    "locate {locate} {side}: feed {:?}, engine {theirs:?}",
                    mine.levels(side)
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn a_flow_through_ouch_rebuilds_the_engines_books_from_the_itch_feed() {
    let dir = TempDir::new("serve-itch");
    // File order is not id order: locate 1 is instrument 2.
    let symbols = dir.write(
        "symbols.csv",
        b"symbol,instrument,tick\nMSFT,2,1\nAAPL,1,100\n",
    );
    let mut receiver =
        FeedReceiver::bind(ReceiverConfig::new("127.0.0.1:0".parse().unwrap())).unwrap();
    let server = serve(&[
        "--instruments-file",
        &symbols.display().to_string(),
        "--ouch",
        "127.0.0.1:0",
        "--itch",
        &receiver.local_addr().to_string(),
        "--mold-session",
        "SERVE1",
        "--rerequest",
        "127.0.0.1:0",
        "--glimpse",
        "127.0.0.1:0",
        // The books must outlive the session for the final comparison.
        "--no-cancel-on-disconnect",
    ]);
    receiver.set_rerequest(Some(server.addr(REREQUEST)));
    let ids = [Uuid::from_u128(2), Uuid::from_u128(1)];
    let syms = ["MSFT", "AAPL"];
    let ticks = [1u64, 100];
    let user = "itch";
    let mut client = login(server.addr(OUCH), user, "x", 1).unwrap();
    let mut direct = DirectEngine::new(ids);
    let mut rng = Rng::new(5);
    let mut resting: Vec<(u32, usize)> = Vec::new();
    let mut urn = 0u32;
    for _ in 0..1_200 {
        resting.retain(|&(u, s)| {
            direct
                .book(&ids[s])
                .unwrap()
                .order_qty(&engine_order_id(user, u))
                .is_some()
        });
        if rng.below(100) < 75 || resting.is_empty() {
            urn += 1;
            let s = rng.below(2) as usize;
            let side = if rng.below(2) == 0 { b'B' } else { b'S' };
            let ticks_price = 95 + rng.below(11);
            let qty = 1 + rng.below(40) as u32;
            let ioc = rng.below(8) == 0;
            client
                .queue(&enter(
                    urn,
                    side,
                    qty,
                    syms[s],
                    ticks_price * ticks[s],
                    if ioc { b'3' } else { b'0' },
                ))
                .unwrap();
            if !ioc {
                resting.push((urn, s));
            }
            let command = Command::Add(Order::new(
                engine_order_id(user, urn),
                ids[s],
                if side == b'B' { Side::Buy } else { Side::Sell },
                if ioc {
                    OrderKind::Ioc
                } else {
                    OrderKind::Limit
                },
                ticks_price as i64,
                u64::from(qty),
            ));
            direct.apply(&command, &mut |_| {});
        } else {
            let (u, s) = resting[rng.below(resting.len() as u64) as usize];
            let mut m = Vec::new();
            Inbound::CancelOrder(CancelOrder {
                user_ref_num: u,
                quantity: 0,
                appendage: Appendage::EMPTY,
            })
            .encode(&mut m);
            client.queue(&m).unwrap();
            let command = Command::Cancel {
                instrument_id: ids[s],
                order_id: engine_order_id(user, u),
            };
            direct.apply(&command, &mut |_| {});
        }
    }
    // A price ITCH cannot carry: 50,000,000 ticks of 100 units is past u32::MAX.
    urn += 1;
    let refused = urn;
    client
        .queue(&enter(refused, b'B', 1, "AAPL", 50_000_000 * 100, b'0'))
        .unwrap();
    client.flush().unwrap();

    // Apply the feed until it shows the engine's books.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = Err(String::from("nothing received"));
    while Instant::now() < deadline {
        if !receiver.poll(Duration::from_millis(10)).unwrap() {
            last = same(receiver.books(), &direct, &ids);
            if last.is_ok() {
                break;
            }
        }
    }
    last.unwrap();
    // The refused order: Rejected, Invalid Price.
    let mut rejected = None;
    while rejected.is_none() {
        match client.recv().unwrap() {
            ServerPacket::Sequenced(m) => {
                if let Outbound::Rejected {
                    user_ref_num,
                    reason,
                    ..
                } = Outbound::decode(m).unwrap()
                    && user_ref_num == refused
                {
                    rejected = Some(reason);
                }
            }
            ServerPacket::Heartbeat => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(rejected, Some(RejectCode::InvalidPrice.code()));
    drop(client);

    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
    receive_to_the_end(&mut receiver);
    same(receiver.books(), &direct, &ids).unwrap();
    assert_eq!(
        receiver.books().book(1).unwrap().stock.unwrap().as_str(),
        "MSFT"
    );
    assert!(stderr.contains("feed: "), "{stderr}");
    assert!(stderr.contains("0 orders not publishable"), "{stderr}");
}

#[test]
fn feed_flags_are_checked() {
    let dir = TempDir::new("serve-itch-flags");
    let symbols = dir.write("symbols.csv", b"AAPL,1\n").display().to_string();
    let refused = |extra: &[&str], needle: &str| {
        let mut args = vec!["--instruments-file", &symbols, "--ouch", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        serve_refused(env!("CARGO_BIN_EXE_ringbook"), &args, 2, needle);
    };
    refused(&["--itch", "127.0.0.1:9"], "--itch needs --mold-session");
    refused(
        &[
            "--itch",
            "127.0.0.1:9",
            "--mold-session",
            "WAY-TOO-LONG-NAME",
        ],
        "MoldUDP64 session",
    );
    // clap: --rerequest, --feed-publish and --feed-thread require --itch.
    refused(&["--rerequest", "127.0.0.1:0"], "");
    refused(&["--feed-thread"], "--itch");
    refused(&["--feed-publish", "inline"], "--itch");
    let banded = dir
        .write("banded.csv", b"AAPL,1,100,10,50000000\n")
        .display()
        .to_string();
    serve_refused(
        env!("CARGO_BIN_EXE_ringbook"),
        &[
            "--instruments-file",
            &banded,
            "--ouch",
            "127.0.0.1:0",
            "--itch",
            "127.0.0.1:9",
            "--mold-session",
            "S",
            "--max-packet",
            "10",
        ],
        2,
        "max packet 10 bytes",
    );
    let bad_band = dir
        .write("bad.csv", b"AAPL,1,1,50,10\n")
        .display()
        .to_string();
    serve_refused(
        env!("CARGO_BIN_EXE_ringbook"),
        &["--instruments-file", &bad_band, "--ouch", "127.0.0.1:0"],
        2,
        "price band",
    );
}

#[test]
fn after_a_restart_with_a_journal_the_feed_publishes_the_recovered_books() {
    let dir = TempDir::new("serve-itch-restart");
    let symbols = dir
        .write("symbols.csv", b"AAPL,1\nMSFT,2\n")
        .display()
        .to_string();
    let journal = dir.path().join("journal").display().to_string();
    let ids = [Uuid::from_u128(1), Uuid::from_u128(2)];
    // The first session publishes inline on the event manager thread, the second from
    // the feed's own thread, the recovered books' snapshots included.
    let start = |session: &str, receiver: &FeedReceiver, inline: bool| {
        let receiver = receiver.local_addr().to_string();
        let mut args = vec![
            "--instruments-file",
            &symbols,
            "--ouch",
            "127.0.0.1:0",
            "--journal",
            &journal,
            "--no-cancel-on-disconnect",
            "--itch",
            &receiver,
            "--mold-session",
            session,
            "--rerequest",
            "127.0.0.1:0",
            "--glimpse",
            "127.0.0.1:0",
            "--feed-linger",
            "0.2",
        ];
        args.push("--feed-publish");
        args.push(if inline { "inline" } else { "thread" });
        serve(&args)
    };
    let user = "again";
    let mut direct = DirectEngine::new(ids);
    let first_receiver =
        FeedReceiver::bind(ReceiverConfig::new("127.0.0.1:0".parse().unwrap())).unwrap();
    let server = start("FIRST", &first_receiver, true);
    let mut client = login(server.addr(OUCH), user, "x", 1).unwrap();
    let mut rng = Rng::new(9);
    for urn in 1..=300u32 {
        let s = rng.below(2) as usize;
        let side = if rng.below(2) == 0 { b'B' } else { b'S' };
        let price = 90 + rng.below(21);
        let qty = 1 + rng.below(30) as u32;
        let sym = ["AAPL", "MSFT"][s];
        client
            .queue(&enter(urn, side, qty, sym, price, b'0'))
            .unwrap();
        direct.apply(
            &Command::Add(Order::limit(
                engine_order_id(user, urn),
                ids[s],
                if side == b'B' { Side::Buy } else { Side::Sell },
                price as i64,
                u64::from(qty),
            )),
            &mut |_| {},
        );
    }
    client.flush().unwrap();
    // Every order answered before the stop.
    let mut answered = 0;
    while answered < 300 {
        if let ServerPacket::Sequenced(m) = client.recv().unwrap()
            && matches!(
                Outbound::decode(m).unwrap(),
                Outbound::OrderAccepted { .. } | Outbound::Rejected { .. }
            )
        {
            answered += 1;
        }
    }
    drop(client);
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");

    // The same session again is refused: a session is published once.
    serve_refused(
        env!("CARGO_BIN_EXE_ringbook"),
        &[
            "--instruments-file",
            &symbols,
            "--ouch",
            "127.0.0.1:0",
            "--journal",
            &journal,
            "--itch",
            "127.0.0.1:9",
            "--mold-session",
            "FIRST",
        ],
        2,
        "FIRST.itch exists",
    );

    // A new session publishes the recovered books before any new order.
    let mut receiver =
        FeedReceiver::bind(ReceiverConfig::new("127.0.0.1:0".parse().unwrap())).unwrap();
    let server = start("SECOND", &receiver, false);
    receiver.set_rerequest(Some(server.addr(REREQUEST)));
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
    assert!(stderr.contains("recovered"), "{stderr}");
    receive_to_the_end(&mut receiver);
    let rebuilt: usize = receiver.books().iter().map(|(_, b)| b.orders()).sum();
    let engine: usize = direct.books().iter().map(|b| b.len()).sum();
    assert!(engine > 20, "{engine}");
    assert_eq!(rebuilt, engine);
    for (i, id) in ids.iter().enumerate() {
        let locate = u16::try_from(i + 1).unwrap();
        let book = direct.book(id).unwrap().snapshot();
        for side in [Side::Buy, Side::Sell] {
            assert_eq!(
                receiver.books().book(locate).unwrap().levels(side),
                snapshot_levels(&book, side),
                "locate {locate} {side}"
            );
        }
    }
}
