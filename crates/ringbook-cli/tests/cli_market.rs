//! Integration tests of the market-shaped flows in the `ringbook` command:
//! `ringbook gen --market REGIME` writes `MarketGenerator`'s flow, and
//! `ringbook bench --market REGIME` runs it through the pipeline.

use std::process::{Command as Process, Output};

use ringbook::Command;
use ringbook::flow::{FlowReader, MarketConfig, MarketGenerator, MarketRegime};
use ringbook_testkit::scratch::TempDir;

/// Runs `ringbook ARGS...` to completion.
fn ringbook(args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_ringbook"))
        .args(args)
        .output()
        .expect("the ringbook binary runs")
}

/// The flow `MarketGenerator` makes.
fn expected(regime: MarketRegime, seed: u64, orders: u64) -> Vec<Command> {
    MarketGenerator::new(MarketConfig {
        seed,
        regime,
        orders,
        ..MarketConfig::default()
    })
    .collect()
}

/// Parses a flow file strictly.
fn parse(text: &[u8]) -> Vec<Command> {
    FlowReader::new(text)
        .map(|line| line.expect("a well-formed flow").1)
        .collect()
}

#[test]
fn gen_market_writes_the_generators_flow_for_every_regime() {
    for regime in MarketRegime::ALL {
        let out = ringbook(&[
            "gen",
            "--market",
            regime.as_str(),
            "--orders",
            "1500",
            "--seed",
            "9",
        ]);
        assert!(out.status.success(), "{regime}: {out:?}");
        let flow = parse(&out.stdout);
        assert_eq!(flow, expected(regime, 9, 1_500), "{regime}");
        let adds = flow.iter().filter(|c| matches!(c, Command::Add(_))).count();
        assert_eq!(adds, 1_500, "{regime}");
    }
}

#[test]
fn gen_market_writes_to_a_file_and_seeds_differ() {
    let dir = TempDir::new("cli-market-gen");
    let path = dir.path().join("flow.csv");
    let path_text = path.to_str().unwrap();
    let out = ringbook(&[
        "gen", "--market", "normal", "--orders", "800", "--seed", "2", "-o", path_text,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    let flow = parse(&std::fs::read(&path).unwrap());
    assert_eq!(flow, expected(MarketRegime::Normal, 2, 800));
    assert_ne!(flow, expected(MarketRegime::Normal, 3, 800));
}

#[test]
fn gen_market_refuses_an_unknown_regime_and_other_instruments() {
    let out = ringbook(&["gen", "--market", "swing-60", "--orders", "10"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"swing-60\"") && stderr.contains("flash-crash"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let out = ringbook(&["gen", "--market", "normal", "--instruments", "3"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--instruments"), "{stderr}");
    let out = ringbook(&["bench", "--market", "normal", "--instruments", "3"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn bench_market_runs_the_regimes_flow_through_the_pipeline() {
    let commands = expected(MarketRegime::Swing25, 4, 4_000).len();
    let out = ringbook(&[
        "bench", "--market", "swing-25", "--orders", "4000", "--seed", "4", "--warmup", "500",
    ]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "workload (market regime swing-25): {commands} commands (4000 orders) on 1 instruments, seed 4"
        )),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("1 instruments, {commands} commands")),
        "{stdout}"
    );
    assert!(stdout.contains("ringbook "), "{stdout}");
}
