#!/usr/bin/env bash
# Usage: scripts/bench.sh [SIZE...]        (default: 100k 1m; sizes: 10k 100k 1m)
#
# Times goroscope side by side with its peers and the machine's floors, in one run, on the
# dumps of scripts/gen-bench-data.sh (bench-data/, git-ignored), and prints a Markdown
# table with ratios. The README's Performance section quotes its output.
#
#   debug=2 text  goroscope show (auto threads / one core via taskset), panicparse (Debian
#                 package `panicparse`), gostackparse (if GOSTACKPARSE names a driver, see
#                 below), floors `wc -l` and `grep -c '^goroutine '`; on both generator
#                 shapes: goroutines-N (service) and wide-N (long paths, generics, deep
#                 stacks, 20k distinct call sites)
#   SIGQUIT       goroscope show (auto / one core), floor `wc -l`, both shapes
#   loaded        SIGQUIT again with a busy loop on core 0 the whole time: goroscope on
#                 auto threads against goroscope pinned to core 1, in turn for PAIRS rounds
#                 (default 12) with the pinned one run twice a round, and the medians of
#                 each and of the ratios per round (the pinned one against itself: the noise)
#                 (issue 14: threads must not make it slower than one core)
#   distinct      a dump of distinct label values (written here), auto threads against one
#                 core, paired as above but on an idle machine
#   debug=1       goroscope show, `go tool pprof -top` (no symbols from debug=1), `wc -l`
#   debug=0       goroscope show, `go tool pprof -raw` and `-top`, floor `gzip -d`
#   trend         goroscope trend over bench-data/trend/ (1,000 debug=1 files of 1,000 sites,
#                 written by `cargo bench --bench trend`), floor `cat | wc -l`
#
# Each command runs after its input was read once (page cache warm); the best of RUNS
# (default 3; 1 for commands slower than 20 s) is kept, with its peak RSS. goroscope
# memory-maps its input, so its RSS includes the file's pages it touched; the column
# "RSS - input" takes them off. Peers get TIMEOUT seconds (default 300) and a memory cap
# of MEMCAP_KB (default 16 GiB of address space); past either they are reported, not timed.
#
# panicparse 2.3 does not read Go 1.27's `goroutine N [state] {labels}:` header (it passes
# the text through unparsed), so it is given a copy with the labels cut from the headers
# (`*.nolabels.debug2.txt`, made here once); so is gostackparse, which reports such headers
# as errors. gostackparse is a Go library, not a command: GOSTACKPARSE names a program you
# built around it that takes the dump's path, parses it and counts goroutines by state and
# top frame (nothing here builds or fetches it).
#
# Then the fleet and history rows of scripts/bench-fleet.sh (1,000-target check, watch
# memory, history bytes per snapshot; FLEET=0 skips them).
#
# Environment: GO (a `go` binary; default from scripts/install-go.sh 1.27.3), RUNS, PAIRS, TIMEOUT,
# MEMCAP_KB, CARGO_TARGET_DIR, GOSTACKPARSE, FLEET, PROFILE (the cargo profile measured:
# default dist, the shipped build).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
data=$root/bench-data
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(100k 1m)
runs=${RUNS:-3}
pairs=${PAIRS:-12}
timeout_s=${TIMEOUT:-300}
memcap_kb=${MEMCAP_KB:-16777216}
target=${CARGO_TARGET_DIR:-$root/target}

for s in "${sizes[@]}"; do
	if [[ ! -e $data/goroutines-$s.debug2.txt ]]; then
		echo "bench.sh: $data/goroutines-$s.debug2.txt is missing; run scripts/gen-bench-data.sh" >&2
		exit 1
	fi
done

# The figures are of the shipped build (`cargo install --path . --profile dist`: thin LTO),
# not of the tests' `release` build (about 8% more instructions on the wide shape).
profile=${PROFILE:-dist}
cargo build --profile "$profile" --quiet
bin=$target/$profile/goroscope
if [[ -z ${GO:-} ]]; then
	GO=$("$root/scripts/install-go.sh" 1.27.3 2>/dev/null || true)
fi
have() { command -v "$1" >/dev/null 2>&1; }

tmp=$(mktemp -d)
busy_pid=
trap 'rm -rf "$tmp"; [[ -z $busy_pid ]] || kill "$busy_pid" 2>/dev/null' EXIT

