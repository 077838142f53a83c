#!/usr/bin/env bash
# Usage: scripts/gen-bench-data.sh [OUTDIR]        (default OUTDIR: bench-data)
#
# Builds go/gendump with Go 1.27.3 (via scripts/install-go.sh; override with GO=/path/to/go)
# and writes synthetic goroutine dumps with 10k, 100k and 1M goroutines into OUTDIR:
#
#   goroutines-N.debug2.txt         /debug/pprof/goroutine?debug=2 text
#   goroutines-N.sigquit.txt        SIGQUIT crash dump (level 2: runtime frames, fp/sp/pc, registers)
#   goroutines-N.debug1.txt         ?debug=1 text (aggregated records)
#   goroutines-N.pb.gz              ?debug=0 gzipped profile.proto
#   goroutines-N.unique.debug1.txt  same, with a unique request_id/job_id label on the labeled third
#   goroutines-N.unique.pb.gz       (these hardly aggregate: ~1/3 of N records)
#   goroutines-N.truth.json         per-blocking-site counts for debug2/debug1/debug0 (same seed)
#   goroutines-N.sigquit.truth.json per-blocking-site counts for the SIGQUIT dump
#   wide-N.debug2.txt, wide-N.sigquit.txt (and .truth.json, .sigquit.truth.json)
#                                   the same formats from a differently shaped service
#                                   (gendump -shape wide: long package paths, generics, long
#                                   argument lists, stacks up to 50+ frames, few labels,
#                                   ~18,000 stack variants over ~20,000 call sites; ~1.75 KB
#                                   per goroutine in debug=2)
#
# Files that already exist are skipped (delete them to regenerate). Seed: SEED (default 1).
# The 1M set takes ~5 GB (debug2 ~1.9 GB, sigquit ~3 GB) and about a minute; the wide 1M
# set another ~5 GB. SHAPES picks the shapes (default "service wide").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
out=${1:-bench-data}
seed=${SEED:-1}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

if [[ -z ${GO:-} ]]; then
	if [[ -x $root/scripts/install-go.sh ]]; then
		GO=$("$root/scripts/install-go.sh" 1.27.3)
	elif command -v go >/dev/null; then
		GO=go
	else
		echo "gen-bench-data.sh: no Go toolchain (set GO=/path/to/go)" >&2
		exit 1
	fi
fi

bin=$out/.gendump
echo "building gendump with $("$GO" version)" >&2
(cd "$root/go/gendump" && GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" build -o "$bin" .)

# gen FILE ARGS...: write FILE atomically unless it exists
gen() {
	local file=$1
	shift
	if [[ -e $file ]]; then
		echo "skip  $(basename "$file") (exists)" >&2
		return
	fi
	local t0=$SECONDS
	"$bin" -seed "$seed" "$@" -o "$file.tmp"
	mv -f "$file.tmp" "$file"
	echo "wrote $(basename "$file") in $((SECONDS - t0))s" >&2
}

shapes=${SHAPES:-service wide}

for spec in 10k:10000 100k:100000 1m:1000000; do
	if [[ " $shapes " != *" service "* ]]; then
		continue
	fi
	name=${spec%%:*}
	n=${spec#*:}
	base=$out/goroutines-$name
	truth=()
	[[ -e $base.truth.json ]] || truth=(-truth "$base.truth.json")
	gen "$base.debug2.txt" -n "$n" -format debug2 "${truth[@]}"
	[[ -e $base.truth.json ]] || "$bin" -seed "$seed" -n "$n" -format debug1 -o /dev/null -truth "$base.truth.json"
	gen "$base.debug1.txt" -n "$n" -format debug1
	gen "$base.pb.gz" -n "$n" -format debug0
	gen "$base.unique.debug1.txt" -n "$n" -format debug1 -unique-labels
	gen "$base.unique.pb.gz" -n "$n" -format debug0 -unique-labels
	truth=()
	[[ -e $base.sigquit.truth.json ]] || truth=(-truth "$base.sigquit.truth.json")
	gen "$base.sigquit.txt" -n "$n" -format sigquit "${truth[@]}"
	[[ -e $base.sigquit.truth.json ]] || "$bin" -seed "$seed" -n "$n" -format sigquit -o /dev/null -truth "$base.sigquit.truth.json"
done

# The wide shape: tracebacks only (the parse targets of issue 14 are on these).
for spec in 10k:10000 100k:100000 1m:1000000; do
	if [[ " $shapes " != *" wide "* ]]; then
		continue
	fi
	name=${spec%%:*}
	n=${spec#*:}
	base=$out/wide-$name
	for f in debug2 sigquit; do
		truth=$base.truth.json
		[[ $f == sigquit ]] && truth=$base.sigquit.truth.json
		t=()
		[[ -e $truth ]] || t=(-truth "$truth")
		gen "$base.$f.txt" -shape wide -n "$n" -format "$f" "${t[@]}"
		[[ -e $truth ]] || "$bin" -seed "$seed" -shape wide -n "$n" -format "$f" -o /dev/null -truth "$truth"
	done
done

echo
echo "$out:"
(cd "$out" && ls -l goroutines-* wide-* 2>/dev/null | awk '{printf "%14.0f  %8.1f MB  %s\n", $5, $5/1048576, $9}')
