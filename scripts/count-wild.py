#!/usr/bin/env python3
"""Ground truth for testdata/wild/, counted without goroscope.

Usage:  scripts/count-wild.py [--write] [FILE...]

For every file named in testdata/wild/manifest.json (or the FILEs given) it counts, with
regular expressions of its own:
  - goroutine headers: `goroutine N [state...]:` (or `goroutine N gp=... [state]:`) anywhere
    in a line, the line ending in `:` (blanks after it allowed); in a JSON record or a quoted
    logfmt value, lines are split at the `\\n` escapes first. Goroutine 0 (a g0 stack) is
    not a goroutine; headers of `[originating from goroutine N]` blocks do not match.
  - debug=1 profiles (`goroutine profile: total N`, or `goroutineleak profile: total N`):
    the sum of the records' counts, one snapshot per profile header.
  - debug=0 profiles (pprof protobuf, gzipped or not): decoded here with a minimal
    protobuf reader (no library): the sum of the samples' values of the `goroutine`
    (or `goroutineleak`) sample type, and each sample's value in file order.
  - snapshots: a new one starts at a crash preamble (`panic:`, `fatal error:`, `SIG…:`,
    `^\\SIG…`) once the current one has goroutines, or at a goroutine id the current one
    already has; after a `-----` line (GOTRACEBACK=crash) neither splits, and a repeated
    id there is not counted again.
  - per snapshot: goroutines by wait state (the bracket's text before `, `, without the
    ` (leaked)`, ` (scan)`, ` (durable)` marks and 1.26's ` labels:{...}`).
With --write it stores the counts as each entry's `expect` in the manifest; without, it
prints them and exits 1 if any differs from the manifest.
"""
import gzip
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "wild")
HEADER = re.compile(r"goroutine (\d+)(?: gp=\S+(?: m=\S+)?(?: mp=\S+)?)? \[(.*)\](?: \{.*\})?:\s*$")
PREAMBLE = re.compile(r"(^|\^\\)(panic: |fatal error: |SIG[A-Z]+: |fatal: morestack)")
RECORD = re.compile(r"^\s*(\d+) @( 0x[0-9a-f]+)+\s*$")
PROFILE = re.compile(r"^(goroutine|goroutineleak) profile: total (\d+)\s*$")


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def fields(buf):
    """(field number, wire type, value) of a protobuf message; value is an int or bytes."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = int.from_bytes(buf[i : i + 8], "little"), i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 5:
            value, i = int.from_bytes(buf[i : i + 4], "little"), i + 4
        else:
            raise ValueError("wire type %d" % wire)
        yield num, wire, value


def packed(wire, value):
    if wire == 0:
        return [value]
    out, i = [], 0
    while i < len(value):
        v, i = varint(value, i)
        out.append(v - (1 << 64) if v >= 1 << 63 else v)
    return out


def count_pprof(data):
    """profile.proto: sample_type = 1 (ValueType: type = 1), sample = 2 (value = 2),
    string_table = 6."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    types, samples, strings = [], [], []
    for num, wire, value in fields(data):
        if num == 1:
            types.append(dict((n, v) for n, _, v in fields(value)).get(1, 0))
        elif num == 2:
            vals = []
            for n, w, v in fields(value):
                if n == 2:
                    vals += packed(w, v)
            samples.append(vals)
        elif num == 6:
            strings.append(value.decode("utf-8", "replace"))
    names = [strings[t] for t in types]
    idx = next(i for i, n in enumerate(names) if n in ("goroutine", "goroutineleak"))
    per = [s[idx] for s in samples]
    return {"snapshots": [{"goroutines": sum(per), "states": {}}], "total": sum(per), "samples": per}


def lines_of(data):
    for line in data.decode("utf-8", "replace").splitlines():
        if "\\n" in line and "goroutine " in line:
            yield from line.split("\\n")
        else:
            yield line


def state_of(bracket):
    state = bracket.split(" labels:{", 1)[0].split(", ", 1)[0]
    for mark in (" (leaked)", " (scan)", " (durable)"):
        state = state.replace(mark, "")
    return state


def count(path):
    data = open(path, "rb").read()
    # By content, not by name: people save text dumps as goroutine.pprof too. An
    # uncompressed protobuf has control bytes that no text dump has.
    if data[:2] == b"\x1f\x8b" or any(b < 9 or 13 < b < 32 and b != 27 for b in data[:4096]):
        return count_pprof(data)
    text = data.decode("utf-8", "replace")
    if re.search(r"^goroutine(leak)? profile: total \d+", text, re.M):
        return count_debug1(text)
    snaps = []
    cur, ids, crash = None, set(), False
    for line in lines_of(data):
        stripped = line.strip()
        if stripped == "-----":
            crash = cur is not None and cur["goroutines"] > 0
            continue
        h = HEADER.search(line)
        if h and not (PREAMBLE.search(line) and h.start() > line.find("panic")):
            gid = int(h.group(1))
            if gid == 0:
                continue
            if cur is not None and gid in ids:
                if crash:
                    continue
                cur = None
            if cur is None:
                cur, ids, crash = {"goroutines": 0, "states": {}}, set(), False
                snaps.append(cur)
            ids.add(gid)
            cur["goroutines"] += 1
            st = state_of(h.group(2))
            cur["states"][st] = cur["states"].get(st, 0) + 1
            continue
        p = PREAMBLE.search(line)
        if p and cur is not None and cur["goroutines"] > 0 and not crash:
            cur = None
    snaps = [s for s in snaps if s["goroutines"] > 0]
    return {"snapshots": snaps, "total": sum(s["goroutines"] for s in snaps)}


def count_debug1(text):
    """One snapshot per `goroutine profile: total N` header; records `N @ 0x...` counted."""
    snaps, declared = [], []
    for line in text.splitlines():
        p = PROFILE.match(line.strip())
        if p:
            snaps.append({"goroutines": 0, "states": {}})
            declared.append(int(p.group(2)))
            continue
        r = RECORD.match(line)
        if r and snaps:
            snaps[-1]["goroutines"] += int(r.group(1))
    out = {"snapshots": snaps, "total": sum(s["goroutines"] for s in snaps)}
    out["declared"] = declared[0] if len(declared) == 1 else declared
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    write = "--write" in sys.argv
    manifest_path = os.path.join(ROOT, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {"files": []}
    files = args or [e["file"] for e in manifest["files"]]
    by_name = {e["file"]: e for e in manifest["files"]}
    bad = 0
    for f in files:
        got = count(os.path.join(ROOT, os.path.basename(f)))
        entry = by_name.get(os.path.basename(f))
        if write and entry is not None:
            entry["expect"] = got
        elif entry is not None and entry.get("expect") != got:
            bad += 1
            print("DIFFERS", f, json.dumps(got), file=sys.stderr)
        print(os.path.basename(f), json.dumps(got))
    if write:
        with open(manifest_path, "w") as out:
            json.dump(manifest, out, indent=1, ensure_ascii=False)
            out.write("\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
