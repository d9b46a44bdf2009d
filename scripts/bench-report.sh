#!/usr/bin/env bash
# Runs the benchmark suite and regenerates BENCHMARKS.md: the machine, the commit, and
# every figure with the command that produced it. Ratios are measured within one run,
# because this kind of machine is shared and noisy: an absolute figure alone means little.
#
#   scripts/bench-report.sh            # full suite, several minutes
#   QUICK=1 scripts/bench-report.sh    # smaller workloads, for trying the script
#   OUT=dir scripts/bench-report.sh    # keep the raw outputs in dir
#   MARKET_ONLY=1 scripts/bench-report.sh   # only the market regimes, printed, no BENCHMARKS.md
#   SWEEP_ONLY=1 scripts/bench-report.sh    # only the sweep (and bench-sweep.svg), printed
#   python3 scripts/bench-report.py dir > BENCHMARKS.md   # rebuild the report from them
#   cat dir/market.md >> BENCHMARKS.md                     # ... and its market section
set -euo pipefail
cd "$(dirname "$0")/.."

# OUT=DIR keeps the raw outputs there (and reuses none); by default a scratch folder.
if [ -n "${OUT:-}" ]; then
  out=$OUT
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
quick=${QUICK:-}
orders=500000
repeat=5
[ -n "$quick" ] && { orders=50000; repeat=2; }

run() { # name, command...
  local name=$1; shift
  echo "==> $*" >&2
  printf '%s\n' "$*" > "$out/$name.cmd"
  "$@" > "$out/$name.out" 2> "$out/$name.err" || { cat "$out/$name.err" >&2; exit 1; }
}

# The market regimes of issue 17, against the book at $OLD_COMMIT (default 068669e) in the
# same run: messages/s of one book handing every result across a ring to a drainer thread
# (cargo bench --bench market), and the book's instructions per message under callgrind
# (examples/market_replay.rs, only its replay function collected). The old commit has no
# market generator: its tree gets a copy of today's crates/ringbook/src/flow/market.rs (and rng.rs)
# (which generates its flow by applying it to that tree's own book), the example and the
# bench. Both builds print the flow's digest, which must match: same flow, both books.
market() {
  local old_commit=${OLD_COMMIT:-068669e} regimes="static normal swing-25 swing-40 flash-crash"
  local old_tree="$out/old-tree" old_target
  old_target=$(pwd)/target/old-$old_commit
  git worktree remove --force "$old_tree" 2>/dev/null || git worktree prune
  git worktree add --detach "$old_tree" "$old_commit" >&2
  cp crates/ringbook/src/flow/market.rs crates/ringbook/src/flow/rng.rs "$old_tree/src/flow/"
  printf '\nmod market;\nmod rng;\npub use market::{MarketConfig, MarketGenerator, MarketRegime};\n' >> "$old_tree/src/flow/mod.rs"
  mkdir -p "$old_tree/examples"
  cp crates/ringbook/examples/market_replay.rs "$old_tree/examples/"
  cp -r crates/ringbook/benches/market.rs crates/ringbook/benches/common "$old_tree/benches/"
  # An empty [workspace]: the old single-crate tree is its own workspace wherever it is.
  printf '\n[[bench]]\nname = "market"\nharness = false\n\n[workspace]\n' >> "$old_tree/Cargo.toml"
  cargo build --release --quiet -p ringbook --example market_replay
  # ringbook_old_book leaves out what the example builds from today's event fields.
  (cd "$old_tree" && export CARGO_TARGET_DIR=$old_target RUSTFLAGS="--cfg ringbook_old_book" &&
    cargo build --release --quiet --example market_replay)
  local orders=1000000 bench_args="--warm-up-time 1 --measurement-time 3"
  [ -n "$quick" ] && orders=200000
  for regime in $regimes; do
    for tree in new old; do
      local bin=target/release/examples/market_replay
      [ $tree = old ] && bin=$old_target/release/examples/market_replay
      run "market_cg_${tree}_$regime" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        --collect-atstart=no --toggle-collect='market_replay::replay' "$bin" "$regime" "$orders"
    done
  done
  run market_bench_new cargo bench -p ringbook --bench market -- $bench_args
  (out=$(cd "$out" && pwd) && cd "$old_tree" &&
    export CARGO_TARGET_DIR=$old_target RUSTFLAGS="--cfg ringbook_old_book" &&
    run market_bench_old cargo bench --bench market -- $bench_args)
  git worktree remove --force "$old_tree"
  git worktree prune
  market_table "$old_commit" "$orders" "$regimes" "$bench_args" > "$out/market.md"
}

