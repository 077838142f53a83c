#!/usr/bin/env python3
"""Cross-check a captured goroutine dump against the leaky service's /stats JSON.

Usage: check-dump.py STATS.json FILE [--kind debug1|debug2] [--prefix none|kubectl|cri]
                     [--leak-profile] [--own PREFIX]

For every site in STATS it counts the goroutines in FILE whose first frame in package
main is exactly the site's function, file and line (and, for debug=2 text, whose wait
reason is the site's state, ignoring " (leaked)" and ", N minutes"), and fails unless
the count equals the site's count. With --leak-profile (a goroutineleak profile) the
leak sites must be there and the steady ones must not (debug1), or carry "(leaked)"
exactly on the leak sites (debug2). With --own PREFIX, functions whose name starts with
PREFIX count as the program's own as well as package main's (go/deps has a package
example.com/deps/internal/work).

This is a guard for scripts/gen-testdata.sh, so that no capture is committed that
disagrees with the ground truth; it is not goroscope's parser.
"""
import argparse
import json
import re
import sys
from collections import Counter

HEADER = re.compile(r"^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\](?: \{.*\})?:$")
KUBECTL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ")
CRI = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z (?:stdout|stderr) [FP] ")


def strip_prefix(lines, prefix):
    if prefix == "none":
        return lines
    pat = KUBECTL if prefix == "kubectl" else CRI
    out = []
    for line in lines:
        m = pat.match(line)
        if not m:
            sys.exit(f"line without {prefix} prefix: {line!r}")
        out.append(line[m.end():])
    return out


def base_state(state):
    state = re.sub(r", \d+ minutes", "", state)
    state = state.replace(", locked to thread", "")
    leaked = " (leaked)" in state
    return state.replace(" (leaked)", ""), leaked


OWN = ("main.",)


def parse_debug2(lines):
    """Yields (state, leaked, function, file, line) per goroutine, for the first main frame."""
    i = 0
    while i < len(lines):
        m = HEADER.match(lines[i])
        i += 1
        if not m:
            continue
        state, leaked = base_state(m.group(2))
        first = None
        while i < len(lines) and lines[i].strip() and not HEADER.match(lines[i]):
            fn = lines[i]
            loc = lines[i + 1] if i + 1 < len(lines) else ""
            i += 2
            if first is None and fn.startswith(OWN) and loc.startswith("\t"):
                name = fn.rsplit("(", 1)[0] if fn.endswith(")") else fn
                path, _, ln = loc.strip().split(" ")[0].rpartition(":")
                first = (name, path, int(ln))
        if first:
            yield (state, leaked) + first


def parse_debug1(lines):
    """Yields (count, function, file, line) per stack group, for the first main frame."""
    count = None
    first = None
    for line in lines + [""]:
        m = re.match(r"^(\d+) @ ", line)
        if m:
            count, first = int(m.group(1)), None
        elif line.startswith("#\t") and count is not None and first is None:
            parts = [p for p in line.split("\t") if p]
            if len(parts) < 4:
                continue
            fn, loc = parts[2].rsplit("+0x", 1)[0], parts[3]
            if fn.startswith(OWN):
                path, _, ln = loc.strip().rpartition(":")
                first = (fn, path, int(ln))
        elif not line.strip() and count is not None:
            if first:
                yield (count,) + first
            count, first = None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stats")
    ap.add_argument("file")
    ap.add_argument("--kind", choices=["debug1", "debug2"], default="debug2")
    ap.add_argument("--prefix", choices=["none", "kubectl", "cri"], default="none")
    ap.add_argument("--leak-profile", action="store_true")
    ap.add_argument("--own", action="append", default=[])
    a = ap.parse_args()
    global OWN
    OWN = ("main.",) + tuple(a.own)
    sites = json.load(open(a.stats))["sites"]
    lines = open(a.file, encoding="utf-8").read().split("\n")
    if a.prefix != "none":
        if lines and lines[-1] == "":
            lines = lines[:-1]
        lines = strip_prefix(lines, a.prefix)

    errors = []
    if a.kind == "debug2":
        got = Counter()
        leaked_flags = {}
        for state, leaked, fn, path, ln in parse_debug2(lines):
            got[(fn, path, ln, state)] += 1
            leaked_flags.setdefault((fn, path, ln), set()).add(leaked)
        for name, s in sorted(sites.items()):
            key = (s["function"], s["file"], s["line"], s["state"])
            if got[key] != s["count"]:
                near = [(k, v) for k, v in got.items() if k[0] == s["function"]]
                errors.append(f"{name}: want {s['count']} x {key}, got {got[key]}; same function: {near}")
            if a.leak_profile:
                flags = leaked_flags.get(key[:3], set())
                if flags != {s["leak"]}:
                    errors.append(f"{name}: leak={s['leak']} but (leaked) flags in dump: {flags}")
    else:
        got = Counter()
        for n, fn, path, ln in parse_debug1(lines):
            got[(fn, path, ln)] += n
        for name, s in sorted(sites.items()):
            key = (s["function"], s["file"], s["line"])
            want = 0 if (a.leak_profile and not s["leak"]) else s["count"]
            if got[key] != want:
                errors.append(f"{name}: want {want} x {key}, got {got[key]}")
    if errors:
        print(f"check-dump: {a.file} disagrees with {a.stats}:", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        sys.exit(1)
    print(f"check-dump: {a.file}: {len(sites)} sites agree with {a.stats}", file=sys.stderr)


if __name__ == "__main__":
    main()
