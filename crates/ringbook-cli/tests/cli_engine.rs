//! The engine flags and the main job through the binary: `--consumers`, `--wait`,
//! `--cores`, `--ring-size` on `replay` (each instrument's events must equal the direct
//! engine's), `gen` determinism, and `bench` with every output it writes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ringbook-cli-engine-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn ringbook(args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_ringbook"))
        .args(args)
        .output()
        .expect("run ringbook");
    assert!(
        output.status.success(),
        "ringbook {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Each instrument's events, `seq` removed, in stream order.
fn per_instrument(stream: &[u8]) -> BTreeMap<String, Vec<Value>> {
    let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (i, line) in std::str::from_utf8(stream).unwrap().lines().enumerate() {
        let mut event: Value = serde_json::from_str(line).unwrap();
        let object = event.as_object_mut().unwrap();
        assert_eq!(object.remove("seq").unwrap().as_u64(), Some(i as u64 + 1));
        let instrument = object["instrument"].as_str().unwrap().to_string();
        by.entry(instrument).or_default().push(event);
    }
    by
}

fn generate(dir: &Path, seed: &str) -> PathBuf {
    let flow = dir.join("flow.csv");
    ringbook(&[
        "gen",
        "--seed",
        seed,
        "--instruments",
        "5",
        "--orders",
        "3000",
        "--output",
        flow.to_str().unwrap(),
    ]);
    flow
}

#[test]
fn engine_flags_keep_every_instruments_stream() {
    let dir = scratch("flags");
    let flow = generate(&dir, "11");
    let flow = flow.to_str().unwrap();
    let direct = per_instrument(&ringbook(&["replay", flow, "--engine", "direct"]).stdout);
    assert_eq!(direct.len(), 5);
    let variants: [&[&str]; 5] = [
        &["--consumers", "2"],
        &["--consumers", "3", "--wait", "sleep"],
        &["--wait", "busy-spin", "--consumers", "1"],
        &["--ring-size", "64", "--consumers", "2"],
        &["--cores", "0", "--wait", "yield"],
    ];
    for flags in variants {
        let mut args = vec!["replay", flow];
        args.extend_from_slice(flags);
        let piped = per_instrument(&ringbook(&args).stdout);
        assert!(
            piped == direct,
            "replay {flags:?} differs from the direct engine"
        );
    }
    fs::remove_dir_all(dir).unwrap();
}

/// Replays `flow` with every ring at 64 slots and `--summary`, reading its event stream
/// only after `gate`: meanwhile the event manager blocks on the full pipe and every ring
/// behind it fills. Returns the stream and stderr.
fn replay_gated(flow: &str, gate: Duration, stages: &str) -> (Vec<u8>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_ringbook"))
        .args(["replay", flow, "--ring-size", "64", "--summary"])
        .args(["--stages", stages])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ringbook");
    thread::sleep(gate);
    let output = child.wait_with_output().expect("wait for ringbook");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "gated replay failed: {stderr}");
    (output.stdout, stderr)
}

/// The waits of each ring in the summary's `full-ring waits:` line, by ring name.
fn full_ring_waits(stderr: &str) -> BTreeMap<String, u64> {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("full-ring waits: "))
        .unwrap_or_else(|| panic!("no full-ring waits in the summary: {stderr}"));
    line.split(", ")
        .map(|part| {
            let mut words = part.split_whitespace();
            let ring = words.next().unwrap().to_string();
            let waits = words.next().unwrap().parse().unwrap();
            (ring, waits)
        })
        .collect()
}

/// [`replay_gated`] for 300 ms with the `stages` layout: checks that it published the
/// same events per instrument as `direct` (the direct engine's) and warned of nothing, and
/// returns its full-ring waits and stderr.
fn held_up_replay(
    flow: &str,
    stages: &str,
    direct: &BTreeMap<String, Vec<Value>>,
) -> (BTreeMap<String, u64>, String) {
    let (stream, stderr) = replay_gated(flow, Duration::from_millis(300), stages);
    assert!(
        per_instrument(&stream) == *direct,
        "the held-up {stages} replay lost or reordered events"
    );
    assert!(!stderr.contains("WARN"), "backpressure warned: {stderr}");
    (full_ring_waits(&stderr), stderr)
}

