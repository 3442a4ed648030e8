#!/usr/bin/python3
"""Core benchmark: this library beside raw SQLite (the statements Python's
Cache runs, prepared), plain files, and the real Python diskcache, in one
invocation, interleaved over repetitions.

usage: /usr/bin/python3 bench/compare_core.py BUILD_DIR [--reps 5] [--json OUT]

Per repetition, every implementation runs every operation on a fresh cache
of 10,000 small items, in rotating order. Reported per operation and
implementation: the median over repetitions of the per-op median and p99
latency, the spread of the medians ((max - min) / median), and the ratios
lib/raw, lib/file and python/lib. This library runs in one process with its
baseline, in turn (`bench_core paired`: raw SQLite for get_hit and
set_small, 50 operations at a time, each on its own copy of the cache;
plain files for the 1 MiB operations, one at a time), and the median of the
per-repetition ratios of those paired runs is reported too: the two see the
same moments of the machine and the same disk state, so that ratio is far
steadier than one of separate runs. The 1 MiB set's floor (the plain write
under a temporary name, the rename, Python's transaction for the row and
the old file's removal) is paired with plain writes the same way:
floor/file is the least lib/file any store under this project's rules can
reach.
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
# op -> (count per run, runs besides python); 'paired' = lib and its baseline (raw for the small
# operations, file for the 1 MiB ones) alternately in one process, 'floor' = the same with the floor
# of a 1 MiB store (temp file + rename + Python's transaction) against plain files
OPS = {
    'get_hit': (20000, ['paired']),
    'set_small': (5000, ['paired']),
    'set_1mb': (200, ['paired', 'floor']),
    'get_1mb': (2000, ['paired']),
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


def baseline(impls):
    """What the library is paired with in a run (or report) holding `impls`."""
    return 'raw' if 'raw' in impls else 'file'


def run_native(binary, impl, op, directory, n):
    """{impl: summary} for each implementation the run printed."""
    out = subprocess.run([binary, impl, op, directory, str(n)], check=True, capture_output=True, text=True).stdout
    return {r['impl']: r for r in map(json.loads, out.splitlines())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('build_dir')
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--json')
    args = parser.parse_args()
    binary = os.path.join(args.build_dir, 'bench', 'bench_core')
    results = {}  # (op, impl) -> list of per-rep summaries
    paired = {}  # op -> per-rep lib/baseline ratios of the paired runs (baseline: raw or file)
    floor = {}  # op -> per-rep floor/file ratios of the floor runs
    root = tempfile.mkdtemp(prefix='dc-bench-')
    try:
        for rep in range(args.reps):
            for op, (n, extra) in OPS.items():
                runs = ['python'] + extra
                runs = runs[rep % len(runs):] + runs[:rep % len(runs)]  # rotate the order
                for run in runs:
                    directory = os.path.join(root, '%s-%s-%d' % (op, run, rep))
                    if run == 'python':
                        out = {'python': run_python(op, directory, n)}
                    elif run == 'floor':  # its own plain writes stay out of the file figures
                        both = run_native(binary, 'paired', 'floor_1mb', directory, n)
                        floor.setdefault(op, []).append(both['floor']['median_us'] / both['file']['median_us'])
                        out = {'floor': both['floor']}
                    else:
                        out = run_native(binary, run, op, directory, n)
                    for impl, r in out.items():
                        results.setdefault((op, impl), []).append(r)
                    if run == 'paired':  # the same run's ratio: both saw the same disk state
                        paired.setdefault(op, []).append(out['lib']['median_us'] / out[baseline(out)]['median_us'])
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
        if op in paired:
            ratio = statistics.median(paired[op])
            impls['lib']['paired_ratio'] = ratio
            impls['lib']['paired_ratios'] = paired[op]
            ratios.append('paired lib/%s %.3fx (per repetition %s)' % (
                baseline(impls), ratio, ', '.join('%.2f' % r for r in paired[op])))
        if op in floor:
            ratio = statistics.median(floor[op])
            impls['floor']['paired_ratio'] = ratio
            impls['floor']['paired_ratios'] = floor[op]
            ratios.append('paired floor/file %.3fx (per repetition %s)' % (ratio, ', '.join('%.2f' % r for r in floor[op])))
        print('%-10s %s' % (op, ', '.join(ratios)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