# The market section of BENCHMARKS.md from the raw outputs: callgrind's Collected over the
# messages, criterion's median throughput.
market_table() { # old commit, orders, regimes, bench arguments
  local old_commit=$1 orders=$2 regimes=$3 bench_args=$4
  {
    echo "## Market regimes: the book at $old_commit and now"
    echo
    echo "One book, the flow of \`MarketGenerator\` (seed 1, $orders new orders). Instructions per"
    echo "message: \`valgrind --tool=callgrind --collect-atstart=no --toggle-collect='market_replay::replay'"
    echo "target/release/examples/market_replay REGIME $orders\` (the book alone). Messages/s: \`cargo bench"
    echo "--bench market -- $bench_args\` (the book handing every result across a ring to a drainer"
    echo "thread), median. The old book runs today's generator, copied into its tree."
    echo
    echo "| regime | messages | instr/msg old | instr/msg new | new/old | M msg/s old | M msg/s new | new/old |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for regime in $regimes; do
      local digest_old digest_new messages ins_old ins_new thr_old thr_new
      digest_new=$(grep -o 'flow-digest [0-9a-f]*' "$out/market_cg_new_$regime.out")
      digest_old=$(grep -o 'flow-digest [0-9a-f]*' "$out/market_cg_old_$regime.out")
      if [ "$digest_new" != "$digest_old" ]; then
        echo "market $regime: the two builds replayed different flows ($digest_old, $digest_new)" >&2
        exit 1
      fi
      messages=$(grep -o 'messages [0-9]*' "$out/market_cg_new_$regime.out" | cut -d' ' -f2)
      ins_new=$(grep -o 'Collected : [0-9]*' "$out/market_cg_new_$regime.err" | awk -v m="$messages" '{printf "%.1f", $3 / m}')
      ins_old=$(grep -o 'Collected : [0-9]*' "$out/market_cg_old_$regime.err" | awk -v m="$messages" '{printf "%.1f", $3 / m}')
      thr_new=$(market_throughput "$out/market_bench_new.out" "$regime")
      thr_old=$(market_throughput "$out/market_bench_old.out" "$regime")
      awk -v r="$regime" -v m="$messages" -v io="$ins_old" -v inew="$ins_new" -v to="$thr_old" -v tn="$thr_new" \
        'BEGIN { printf "| %s | %d | %s | %s | %.2fx | %s | %s | %.2fx |\n", r, m, io, inew, inew / io, to, tn, tn / to }'
    done
    echo
  }
}

