#!/usr/bin/env python3
"""SharedLock beside Lock in one run (issue 24's targets), with Python's
diskcache.Lock and the project's Python SharedLock as the peers.

usage: compare_shared_lock.py BUILD_DIR [--reps N] [--seconds S] [--json FILE]

Figures (median over the reps):
  uncontended: acquire+release of a Lock, a SharedLock shared and exclusive
    (us; ratio shared / Lock, target <= 1.15)
  throughput: 4 processes { acquire; sleep 0.5 ms inside; release } for S
    seconds: readers of one SharedLock against a Lock (ratio, target >= 3),
    C++ and Python; and the floor of any reader lock kept in the database
    (one minimal raw write transaction to enter, one to leave) against the
    same Lock
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'core', 'python'))
from common_window import run_together, worker_window  # noqa: E402

PY = '/usr/bin/python3'
HOLD_US = 500
PROCESSES = 4


def python_worker(directory, kind, hold_us):
    import diskcache
    from diskcache_shared import SharedLock
    cache = diskcache.Cache(directory)
    lock = diskcache.Lock(cache, 'py-lock')
    shared = SharedLock(cache, 'py-shared')
    _, end = worker_window()
    ops = 0
    while time.monotonic_ns() < end:
        if kind == 'lock':
            with lock:
                time.sleep(hold_us / 1e6)
        else:
            with shared.shared():
                time.sleep(hold_us / 1e6)
        ops += 1
    print('ops %d' % ops)


def throughput(cmds, seconds):
    _, outs = run_together(cmds, seconds)
    return sum(int(o.split()[-1]) for o in outs) / seconds


def main():
    if len(sys.argv) > 1 and sys.argv[1] == 'python-worker':
        return python_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    parser = argparse.ArgumentParser()
    parser.add_argument('build_dir')
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--seconds', type=float, default=2.0)
    parser.add_argument('--json')
    args = parser.parse_args()
    bench = os.path.join(args.build_dir, 'bench', 'bench_shared_lock')
    figures = {}

    def add(name, value):
        figures.setdefault(name, []).append(value)

    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            d = os.path.join(tmp, 'u%d' % rep)
            out = json.loads(subprocess.check_output([bench, 'uncontended', d, '2000'], text=True))
            for k, v in out.items():
                add(k, v)
            add('shared_over_lock', out['shared_us'] / out['lock_us'])
            add('exclusive_over_lock', out['exclusive_us'] / out['lock_us'])
            for impl in ('cpp', 'python'):
                rates = {}
                for kind in ('lock', 'shared'):
                    d = os.path.join(tmp, '%s-%s-%d' % (impl, kind, rep))
                    if impl == 'cpp':
                        cmd = [bench, 'hold', d, kind, str(HOLD_US)]
                    else:
                        cmd = [PY, os.path.abspath(__file__), 'python-worker', d, kind, str(HOLD_US)]
                    rates[kind] = throughput([cmd] * PROCESSES, args.seconds)
                    add('%s_%s_per_s' % (impl, kind), rates[kind])
                add('%s_readers_over_lock' % impl, rates['shared'] / rates['lock'])
                if impl == 'cpp':
                    d = os.path.join(tmp, 'floor-%d' % rep)
                    floor = throughput([[bench, 'raw-readers', d, str(HOLD_US)]] * PROCESSES, args.seconds)
                    add('floor_readers_per_s', floor)
                    add('floor_readers_over_lock', floor / rates['lock'])
    result = {k: statistics.median(v) for k, v in figures.items()}
    result['reps'] = args.reps
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