# measure NAME FILE CMD...: best wall time of $runs and its peak RSS, appended to $tmp/rows
# as "input|tool|seconds|rss_kb|bytes|status".
measure() {
	local input=$1 tool=$2 file=$3
	shift 3
	local bytes best="" rss="" status=ok n=$runs
	# Throughput of a gzipped profile is counted in decompressed bytes.
	if [[ $file == *.gz ]]; then
		bytes=$(gzip -dc "$file" | wc -c)
	elif [[ -d $file ]]; then
		bytes=$(cat "$file"/* | wc -c)
	else
		bytes=$(stat -c %s "$file")
	fi
	if [[ -d $file ]]; then cat "$file"/* >/dev/null; else cat "$file" >/dev/null; fi
	for ((i = 0; i < n; i++)); do
		local out=$tmp/time rc=0
		# Output goes to a file, not /dev/null: GNU grep stops at the first match when
		# it sees /dev/null.
		( ulimit -v "$memcap_kb"; exec /usr/bin/time -f "%e %M" -o "$out" timeout "$timeout_s" "$@" ) >"$tmp/out" 2>"$tmp/err" || rc=$?
		if [[ $rc -eq 124 ]]; then
			status="did not finish in ${timeout_s} s"
			break
		elif [[ $rc -ne 0 ]]; then
			status="failed (exit $rc: $(grep -v '^Command exited' "$tmp/err" | tail -1 | cut -c1-60 | tr '|' '/'))"
			break
		fi
		read -r t m < <(tail -1 "$out")
		if [[ -z $best ]] || awk "BEGIN{exit !($t < $best)}"; then
			best=$t
			rss=$m
		fi
		# One run is enough for slow commands.
		awk "BEGIN{exit !($t > 20)}" && n=1
	done
	echo "$input|$tool|${best:-}|${rss:-}|$bytes|$status" >>"$tmp/rows"
}

# paired INPUT FILE NAME_A CMD_A... -- NAME_B CMD_B...: A, B and B once more, in turn for
# $pairs rounds (the order rotating, so each takes each place as often), so a host that
# slows down for a while slows all alike. Appends a row of A's and of B's best time (as
# measure does) and a note of their medians, of A's time over B's in the same round (its
# median; in how many rounds A was faster, slower) and the same for B's second run over
# its first: the noise floor, what a command shows against itself. For the loaded machine,
# where one run's time swings by 1.5x and a best of three says little.
paired() {
	local input=$1 file=$2 name_a=$3
	shift 3
	local -a cmd_a=() cmd_b=()
	while [[ $1 != -- ]]; do cmd_a+=("$1"); shift; done
	shift
	local name_b=$1
	shift
	cmd_b=("$@")
	local bytes i t m side
	bytes=$(stat -c %s "$file")
	cat "$file" >/dev/null
	: >"$tmp/pair_a"
	: >"$tmp/pair_b"
	: >"$tmp/pair_c"
	local -a rotations=("a b c" "b c a" "c a b")
	for ((i = 0; i < pairs; i++)); do
		for side in ${rotations[i % 3]}; do
			local -a cmd=("${cmd_a[@]}")
			[[ $side == a ]] || cmd=("${cmd_b[@]}")
			# Wall time to the microsecond ($EPOCHREALTIME), not /usr/bin/time's 10 ms.
			local t0=$EPOCHREALTIME
			if ! /usr/bin/time -f "%M" -o "$tmp/time" "${cmd[@]}" >"$tmp/out" 2>"$tmp/err"; then
				echo "$input|${cmd[*]}|||$bytes|failed ($(tail -1 "$tmp/err" | cut -c1-60 | tr '|' '/'))" >>"$tmp/rows"
				return
			fi
			echo "$(awk "BEGIN{printf \"%.4f\", $EPOCHREALTIME - $t0}") $(tail -1 "$tmp/time")" >>"$tmp/pair_$side"
		done
	done
	for side in a b; do
		local name=$name_a
		[[ $side == a ]] || name=$name_b
		read -r t m < <(sort -n "$tmp/pair_$side" "$([[ $side == b ]] && echo "$tmp/pair_c" || echo /dev/null)" | head -1)
		echo "$input|$name|$t|$m|$bytes|ok" >>"$tmp/rows"
	done
	paste -d' ' "$tmp/pair_a" "$tmp/pair_b" "$tmp/pair_c" | awk -v input="$input" -v a="$name_a" -v b="$name_b" '
		function median(v, n,   i, j, x) {
			for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
			return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		}
		{
			n++; ta[n] = $1; tb[n] = $3; r[n] = $1 / $3; f += $1 < $3; s += $1 > $3
			nr[n] = $5 / $3; nf += $5 < $3; ns += $5 > $3
		}
		END {
			printf "- %s, %d rounds in turn: %s median %.3f s, %s median %.3f s. Per round, the first ÷ the second: median %.3fx, faster in %d, slower in %d; the second run again ÷ itself (the noise floor): median %.3fx, faster in %d, slower in %d\n",
				input, n, a, median(ta, n), b, median(tb, n), median(r, n), f, s, median(nr, n), nf, ns
		}' >>"$tmp/notes"
}

# text_rows INPUT FILE: goroscope on auto threads and on one core, the peers, the floors.
text_rows() {
	local input=$1 d2=$2
	measure "$input" "goroscope show (auto threads)" "$d2" "$bin" show "$d2"
	measure "$input" "goroscope show (1 core)" "$d2" taskset -c 0 "$bin" show "$d2"
	local nl=${d2%.debug2.txt}.nolabels.debug2.txt
	if have panicparse || [[ -n ${GOSTACKPARSE:-} ]]; then
		[[ -e $nl ]] || sed -E 's/^(goroutine [0-9]+ \[[^]]*\]) \{.*\}:$/\1:/' "$d2" >"$nl"
	fi
	if have panicparse; then
		measure "$input" "panicparse (labels cut)" "$nl" panicparse -parse=false -rebase=false "$nl"
	else
		echo "$input|panicparse|||0|missing (apt-get install panicparse)" >>"$tmp/rows"
	fi
	if [[ -n ${GOSTACKPARSE:-} ]]; then
		measure "$input" "gostackparse (labels cut)" "$nl" "$GOSTACKPARSE" "$nl"
	fi
	measure "$input" "floor: wc -l" "$d2" wc -l "$d2"
	measure "$input" "floor: grep -c '^goroutine '" "$d2" grep -c '^goroutine ' "$d2"
}

# sigquit_rows INPUT FILE
sigquit_rows() {
	local input=$1 sq=$2
	measure "$input" "goroscope show (auto threads)" "$sq" "$bin" show "$sq"
	measure "$input" "goroscope show (1 core)" "$sq" taskset -c 0 "$bin" show "$sq"
	measure "$input" "floor: wc -l" "$sq" wc -l "$sq"
}

for s in "${sizes[@]}"; do
	text_rows "debug2 $s" "$data/goroutines-$s.debug2.txt"
	w2=$data/wide-$s.debug2.txt
	[[ -e $w2 ]] && text_rows "wide debug2 $s" "$w2"

	sq=$data/goroutines-$s.sigquit.txt
	[[ -e $sq ]] && sigquit_rows "sigquit $s" "$sq"
	ws=$data/wide-$s.sigquit.txt
	[[ -e $ws ]] && sigquit_rows "wide sigquit $s" "$ws"

	# The loaded machine: a busy loop holds core 0 while goroscope runs.
	if [[ -e $sq && $(nproc) -gt 1 ]]; then
		taskset -c 0 sh -c 'while :; do :; done' &
		busy_pid=$!
		paired "sigquit $s, busy loop on core 0" "$sq" \
			"goroscope show (auto threads)" "$bin" show "$sq" -- \
			"goroscope show (1 core: core 1)" taskset -c 1 "$bin" show "$sq"
		[[ -e $ws ]] && paired "wide sigquit $s, busy loop on core 0" "$ws" \
			"goroscope show (auto threads)" "$bin" show "$ws" -- \
			"goroscope show (1 core: core 1)" taskset -c 1 "$bin" show "$ws"
		kill "$busy_pid"
		wait "$busy_pid" 2>/dev/null || true
		busy_pid=
	fi

	d1=$data/goroutines-$s.unique.debug1.txt
	if [[ -e $d1 ]]; then
		measure "debug1 unique labels $s" "goroscope show" "$d1" "$bin" show "$d1"
		[[ -n $GO ]] && measure "debug1 unique labels $s" "go tool pprof -top" "$d1" "$GO" tool pprof -top "$d1"
		measure "debug1 unique labels $s" "floor: wc -l" "$d1" wc -l "$d1"
	fi

	d0=$data/goroutines-$s.unique.pb.gz
	if [[ -e $d0 ]]; then
		measure "debug0 unique labels $s" "goroscope show" "$d0" "$bin" show "$d0"
		if [[ -n $GO ]]; then
			measure "debug0 unique labels $s" "go tool pprof -raw" "$d0" "$GO" tool pprof -raw "$d0"
			measure "debug0 unique labels $s" "go tool pprof -top" "$d0" "$GO" tool pprof -top "$d0"
		fi
		measure "debug0 unique labels $s" "floor: gzip -d" "$d0" gzip -dc "$d0"
	fi
done

# Every label value distinct (the shape of tests/hostile.rs: 20,000 goroutines × 100 labels,
# 34 MB, written here once), on an idle machine: a split whose pieces' tables outgrow a
# quarter of them is called off and the first piece reads on, so two threads must cost no
# more than one core (issue 14; before, every piece was parsed and then the whole input
# again on one thread).
dv=$data/distinct-labels-20k.debug2.txt
[[ -e $dv ]] || awk 'BEGIN {
	for (i = 0; i < 20000; i++) {
		printf "goroutine %d [select] {", i + 1
		for (j = 0; j < 100; j++) printf "%sk%d: \"v%d\"", (j ? ", " : ""), j, i * 100 + j
		printf "}:\nmain.f()\n\t/app/main.go:10 +0x1\n\n"
	}
}' >"$dv"
paired "distinct label values 20k, idle machine" "$dv" \
	"goroscope show (auto threads)" "$bin" show "$dv" -- \
	"goroscope show (1 core)" taskset -c 1 "$bin" show "$dv"

# trend over 1,000 snapshots of 1,000 sites (written by `cargo bench --bench trend`).
tr=$data/trend
if [[ -d $tr ]]; then
	measure "trend 1000x1000" "goroscope trend (2 cores)" "$tr" "$bin" trend "$tr"
	measure "trend 1000x1000" "goroscope trend (1 core)" "$tr" taskset -c 0 "$bin" trend "$tr"
	measure "trend 1000x1000" "floor: wc -l" "$tr" sh -c 'cat "$1"/* | wc -l' sh "$tr"
else
	echo "trend 1000x1000|goroscope trend|||0|missing (cargo bench --bench trend writes bench-data/trend)" >>"$tmp/rows"
fi

small=$root/testdata/go1.27/snapshot-1.debug2.txt
if [[ -e $small ]]; then
	start=$(date +%s%N)
	for ((i = 0; i < 20; i++)); do "$bin" show "$small" >/dev/null; done
	startup_ms=$(awk "BEGIN{printf \"%.1f\", ($(date +%s%N) - $start) / 20 / 1e6}")
fi

# Ratios: every row against the goroscope row of its input (the first one, auto threads).
echo "goroscope $("$bin" --version | awk '{print $2}'), $(nproc) cores, $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; best of $runs, page cache warm"
echo
echo "| input | tool | time | throughput | time ÷ goroscope's | peak RSS | RSS - input |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
awk -F'|' '
	function mb(x) { return sprintf("%.0f MB", x / 1048576) }
	{
		input = $1; tool = $2; t = $3; rss = $4; bytes = $5; status = $6
		if (!(input in base) && tool ~ /^goroscope/ && status == "ok") base[input] = t
		if (status != "ok") {
			printf "| %s | %s | %s | | | | |\n", input, tool, status
			next
		}
		ratio = (input in base && base[input] > 0) ? sprintf("%.2fx", t / base[input]) : ""
		thr = t > 0 ? sprintf("%.0f MB/s", bytes / 1048576 / t) : "-"
		net = ""
		if (tool ~ /^goroscope/ && input !~ /^(debug0|trend)/) net = mb(rss * 1024 - bytes)
		printf "| %s (%s) | %s | %.2f s | %s | %s | %s | %s |\n", input, mb(bytes), tool, t, thr, ratio, mb(rss * 1024), net
	}' "$tmp/rows"
[[ -n ${startup_ms:-} ]] && echo && echo "startup: goroscope show on a small dump: ${startup_ms} ms (mean of 20)"
[[ -s $tmp/notes ]] && echo && cat "$tmp/notes"

# --- fleet and history rows (issue 14): their own script, so the parse rows above and
# these change apart. FLEET=0 skips them. ---
[[ ${FLEET:-1} == 0 ]] || "$root/scripts/bench-fleet.sh"
exit 0
