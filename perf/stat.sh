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
if perf stat -e cycles,instructions true >/dev/null 2>&1; then
  events=$events,cycles,instructions,branches,branch-misses,cache-misses
else
  echo "hardware counters unavailable: software events only" >&2
fi
perf stat -e "$events" --per-thread -- ./target/release/ringbook bench "$@"
