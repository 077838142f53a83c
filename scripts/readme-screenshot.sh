#!/usr/bin/env bash
# Rewrites docs/trend-report.png, the README's picture of the HTML report: `goroscope
# trend --html` over the leaky service's three Go 1.27 debug=0 captures (their capture times on the axis), shown in headless
# Chromium by tests/browser/check-report.js (run scripts/setup.sh first).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/release/goroscope trend --html "$tmp/trend.html" testdata/go1.27/snapshot-{1,2,3}.pb.gz >/dev/null
node tests/browser/check-report.js "$tmp/trend.html" --screenshot docs/trend-report.png >/dev/null
echo "wrote docs/trend-report.png"