# Criterion's median throughput of market/book+ring/REGIME, in M elements/s.
market_throughput() {
  awk -v name="market/book+ring/$2" '
    index($0, name) == 1 { found = 1 }
    found && /thrpt:/ {
      sub(/.*thrpt: *\[/, ""); split($0, v, " ");
      scale = v[4] ~ /^G/ ? 1000 : v[4] ~ /^K/ ? 0.001 : v[4] ~ /^M/ ? 1 : 0.000001;
      printf "%.2f", v[3] * scale; exit
    }' "$1"
}

# The latency-throughput sweep of issue 18: the baseline's closed-loop capacity on the
# open-loop placement, then both engines open loop at fractions of it (medians of $repeat),
# as a section of BENCHMARKS.md and the curve bench-sweep.svg next to it.
sweep() {
  run sweep ./target/release/ringbook bench --baseline --instruments 8 --orders "$orders" \
    --sweep --repeat "$repeat" --json "$out/sweep.json" --sweep-plot bench-sweep.svg
  sweep_table > "$out/sweep.md"
}

# The sweep section from the raw outputs: the table the command printed, as markdown.
sweep_table() {
  {
    echo "## Latency by offered rate (the sweep)"
    echo
    echo "\`$(sed "s/ --json [^ ]*//" "$out/sweep.cmd")\` at $(git rev-parse --short HEAD), load average"
    echo "$(cut -d' ' -f1-3 /proc/loadavg) when it ended. $(head -1 "$out/sweep.out" | sed 's/^ringbook bench: //')."
    echo "The capacity is the baseline's closed-loop throughput on the same placement (median of"
    echo "$repeat); each figure is the median of $repeat runs. \`*\`: the engine achieved under 95% of the"
    echo "offered rate (saturated; its latency is its backlog). The curve: [bench-sweep.svg](bench-sweep.svg)."
    echo
    python3 - "$out/sweep.json" <<'PY'
import json, sys
sweep = json.load(open(sys.argv[1]))["sweep"]
def lat(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.1f} us"
print(f"Capacity: {sweep['capacity_per_s'] / 1e6:.2f} M commands/s "
      f"(runs: {', '.join(f'{r / 1e6:.2f} M' for r in sweep['capacity_runs_per_s'])}).\n")
print("| % | offered/s | engine | achieved/s | p50 | p90 | p99 | p99.9 | max | p99 ringbook/baseline | p99.9 ringbook/baseline |")
print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for point in sweep["points"]:
    ratios = point.get("ringbook_over_baseline", {})
    for engine in ("ringbook", "baseline"):
        e = point["engines"].get(engine)
        if e is None:
            continue
        short = " *" if e["throughput_per_s"] < 0.95 * point["rate_per_s"] else ""
        cells = [lat(e[k]) for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns")]
        r = [f"{ratios['p99']:.2f}x", f"{ratios['p999']:.2f}x"] if ratios and engine == "ringbook" else ["", ""]
        print(f"| {point['percent']:g}% | {point['rate_per_s'] / 1e6:.2f} M | {engine} | "
              f"{e['throughput_per_s'] / 1e6:.2f} M{short} | " + " | ".join(cells + r) + " |")
PY
    echo
  }
}

if [ -n "${SWEEP_ONLY:-}" ]; then
  cargo build --release --quiet -p ringbook-cli
  sweep
  cat "$out/sweep.md"
  exit 0
fi

if [ -n "${MARKET_ONLY:-}" ]; then
  market
  cat "$out/market.md"
  exit 0
fi

cargo build --release --quiet
if [ -z "$quick" ]; then
  run book cargo bench --bench book
  run book_memory cargo bench --bench book_memory
  run ring_hop cargo bench --bench ring_hop
  run pipeline cargo bench --bench pipeline
fi
run closed8 ./target/release/ringbook bench --baseline --instruments 8 --orders "$orders" --repeat $((repeat * 2 - 1)) --json "$out/closed8.json"
# Ringbook's pinning option (sequencer and event manager on core 0 with the sender, the book
# consumer alone on core 1) against the baseline as designed (it pins nothing).
run closed8pin ./target/release/ringbook bench --baseline --instruments 8 --orders "$orders" --cores 0,1 --sender-core 0 --baseline-cores os --repeat $((repeat * 2 - 1)) --json "$out/closed8pin.json"
run closed8c2 ./target/release/ringbook bench --baseline --instruments 8 --orders "$orders" --consumers 2 --repeat $((repeat * 2 - 1)) --json "$out/closed8c2.json"
run closed1000 ./target/release/ringbook bench --baseline --instruments 1000 --orders "$orders" --repeat 3 --json "$out/closed1000.json"
run open8 ./target/release/ringbook bench --baseline --instruments 8 --orders "$orders" --rate 500000 --repeat $((repeat * 2 - 1)) --json "$out/open8.json"
for wait in block yield sleep busy-spin; do
  run "closed_$wait" ./target/release/ringbook bench --instruments 8 --orders "$orders" --repeat 3 --wait "$wait" --json "$out/closed_$wait.json"
  run "open_$wait" ./target/release/ringbook bench --instruments 8 --orders "$orders" --rate 500000 --repeat 3 --wait "$wait" --json "$out/open_$wait.json"
done
if ./target/release/ringbook bench --help | grep -q -- --journal-compare; then
  # The journal writes into the page cache. In a freshly booted virtual machine the first
  # touch of guest memory is a hypervisor fault costing several times the copy itself; a
  # machine that has been up a while has warm memory. Warm some first, as it would have.
  if [ -d /dev/shm ]; then
    dd if=/dev/zero of=/dev/shm/ringbook-warm bs=1M count=4096 status=none 2>/dev/null || true
    rm -f /dev/shm/ringbook-warm
  fi
  run journal ./target/release/ringbook bench --instruments 8 --orders "$orders" --repeat $((repeat * 2 - 1)) --journal-compare --json "$out/journal.json"
fi

sweep
market
python3 scripts/bench-report.py "$out" > BENCHMARKS.md
cat "$out/sweep.md" "$out/market.md" >> BENCHMARKS.md
echo "wrote BENCHMARKS.md" >&2
