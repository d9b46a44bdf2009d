//! Durability as users see it: the `ringbook` binary killed mid-run and recovered, replay
//! determinism of journals, damaged journals through the CLI and the manager, and the
//! manager's journal options at library level. (The storage layer itself is covered by
//! `tests/journal.rs`.)

use ringbook_testkit::rng::Rng;
use ringbook_testkit::scratch::TempDir;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output, Stdio};
use std::time::{Duration, Instant};

use ringbook::flow::{FlowGenerator, GenConfig, write_flow_header, write_flow_line};
use ringbook::journal::{CLOSED_FILE, JournalConfig, JournalError, RecoveryMode, SyncPolicy};
use ringbook::{
    Command, ConfigError, DirectEngine, JournalOptions, Order, OrderKind, OrderbookManagerError,
    OrderbookManagerService, OrderbookManagerServiceImpl, OrderbookResult, Side, Uuid, recover,
};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn ringbook() -> Process {
    let mut process = Process::new(env!("CARGO_BIN_EXE_ringbook"));
    process.stdin(Stdio::null());
    process
}

/// Runs `ringbook ARGS` to the end and returns its output, whatever its status.
fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    ringbook().args(args).output().expect("ringbook runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `ringbook ARGS`, requires success, returns (stdout, stderr).
fn run_ok<S: AsRef<OsStr>>(args: &[S]) -> (String, String) {
    let output = run(args);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        output.status.success(),
        "ringbook {:?} failed with {}:\nstderr:\n{stderr}\nstdout:\n{stdout}",
        args.iter()
            .map(|a| a.as_ref().to_owned())
            .collect::<Vec<_>>(),
        output.status
    );
    (stdout, stderr)
}

/// Runs `ringbook ARGS`, requires a failure, returns stderr.
fn run_fails<S: AsRef<OsStr>>(args: &[S]) -> String {
    let output = run(args);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        !output.status.success(),
        "ringbook {:?} should have failed:\nstderr:\n{stderr}\nstdout:\n{stdout}",
        args.iter()
            .map(|a| a.as_ref().to_owned())
            .collect::<Vec<_>>(),
    );
    stderr
}

/// The rest of the one line of `text` starting with `prefix`.
fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
    let found: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .collect();
    assert_eq!(found.len(), 1, "one {prefix:?} line expected in:\n{text}");
    found[0].trim()
}

fn state_hash(text: &str) -> String {
    let hash = field(text, "state hash: ").to_string();
    assert_eq!(hash.len(), 16, "a 16-digit hex state hash: {hash}");
    hash
}

fn last_seq(recover_stdout: &str) -> u64 {
    field(recover_stdout, "last seq: ").parse().unwrap()
}

fn warnings(recover_stdout: &str) -> Vec<&str> {
    recover_stdout
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect()
}

fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// `ringbook recover --journal DIR`: (stdout, last seq, state hash).
fn recover_cli(dir: &Path) -> (String, u64, String) {
    let (stdout, _) = run_ok(&["recover", "--journal", path_str(dir)]);
    let last = last_seq(&stdout);
    let hash = state_hash(&stdout);
    (stdout, last, hash)
}

