#!/usr/bin/python3
"""Core benchmark: this library beside raw SQLite (the statements Python's
Cache runs, prepared), plain files, and the real Python diskcache, in one
invocation, interleaved over repetitions.

usage: /usr/bin/python3 bench/compare_core.py BUILD_DIR [--reps 5] [--json OUT]

Per repetition, every implementation runs every operation on a fresh cache
of 10,000 small items, in rotating order. Reported per operation and
implementation: the median over repetitions of the per-op median and p99
latency, the spread of the medians ((max - min) / median), and the ratios
lib/raw, lib/file and python/lib.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import diskcache

KEYS = 10000
SMALL = b's' * 100
MIB = b'm' * (1 << 20)
OPS = {  # op -> (count per run, implementations besides lib and python)
    'get_hit': (20000, ['raw']),
    'set_small': (5000, ['raw']),
    'set_1mb': (200, ['file']),
    'get_1mb': (200, ['file']),
}


def summary(samples):
    samples.sort()
    return {'median_us': samples[len(samples) // 2], 'p99_us': samples[min(len(samples) - 1, int(0.99 * len(samples)))]}


def run_python(op, directory, n):
    cache = diskcache.Cache(directory)
    if len(cache) < KEYS:
        with cache.transact():
            for i in range(KEYS):
                cache.set('key-%d' % i, SMALL)
    import random
    rng = random.Random(42)
    order = [rng.randrange(KEYS) for _ in range(n)]
    if op == 'get_1mb':
        for i in range(8):
            cache.set('big%d' % i, MIB)
    clock = time.perf_counter
    samples = []
    for i in range(n):
        if op == 'get_hit':
            t0 = clock(); cache.get('key-%d' % order[i]); t1 = clock()
        elif op == 'set_small':
            t0 = clock(); cache.set('key-%d' % order[i], SMALL); t1 = clock()
        elif op == 'set_1mb':
            t0 = clock(); cache.set('big%d' % (i % 8), MIB); t1 = clock()
        else:
            t0 = clock(); cache.get('big%d' % (i % 8)); t1 = clock()
        samples.append((t1 - t0) * 1e6)
    cache.close()
    return summary(samples)


def run_native(binary, impl, op, directory, n):
    out = subprocess.run([binary, impl, op, directory, str(n)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('build_dir')
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--json')
    args = parser.parse_args()
    binary = os.path.join(args.build_dir, 'bench', 'bench_core')
    results = {}  # (op, impl) -> list of per-rep summaries
    root = tempfile.mkdtemp(prefix='dc-bench-')
    try:
        for rep in range(args.reps):
            for op, (n, extra) in OPS.items():
                impls = ['lib', 'python'] + extra
                impls = impls[rep % len(impls):] + impls[:rep % len(impls)]  # rotate the order
                for impl in impls:
                    directory = os.path.join(root, '%s-%s-%d' % (op, impl, rep))
                    if impl == 'python':
                        r = run_python(op, directory, n)
                    else:
                        r = run_native(binary, impl, op, directory, n)
                    results.setdefault((op, impl), []).append(r)
                    shutil.rmtree(directory, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    report = {}
    print('%-10s %-7s %12s %12s %8s' % ('op', 'impl', 'median us', 'p99 us', 'spread'))
    for (op, impl), reps in results.items():
        medians = [r['median_us'] for r in reps]
        med = statistics.median(medians)
        p99 = statistics.median(r['p99_us'] for r in reps)
        spread = (max(medians) - min(medians)) / med if med else 0
        report.setdefault(op, {})[impl] = {'median_us': med, 'p99_us': p99, 'spread': spread, 'reps': len(reps)}
        print('%-10s %-7s %12.2f %12.2f %7.1f%%' % (op, impl, med, p99, 100 * spread))
    print()
    for op, impls in report.items():
        lib = impls['lib']['median_us']
        ratios = ['python/lib %.2fx' % (impls['python']['median_us'] / lib)]
        for base in ('raw', 'file'):
            if base in impls:
                ratios.append('lib/%s %.3fx' % (base, lib / impls[base]['median_us']))
        print('%-10s %s' % (op, ', '.join(ratios)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
