#!/usr/bin/env python3
"""Builds fuzz/corpus/<target>/ from the real dumps in testdata/ (the corpus is
git-ignored; run this before the first `cargo fuzz run`).

Whole dumps are 20-260 KB, which makes libFuzzer slow, so each text dump is also cut
at blank lines into pieces of at most CHUNK bytes (a debug=1 piece keeps its header
line). Protobufs go in gunzipped for the debug0 target and gzipped for detect.

Usage: python3 fuzz/scripts/seed.py   (from the repository root or anywhere)
"""
import glob
import gzip
import hashlib
import os

CHUNK = 4096
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def files(pattern):
    out = []
    for d in ("testdata/corpus/go1.*", "testdata/go1.*"):
        out += glob.glob(os.path.join(ROOT, d, pattern))
    return sorted(out)


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pieces(data, header=b""):
    """Blocks between blank lines, packed into pieces of at most CHUNK bytes."""
    blocks = data.split(b"\n\n")
    cur = b""
    for b in blocks:
        b = b + b"\n\n"
        if cur and len(header) + len(cur) + len(b) > CHUNK:
            yield header + cur
            cur = b""
        cur += b
    if cur:
        yield header + cur


def text_seeds(target, paths):
    for p in paths:
        data = open(p, "rb").read()
        if len(data) <= 4 * CHUNK:
            put(target, data)
        for piece in pieces(data):
            put(target, piece[: 4 * CHUNK])


def main():
    text = [p for p in files("*.txt") if ".debug1." not in p]
    logs = files("log-with-dump*.txt")
    debug1 = files("*.debug1.txt")
    pbs = files("*.pb.gz")

    text_seeds("text", [p for p in text if "log-with-dump" not in p])
    text_seeds("log", logs)
    for p in debug1:
        data = open(p, "rb").read()
        head, _, body = data.partition(b"\n")
        for piece in pieces(body):
            put("debug1", head + b"\n" + piece)
    for p in pbs:
        put("debug0", gzip.decompress(open(p, "rb").read()))
    # detect: a little of everything, gzipped protobufs as fetched, gzipped text too.
    for p in pbs:
        put("detect", open(p, "rb").read())
    for p in text + debug1:
        data = open(p, "rb").read()
        put("detect", data[:CHUNK])
    for p in text[:3] + debug1[:3]:
        put("detect", gzip.compress(open(p, "rb").read()[:CHUNK]))
    for t in sorted(os.listdir(OUT)):
        print(f"{t}: {len(os.listdir(os.path.join(OUT, t)))} seeds")


if __name__ == "__main__":
    main()
