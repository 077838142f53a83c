#!/usr/bin/env python3
"""Rewrite the sites table in README (between the sites:begin/sites:end markers) from
testdata/go*/snapshot-3.stats.json. Usage: sites-table.py testdata/README.md"""
import glob
import json
import os
import re
import sys

readme = sys.argv[1]
base = os.path.dirname(readme)
rows = ["| Go | site | function | file:line | state | count in snapshot 1/2/3 |",
        "| --- | --- | --- | --- | --- | --- |"]
for d in sorted(glob.glob(os.path.join(base, "go*")), key=lambda p: [int(x) for x in re.findall(r"\d+", p)]):
    snaps = [json.load(open(os.path.join(d, f"snapshot-{i}.stats.json"))) for i in (1, 2, 3)]
    for name, s in sorted(snaps[2]["sites"].items(), key=lambda kv: (not kv[1]["leak"], kv[0])):
        counts = "/".join(str(st["sites"].get(name, {}).get("count", 0)) for st in snaps)
        kind = "" if s["leak"] else " (steady)"
        rows.append(f"| {snaps[2]['go_version']} | {name}{kind} | `{s['function']}` | "
                    f"`{s['file']}:{s['line']}` | {s['state']} | {counts} |")
table = "\n".join(rows)
text = open(readme).read()
new, n = re.subn(r"(<!-- sites:begin -->\n).*?(<!-- sites:end -->)",
                 lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
if n != 1:
    sys.exit(f"{readme}: no <!-- sites:begin --> ... <!-- sites:end --> section")
open(readme, "w").write(new)