/// The state hash of an uninterrupted direct run over `flow`.
fn direct_hash(flow: &Path, extra: &[&str]) -> String {
    let mut args = vec!["replay", path_str(flow), "--engine", "direct", "--summary"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", "/dev/null"]);
    let (_, stderr) = run_ok(&args);
    state_hash(&stderr)
}

/// Writes the first `n` commands of the generator into a flow file; returns them.
fn write_flow(path: &Path, config: GenConfig, n: usize) -> Vec<Command> {
    let commands: Vec<Command> = FlowGenerator::new(config).take(n).collect();
    write_commands(path, &commands);
    commands
}

fn write_commands(path: &Path, commands: &[Command]) {
    let mut out = BufWriter::new(File::create(path).unwrap());
    write_flow_header(&mut out).unwrap();
    for command in commands {
        write_flow_line(&mut out, command).unwrap();
    }
    out.flush().unwrap();
}

/// A busy mid-run flow: halts, statuses and snapshot ops come round, and the books are
/// far from empty at its end (the generator is cut off long before it drains them).
fn busy_config(seed: u64, instruments: u32) -> GenConfig {
    GenConfig::new(seed, instruments, 1_000_000)
        .with_depth(300)
        .with_halt_per_million(4_000)
        .with_status_permille(20)
        .with_snapshot_permille(10)
}

/// Segment files of a journal directory, in seq order.
fn segments(dir: &Path) -> Vec<PathBuf> {
    files_ending(dir, ".journal")
}

fn snapshots(dir: &Path) -> Vec<PathBuf> {
    files_ending(dir, ".snap")
}

fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| file_name(p).ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// Copies the segment files (and the snapshots too if `with_snapshots`) into `to`.
fn copy_journal(from: &Path, to: &Path, with_snapshots: bool) {
    fs::create_dir_all(to).unwrap();
    let mut files = segments(from);
    if with_snapshots {
        files.extend(snapshots(from));
    }
    assert!(!files.is_empty());
    for file in files {
        fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
    }
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0xFF;
    fs::write(path, bytes).unwrap();
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// One record line of `ringbook journal dump`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DumpRecord {
    file: String,
    offset: u64,
    seq: u64,
}

fn dump(dir: &Path) -> String {
    run_ok(&["journal", "dump", path_str(dir)]).0
}

fn dump_records(dump: &str) -> Vec<DumpRecord> {
    dump.lines()
        .filter_map(|line| {
            let (location, rest) = line.split_once(' ')?;
            let seq = rest.strip_prefix("seq=")?.split(' ').next()?.parse().ok()?;
            let (file, offset) = location.rsplit_once(':')?;
            Some(DumpRecord {
                file: file.to_string(),
                offset: offset.parse().ok()?,
                seq,
            })
        })
        .collect()
}

/// A dump without the timestamps (the only thing two runs of one flow may differ in).
fn dump_without_timestamps(dump: &str) -> String {
    dump.lines()
        .map(|line| {
            line.split(' ')
                .filter(|word| !word.starts_with("ts="))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An event stream split by instrument, each event without its `seq`, in stream order.
fn per_instrument(jsonl: &str) -> BTreeMap<String, Vec<serde_json::Value>> {
    let mut streams: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for line in jsonl.lines() {
        let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
        let object = event.as_object_mut().unwrap();
        object.remove("seq").expect("every event has a seq");
        let instrument = object["instrument"].as_str().unwrap().to_string();
        streams.entry(instrument).or_default().push(event);
    }
    streams
}

fn events(jsonl: &str) -> Vec<serde_json::Value> {
    jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn instruments_of(commands: &[Command]) -> Vec<Uuid> {
    let mut seen = Vec::new();
    for command in commands {
        if !seen.contains(&command.instrument_id()) {
            seen.push(command.instrument_id());
        }
    }
    seen
}

fn journal_options(dir: &Path, snapshot_every: Option<u64>) -> JournalOptions {
    JournalOptions::new(dir)
        .with_config(
            JournalConfig::default()
                .with_segment_bytes(JournalConfig::DEFAULT_SEGMENT_BYTES)
                .with_sync(SyncPolicy::None),
        )
        .with_snapshot_every(snapshot_every)
}

/// Builds a manager on the journal in `dir`, which must fail: returns the journal error.
fn build_fails(dir: &Path) -> JournalError {
    let built = OrderbookManagerServiceImpl::builder(Vec::<Uuid>::new())
        .journal(journal_options(dir, None))
        .build();
    match built {
        Ok(_) => panic!(
            "a manager was built on the damaged journal {}",
            dir.display()
        ),
        Err(OrderbookManagerError::Journal { dir: named, source }) => {
            assert_eq!(named, dir);
            source
        }
        Err(other) => panic!("expected a journal error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Crash: SIGKILL mid-run, then recover
// ---------------------------------------------------------------------------------------

const KILLS: usize = 25;

/// Total bytes in the journal's segment files.
fn journal_bytes(dir: &Path) -> u64 {
    segments(dir)
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// A child process killed (and reaped) when dropped, so a failing test leaves none behind.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ringbook ARGS` and waits until its journal in `dir` holds at least `bytes`
/// bytes (or it has exited), polling every millisecond.
fn spawn_journaling(args: Vec<String>, dir: &Path, bytes: u64) -> ChildGuard {
    let child = ringbook()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);
    let waiting = Instant::now();
    while journal_bytes(dir) < bytes && child.0.try_wait().unwrap().is_none() {
        assert!(
            waiting.elapsed() < Duration::from_secs(120),
            "the journal did not reach {bytes} bytes in 120 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child
}

/// The new adds run on a recovered journal: `(order id, crosses)`.
fn more_orders(instrument: Uuid) -> (String, [(Uuid, bool); 4]) {
    let id = |n: u128| Uuid::from_u128(0xD00D_0000 + n);
    let (rest_bid, cross_sell, rest_ask, cross_buy) = (id(1), id(2), id(3), id(4));
    let csv = format!(
        "op,instrument,order_id,side,kind,price,qty\n\
         resume,{instrument},,,,,\n\
         add,{instrument},{rest_bid},buy,limit,1,3\n\
         add,{instrument},{cross_sell},sell,limit,1,1\n\
         add,{instrument},{rest_ask},sell,limit,1000000,2\n\
         add,{instrument},{cross_buy},buy,ioc,1000000,1\n\
         cancel,{instrument},{rest_ask},,,,\n"
    );
    (
        csv,
        [
            (rest_bid, false),
            (cross_sell, true),
            (rest_ask, false),
            (cross_buy, true),
        ],
    )
}

/// The flow is replayed with a journal and killed with SIGKILL at 25 seeded points; each
/// time the recovered state equals an uninterrupted direct run over exactly the commands
/// the journal kept, and the recovered engine takes new orders and numbers them on.
#[cfg(unix)]
#[test]
fn a_run_killed_at_any_point_recovers_to_the_direct_run_of_its_journaled_prefix() {
    use std::os::unix::process::ExitStatusExt;

    let started = Instant::now();
    let tmp = TempDir::new("crash");
    let flow = tmp.join("flow.csv");
    run_ok(&[
        "gen",
        "--seed",
        "4242",
        "--instruments",
        "4",
        "--orders",
        "25000",
        "-o",
        path_str(&flow),
    ]);
    let flow_text = fs::read_to_string(&flow).unwrap();
    let mut lines = flow_text.lines();
    let header = lines.next().unwrap();
    assert_eq!(header, "op,instrument,order_id,side,kind,price,qty");
    let data: Vec<&str> = lines.collect();
    let total = data.len() as u64;
    assert!(total > 40_000, "{total} flow lines");
    let instrument: Uuid = data[0].split(',').nth(1).unwrap().parse().unwrap();
    let (more_csv, more) = more_orders(instrument);
    let more_path = tmp.join("more.csv");
    fs::write(&more_path, &more_csv).unwrap();
    let more_lines = more_csv.lines().count() as u64 - 1;
    let snapshot_every = "2500";
    let replay_args = |dir: &Path| -> Vec<String> {
        [
            "replay",
            path_str(&flow),
            "--journal",
            path_str(dir),
            "--journal-sync",
            "none",
            "--snapshot-every",
            snapshot_every,
        ]
        .map(String::from)
        .to_vec()
    };

    // Calibration: an uninterrupted journaled run, to learn how big the whole journal is,
    // and to check the full journal against the full direct run.
    let calibration = tmp.join("calibration");
    let clock = Instant::now();
    let mut child = spawn_journaling(replay_args(&calibration), &calibration, 1);
    assert!(child.0.wait().unwrap().success());
    let run_time = clock.elapsed();
    drop(child);
    let full_bytes = journal_bytes(&calibration);
    let (_, full_last, full_hash) = recover_cli(&calibration);
    assert_eq!(full_last, total);
    assert_eq!(full_hash, direct_hash(&flow, &[]));
    fs::remove_dir_all(&calibration).unwrap();

    let mut rng = Rng(0x00C0_FFEE);
    let mut finished_before_kill = 0;
    let mut kept = Vec::new();
    let mut repaired: BTreeMap<String, usize> = BTreeMap::new();
    let mut segment_counts = Vec::new();
    for kill in 0..KILLS {
        let dir = tmp.join(&format!("journal-{kill}"));
        let mut args = replay_args(&dir);
        if kill % 2 == 1 {
            // Every other run rotates segments often, so kills land around rotations too.
            args.extend(["--segment-bytes".to_string(), "262144".to_string()]);
        }
        // The kill point: once the journal holds a random share of the full journal (so
        // kills land all through the run whatever the machine's load), then a random
        // extra delay of up to 3 ms (so they land anywhere between and inside batches).
        let target = 1 + rng.below(full_bytes * 9 / 10);
        let mut child = spawn_journaling(args, &dir, target);
        std::thread::sleep(Duration::from_micros(rng.below(3_000)));
        let _ = child.0.kill();
        let status = child.0.wait().unwrap();
        if status.success() {
            finished_before_kill += 1;
        } else {
            assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
        }
        drop(child);

        // Recover: the journal kept the first L commands of the flow.
        let (stdout, kept_seq, recovered_hash) = recover_cli(&dir);
        for warning in warnings(&stdout) {
            let kind = if warning.contains("torn tail") {
                "torn tail"
            } else if warning.contains(".snap.tmp") {
                "unfinished snapshot ignored"
            } else {
                warning
            };
            *repaired.entry(kind.to_string()).or_insert(0) += 1;
        }
        assert!(kept_seq <= total, "{stdout}");
        if status.success() {
            assert_eq!(kept_seq, total, "{stdout}");
        }
        kept.push(kept_seq);
        let prefix = tmp.join(&format!("prefix-{kill}.csv"));
        let mut text = String::with_capacity(flow_text.len());
        text.push_str(header);
        text.push('\n');
        for line in &data[..kept_seq as usize] {
            text.push_str(line);
            text.push('\n');
        }
        fs::write(&prefix, text).unwrap();
        assert_eq!(
            recovered_hash,
            direct_hash(&prefix, &[]),
            "kill {kill}: the state recovered after seq {kept_seq} differs from the direct run of the first {kept_seq} commands\n{stdout}"
        );
        fs::remove_file(&prefix).unwrap();

        // The recovered books take new orders, numbered on after the journal.
        let events_path = tmp.join(&format!("more-{kill}.jsonl"));
        let (_, stderr) = run_ok(&[
            "replay",
            path_str(&more_path),
            "--journal",
            path_str(&dir),
            "--summary",
            "-o",
            path_str(&events_path),
        ]);
        if kept_seq > 0 {
            assert!(
                stderr.contains(&format!("recovered: last seq {kept_seq},")),
                "{stderr}"
            );
        }
        let continued_hash = state_hash(&stderr);
        let events = events(&fs::read_to_string(&events_path).unwrap());
        let of_order = |id: Uuid, kind: &str, key: &str| {
            events
                .iter()
                .filter(|e| e["type"] == kind && e[key] == id.to_string().as_str())
                .count()
        };
        for (id, crosses) in more {
            assert_eq!(of_order(id, "accepted", "order_id"), 1, "{events:#?}");
            assert_eq!(of_order(id, "rejected", "order_id"), 0, "{events:#?}");
            let trades = of_order(id, "trade", "taker_order_id");
            assert!(
                crosses == (trades > 0),
                "{id} trades {trades} times: {events:#?}"
            );
        }
        // The resting ask rested: its cancel found it.
        assert_eq!(
            of_order(more[2].0, "cancelled", "order_id"),
            1,
            "{events:#?}"
        );
        let (stdout, after, hash_after) = recover_cli(&dir);
        assert_eq!(after, kept_seq + more_lines, "{stdout}");
        assert_eq!(hash_after, continued_hash);
        segment_counts.push(segments(&dir).len());
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_file(&events_path).unwrap();
    }
    let mut distinct = kept.clone();
    distinct.sort_unstable();
    distinct.dedup();
    eprintln!(
        "crash test: {KILLS} kills, {finished_before_kill} runs finished first, journals kept \
         {kept:?} of {total} commands, recovery warnings {repaired:?}, segments {segment_counts:?}; a full run takes {run_time:?}, \
         the test took {:?}",
        started.elapsed()
    );
    assert!(
        finished_before_kill * 2 < KILLS,
        "{finished_before_kill} of {KILLS} runs finished before the kill"
    );
    assert!(
        distinct.len() >= KILLS / 2,
        "kill points too alike: {kept:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 2. Replay determinism
// ---------------------------------------------------------------------------------------

/// One journal recovered twice gives the same state and byte-identical events; journals
/// of the same flow written with 1 and 3 book consumers are the same journal (timestamps
/// aside), with byte-identical snapshots, the same state hash and the same events per
/// instrument, which are the events of the direct run and of the live runs.
#[test]
fn journals_replay_deterministically_whatever_the_consumer_count() {
    let tmp = TempDir::new("determinism");
    let flow = tmp.join("flow.csv");
    let commands = write_flow(&flow, busy_config(77, 4), 12_000);
    let instruments = instruments_of(&commands);
    assert_eq!(instruments.len(), 4);
    // Three registered, the fourth's ops rejected before any book.
    let registered = instruments[..3]
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let direct_events = tmp.join("direct.jsonl");
    let (_, stderr) = run_ok(&[
        "replay",
        path_str(&flow),
        "--engine",
        "direct",
        "--instruments",
        &registered,
        "--summary",
        "-o",
        path_str(&direct_events),
    ]);
    let direct_hash = state_hash(&stderr);
    let direct_events = fs::read_to_string(&direct_events).unwrap();
    let direct_streams = per_instrument(&direct_events);
    assert_eq!(direct_streams.len(), 4);
    for kind in [
        "\"halted\"",
        "\"snapshot\"",
        "instrument_not_registered",
        "orderbook_halted",
    ] {
        assert!(direct_events.contains(kind), "the flow exercises {kind}");
    }

    let mut runs = Vec::new();
    for consumers in ["1", "3"] {
        let dir = tmp.join(&format!("journal-c{consumers}"));
        let live = tmp.join(&format!("live-c{consumers}.jsonl"));
        let (_, stderr) = run_ok(&[
            "--consumers",
            consumers,
            "replay",
            path_str(&flow),
            "--instruments",
            &registered,
            "--journal",
            path_str(&dir),
            "--journal-sync",
            "none",
            "--snapshot-every",
            "2500",
            "--summary",
            "-o",
            path_str(&live),
        ]);
        assert_eq!(state_hash(&stderr), direct_hash, "consumers {consumers}");
        assert!(snapshots(&dir).len() >= 4, "{:?}", snapshots(&dir));

        // Recovery with the snapshots: the same state.
        let (stdout, last, hash) = recover_cli(&dir);
        assert_eq!(last, commands.len() as u64);
        assert_eq!(hash, direct_hash, "{stdout}");
        assert!(warnings(&stdout).is_empty(), "{stdout}");

        // The whole journal replayed, twice, on two copies without the snapshots.
        let mut replays = Vec::new();
        for copy in ["a", "b"] {
            let copy_dir = tmp.join(&format!("copy-c{consumers}-{copy}"));
            copy_journal(&dir, &copy_dir, false);
            let out = tmp.join(&format!("recovered-c{consumers}-{copy}.jsonl"));
            let (stdout, _) = run_ok(&[
                "recover",
                "--journal",
                path_str(&copy_dir),
                "--output",
                path_str(&out),
            ]);
            assert_eq!(field(&stdout, "snapshot: "), "none");
            assert_eq!(last_seq(&stdout), commands.len() as u64);
            assert_eq!(state_hash(&stdout), direct_hash);
            replays.push((stdout, fs::read(&out).unwrap()));
        }
        assert_eq!(replays[0], replays[1], "two replays of one journal differ");
        let recovered = String::from_utf8(replays.pop().unwrap().1).unwrap();
        // Recovery replays in journal order, which is input order: the direct run's stream.
        assert!(
            recovered == direct_events,
            "consumers {consumers}: the recovered events differ from the direct run's"
        );
        let recovered_streams = per_instrument(&recovered);
        assert_eq!(recovered_streams, direct_streams);
        // The live run's events, per instrument, are the recovered ones.
        let live_streams = per_instrument(&fs::read_to_string(&live).unwrap());
        assert_eq!(live_streams.len(), recovered_streams.len());
        for (instrument, stream) in &recovered_streams {
            assert!(
                live_streams[instrument] == *stream,
                "consumers {consumers}: live events of {instrument} differ from the recovered ones"
            );
        }
        runs.push((dir, recovered_streams, hash));
    }

    let (dir_1, streams_1, hash_1) = &runs[0];
    let (dir_3, streams_3, hash_3) = &runs[1];
    assert_eq!(hash_1, hash_3);
    assert_eq!(streams_1, streams_3);
    // The same journal: the sequencer alone orders it.
    let (dump_1, dump_3) = (dump(dir_1), dump(dir_3));
    assert_eq!(dump_records(&dump_1).len(), commands.len());
    assert!(
        dump_without_timestamps(&dump_1) == dump_without_timestamps(&dump_3),
        "the journals of 1 and 3 consumers differ"
    );
    let names = |dir: &Path| {
        snapshots(dir)
            .iter()
            .map(|p| file_name(p))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(dir_1), names(dir_3));
    for (a, b) in snapshots(dir_1).iter().zip(snapshots(dir_3).iter()) {
        assert!(
            fs::read(a).unwrap() == fs::read(b).unwrap(),
            "{} differs between 1 and 3 consumers",
            file_name(a)
        );
    }

    // The library's recover, twice on the same directory: the same events and state.
    let mut library = Vec::new();
    for _ in 0..2 {
        let mut events: Vec<OrderbookResult> = Vec::new();
        let recovered = recover(dir_1, [], &mut |e| events.push(e)).unwrap();
        assert_eq!(recovered.last_seq, commands.len() as u64);
        assert!(recovered.snapshot.is_some());
        assert_eq!(
            recovered.replayed,
            recovered.last_seq - recovered.snapshot.as_ref().unwrap().0
        );
        assert!(recovered.warnings.is_empty(), "{:?}", recovered.warnings);
        library.push((hex(recovered.state_hash()), events));
    }
    assert_eq!(library[0], library[1]);
    assert_eq!(&library[0].0, hash_1);
}

// ---------------------------------------------------------------------------------------
// 3. Damage, as the CLI and the manager report it
// ---------------------------------------------------------------------------------------

/// A journal of `n` commands of a busy flow written by the CLI into `dir`; returns the
/// flow file and its commands.
fn journaled_run(tmp: &TempDir, n: usize, extra: &[&str]) -> (PathBuf, PathBuf, Vec<Command>) {
    let flow = tmp.join("flow.csv");
    let dir = tmp.join("journal");
    let commands = write_flow(&flow, busy_config(31, 3), n);
    let mut args = vec![
        "replay",
        path_str(&flow),
        "--journal",
        path_str(&dir),
        "--journal-sync",
        "none",
    ];
    args.extend_from_slice(extra);
    let events = tmp.join("events.jsonl");
    args.extend_from_slice(&["-o", path_str(&events)]);
    run_ok(&args);
    (flow, dir, commands)
}

#[test]
fn a_torn_tail_is_dropped_with_a_warning_and_the_rest_recovered() {
    let tmp = TempDir::new("torn");
    let (_, dir, commands) = journaled_run(&tmp, 3_000, &[]);
    let n = commands.len() as u64;
    let records = dump_records(&dump(&dir));
    assert_eq!(records.len() as u64, n);
    let last = records.last().unwrap().clone();
    assert_eq!(last.seq, n);
    let segment = dir.join(&last.file);
    let len = file_len(&segment);
    // A crash mid-write: no clean-shutdown marker, the last record cut short.
    fs::remove_file(dir.join(CLOSED_FILE)).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 3)
        .unwrap();

    let (stdout, kept, hash) = recover_cli(&dir);
    assert_eq!(kept, n - 1, "{stdout}");
    let found = warnings(&stdout);
    assert_eq!(found.len(), 1, "{stdout}");
    assert!(
        found[0].contains(&last.file) && found[0].contains(&format!("offset {}", last.offset)),
        "the warning names the file and offset {}: {}",
        last.offset,
        found[0]
    );
    let prefix = tmp.join("prefix.csv");
    write_commands(&prefix, &commands[..commands.len() - 1]);
    assert_eq!(hash, direct_hash(&prefix, &[]));
    // The torn record is gone from the file, and recovering again finds nothing to repair.
    assert_eq!(file_len(&segment), last.offset);
    let (stdout, again, hash_again) = recover_cli(&dir);
    assert_eq!((again, &hash_again), (n - 1, &hash));
    assert!(warnings(&stdout).is_empty(), "{stdout}");

    // The manager on a journal torn again: built, with the warning, one record less.
    let second_last = records[records.len() - 2].clone();
    let len = file_len(&segment);
    fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    let manager = OrderbookManagerServiceImpl::builder(Vec::<Uuid>::new())
        .journal(journal_options(&dir, None))
        .build()
        .expect("a torn tail does not stop the manager");
    let info = manager.recovery().unwrap();
    assert_eq!(info.last_seq, n - 2);
    assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
    assert!(
        info.warnings[0].contains(&second_last.file)
            && info.warnings[0].contains(&format!("offset {}", second_last.offset)),
        "{:?}",
        info.warnings
    );
    write_commands(&prefix, &commands[..commands.len() - 2]);
    assert_eq!(hex(info.state_hash), direct_hash(&prefix, &[]));

    // It numbers on from the repaired end: the commands the tear lost, sent again.
    manager.start().unwrap();
    for &command in &commands[commands.len() - 2..] {
        submit(&manager, command);
    }
    manager.stop().unwrap();
    let hash = hex(manager.state_hash().unwrap());
    drop(manager);
    let (stdout, last, recovered) = recover_cli(&dir);
    assert_eq!(last, n, "{stdout}");
    assert!(warnings(&stdout).is_empty(), "{stdout}");
    assert_eq!(recovered, hash);
    assert_eq!(hash, direct_hash(&tmp.join("flow.csv"), &[]));
}

#[test]
fn a_flipped_byte_in_a_middle_record_refuses_to_start() {
    let tmp = TempDir::new("flip");
    let (_, dir, commands) = journaled_run(&tmp, 2_000, &[]);
    let records = dump_records(&dump(&dir));
    assert_eq!(records.len(), commands.len());
    let victim = records[records.len() / 2].clone();
    let segment = dir.join(&victim.file);
    // A byte of the payload's instrument id: the checksum no longer matches.
    flip_byte(&segment, victim.offset + 30);
    let len = file_len(&segment);

    let stderr = run_fails(&["recover", "--journal", path_str(&dir)]);
    assert!(
        stderr.contains(&victim.file) && stderr.contains(&format!("offset {}", victim.offset)),
        "the error names {} and offset {}: {stderr}",
        victim.file,
        victim.offset
    );
    match build_fails(&dir) {
        JournalError::Corrupt { file, offset, .. } => {
            assert_eq!(file_name(&file), victim.file);
            assert_eq!(offset, victim.offset);
        }
        other => panic!("expected a corrupt record, got {other:?}"),
    }
    // Neither changed anything: the records after the damage are still there.
    assert_eq!(file_len(&segment), len);
    let dump = dump(&dir);
    assert!(
        dump.contains(&format!("{}:{} BAD", victim.file, victim.offset)),
        "{dump}"
    );
    // A replay onto it refuses too, naming the same place.
    let stderr = run_fails(&[
        "replay",
        path_str(&tmp.join("flow.csv")),
        "--journal",
        path_str(&dir),
    ]);
    assert!(stderr.contains(&victim.file), "{stderr}");
    assert_eq!(file_len(&segment), len);
}

#[test]
fn a_missing_middle_segment_refuses_to_start_naming_the_gap() {
    let tmp = TempDir::new("gap");
    let (_, dir, commands) = journaled_run(&tmp, 2_000, &["--segment-bytes", "4096"]);
    let files = segments(&dir);
    assert!(files.len() >= 5, "{} segments", files.len());
    let middle = files.len() / 2;
    let first_seq = |p: &Path| -> u64 { file_name(p).split('.').next().unwrap().parse().unwrap() };
    let (before, missing, after) = (&files[middle - 1], &files[middle], &files[middle + 1]);
    let (expected, found) = (first_seq(missing), first_seq(after));
    assert!(found > expected && (found as usize) <= commands.len());
    fs::remove_file(missing).unwrap();

    let stderr = run_fails(&["recover", "--journal", path_str(&dir)]);
    assert!(
        stderr.contains("gap")
            && stderr.contains(&file_name(before))
            && stderr.contains(&file_name(after))
            && stderr.contains(&format!("expected seq {expected}")),
        "the error names the gap {expected}..{found} between {} and {}: {stderr}",
        file_name(before),
        file_name(after)
    );
    match build_fails(&dir) {
        JournalError::SeqGap {
            before: named_before,
            after: named_after,
            expected: e,
            found: f,
        } => {
            assert_eq!(
                named_before.as_deref().map(file_name),
                Some(file_name(before))
            );
            assert_eq!(file_name(&named_after), file_name(after));
            assert_eq!((e, f), (expected, found));
        }
        other => panic!("expected a gap, got {other:?}"),
    }
    assert!(dump(&dir).contains("GAP"));
}

#[test]
fn a_damaged_snapshot_is_skipped_for_the_older_one() {
    let tmp = TempDir::new("snapshot");
    let (flow, dir, commands) = journaled_run(&tmp, 3_000, &["--snapshot-every", "700"]);
    let n = commands.len() as u64;
    let names: Vec<String> = snapshots(&dir).iter().map(|p| file_name(p)).collect();
    assert_eq!(
        names,
        [700, 1400, 2100, 2800].map(|s| format!("snapshot-{s:020}.snap"))
    );
    let newest = dir.join(&names[3]);
    flip_byte(&newest, 40);
    let full_hash = direct_hash(&flow, &[]);

    let (stdout, last, hash) = recover_cli(&dir);
    assert_eq!(last, n);
    let found = warnings(&stdout);
    assert_eq!(found.len(), 1, "{stdout}");
    assert!(
        found[0].contains(&names[3]) && found[0].contains("skipped"),
        "{stdout}"
    );
    assert!(
        field(&stdout, "snapshot: ").starts_with("seq 2100 "),
        "{stdout}"
    );
    assert_eq!(
        field(&stdout, "replayed: "),
        format!("{} journal records", n - 2100)
    );
    assert_eq!(hash, full_hash);
    // The older snapshot is really used: its own state is the direct run's at seq 2100.
    let prefix = tmp.join("prefix.csv");
    write_commands(&prefix, &commands[..2100]);
    let dump = dump(&dir);
    let header = dump
        .lines()
        .find(|l| l.starts_with(&format!("snapshot {}:", names[2])))
        .unwrap();
    let prefix_hash = direct_hash(&prefix, &[]);
    assert!(
        header.ends_with(&format!("state hash 0x{prefix_hash}")),
        "{header}"
    );

    // The manager does the same.
    let manager = OrderbookManagerServiceImpl::builder(Vec::<Uuid>::new())
        .journal(journal_options(&dir, None))
        .build()
        .expect("a damaged snapshot does not stop the manager");
    let info = manager.recovery().unwrap();
    assert_eq!(info.snapshot.as_ref().map(|s| s.0), Some(2100));
    assert_eq!(info.last_seq, n);
    assert_eq!(info.replayed, n - 2100);
    assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
    assert!(info.warnings[0].contains(&names[3]), "{:?}", info.warnings);
    assert_eq!(hex(info.state_hash), full_hash);
}

// ---------------------------------------------------------------------------------------
// 4. Library level
// ---------------------------------------------------------------------------------------

/// A random command: mostly adds, cancels and modifies among a small pool of ids (so
/// duplicates and unknown orders happen), with zero quantities, halts, resumes, status
/// and snapshot ops, and an unregistered instrument now and then.
fn random_command(rng: &mut Rng, instruments: &[Uuid]) -> Command {
    let instrument_id = if rng.below(50) == 0 {
        Uuid::from_u128(0xBAD)
    } else {
        instruments[rng.below(instruments.len() as u64) as usize]
    };
    let order_id = Uuid::from_u128(1 + u128::from(rng.below(120)));
    let price = 95 + rng.below(11) as i64;
    let qty = rng.below(12);
    match rng.below(100) {
        0..=54 => {
            let side = if rng.below(2) == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let kind = OrderKind::ALL[rng.below(OrderKind::ALL.len() as u64) as usize];
            Command::Add(Order::new(order_id, instrument_id, side, kind, price, qty))
        }
        55..=72 => Command::Cancel {
            instrument_id,
            order_id,
        },
        73..=88 => Command::Modify {
            instrument_id,
            order_id,
            price,
            qty,
        },
        89..=90 => Command::Halt { instrument_id },
        91..=94 => Command::Resume { instrument_id },
        95..=97 => Command::Status { instrument_id },
        _ => Command::Snapshot { instrument_id },
    }
}

/// Submits `command`, allowing only the refusals the caller's checks make (each of
/// which is journaled as a reject).
fn submit(manager: &OrderbookManagerServiceImpl, command: Command) {
    if let Err(e) = manager.submit(command)
        && !e.is_rejected_command()
    {
        panic!("submit {command:?}: {e}");
    }
}

#[test]
fn a_journaled_manager_is_recovered_by_the_next_one() {
    let tmp = TempDir::new("library");
    let dir = tmp.join("journal");
    let instruments = [
        Uuid::from_u128(0xA),
        Uuid::from_u128(0xB),
        Uuid::from_u128(0xC),
    ];
    let mut rng = Rng(99);
    let commands: Vec<Command> = (0..3_000)
        .map(|_| random_command(&mut rng, &instruments))
        .collect();
    let requested_at = 1_777;

    let first = OrderbookManagerServiceImpl::builder(instruments)
        .journal(journal_options(&dir, Some(400)))
        .build()
        .unwrap();
    assert_eq!(first.recovery().unwrap().last_seq, 0);
    first.start().unwrap();
    for (i, &command) in commands.iter().enumerate() {
        if i == requested_at {
            first.request_snapshot().unwrap();
        }
        submit(&first, command);
    }
    assert_eq!(first.state_hash(), None, "no state hash while running");
    first.stop().unwrap();
    let hash = first.state_hash().expect("a state hash once stopped");
    let orders = first
        .with_final_books(|books| books.iter().map(|b| b.len()).sum::<usize>())
        .unwrap();
    assert!(orders > 10, "{orders} orders rest");
    drop(first);

    // The reference: every command on one thread, in order.
    let mut direct = DirectEngine::new(instruments);
    for command in &commands {
        direct.apply(command, &mut |_| {});
    }
    assert_eq!(hex(hash), hex(direct.state_hash()));
    let files: Vec<String> = snapshots(&dir).iter().map(|p| file_name(p)).collect();
    assert!(
        files.contains(&format!("snapshot-{requested_at:020}.snap")),
        "the requested snapshot: {files:?}"
    );
    assert!(files.len() >= 5, "automatic snapshots: {files:?}");

    // The next manager on the same directory.
    let second = OrderbookManagerServiceImpl::builder(instruments)
        .journal(journal_options(&dir, Some(400)))
        .build()
        .unwrap();
    let info = second.recovery().unwrap().clone();
    assert_eq!(hex(info.state_hash), hex(hash));
    assert_eq!(info.last_seq, commands.len() as u64);
    let (snapshot_seq, _) = info.snapshot.clone().expect("recovered from a snapshot");
    assert_eq!(info.replayed, info.last_seq - snapshot_seq);
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    // It goes on from there, and the one after it recovers that.
    second.start().unwrap();
    let more: Vec<Command> = (0..500)
        .map(|_| random_command(&mut rng, &instruments))
        .collect();
    for &command in &more {
        submit(&second, command);
    }
    second.stop().unwrap();
    let hash_2 = second.state_hash().unwrap();
    drop(second);
    for command in &more {
        direct.apply(command, &mut |_| {});
    }
    assert_eq!(hex(hash_2), hex(direct.state_hash()));
    let third = OrderbookManagerServiceImpl::builder(instruments)
        .journal(journal_options(&dir, None))
        .build()
        .unwrap();
    let info = third.recovery().unwrap();
    assert_eq!(info.last_seq, (commands.len() + more.len()) as u64);
    assert_eq!(hex(info.state_hash), hex(hash_2));

    // Without a journal there is nothing to snapshot into.
    let plain = OrderbookManagerServiceImpl::new(instruments);
    assert!(plain.recovery().is_none());
    assert!(matches!(
        plain.request_snapshot(),
        Err(OrderbookManagerError::Config(
            ConfigError::SnapshotsNeedJournal
        ))
    ));
    plain.start().unwrap();
    assert!(matches!(
        plain.request_snapshot(),
        Err(OrderbookManagerError::Config(
            ConfigError::SnapshotsNeedJournal
        ))
    ));
    plain.stop().unwrap();
}

#[test]
fn a_journal_another_process_writes_is_refused_with_a_clear_error() {
    let tmp = TempDir::new("durability-locked");
    let dir = tmp.path().to_path_buf();
    let journal = dir.join("journal");
    let mut writer = ringbook::journal::JournalWriter::open(
        &journal,
        JournalConfig::default().with_sync(SyncPolicy::None),
    )
    .unwrap();
    let status = Command::Status {
        instrument_id: Uuid::from_u128(1),
    };
    writer
        .append(&ringbook::journal::JournalEntry::apply(1, 0, status))
        .unwrap();
    writer.commit_batch().unwrap();
    let flow = dir.join("flow.csv");
    write_flow(&flow, busy_config(5, 2), 200);

    // This test process holds the journal: the command line must neither recover (it
    // would repair the tail) nor write into it.
    let stderr = run_fails(&["recover", "--journal", path_str(&journal)]);
    assert!(stderr.contains("in use"), "{stderr}");
    let stderr = run_fails(&["replay", path_str(&flow), "--journal", path_str(&journal)]);
    assert!(stderr.contains("in use"), "{stderr}");
    // Reading only is fine.
    run_ok(&["journal", "dump", path_str(&journal)]);

    // The manager refuses it too, naming the directory.
    let built = OrderbookManagerServiceImpl::builder([Uuid::from_u128(1)])
        .config(
            ringbook::ManagerConfig::default()
                .with_journal(Some(JournalOptions::new(journal.clone()))),
        )
        .build();
    match built {
        Err(OrderbookManagerError::Journal {
            dir,
            source: JournalError::Locked { .. },
        }) => assert_eq!(dir, journal),
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a manager opened a journal another writer holds"),
    }

    drop(writer);
    let (_, last, _) = recover_cli(&journal);
    assert_eq!(last, 1);
}

#[test]
fn pruning_keeps_what_recovery_can_start_from() {
    let tmp = TempDir::new("prune");
    let flow = tmp.join("flow.csv");
    write_flow(&flow, busy_config(9, 3), 3_000);
    let journal = tmp.join("journal");
    let journal_args = [
        "--journal",
        path_str(&journal),
        "--journal-sync",
        "none",
        "--snapshot-every",
        "400",
        "--segment-bytes",
        "4000",
    ];
    let mut args = vec!["replay", path_str(&flow), "-o", "/dev/null"];
    args.extend_from_slice(&journal_args);
    run_ok(&args);
    let (_, last, hash) = recover_cli(&journal);
    assert_eq!(last, 3_000);
    assert_eq!(hash, direct_hash(&flow, &[]));
    let (all_snapshots, all_segments) = (snapshots(&journal), segments(&journal));
    assert!(all_snapshots.len() >= 5, "{all_snapshots:?}");
    assert!(all_segments.len() >= 10, "{all_segments:?}");

    // One snapshot is not enough to keep from the engine: no fallback.
    let mut refused = vec!["replay", path_str(&flow), "-o", "/dev/null"];
    refused.extend_from_slice(&journal_args);
    refused.extend_from_slice(&["--keep-snapshots", "1"]);
    let stderr = run_fails(&refused);
    assert!(stderr.contains("at least 2"), "{stderr}");

    // Prune to the two newest snapshots: the older ones go, and every segment before the
    // older kept snapshot, but not the one holding the record right after it.
    let (stdout, _) = run_ok(&["journal", "prune", path_str(&journal), "--keep", "2"]);
    assert!(stdout.starts_with("oldest snapshot kept: seq "), "{stdout}");
    let kept = snapshots(&journal);
    assert_eq!(kept, all_snapshots[all_snapshots.len() - 2..].to_vec());
    let oldest_kept: u64 = file_name(&kept[0])
        .trim_start_matches("snapshot-")
        .trim_end_matches(".snap")
        .parse()
        .unwrap();
    let left = segments(&journal);
    assert!(left.len() < all_segments.len(), "{left:?}");
    let first_seq: u64 = file_name(&left[0])
        .trim_end_matches(".journal")
        .parse()
        .unwrap();
    assert!(
        first_seq <= oldest_kept + 1,
        "{first_seq} > {oldest_kept} + 1"
    );
    assert!(left.len() >= 2 || first_seq == 1);
    let second_seq: u64 = file_name(&left[1])
        .trim_end_matches(".journal")
        .parse()
        .unwrap();
    assert!(
        second_seq > oldest_kept + 1,
        "segment {first_seq} could have gone"
    );
    assert_eq!(recover_cli(&journal).2, hash);

    // Damage the newest snapshot: recovery falls back to the other one kept, whose
    // journal is all still there.
    flip_byte(kept.last().unwrap(), 40);
    let (_, last_after, hash_after) = recover_cli(&journal);
    assert_eq!((last_after, hash_after), (3_000, hash.clone()));

    // Pruning counts valid snapshots only: with one of the two damaged, nothing goes.
    let (stdout, _) = run_ok(&["journal", "prune", path_str(&journal), "--keep", "2"]);
    assert!(
        stdout.starts_with("fewer than 2 valid snapshots"),
        "{stdout}"
    );
    assert_eq!(snapshots(&journal).len(), 2);
}

#[test]
fn an_engine_that_keeps_two_snapshots_prunes_as_it_goes() {
    let tmp = TempDir::new("prune-live");
    let flow = tmp.join("flow.csv");
    write_flow(&flow, busy_config(11, 2), 2_500);
    let journal = tmp.join("journal");
    run_ok(&[
        "replay",
        path_str(&flow),
        "-o",
        "/dev/null",
        "--journal",
        path_str(&journal),
        "--journal-sync",
        "none",
        "--snapshot-every",
        "300",
        "--segment-bytes",
        "3000",
        "--keep-snapshots",
        "2",
    ]);
    // Eight snapshots were taken; the pruning after the last left two.
    assert_eq!(snapshots(&journal).len(), 2, "{:?}", snapshots(&journal));
    let first_seq: u64 = file_name(&segments(&journal)[0])
        .trim_end_matches(".journal")
        .parse()
        .unwrap();
    assert!(first_seq > 1, "old segments were pruned");
    let (_, last, hash) = recover_cli(&journal);
    assert_eq!(last, 2_500);
    assert_eq!(hash, direct_hash(&flow, &[]));
}

// ---------------------------------------------------------------------------------------
// Lost records, recovery modes, verify (issue 15)
// ---------------------------------------------------------------------------------------

/// Every file of `dir` (recursively flat) and its bytes.
fn dir_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (file_name(&path), fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_journal_cut_at_a_record_boundary_after_a_clean_run_is_refused_verified_and_salvaged() {
    let tmp = TempDir::new("cut-clean");
    let (flow, dir, commands) = journaled_run(&tmp, 3_000, &["--segment-bytes", "40000"]);
    let n = commands.len() as u64;
    let records = dump_records(&dump(&dir));
    assert!(segments(&dir).len() >= 3);
    // Cut the last segment exactly where record n - 9 starts: ten whole records gone.
    let victim = records.iter().find(|r| r.seq == n - 9).unwrap().clone();
    let segment = dir.join(&victim.file);
    fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(victim.offset)
        .unwrap();
    let missing = format!("records {}..={n} are missing", n - 9);

    // verify: read-only, names the loss, exits non-zero.
    let before = dir_contents(&dir);
    let output = run(&["journal", "verify", path_str(&dir)]);
    assert!(!output.status.success());
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        stdout.contains("REFUSES") && stdout.contains(&missing),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "point-in-time mode: would keep records up to seq {}",
            n - 10
        )),
        "{stdout}"
    );
    assert!(stderr.contains(&missing), "{stderr}");
    assert_eq!(dir_contents(&dir), before, "verify changes nothing");

    // The default and absolute modes refuse, naming the records and the salvage.
    for mode in ["tolerate-torn-tail", "absolute-consistency"] {
        let stderr = run_fails(&["recover", "--journal", path_str(&dir), "--mode", mode]);
        assert!(stderr.contains(&missing), "{mode}: {stderr}");
        assert!(
            stderr.contains("ringbook recover --mode point-in-time"),
            "{stderr}"
        );
        assert_eq!(dir_contents(&dir), before, "{mode}: nothing changed");
    }
    // So does a replay that would continue the journal.
    let stderr = run_fails(&["replay", path_str(&flow), "--journal", path_str(&dir)]);
    assert!(stderr.contains(&missing), "{stderr}");

    // Point-in-time keeps the rest, with the cut in a warning.
    let (stdout, _) = run_ok(&[
        "recover",
        "--journal",
        path_str(&dir),
        "--mode",
        "point-in-time",
    ]);
    assert_eq!(last_seq(&stdout), n - 10, "{stdout}");
    let found = warnings(&stdout);
    assert_eq!(found.len(), 1, "{stdout}");
    assert!(
        found[0].contains("point-in-time") && found[0].contains(&missing),
        "{stdout}"
    );
    let prefix = tmp.join("prefix.csv");
    write_commands(&prefix, &commands[..commands.len() - 10]);
    assert_eq!(state_hash(&stdout), direct_hash(&prefix, &[]));
    // The journal is consistent again.
    run_ok(&["journal", "verify", path_str(&dir)]);
    let (stdout, last, _) = recover_cli(&dir);
    assert_eq!(last, n - 10);
    assert!(warnings(&stdout).is_empty(), "{stdout}");
}

#[test]
fn a_deleted_or_emptied_last_segment_is_refused_by_the_command_line_and_the_manager() {
    for damage in ["deleted", "emptied"] {
        let tmp = TempDir::new("lost-last-cli");
        let (_, dir, commands) = journaled_run(&tmp, 2_000, &["--segment-bytes", "30000"]);
        let n = commands.len() as u64;
        let last = segments(&dir).pop().unwrap();
        let first: u64 = file_name(&last)
            .trim_end_matches(".journal")
            .parse()
            .unwrap();
        if damage == "deleted" {
            fs::remove_file(&last).unwrap();
        } else {
            fs::write(&last, b"").unwrap();
        }
        let stderr = run_fails(&["recover", "--journal", path_str(&dir)]);
        assert!(stderr.contains(&file_name(&last)), "{damage}: {stderr}");
        if damage == "deleted" {
            assert!(
                stderr.contains(&format!("records {first}..={n}")),
                "{stderr}"
            );
        } else {
            assert!(stderr.contains("empty (0 bytes)"), "{stderr}");
        }
        let err = build_fails(&dir);
        assert!(
            err.to_string().contains(&file_name(&last)),
            "{damage}: {err}"
        );
        // The manager in point-in-time mode starts from what is left.
        let mut options = journal_options(&dir, None);
        options.recovery = RecoveryMode::PointInTime;
        let manager = OrderbookManagerServiceImpl::builder(Vec::<Uuid>::new())
            .journal(options.clone())
            .build()
            .expect("point-in-time recovery starts");
        let info = manager.recovery().unwrap();
        assert_eq!(info.last_seq, first - 1, "{damage}");
        assert!(
            info.warnings.iter().any(|w| w.contains("point-in-time")),
            "{damage}: {:?}",
            info.warnings
        );
    }
}

#[test]
fn recover_refuses_a_directory_that_is_not_a_journal_and_leaves_no_lock() {
    let tmp = TempDir::new("not-a-journal-cli");
    let other = tmp.join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), b"not a journal").unwrap();
    for command in [&["recover", "--journal"][..], &["journal", "verify"]] {
        let mut args = command.to_vec();
        args.push(path_str(&other));
        let stderr = run_fails(&args);
        assert!(stderr.contains("is not a journal directory"), "{stderr}");
    }
    assert!(!other.join(ringbook::journal::LOCK_FILE).exists());
    assert_eq!(fs::read_dir(&other).unwrap().count(), 1);
    let missing = tmp.join("missing");
    let stderr = run_fails(&["recover", "--journal", path_str(&missing)]);
    assert!(stderr.contains("is not a journal directory"), "{stderr}");
    assert!(!missing.exists());
    let stderr = run_fails(&["journal", "verify", path_str(&missing)]);
    assert!(stderr.contains("is not a journal directory"), "{stderr}");
    assert!(!missing.exists());
}

#[test]
fn journal_flags_without_a_journal_are_refused() {
    let tmp = TempDir::new("flags-without-journal");
    let flow = tmp.join("flow.csv");
    write_flow(&flow, busy_config(3, 2), 50);
    for flag in [
        &["--snapshot-every", "10"][..],
        &["--keep-snapshots", "2"],
        &["--journal-recovery", "point-in-time"],
    ] {
        let mut args = vec!["replay", path_str(&flow)];
        args.extend_from_slice(flag);
        let stderr = run_fails(&args);
        assert!(
            stderr.contains(flag[0]) && stderr.contains("--journal <DIR>"),
            "{flag:?}: {stderr}"
        );
    }
}

#[test]
fn a_manager_that_fails_to_build_leaves_no_lock_or_marker_where_there_was_no_journal() {
    let tmp = TempDir::new("build-fails-clean");
    let missing = tmp.join("missing");
    let other = tmp.join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), b"not a journal").unwrap();
    for dir in [&missing, &other] {
        let built = OrderbookManagerServiceImpl::builder([Uuid::from_u128(1)])
            .config(
                ringbook::ManagerConfig::default()
                    // Invalid: refused before the journal is opened.
                    .with_ingress_ring_size(3)
                    .with_journal(Some(journal_options(dir, None))),
            )
            .build();
        assert!(
            matches!(built, Err(OrderbookManagerError::Config(_))),
            "{dir:?}"
        );
    }
    assert!(!missing.exists(), "the directory it created is removed");
    assert_eq!(
        fs::read_dir(&other)
            .unwrap()
            .map(|e| file_name(&e.unwrap().path()))
            .collect::<Vec<_>>(),
        ["notes.txt"]
    );
}

#[test]
fn replay_recovers_its_journal_in_the_mode_asked() {
    let tmp = TempDir::new("replay-mode");
    let (flow, dir, commands) = journaled_run(&tmp, 2_000, &["--segment-bytes", "30000"]);
    let n = commands.len() as u64;
    let last = segments(&dir).pop().unwrap();
    let first: u64 = file_name(&last)
        .trim_end_matches(".journal")
        .parse()
        .unwrap();
    fs::remove_file(&last).unwrap();
    let replay = |mode: &str| {
        run(&[
            "replay",
            path_str(&flow),
            "--journal",
            path_str(&dir),
            "--journal-recovery",
            mode,
            "-o",
            path_str(&tmp.join("again.jsonl")),
        ])
    };
    for mode in ["tolerate-torn-tail", "absolute-consistency"] {
        let output = replay(mode);
        assert!(!output.status.success(), "{mode}");
        assert!(
            text(&output.stderr).contains(&format!("records {first}..={n}")),
            "{mode}: {}",
            text(&output.stderr)
        );
    }
    let output = replay("point-in-time");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("point-in-time recovery cut the journal after seq"),
        "{}",
        text(&output.stderr)
    );
    // The journal now holds what was kept, then the whole flow again.
    let (_, last_seq, _) = recover_cli(&dir);
    assert_eq!(last_seq, first - 1 + n);
}

#[test]
fn verify_tells_an_intact_journal_from_a_torn_tail_and_changes_nothing() {
    let tmp = TempDir::new("verify-torn");
    let (_, dir, commands) = journaled_run(&tmp, 1_000, &[]);
    let n = commands.len();
    let (stdout, _) = run_ok(&["journal", "verify", path_str(&dir)]);
    assert!(
        stdout.contains(&format!("records 1..={n}")) && stdout.contains(": OK"),
        "{stdout}"
    );
    // A crash mid-write.
    fs::remove_file(dir.join(CLOSED_FILE)).unwrap();
    let segment = segments(&dir).pop().unwrap();
    let len = file_len(&segment);
    fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let before = dir_contents(&dir);
    let output = run(&["journal", "verify", path_str(&dir)]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("default mode would warn: torn tail"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(dir_contents(&dir), before, "verify changes nothing");
}
