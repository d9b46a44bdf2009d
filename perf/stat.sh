#!/usr/bin/env bash
# Counts for one `ringbook bench` run: hardware counters where the machine has them,
# software ones (task clock, context switches, migrations, page faults) everywhere.
#
#   perf/stat.sh [-- ringbook bench options]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--" ] && shift
command -v perf >/dev/null || { echo "perf not found: apt-get install linux-perf" >&2; exit 1; }
cargo build --release --quiet
events=task-clock,context-switches,cpu-migrations,page-faults
# perf exits 0 even when it cannot count an event; it says "<not supported>" instead.
if perf stat -e cycles,instructions true 2>&1 | grep -q "<not supported>"; then
  echo "hardware counters unavailable: software events only" >&2
else
  events=$events,cycles,instructions,branches,branch-misses,cache-misses
fi
perf stat -e "$events" -- ./target/release/ringbook bench "$@"
