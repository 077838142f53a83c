"""Usage: grow.py SRC OUT N -- writes the debug=2 dump SRC to OUT with N more goroutines:
its `chan send` records (else its last one) repeated under fresh ids, as a leak grows.
Made v1.db/v2.db's growing target (see README.md)."""
import sys, re
src, out, extra = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(src).read()
recs = [r for r in text.split("\n\n") if r.strip()]
maxid = max(int(re.match(r"goroutine (\d+)", r).group(1)) for r in recs if r.startswith("goroutine "))
send = [r for r in recs if "[chan send" in r.split("\n")[0]] or recs[-1:]
add = []
for k in range(extra):
    r = send[k % len(send)]
    maxid += 1
    add.append(re.sub(r"^goroutine \d+", "goroutine %d" % maxid, r))
open(out, "w").write("\n\n".join(recs + add) + "\n")
