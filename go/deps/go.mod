module example.com/deps

go 1.21

require golang.org/x/sync v0.1.0

// Debian's golang-golang-x-sync-dev (installed by scripts/setup.sh): the module proxy is
// out of reach, and third-party code is not kept in this repository.
replace golang.org/x/sync => /usr/share/gocode/src/golang.org/x/sync