#[test]
fn a_replay_held_up_by_its_reader_counts_full_rings_and_stays_quiet() {
    let dir = scratch("backpressure");
    let flow = generate(&dir, "5");
    let flow = flow.to_str().unwrap();
    let direct = per_instrument(&ringbook(&["replay", flow, "--engine", "direct"]).stdout);
    let (waits, stderr) = held_up_replay(flow, "pipelined", &direct);
    assert_eq!(
        waits.keys().collect::<Vec<_>>(),
        ["inbound", "ingress", "outbound"],
        "{stderr}"
    );
    // The event manager stopped taking results: the book consumer waited on the
    // outbound ring, at least once.
    assert!(waits["outbound"] > 0, "{stderr}");
    // Fused, the held-up subscriber holds up the one engine thread: the reader waits on
    // the ingress ring, and nothing is lost either.
    let (waits, stderr) = held_up_replay(flow, "fused", &direct);
    assert!(waits["ingress"] > 0, "{stderr}");
    assert_eq!((waits["inbound"], waits["outbound"]), (0, 0), "{stderr}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_ring_full_for_over_a_second_is_a_warning_naming_the_ring() {
    let dir = scratch("stall");
    let flow = generate(&dir, "6");
    let flow = flow.to_str().unwrap();
    let (stream, stderr) = replay_gated(flow, Duration::from_millis(1500), "pipelined");
    assert!(!stream.is_empty());
    let stalls: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert!(
        stalls
            .iter()
            .any(|l| l.contains("outbound ring full for over a second") && l.contains("waited=")),
        "no stall warning for the outbound ring: {stderr}"
    );
    // One warning per stalled wait, not one per retry.
    assert!(stalls.len() <= 3, "{stderr}");
    assert!(full_ring_waits(&stderr)["outbound"] > 0, "{stderr}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_reports_full_ring_waits_in_its_table_and_json_without_warnings() {
    let dir = scratch("bench-backpressure");
    let json = dir.join("summary.json");
    let output = ringbook(&[
        "bench",
        "--instruments",
        "2",
        "--orders",
        "3000",
        "--warmup",
        "500",
        "--ring-size",
        "64",
        "--json",
        json.to_str().unwrap(),
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("WARN"), "backpressure warned: {stderr}");
    let line = table
        .lines()
        .find(|l| l.starts_with("ringbook ") && l.contains("full-ring waits: "))
        .unwrap_or_else(|| panic!("no full-ring waits line: {table}"));
    assert!(
        line.contains("ingress ") && line.contains(", inbound ") && line.contains(", outbound "),
        "{line}"
    );
    let summary: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let waits = &summary["runs"][0]["full_ring_waits"];
    for ring in ["ingress", "inbound", "outbound"] {
        assert!(waits[ring]["waits"].is_u64(), "{ring}: {waits}");
        assert!(waits[ring]["longest_ns"].is_u64(), "{ring}: {waits}");
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_engine_flags_are_refused_with_a_reason() {
    let dir = scratch("bad");
    let flow = generate(&dir, "12");
    let flow = flow.to_str().unwrap();
    for (flags, expected) in [
        (&["--ring-size", "100"][..], "power of two"),
        (&["--cores", "100000"][..], "not available"),
        (&["--cores", "x"][..], "core number"),
        (&["--wait", "fast"][..], "wait strategy"),
    ] {
        let mut args = vec!["replay", flow];
        args.extend_from_slice(flags);
        let output = Command::new(env!("CARGO_BIN_EXE_ringbook"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{flags:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flags:?} panicked: {stderr}");
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn gen_is_byte_identical_for_a_seed() {
    let a = ringbook(&[
        "gen",
        "--seed",
        "5",
        "--instruments",
        "3",
        "--orders",
        "2000",
    ])
    .stdout;
    let b = ringbook(&[
        "gen",
        "--seed",
        "5",
        "--instruments",
        "3",
        "--orders",
        "2000",
    ])
    .stdout;
    let c = ringbook(&[
        "gen",
        "--seed",
        "6",
        "--instruments",
        "3",
        "--orders",
        "2000",
    ])
    .stdout;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.starts_with(b"op,instrument,order_id,side,kind,price,qty\n"));
}

#[test]
fn bench_writes_its_table_json_hgrm_files_and_plot() {
    let dir = scratch("bench");
    let json = dir.join("summary.json");
    let hgrm = dir.join("hgrm");
    let plot = dir.join("latency.svg");
    let output = ringbook(&[
        "bench",
        "--instruments",
        "4",
        "--orders",
        "3000",
        "--warmup",
        "500",
        "--baseline",
        "--rate",
        "200000",
        "--json",
        json.to_str().unwrap(),
        "--hgrm-dir",
        hgrm.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("p99.99"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("ringbook ")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("baseline ")), "{table}");
    assert!(table.contains("ringbook / baseline"), "{table}");

    let summary: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, engine) in runs.iter().zip(["ringbook", "baseline"]) {
        assert_eq!(run["engine"], engine);
        assert!(run["orders"].as_u64().unwrap() > 0);
        assert!(run["throughput_per_s"].as_f64().unwrap() > 0.0);
        let keys = [
            "p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns", "max_ns",
        ];
        let values: Vec<u64> = keys.iter().map(|k| run[k].as_u64().unwrap()).collect();
        assert!(
            values.windows(2).all(|w| w[0] <= w[1]),
            "{engine}: {values:?}"
        );
    }
    assert_eq!(summary["setup"]["rate"].as_f64(), Some(200000.0));

    let mut files: Vec<String> = fs::read_dir(&hgrm)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["1-ringbook.hgrm", "2-baseline.hgrm"]);
    let text = fs::read_to_string(hgrm.join("1-ringbook.hgrm")).unwrap();
    assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
    assert!(text.contains("#[Max     ="));

    let svg = fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
    assert_eq!(svg.matches("<polyline").count(), 2);
    fs::remove_dir_all(dir).unwrap();
}

/// The `cpu per command` row of `engine` in a bench table.
fn row_of(table: &str, engine: &str) -> String {
    table
        .lines()
        .skip_while(|l| !l.starts_with("cpu per command"))
        .find(|l| l.starts_with(engine) && l.contains("total"))
        .unwrap_or_else(|| panic!("no cpu row for {engine}: {table}"))
        .to_string()
}

#[test]
fn closed_loop_bench_reports_cpu_per_command_by_stage() {
    if !cfg!(target_os = "linux") {
        return; // thread CPU time comes from Linux's schedstat
    }
    let dir = scratch("bench-cpu");
    let json = dir.join("summary.json");
    let output = ringbook(&[
        "bench",
        "--instruments",
        "4",
        "--orders",
        "20000",
        "--warmup",
        "1000",
        "--baseline",
        "--stages",
        "pipelined",
        "--json",
        json.to_str().unwrap(),
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    let ratio = table
        .lines()
        .find(|l| l.starts_with("ringbook / baseline"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(ratio.contains("cpu per command"), "{table}");
    let row = |engine: &str| row_of(&table, engine);
    let ringbook = row("ringbook ");
    for stage in ["rb-sequencer", "rb-book", "rb-events", "rb-bench-sender"] {
        assert!(ringbook.contains(stage), "{ringbook}");
    }
    // Under each engine's row: how often each stage was put on a CPU, and how long it
    // waited for one.
    let under_ringbook = |n: usize| {
        table
            .lines()
            .skip_while(|l| *l != ringbook)
            .nth(n)
            .unwrap_or_else(|| panic!("no line {n} under {ringbook}: {table}"))
    };
    let switches = under_ringbook(1);
    assert!(switches.starts_with("  scheduled in"), "{table}");
    assert!(switches.ends_with("per 1,000 commands"), "{table}");
    let book_rate = switches
        .split_once("rb-book ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no rb-book figure: {switches}"));
    assert!(book_rate >= 0.0, "{switches}");
    let waiting = under_ringbook(2);
    assert!(waiting.starts_with("  cpu wait"), "{table}");
    for stage in ["rb-sequencer", "rb-book", "rb-events", "rb-bench-sender"] {
        assert!(waiting.contains(stage), "{waiting}");
    }
    let baseline = row("baseline ");
    assert!(baseline.contains("baseline-book"), "{baseline}");
    assert!(!baseline.contains("rb-sequencer"), "{baseline}");

    let summary: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    for run in summary["runs"].as_array().unwrap() {
        let cpu = run["cpu_ns_per_command"].as_object().unwrap();
        let total: f64 = cpu.values().map(|v| v.as_f64().unwrap()).sum();
        assert!(total > 0.0, "{run}");
        // The same stages in each per-stage figure, each figure a number of at least 0
        // (zero for a thread never switched out, never waiting, or touching no new page).
        for figure in [
            "scheduled_in_per_1000_commands",
            "waiting_for_cpu_ns_per_command",
            "page_faults_per_1000_commands",
        ] {
            let values = run[figure].as_object().unwrap();
            assert_eq!(
                values.keys().collect::<Vec<_>>(),
                cpu.keys().collect::<Vec<_>>(),
                "{figure}: {run}"
            );
            assert!(
                values
                    .values()
                    .all(|v| v.as_f64().is_some_and(|r| r >= 0.0)),
                "{figure}: {run}"
            );
        }
    }
    // Fused, the one engine thread does every stage's work.
    let output = self::ringbook(&[
        "bench",
        "--instruments",
        "4",
        "--orders",
        "20000",
        "--warmup",
        "1000",
        "--stages",
        "fused",
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("1 consumer(s), fused stages"), "{table}");
    let fused = row_of(&table, "ringbook ");
    assert!(fused.contains("rb-engine"), "{fused}");
    for stage in ["rb-sequencer", "rb-book", "rb-events"] {
        assert!(!fused.contains(stage), "{fused}");
    }
    fs::remove_dir_all(dir).unwrap();
}

/// `ringbook bench --baseline` on a small workload (2 instruments, 2,000 orders), with
/// `extra` flags.
fn small_bench_against_the_baseline(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "bench",
        "--instruments",
        "2",
        "--orders",
        "2000",
        "--warmup",
        "100",
        "--baseline",
    ];
    args.extend_from_slice(extra);
    ringbook(&args)
}

#[test]
fn bench_places_the_baseline_apart_from_ringbook_when_asked() {
    let dir = scratch("bench-placement");
    let json = dir.join("summary.json");
    let run = |baseline_cores: &str| {
        let output = small_bench_against_the_baseline(&[
            "--cores",
            "0",
            "--baseline-cores",
            baseline_cores,
            "--json",
            json.to_str().unwrap(),
        ]);
        let table = String::from_utf8(output.stdout).unwrap();
        let summary: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
        (table, summary["setup"].clone())
    };
    let (table, setup) = run("os");
    assert!(table.contains("baseline cores left to the OS"), "{table}");
    assert_eq!(setup["cores"], serde_json::json!([0]));
    assert_eq!(setup["baseline_cores"], serde_json::json!([]));

    let (table, setup) = run("0");
    assert!(
        !table.contains("baseline cores"),
        "same cores as ringbook: {table}"
    );
    assert_eq!(setup["baseline_cores"], serde_json::json!([0]));

    let refused = Command::new(env!("CARGO_BIN_EXE_ringbook"))
        .args(["bench", "--baseline", "--baseline-cores", "100000"])
        .output()
        .expect("run ringbook");
    assert!(!refused.status.success());
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(
        stderr.contains("--baseline-cores: core 100000 is not available"),
        "{stderr}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unpinned_closed_loop_comparison_names_the_pinned_deployment() {
    let bench =
        |extra: &[&str]| String::from_utf8(small_bench_against_the_baseline(extra).stderr).unwrap();
    let hint = "the book consumer a core of its own";
    let unpinned = bench(&[]);
    match ringbook::available_cores()[..] {
        [first, second, ..] => {
            assert!(unpinned.contains(hint), "{unpinned}");
            let flags = format!("--cores {first},{second} --sender-core {first}");
            assert!(unpinned.contains(&flags), "{unpinned}");
        }
        _ => assert!(!unpinned.contains(hint), "one core: {unpinned}"),
    }
    let pinned = bench(&["--cores", "0"]);
    assert!(!pinned.contains(hint), "already pinned: {pinned}");
    // Unpinned too (an open-loop run pins the sender apart unless told not to).
    let open_loop = bench(&["--rate", "100000", "--no-isolate"]);
    assert!(!open_loop.contains(hint), "open loop: {open_loop}");
}

/// Runs `ringbook ARGS`, which must fail without a panic or a signal; returns its stderr.
fn refused(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ringbook"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        matches!(output.status.code(), Some(1 | 2)),
        "{args:?}: {:?}, stderr {stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    stderr
}

#[test]
fn every_engine_value_is_bounded_and_the_error_names_the_bound() {
    let dir = scratch("bounds");
    let flow = generate(&dir, "13");
    let flow = flow.to_str().unwrap();
    for (flags, expected) in [
        // Was a SIGABRT: a 128 GiB ring allocation.
        (
            &["--ring-size", "1099511627776"][..],
            "power of two from 64 to 4194304 slots",
        ),
        (&["--ring-size", "8388608"][..], "from 64 to 4194304"),
        (&["--ring-size", "32"][..], "from 64 to 4194304"),
        (&["--consumers", "0"][..], "from 1 to 64"),
        (&["--consumers", "65"][..], "from 1 to 64"),
        (
            &["--log-level", "bogus"][..],
            "off, error, warn, info, debug, trace",
        ),
        (&["--log-level", "ringbook=loud"][..], "target=level"),
    ] {
        let mut args = vec!["replay", flow, "-o", "/dev/null"];
        args.extend_from_slice(flags);
        let stderr = refused(&args);
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
    // The library's budget for all books' inbound rings together: 4,096 books of 8,192
    // slots are twice the 2^24 slots allowed.
    let mut many = String::from("op,instrument,order_id,side,kind,price,qty\n");
    for i in 1..=4096 {
        many.push_str(&format!("status,{i},,,,,\n"));
    }
    let many_path = dir.join("many.csv");
    fs::write(&many_path, many).unwrap();
    let many_path = many_path.to_str().unwrap();
    let stderr = refused(&[
        "replay",
        many_path,
        "-o",
        "/dev/null",
        "--ring-size",
        "8192",
    ]);
    assert!(
        stderr.contains("4096 books of 8192 inbound slots each is more than the 16777216 slots"),
        "{stderr}"
    );
    // Level names and target=level directives are accepted.
    for level in ["off", "INFO", "warn,ringbook=debug"] {
        ringbook(&["replay", flow, "-o", "/dev/null", "--log-level", level]);
    }
    ringbook(&[
        "replay",
        many_path,
        "-o",
        "/dev/null",
        "--ring-size",
        "2048",
    ]);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_refuses_settings_that_would_measure_nothing() {
    let small = ["bench", "--instruments", "2", "--orders", "1000"];
    let with = |extra: &[&'static str]| {
        let mut args = small.to_vec();
        args.extend_from_slice(extra);
        refused(&args)
    };
    // The default warm-up (50,000 commands) is larger than this workload: was 0 commands/s
    // and exit status 0.
    let stderr = with(&[]);
    assert!(
        stderr.contains("warm-up of 50000 commands")
            && stderr.contains("workload of 1")
            && stderr.contains("--orders"),
        "{stderr}"
    );
    let stderr = with(&["--warmup", "100000"]);
    assert!(stderr.contains("warm-up of 100000 commands"), "{stderr}");
    // Was run once.
    let stderr = with(&["--warmup", "10", "--repeat", "0"]);
    assert!(
        stderr.contains("--repeat") && stderr.contains("1..=1000"),
        "{stderr}"
    );
    for (flags, expected) in [
        (
            &["--rate", "0"][..],
            "positive number of commands per second, at most 100000000",
        ),
        (&["--rate", "inf"][..], "at most 100000000"),
        (&["--rate", "NaN"][..], "at most 100000000"),
        (&["--orders", "0"][..], "1..=10000000"),
        (&["--orders", "20000000"][..], "1..=10000000"),
        (&["--instruments", "70000"][..], "1..=65536"),
        (&["--ring-size", "1099511627776"][..], "from 64 to 4194304"),
    ] {
        let mut args = vec!["bench"];
        args.extend_from_slice(flags);
        let stderr = refused(&args);
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
    // A warm-up smaller than the workload runs and measures something.
    let output = ringbook(&[
        "bench",
        "--instruments",
        "2",
        "--orders",
        "1000",
        "--warmup",
        "100",
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.lines().any(|l| l.starts_with("ringbook ")), "{table}");
}

#[test]
fn gen_and_bench_trade_the_instruments_of_a_file() {
    let dir = scratch("instruments-file");
    let ids = [
        "00000000-0000-0000-0000-0000000000a1",
        "5",
        "ffffffff-0000-0000-0000-000000000003",
    ];
    let file = dir.join("instruments.txt");
    fs::write(
        &file,
        format!("id,symbol\n{},A\n# b\n{},B\n{},C\n", ids[0], ids[1], ids[2]),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let flow = ringbook(&[
        "gen",
        "--instruments-file",
        file,
        "--orders",
        "2000",
        "--seed",
        "3",
    ])
    .stdout;
    let flow = String::from_utf8(flow).unwrap();
    let named: std::collections::BTreeSet<&str> = flow
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).unwrap())
        .collect();
    let expected: std::collections::BTreeSet<&str> =
        ["161", "5", "ffffffff-0000-0000-0000-000000000003"]
            .into_iter()
            .collect();
    assert_eq!(
        named, expected,
        "the flow trades exactly the file's instruments"
    );
    // The same flow as for three generated instruments, renamed.
    let plain = String::from_utf8(
        ringbook(&[
            "gen",
            "--instruments",
            "3",
            "--orders",
            "2000",
            "--seed",
            "3",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(flow.lines().count(), plain.lines().count());

    let json = dir.join("summary.json");
    ringbook(&[
        "bench",
        "--instruments-file",
        file,
        "--orders",
        "2000",
        "--warmup",
        "100",
        "--json",
        json.to_str().unwrap(),
    ]);
    let summary: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(summary["setup"]["instruments"].as_u64(), Some(3));

    for args in [
        &["gen", "--instruments-file", file, "--instruments", "2"][..],
        &["bench", "--instruments-file", file, "--instruments", "2"][..],
    ] {
        let stderr = refused(args);
        assert!(stderr.contains("cannot be used with"), "{args:?}: {stderr}");
    }
    let bad = dir.join("bad.txt");
    fs::write(&bad, "1\n2\n1\n").unwrap();
    for command in ["gen", "bench"] {
        let stderr = refused(&[command, "--instruments-file", bad.to_str().unwrap()]);
        assert!(
            stderr.contains("line 3: instrument 00000000-0000-0000-0000-000000000001 is listed twice (first on line 1)"),
            "{command}: {stderr}"
        );
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_sweep_prints_both_engines_by_rate_and_writes_its_curve_and_json() {
    let dir = scratch("sweep");
    let json = dir.join("sweep.json");
    let plot = dir.join("sweep.svg");
    let output = ringbook(&[
        "bench",
        "--orders",
        "20000",
        "--warmup",
        "2000",
        "--baseline",
        "--sweep",
        "60,20",
        "--repeat",
        "1",
        "--json",
        json.to_str().unwrap(),
        "--sweep-plot",
        plot.to_str().unwrap(),
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("open-loop sweep"), "{table}");
    for column in ["achieved/s", "p50", "p90", "p99", "p99.9", "max"] {
        assert!(table.contains(column), "{column}: {table}");
    }
    // A row per rate and engine, the rates ascending, then the ratios per rate.
    let rows: Vec<(&str, &str)> = table
        .lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words.iter().position(|w| w.ends_with('%'))?;
            let engine = *words.get(at + 1)?;
            ["ringbook", "baseline"]
                .contains(&engine)
                .then_some((words[at], engine))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("20%", "ringbook"),
            ("20%", "baseline"),
            ("60%", "ringbook"),
            ("60%", "baseline")
        ],
        "{table}"
    );
    let ratios: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("p99 ") && l.contains("x, p99.9 ") && l.ends_with('x'))
        .collect();
    assert_eq!(ratios.len(), 2, "{table}");

    let summary: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let sweep = &summary["sweep"];
    let capacity = sweep["capacity_per_s"].as_f64().unwrap();
    assert!(capacity > 0.0, "{sweep}");
    assert_eq!(sweep["capacity_runs_per_s"].as_array().unwrap().len(), 1);
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for (point, percent) in points.iter().zip([20.0, 60.0]) {
        assert_eq!(point["percent"].as_f64(), Some(percent));
        let rate = point["rate_per_s"].as_f64().unwrap();
        assert!((rate - capacity * percent / 100.0).abs() < 1.0, "{point}");
        for engine in ["ringbook", "baseline"] {
            let figures = &point["engines"][engine];
            assert_eq!(figures["runs"], 1, "{point}");
            assert!(figures["throughput_per_s"].as_f64().unwrap() > 0.0);
            let keys = ["p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"];
            let values: Vec<f64> = keys.iter().map(|k| figures[k].as_f64().unwrap()).collect();
            assert!(values[0] > 0.0, "{engine}: {values:?}");
            assert!(
                values.windows(2).all(|w| w[0] <= w[1]),
                "{engine}: {values:?}"
            );
        }
        assert!(point["ringbook_over_baseline"]["p99"].as_f64().unwrap() > 0.0);
    }

    let svg = fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<polyline").count(), 6, "{svg}");
    for engine in ["ringbook", "baseline"] {
        for percentile in ["p50", "p99", "p99.9"] {
            let legend = format!(">{engine} {percentile}</text>");
            assert!(svg.contains(&legend), "{legend}");
        }
    }
    assert!(svg.contains("offered rate (commands/s)") && svg.contains("latency (log scale)"));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_sweep_refuses_bad_fractions_naming_the_token() {
    for (list, expected) in [
        ("10,abc", "`abc` (item 2) is not a number"),
        ("50,0", "`0` (item 2) is out of range"),
        ("100.5", "`100.5` (item 1) is out of range"),
        ("-10", "`-10` (item 1) is out of range"),
        ("10,20,10", "`10` (item 3) is given twice"),
        ("1,2,3,4,5,6,7,8,9,10,11", "11 fractions given, at most 10"),
    ] {
        let stderr = refused(&["bench", "--baseline", &format!("--sweep={list}")]);
        assert!(stderr.contains(expected), "{list}: {stderr}");
    }
    let stderr = refused(&["bench", "--sweep"]);
    assert!(stderr.contains("--baseline"), "{stderr}");
    let stderr = refused(&["bench", "--baseline", "--sweep", "--rate", "1000"]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
