#!/usr/bin/env bash
# Usage: scripts/gen-deps-testdata.sh
#
# Regenerates testdata/deps/: real dumps of go/deps (a service that uses golang.org/x/sync
# from Debian's golang-golang-x-sync-dev, and keeps idle net/rpc, HTTP/1.1 and HTTP/2
# client connections), built with go1.24.11 -trimpath (go1.24/) and go1.21.13 without
# (go1.21/, absolute paths). Each capture is checked against the service's /stats by
# scripts/check-dump.py before anything under testdata/ is replaced.
# Needs: scripts/setup.sh (Go, golang-golang-x-sync-dev), python3, curl.
set -Eeuo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/goroscope-deps.XXXXXX")
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
die() {
	echo "gen-deps-testdata: $*" >&2
	exit 1
}

# capture VERSION DIR BUILD-FLAGS...
capture() {
	local v=$1 out=$work/out/$2 go bin url i check
	shift 2
	mkdir -p "$out"
	go=$(scripts/install-go.sh "$v")
	bin=$work/deps-$v
	(cd go/deps && "$go" build -o "$bin" "$@" .)
	"$bin" >"$work/$v.out" 2>"$work/$v.err" &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		url=$(sed -n 's/^listening on //p' "$work/$v.out")
		[[ -n $url ]] && break
		kill -0 "$pid" 2>/dev/null || die "go/deps ($v) died: $(cat "$work/$v.err")"
		sleep 0.1
	done
	[[ -n $url ]] || die "go/deps ($v) never listened"
	curl -sS --fail -o /dev/null "$url/leak/sem?n=1"
	curl -sS --fail -o /dev/null "$url/leak/errgroup?n=1"
	curl -sS --fail -o "$out/stats.json" "$url/stats"
	check() { python3 scripts/check-dump.py "$out/stats.json" "$@" --own example.com/deps/; }
	curl -sS --fail -o "$out/goroutine.pb.gz" "$url/debug/pprof/goroutine?debug=0"
	curl -sS --fail -o "$out/goroutine.debug1.txt" "$url/debug/pprof/goroutine?debug=1"
	check "$out/goroutine.debug1.txt" --kind debug1
	curl -sS --fail -o "$out/goroutine.debug2.txt" "$url/debug/pprof/goroutine?debug=2"
	check "$out/goroutine.debug2.txt"
	sleep 0.2
	kill -QUIT "$pid"
	wait "$pid" || true
	pid=
	cp "$work/$v.err" "$out/sigquit.txt"
	check "$out/sigquit.txt"
}

capture 1.24.11 go1.24 -trimpath
capture 1.21.13 go1.21
rm -rf testdata/deps
mkdir -p testdata/deps
mv "$work/out/go1.24" "$work/out/go1.21" testdata/deps/
echo "gen-deps-testdata: done" >&2
