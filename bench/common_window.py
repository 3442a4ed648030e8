"""The common window of one measure, the driver's side (the workers' is
bench/common_window.hpp, or worker_window() below for Python workers): every
worker sets up and says "ready"; once all have, each gets the same
"START_NS END_NS" on stdin (CLOCK_MONOTONIC, the clock of
time.monotonic_ns()). So all contend from their first operation to their
last, and none runs alone at either end."""
import subprocess
import sys
import time

START_MARGIN_NS = 10_000_000  # from sending the window to its start


def run_together(cmds, seconds):
    """Runs `cmds` in one window of `seconds`; returns (START_NS, the stdout
    each printed after "ready"). Exits naming the worker that failed."""
    procs = [subprocess.Popen(c, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in cmds]
    for p in procs:
        if p.stdout.readline().strip() != 'ready':
            for q in procs:
                q.kill()
            raise SystemExit('worker %s failed before its window: %s' % (p.args, p.communicate()[1]))
    start = time.monotonic_ns() + START_MARGIN_NS
    for p in procs:
        p.stdin.write('%d %d\n' % (start, start + int(seconds * 1e9)))
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode:
            raise SystemExit('worker %s failed: %s' % (p.args, err))
        outs.append(out)
    return start, outs


def worker_window():
    """For a Python worker: says "ready", reads the window and sleeps until
    its start; returns (START_NS, END_NS)."""
    print('ready', flush=True)
    start, end = map(int, sys.stdin.readline().split())
    while time.monotonic_ns() < start:
        time.sleep((start - time.monotonic_ns()) / 1e9)
    return start, end
