#!/usr/bin/env bash
# An SVG flame graph of `ringbook bench`. Installs inferno from crates.io if missing.
#
#   perf/flamegraph.sh [OUT.svg] [-- ringbook bench options]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-flamegraph.svg}
shift || true
[ "${1:-}" = "--" ] && shift
if ! command -v inferno-collapse-perf >/dev/null || ! command -v inferno-flamegraph >/dev/null; then
  echo "installing inferno (cargo install inferno)" >&2
  cargo install --quiet --locked inferno
fi
data=$(mktemp --suffix=.perf.data)
trap 'rm -f "$data"' EXIT
perf/record.sh "$data" -- "$@"
perf script -i "$data" 2>/dev/null | inferno-collapse-perf | inferno-flamegraph --title "ringbook bench $*" > "$out"
echo "wrote $out" >&2
