#!/usr/bin/env bash
# Usage: scripts/gen-server-dumps.sh
#
# Regenerates testdata/servers/: goroutine dumps (debug=2 text and debug=0 protobuf) of
# real Go servers from Debian, full of third-party modules (gRPC, x/net/http2, the
# Prometheus client, …): Prometheus (scraping itself and Alertmanager, and sending
# alerts to it), Alertmanager, and etcd (whose gRPC gateway dials its own gRPC server).
# Each runs on 127.0.0.1 with its data in a temporary folder and is stopped after the
# capture. The package versions are written to testdata/servers/VERSIONS.
# Needs: apt-get install prometheus prometheus-alertmanager etcd-server; python3, curl.
set -Eeuo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/goroscope-servers.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
die() {
	echo "gen-server-dumps: $*" >&2
	exit 1
}
for cmd in prometheus prometheus-alertmanager etcd curl python3; do
	command -v "$cmd" >/dev/null || die "$cmd is missing (apt-get install prometheus prometheus-alertmanager etcd-server)"
done

# A port free on 127.0.0.1 now (the servers take an address, not a listener).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_http URL NAME: waits until URL answers 200.
wait_http() {
	local i
	for ((i = 0; i < 300; i++)); do
		curl -sf -o /dev/null "$1" && return
		sleep 0.1
	done
	die "$2 did not answer at $1"
}

# capture BASE NAME: debug=2 and debug=0 goroutine profiles of the server at BASE.
capture() {
	curl -sS --fail -o "$work/out/$2.debug2.txt" "$1/debug/pprof/goroutine?debug=2"
	curl -sS --fail -o "$work/out/$2.pb.gz" "$1/debug/pprof/goroutine?debug=0"
	grep -q '^goroutine 1 \[' "$work/out/$2.debug2.txt" || die "$2: no goroutine 1 in the debug=2 dump"
}
mkdir -p "$work/out"

am_port=$(free_port)
cat >"$work/am.yml" <<YML
route:
  receiver: none
receivers:
  - name: none
YML
prometheus-alertmanager --config.file="$work/am.yml" --storage.path="$work/am" \
	--web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$work/am.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$am_port/-/ready" alertmanager

prom_port=$(free_port)
cat >"$work/prom.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$am_port"]
rule_files: ["$work/rules.yml"]
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$prom_port"]
  - job_name: alertmanager
    static_configs:
      - targets: ["127.0.0.1:$am_port"]
YML
cat >"$work/rules.yml" <<YML
groups:
  - name: always
    rules:
      - alert: Always
        expr: vector(1)
YML
prometheus --config.file="$work/prom.yml" --storage.tsdb.path="$work/prom" \
	--web.listen-address="127.0.0.1:$prom_port" --rules.alert.resend-delay=1s >"$work/prom.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$prom_port/-/ready" prometheus

etcd_client=$(free_port)
etcd_peer=$(free_port)
etcd --name goroscope --data-dir "$work/etcd" --enable-pprof \
	--listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
	--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
	--initial-cluster "goroscope=http://127.0.0.1:$etcd_peer" >"$work/etcd.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$etcd_client/health" etcd
# Through the gRPC gateway: a put and a range, so its gRPC client connection is in use.
curl -sS --fail -o /dev/null -X POST "http://127.0.0.1:$etcd_client/v3/kv/put" -d '{"key": "Z29yb3Njb3Bl", "value": "MQ=="}'
curl -sS --fail -o /dev/null -X POST "http://127.0.0.1:$etcd_client/v3/kv/range" -d '{"key": "Z29yb3Njb3Bl"}'

# Let Prometheus scrape both targets and send its alert.
for ((i = 0; i < 300; i++)); do
	curl -sS --fail "http://127.0.0.1:$am_port/api/v2/alerts" | grep -q Always && break
	sleep 0.1
done
((i < 300)) || die "the alert never reached Alertmanager; prometheus said: $(tail -n 5 "$work/prom.log")"
sleep 2
capture "http://127.0.0.1:$prom_port" prometheus
capture "http://127.0.0.1:$am_port" alertmanager
capture "http://127.0.0.1:$etcd_client" etcd

{
	echo "# Debian packages the dumps in this folder come from (dpkg-query)"
	dpkg-query -W -f '${Package} ${Version}\n' prometheus prometheus-alertmanager etcd-server
	go=$(scripts/install-go.sh 1.27.3)
	for cmd in prometheus prometheus-alertmanager etcd; do
		"$go" version "$(command -v "$cmd")"
	done
} >"$work/out/VERSIONS"
rm -rf testdata/servers
mv "$work/out" testdata/servers
echo "gen-server-dumps: done" >&2
