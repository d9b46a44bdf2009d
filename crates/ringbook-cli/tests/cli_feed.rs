//! `ringbook feed` against a feed published by this test process on 127.0.0.1.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use ringbook::OrderbookManagerService;
use ringbook::flow::{FlowGenerator, GenConfig};
use ringbook_testkit::feed_engine::engine_with_feed;

fn ringbook() -> Process {
    Process::new(env!("CARGO_BIN_EXE_ringbook"))
}

fn free_udp_port() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn feed_joins_by_snapshot_recovers_drops_and_verifies() {
    let generator = FlowGenerator::new(
        GenConfig::new(5, 3, 8_000)
            .with_halt_per_million(5_000)
            .with_depth(100)
            .with_max_distance(50),
    );
    let ids = generator.instruments().to_vec();
    let commands: Vec<_> = generator.collect();
    let destination = free_udp_port();
    let (manager, feed) = engine_with_feed("CLITEST", "CLI", &ids, destination, |_| {});
    let (first, second) = commands.split_at(commands.len() / 2);
    for command in first {
        let _ = manager.submit(*command);
    }
    let started = Instant::now();
    while feed.next_seq() < 500 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }

    let mut child = ringbook()
        .args([
            "feed",
            "--itch",
            &destination.to_string(),
            "--glimpse",
            &feed.glimpse_addr().unwrap().to_string(),
            "--rerequest",
            &feed.rerequest_addr().unwrap().to_string(),
            "--verify",
            "--drop-every",
            "50",
            "--timeout",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), format!("feed listening on {destination}"));
    // Let the snapshot be taken before the rest of the flow.
    std::thread::sleep(Duration::from_millis(300));
    for command in second {
        let _ = manager.submit(*command);
    }
    manager.stop().unwrap();
    let status = child.wait().unwrap();
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let stats = feed.shutdown();
    assert!(
        status.success(),
        "exit {status}\nstdout:\n{out}\nstderr:\n{err}"
    );
    assert!(
        out.contains("verify: every book equals the GLIMPSE snapshot"),
        "{out}"
    );
    assert!(
        stats.snapshots >= 2,
        "one to join, one to verify: {stats:?}"
    );
    // Each book's top of book, as the engine has it.
    manager
        .with_final_books(|books| {
            for (i, book) in books.iter().enumerate() {
                let show = |top: Option<(i64, u128)>| {
                    top.map_or("-".to_string(), |(p, q)| format!("{q}@{p}"))
                };
                let line = out
                    .lines()
                    .find(|l| l.split_whitespace().nth(1) == Some(&format!("CLI{i}")))
                    .unwrap_or_else(|| panic!("no line for CLI{i} in {out}"));
                let fields: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(fields[3], show(book.best_bid()), "{line}");
                assert_eq!(fields[4], show(book.best_ask()), "{line}");
                assert_eq!(fields[5], book.len().to_string(), "{line}");
            }
        })
        .unwrap();
}

#[test]
fn bad_feed_arguments_are_refused_with_the_reason() {
    let out = ringbook()
        .args(["feed", "--itch", "127.0.0.1:0", "--verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--verify needs --glimpse"));

    let out = ringbook()
        .args(["feed", "--itch", "127.0.0.1:0", "--timeout", "0.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not end within 0.200 s"), "{stderr}");

    // A GLIMPSE server that is not there: the error names it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = ringbook()
        .args([
            "feed",
            "--itch",
            "127.0.0.1:0",
            "--glimpse",
            &closed.to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("glimpse {closed}")), "{stderr}");

    let out = ringbook()
        .args(["feed", "--itch", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
