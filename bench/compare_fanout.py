#!/usr/bin/python3
"""FanoutCache benchmark: this library's FanoutCache beside Python's (8
shards each) for get and set, and aggregate set throughput of 1 and 2
writer processes on a FanoutCache, on a single Cache (where SQLite
serialises writers) and on Python's FanoutCache (the same machine's
control), interleaved over repetitions.

usage: /usr/bin/python3 bench/compare_fanout.py BUILD_DIR [--reps 5] [--json OUT]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import diskcache

from common_window import run_together, worker_window

KEYS = 10000
SMALL = b's' * 100
LATENCY_OPS = {'get_hit': 20000, 'set_small': 4000}
WRITE_SECONDS = 0.3  # every writer of a throughput measure writes for this window


def python_latency(op, directory, n):
    cache = diskcache.FanoutCache(directory, shards=8, timeout=60)
    for i in range(KEYS):
        cache.set('key-%d' % i, SMALL)
    rng = random.Random(42)
    order = [rng.randrange(KEYS) for _ in range(n)]
    clock = time.perf_counter
    samples = []
    for i in range(n):
        key = 'key-%d' % order[i]
        if op == 'get_hit':
            t0 = clock(); cache.get(key); t1 = clock()
        else:
            t0 = clock(); cache.set(key, SMALL); t1 = clock()
        samples.append((t1 - t0) * 1e6)
    cache.close()
    samples.sort()
    return samples[len(samples) // 2]


def native_latency(binary, op, directory, n):
    out = subprocess.run([binary, 'fanout', op, directory, str(n)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)['median_us']


def python_writer(directory, seed):
    """One Python FanoutCache writer process, like `bench_core writer`: sets
    in the driver's window; prints "sets ended_ns"."""
    cache = diskcache.FanoutCache(directory, shards=8, timeout=60)
    rng = random.Random(int(seed))
    sets = 0
    _, end = worker_window()
    while time.monotonic_ns() < end:
        cache.set('key-%d' % rng.randrange(KEYS), SMALL)
        sets += 1
    print(sets, time.monotonic_ns())


def throughput(binary, kind, directory, writers):
    """Sets per second of `writers` concurrent processes, all writing for the
    same window (a common start and end), so none writes alone at either end."""
    if kind == 'python':
        diskcache.FanoutCache(directory, shards=8).close()
        cmd = lambda seed: [sys.executable, os.path.abspath(__file__), '--writer', directory, str(seed)]
    else:
        cmd = lambda seed: [binary, 'writer', kind, directory, str(seed)]
        run_together([cmd(0)], 0)  # creates the cache: an empty window
    start, outs = run_together([cmd(seed) for seed in range(1, writers + 1)], WRITE_SECONDS)
    results = [tuple(map(int, out.split())) for out in outs]
    return sum(sets for sets, _ in results) / ((max(ended for _, ended in results) - start) / 1e9)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--writer':
        return python_writer(*sys.argv[2:])
    parser = argparse.ArgumentParser()
    parser.add_argument('build_dir')
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--json')
    args = parser.parse_args()
    binary = os.path.join(args.build_dir, 'bench', 'bench_core')
    results = {}
    root = tempfile.mkdtemp(prefix='dc-fanout-bench-')
    try:
        for rep in range(args.reps):
            runs = [('latency', op, impl) for op in LATENCY_OPS for impl in ('lib', 'python')]
            runs += [('throughput', kind, writers) for kind in ('fanout', 'cache', 'python') for writers in (1, 2)]
            runs = runs[rep % len(runs):] + runs[:rep % len(runs)]
            for run in runs:
                directory = os.path.join(root, '-'.join(map(str, run)) + '-%d' % rep)
                if run[0] == 'latency':
                    _, op, impl = run
                    n = LATENCY_OPS[op]
                    value = (python_latency(op, directory, n) if impl == 'python'
                             else native_latency(binary, op, directory, n))
                else:
                    value = throughput(binary, run[1], directory, run[2])
                results.setdefault(run, []).append(value)
                shutil.rmtree(directory, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    report = {}
    for run, values in results.items():
        med = statistics.median(values)
        spread = (max(values) - min(values)) / med
        report['/'.join(map(str, run))] = {'median': med, 'spread': spread, 'reps': len(values)}
        unit = 'us/op' if run[0] == 'latency' else 'sets/s'
        print('%-32s %12.1f %-7s spread %5.1f%%' % ('/'.join(map(str, run)), med, unit, 100 * spread))
    print()
    for op in LATENCY_OPS:
        lib = report['latency/%s/lib' % op]['median']
        print('fanout %-10s python/lib %.2fx' % (op, report['latency/%s/python' % op]['median'] / lib))
    for kind in ('fanout', 'cache', 'python'):
        one = report['throughput/%s/1' % kind]['median']
        two = report['throughput/%s/2' % kind]['median']
        print('%-6s 2 writers / 1 writer: %.2fx' % (kind, two / one))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
