#!/usr/bin/env bash
# Records `ringbook bench` with call graphs. Uses hardware cycles where the machine has
# them and falls back to the software cpu-clock event where it does not (VMs, containers).
#
#   perf/record.sh [OUT.data] [-- ringbook bench options]
#   perf/record.sh perf.data -- --instruments 8 --orders 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-perf.data}
shift || true
[ "${1:-}" = "--" ] && shift
command -v perf >/dev/null || { echo "perf not found: apt-get install linux-perf (Debian) or linux-tools (Ubuntu)" >&2; exit 1; }
cargo build --release --quiet
event=cycles
# perf exits 0 even when it cannot count an event; it says "<not supported>" instead.
if perf stat -e cycles true 2>&1 | grep -q "<not supported>\|not supported\|Error"; then
  event=cpu-clock
  echo "hardware counters unavailable: sampling the software event cpu-clock" >&2
fi
# DWARF unwinding: the release profile keeps line tables, frame pointers are not forced.
perf record -e "$event" -F 4999 --call-graph dwarf,16384 -o "$out" \
  ./target/release/ringbook bench "$@"
echo "wrote $out: perf report -i $out --no-children --sort comm,symbol" >&2
