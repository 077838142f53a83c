#!/usr/bin/env bash
# Usage: scripts/bench-fleet.sh        (also run at the end of scripts/bench.sh)
#
# Fleet scale and history size (issue 14), from the measurements of tests/fleet.rs, which
# runs the built goroscope against one local server of 1,000 distinct real profiles:
#   check 1000     one `check --targets` over 1,000 targets (+3 failing): wall, peak RSS
#                  (/usr/bin/time), CPU time
#   watch 100x120  `watch` over 100 targets for an hour of polls every 30 s on the test
#                  clock: RSS after warm-up (rounds 20-60) and over the last 40 rounds
#   history        bytes per snapshot of 48 sites (file pages in use, snapshots 100-1,000)
#   retain         history file size with --retain 1h once the hour is full, and 200 rounds later
# Prints a Markdown table. The machine is shared: wall times drift; RSS and bytes do not.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --release --quiet --test fleet -- --nocapture --test-threads 1 >"$log" 2>&1 || {
	cat "$log" >&2
	echo "bench-fleet.sh: tests/fleet.rs failed" >&2
	exit 1
}
line() { grep -m1 -o "$1.*" "$log" || echo "$1 (missing)"; }
check=$(line "fleet check:")
watch=$(line "watch:")
hist=$(line "history:")
retain=$(line "retain:")
echo
echo "Fleet and history, $(nproc) cores, $(date -u +%Y-%m-%d) (tests/fleet.rs)"
echo
echo "| what | target | measured |"
echo "| --- | --- | ---: |"
echo "| check, 1,000 targets (+3 failing) | ≤ 30 s, ≤ 300 MB | $(sed -E 's/.* in ([0-9.]+ s), peak RSS ([0-9]+ MB), CPU ([0-9.]+ s).*/\1, \2 peak RSS, \3 CPU/' <<<"$check") |"
echo "| watch, 100 targets × 120 polls (an hour at 30 s) | flat memory | $(sed -E 's/.*rounds 20-60 max ([0-9.]+ MB), last 40 max ([0-9.]+ MB).*/RSS \1 after warm-up, \2 at the end/' <<<"$watch") |"
echo "| history, per snapshot of ~50 sites | ≤ 1.5 KB | $(sed -E 's/history: ([0-9]+) bytes per snapshot of ([0-9.]+) sites.*/\1 bytes (\2 sites)/' <<<"$hist") |"
echo "| history with --retain 1h, 10 targets | flat file | $(sed -E 's/retain: file ([0-9]+ KB) when the hour first filled, ([0-9]+ KB) .*/\1 when full, at most \2 200 rounds later/' <<<"$retain") |"
