#!/usr/bin/env bash
# Runs the benchmark suite and regenerates BENCHMARKS.md: the machine, the commit, and
# every figure with the command that produced it. Ratios are measured within one run,
# because this kind of machine is shared and noisy: an absolute figure alone means little.
#
#   scripts/bench-report.sh            # full suite, several minutes
#   QUICK=1 scripts/bench-report.sh    # smaller workloads, for trying the script
#   OUT=dir scripts/bench-report.sh    # keep the raw outputs in dir
#   python3 scripts/bench-report.py dir > BENCHMARKS.md   # rebuild the report from them
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
for wait in yield sleep busy-spin; do
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

python3 scripts/bench-report.py "$out" > BENCHMARKS.md
echo "wrote BENCHMARKS.md" >&2
