#!/usr/bin/env bash
# Usage: scripts/gen-testdata.sh [VERSION...]     (default: 1.21.13 1.24.11 1.27.3)
#
# Regenerates testdata/go1.XX/ from real runs of go/leaky built with each Go version
# (installed by scripts/install-go.sh), and the sites table in testdata/README.md.
# Every capture is checked against the service's own /stats ground truth by
# scripts/check-dump.py before anything under testdata/ is replaced.
# Needs: python3 (+pip for the Go install), curl. Works offline once Go is cached.
set -Eeuo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
versions=("$@")
((${#versions[@]})) || versions=(1.21.13 1.24.11 1.27.3)

work=$(mktemp -d "${TMPDIR:-/tmp}/goroscope-gen.XXXXXX")
# Only this shell's own background jobs still running are stopped (stamp-logs.py
# stops its child on SIGTERM), so no reused pid is ever signalled.
cleanup() {
	local p
	for p in $(jobs -pr); do
		kill -TERM "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "gen-testdata: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

die() {
	echo "gen-testdata: $*" >&2
	exit 1
}

# wait_listening FILE N PID: waits for the Nth "listening on" line in FILE, sets $url.
wait_listening() {
	local file=$1 n=$2 pid=$3 i line
	for ((i = 0; i < 300; i++)); do
		line=$(grep '^listening on ' "$file" 2>/dev/null | sed -n "${n}p" || true)
		if [[ -n $line ]]; then
			url=${line#listening on }
			return
		fi
		kill -0 "$pid" 2>/dev/null || die "service (pid $pid) died before listening"
		sleep 0.1
	done
	die "no 'listening on' line $n in $file after 30s"
}

# get PATH OUT: fetches $url/PATH into OUT, exact bytes.
get() {
	curl -sS --fail --max-time 60 -o "$2" "$url$1" || die "GET $url$1 failed"
}

# leak_round: one round of leaks (every round leaks the same amounts, so the counts
# grow 1x, 2x, 3x over the three snapshots).
leak_round() {
	local spec
	for spec in sender?n=5 receiver?n=3 mutex?n=2 select?n=2 waitgroup?n=1 nilchan?n=1 \
		'labeled?n=1&tenant=acme' 'labeled?n=1&tenant=globex'; do
		get "/leak/$spec" /dev/null
	done
}

check() { python3 scripts/check-dump.py "$@"; }

# capture PATH OUT STATS CHECK-ARGS...: fetches PATH into OUT and checks it against
# STATS. The dump request races with the service's own accept loop (main can be caught
# in the accept syscall, "[syscall]" instead of "[IO wait]") and, rarely, with the
# ticker waking a worker; such a capture is taken again, up to 5 times, never edited.
capture() {
	local path=$1 out=$2 stats=$3 try
	shift 3
	for try in 1 2 3 4 5; do
		get "$path" "$out"
		check "$stats" "$out" "$@" && return
		echo "gen-testdata: capture $try of $path disagrees with $stats; again" >&2
		sleep 0.3
	done
	die "$path never agreed with $stats"
}

check_gzip() {
	python3 -c 'import gzip, sys; assert len(gzip.open(sys.argv[1]).read()) > 100' "$1" ||
		die "$1 is not a gzipped profile"
}

# expect_exit PID STATUS: waits for PID (a child of this shell) and checks its status.
expect_exit() {
	local rc=0
	wait "$1" || rc=$?
	((rc == $2)) || die "pid $1 exited with $rc, expected $2"
}

gen_version() {
	local v=$1 short=${1%.*} go bin out rc r env_run=()
	out=$work/out/go$short
	mkdir -p "$out"
	go=$(scripts/install-go.sh "$v")
	bin=$work/leaky-$v
	# Go 1.21 builds keep absolute paths (/root/.cache/.../src/runtime/proc.go,
	# /…/go/leaky/main.go); the newer ones use -trimpath (runtime/proc.go,
	# example.com/leaky/main.go), so both path styles are covered.
	local build=(build -o "$bin")
	[[ $short == 1.21 ]] || build+=(-trimpath)
	(cd go/leaky && "$go" "${build[@]}" .)
	# Go 1.27 prints pprof labels in traceback headers only for modules that say
	# go >= 1.27 (GODEBUG tracebacklabels); go.mod says 1.21, so turn it on at run time.
	[[ $short == 1.27 ]] && env_run+=(GODEBUG=tracebacklabels=1)

	# Run 1: three rounds of leaks, snapshots after each, then SIGQUIT.
	env "${env_run[@]}" "$bin" >"$work/$v-run1.out" 2>"$work/$v-run1.err" &
	local pid=$!
	wait_listening "$work/$v-run1.out" 1 "$pid"
	for r in 1 2 3; do
		leak_round
		get /stats "$out/snapshot-$r.stats.json"
		get '/debug/pprof/goroutine?debug=0' "$out/snapshot-$r.pb.gz"
		check_gzip "$out/snapshot-$r.pb.gz"
		capture '/debug/pprof/goroutine?debug=1' "$out/snapshot-$r.debug1.txt" "$out/snapshot-$r.stats.json" --kind debug1
		capture '/debug/pprof/goroutine?debug=2' "$out/snapshot-$r.debug2.txt" "$out/snapshot-$r.stats.json" --kind debug2
		if [[ $short == 1.27 ]]; then
			# Each goroutineleak request runs a leak-finding GC first; the goroutines it
			# finds stay marked "(leaked)" in every later dump of this process.
			get '/debug/pprof/goroutineleak?debug=0' "$out/snapshot-$r.goroutineleak.pb.gz"
			check_gzip "$out/snapshot-$r.goroutineleak.pb.gz"
			capture '/debug/pprof/goroutineleak?debug=1' "$out/snapshot-$r.goroutineleak.debug1.txt" \
				"$out/snapshot-$r.stats.json" --kind debug1 --leak-profile
			capture '/debug/pprof/goroutineleak?debug=2' "$out/snapshot-$r.goroutineleak.debug2.txt" \
				"$out/snapshot-$r.stats.json" --kind debug2 --leak-profile
		fi
	done
	sleep 0.2 # let the last connection's goroutine finish
	kill -QUIT "$pid"
	expect_exit "$pid" 2
	cp "$work/$v-run1.err" "$out/sigquit.txt"
	check "$out/snapshot-3.stats.json" "$out/sigquit.txt"

	# Run 2: one round of leaks, then an unrecovered panic in a goroutine.
	env "${env_run[@]}" GOTRACEBACK=all "$bin" >"$work/$v-run2.out" 2>"$work/$v-run2.err" &
	pid=$!
	wait_listening "$work/$v-run2.out" 1 "$pid"
	leak_round
	get /stats "$out/panic.stats.json"
	rc=0
	curl -sS --max-time 30 -o /dev/null "$url/panic" 2>/dev/null || rc=$?
	((rc == 52 || rc == 56)) || die "GET /panic: curl exit $rc, expected an empty reply (52)"
	expect_exit "$pid" 2
	cp "$work/$v-run2.err" "$out/panic.txt"
	check "$out/panic.stats.json" "$out/panic.txt"

	[[ $short == 1.24 ]] && gen_log_with_dump "$bin" "$out"
	return 0
}

# gen_log_with_dump BIN OUT: the service's logs, as a container runtime records them,
# with a SIGQUIT dump in the middle: run 1 logs requests and gets SIGQUIT, run 2 (the
# restarted container) logs a few more requests and is stopped with SIGTERM.
gen_log_with_dump() {
	local bin=$1 out=$2 sp child
	# (file names carry $v from gen_version: a name reused across versions could be read
	# before the new process truncated it, stale port and all)
	python3 scripts/stamp-logs.py "$out/log-with-dump.txt" "$out/log-with-dump.cri.txt" \
		"$work/$v-lwd.pid" 2 -- "$bin" -log-requests >"$work/$v-lwd.out" 2>"$work/$v-lwd.err" &
	sp=$!
	wait_listening "$work/$v-lwd.out" 1 "$sp"
	child=$(cat "$work/$v-lwd.pid.1")
	get /leak/sender?n=3 /dev/null
	get /leak/receiver?n=2 /dev/null
	get /debug/pprof/goroutine?debug=1 /dev/null
	get /leak/mutex?n=1 /dev/null
	get '/leak/labeled?n=1&tenant=acme' /dev/null
	get /stats "$out/log-with-dump.stats.json"
	sleep 0.2
	kill -QUIT "$child"
	wait_listening "$work/$v-lwd.out" 2 "$sp"
	child=$(cat "$work/$v-lwd.pid.2")
	get /stats /dev/null
	get /leak/sender?n=1 /dev/null
	sleep 0.2
	kill -TERM "$child"
	expect_exit "$sp" 143 # the last run's status: killed by SIGTERM
	grep -q "stamp-logs: run 1 exited with status 2" "$work/$v-lwd.err" || die "log-with-dump: run 1 did not die of SIGQUIT"
	check "$out/log-with-dump.stats.json" "$out/log-with-dump.txt" --prefix kubectl
	check "$out/log-with-dump.stats.json" "$out/log-with-dump.cri.txt" --prefix cri
}

for v in "${versions[@]}"; do
	echo "gen-testdata: go$v" >&2
	gen_version "$v"
done
for v in "${versions[@]}"; do
	rm -rf "testdata/go${v%.*}"
	mv "$work/out/go${v%.*}" "testdata/go${v%.*}"
done
python3 scripts/sites-table.py testdata/README.md
echo "gen-testdata: done: ${versions[*]}" >&2
