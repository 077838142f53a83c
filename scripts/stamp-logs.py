#!/usr/bin/env python3
"""Run a command like a container runtime would and record its output as logs.

Usage: stamp-logs.py KUBECTL_OUT CRI_OUT PIDFILE RUNS -- CMD [ARGS...]

Runs CMD RUNS times in a row (a restarted container), reads its stdout and stderr
line by line as they arrive, and stamps each line with the time it was read
(UTC, RFC 3339 with nanoseconds, trailing zeros trimmed, as Go's time.RFC3339Nano):

  KUBECTL_OUT  `kubectl logs --timestamps` style:  "<ts> <line>"
  CRI_OUT      CRI log file style (what the kubelet reads): "<ts> <stream> F <line>"

Lines keep their exact bytes (an empty line gives "<ts> " and "<ts> stderr F ").
The child's stdout lines are also echoed to this script's stdout, so a caller can
read "listening on ..." from it, and the pid of run N (1-based) is written to
PIDFILE.N before the run starts producing output. Exits with the last run's status.
On SIGTERM it stops the current run and exits at once.
"""
import os
import signal
import subprocess
import sys
import threading
import time


def rfc3339nano(ns):
    secs, frac = divmod(ns, 1_000_000_000)
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    f = f"{frac:09d}".rstrip("0")
    return (s + ("." + f if f else "") + "Z").encode()


def main():
    kubectl_out, cri_out, pidfile, runs, dashdash, *cmd = sys.argv[1:]
    if dashdash != "--" or not cmd:
        sys.exit(__doc__)
    lock = threading.Lock()
    current = []

    def on_term(signum, frame):
        for p in current:
            if p.poll() is None:
                p.kill()
        os._exit(143)

    signal.signal(signal.SIGTERM, on_term)
    with open(kubectl_out, "wb") as kf, open(cri_out, "wb") as cf:

        def pump(stream, name, echo):
            for line in iter(stream.readline, b""):
                ts = rfc3339nano(time.time_ns())
                body = line[:-1] if line.endswith(b"\n") else line
                with lock:
                    kf.write(ts + b" " + body + b"\n")
                    cf.write(ts + b" " + name + b" F " + body + b"\n")
                    kf.flush()
                    cf.flush()
                    if echo:
                        sys.stdout.buffer.write(line if line.endswith(b"\n") else line + b"\n")
                        sys.stdout.buffer.flush()

        rc = 0
        for run in range(1, int(runs) + 1):
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            current[:] = [p]
            with open(f"{pidfile}.{run}.tmp", "w") as f:
                f.write(f"{p.pid}\n")
            os.replace(f"{pidfile}.{run}.tmp", f"{pidfile}.{run}")
            threads = [
                threading.Thread(target=pump, args=(p.stdout, b"stdout", True)),
                threading.Thread(target=pump, args=(p.stderr, b"stderr", False)),
            ]
            for t in threads:
                t.start()
            rc = p.wait()
            for t in threads:
                t.join()
            print(f"stamp-logs: run {run} exited with status {rc}", file=sys.stderr)
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
