#!/usr/bin/python3
"""Primitive benchmarks: this library beside Python diskcache's recipes and
the measured floors, interleaved over repetitions.

usage: /usr/bin/python3 bench/compare_primitives.py BUILD_DIR [--reps 5] [--json OUT]

1. Uncontended Lock acquire+release: lib (history on, off) and the raw
   SQLite statements it needs (Python's add/delete plus the holder row,
   prepared), interleaved in one process; and Python's Lock.
2. Contended hand-off, 2 processes, each doing 0.2 ms of CPU work outside
   the lock. Hand-off latency = from the holder entering unlock() to the
   waiting process's lock() returning. Floor = the raw release
   transaction, one futex wake and the other process's raw acquire
   transaction, measured as such between two processes (`floor-handoff`:
   the acquire starts right after the other process's commit, as a
   contended one does); the sum of those parts measured apart (the raw
   acquire+release in one process + one wake) is reported beside it. Also
   throughput, CPU per operation (of the loop only, not start-up; with
   and without the CPU each process measured inside its work) and the
   longest run of acquisitions by one process while the other waited.
3. BoundedSemaphore(2), 4 processes each holding 0.5 ms: throughput as a
   share of the ideal bound / hold time.
The workers of 2 and 3 start at one moment and stop at another, given by
the driver once all are ready (common_window.py), so all of them contend
for the whole measure: with a count of operations each, the ones that
finished first left the others running with fewer contenders (Python's
semaphore workers ended up to 110 ms apart in a 210 ms run).
"""
import argparse
import bisect
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common_window import run_together, worker_window

WORK_US = 200
HANDOFF_SECONDS = 0.6  # every worker of a measure runs for the same window
SEM_SECONDS = 0.5
HOLD_US = 500


# ----------------------------------------------------------------- workers (Python side)

def busy(us):
    end = time.monotonic_ns() + us * 1000
    while time.monotonic_ns() < end:
        pass


def cpu_us():  # the whole process
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e6)


def thread_cpu_us():
    return time.thread_time_ns() // 1000


def worker(kind, directory, *args):
    import diskcache
    cache = diskcache.Cache(directory)
    if kind == 'uncontended':
        n = int(args[0])
        lock = diskcache.Lock(cache, 'L')
        samples = []
        for _ in range(n):
            t0 = time.monotonic_ns()
            lock.acquire()
            lock.release()
            samples.append((time.monotonic_ns() - t0) / 1000)
        print(json.dumps({'median_us': statistics.median(samples)}))
    elif kind == 'handoff':
        lock = diskcache.Lock(cache, 'H')
        log = []
        work_cpu = 0
        _, end = worker_window()
        loop_cpu = cpu_us()
        while time.monotonic_ns() < end:
            call = time.monotonic_ns()
            lock.acquire()
            acquired = time.monotonic_ns()
            released = time.monotonic_ns()
            lock.release()
            log.append((call, acquired, released))
            work_start = thread_cpu_us()
            busy(WORK_US)
            work_cpu += thread_cpu_us() - work_start
        loop_cpu = cpu_us() - loop_cpu
        for entry in log:
            print('%d %d %d' % entry)
        print('cpu_us %d\nwork_cpu_us %d' % (loop_cpu, work_cpu))
    elif kind == 'semaphore':
        sem = diskcache.BoundedSemaphore(cache, 'S', value=2)
        ops = 0
        _, end = worker_window()
        loop_cpu = cpu_us()
        while time.monotonic_ns() < end:
            with sem:
                time.sleep(HOLD_US / 1e6)
            ops += 1
        print('ops %d\nended %d\ncpu_us %d' % (ops, time.monotonic_ns(), cpu_us() - loop_cpu))


# ----------------------------------------------------------------- driver

def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def command(impl, build, *args):
    if impl == 'python':
        return [sys.executable, os.path.abspath(__file__), '--worker', *args]
    return [os.path.join(build, 'bench', 'bench_primitives'), *args]


def analyse_handoff(outputs):
    workers = []
    cpu = work_cpu = 0
    for out in outputs:
        log = []
        for line in out.splitlines():
            if line.startswith('cpu_us'):
                cpu += int(line.split()[1])
            elif line.startswith('work_cpu_us'):
                work_cpu += int(line.split()[1])
            else:
                log.append(tuple(int(x) for x in line.split()[:3]))
        workers.append(log)
    events = sorted((acq, rel, call, w) for w, log in enumerate(workers) for (call, acq, rel) in log)
    # waiting intervals per worker, for "the other one was waiting"
    waits = [sorted((call, acq) for (call, acq, _) in log) for log in workers]
    wait_starts = [[c for c, _ in w] for w in waits]

    def waiting(w, t):
        i = bisect.bisect_right(wait_starts[w], t) - 1
        return i >= 0 and waits[w][i][0] <= t < waits[w][i][1]

    latencies = []
    streak = longest = 0
    for k in range(1, len(events)):
        acq, _, call, w = events[k]
        prev_acq, prev_rel, _, prev_w = events[k - 1]
        if w != prev_w and call < prev_rel:
            latencies.append((acq - prev_rel) / 1000)
        # A run: consecutive acquisitions by one process, counting those made
        # while the other was waiting (within a run these are its tail).
        if w != prev_w:
            streak = 0
        if waiting(1 - w, acq):
            streak += 1
            longest = max(longest, streak)
    span = (events[-1][1] - min(e[2] for e in events)) / 1e9
    ops = len(events)
    return {'handoff_median_us': statistics.median(latencies) if latencies else float('nan'),
            'throughput_per_s': ops / span, 'cpu_us_per_op': cpu / ops,
            'lock_cpu_us_per_op': (cpu - work_cpu) / ops, 'longest_run_while_other_waits': longest,
            'handoffs': len(latencies)}


def analyse_semaphore(outputs, start):
    ops, ends = 0, []
    for out in outputs:
        for line in out.splitlines():
            name, value = line.split()
            if name == 'ops':
                ops += int(value)
            elif name == 'ended':
                ends.append(int(value))
    throughput = ops / ((max(ends) - start) / 1e9)
    ideal = 2 / (HOLD_US / 1e6)
    return {'throughput_per_s': throughput, 'share_of_ideal': throughput / ideal}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--worker':
        return worker(*sys.argv[2:])
    parser = argparse.ArgumentParser()
    parser.add_argument('build_dir')
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--json')
    args = parser.parse_args()
    build = args.build_dir
    root = tempfile.mkdtemp(prefix='dc-prim-bench-')
    results = {}

    def add(name, value):
        results.setdefault(name, []).append(value)

    try:
        for rep in range(args.reps):
            d = lambda name: os.path.join(root, '%s-%d' % (name, rep))
            for impl in (['lib', 'python'] if rep % 2 == 0 else ['python', 'lib']):
                os.makedirs(d('u-' + impl))
                if impl == 'python':
                    add('uncontended/python', json.loads(run(command('python', build, 'uncontended', d('u-python'),
                                                                     '2000')))['median_us'])
                    continue
                paired = json.loads(run(command('lib', build, 'uncontended', d('u-lib'), '3000')))
                for name, value in paired.items():
                    add('uncontended/' + name, value)
                for name in ('lib', 'lib-nohist'):  # within one run, so the same moments of the machine
                    add('uncontended/%s_over_raw' % name, paired[name] / paired['raw'])
            add('floor/commit', json.loads(run(command('lib', build, 'floor-commit', d('floor'), '2000')))['median_us'])
            add('floor/wake', json.loads(run(command('lib', build, 'floor-wake', '2000')))['median_us'])
            floor_run = json.loads(run(command('lib', build, 'floor-handoff', d('floor-h'), '2000')))
            add('floor/handoff', floor_run['median_us'])
            add('floor/handoff_cpu_us_per_op', floor_run['cpu_us_per_op'])
            for impl in (['lib', 'python'] if rep % 2 == 0 else ['python', 'lib']):
                directory = d('h-' + impl)
                run(command('lib', build, 'floor-commit', directory, '1'))  # creates the cache
                cmd = (command('python', build, 'handoff', directory) if impl == 'python'
                       else command('lib', build, 'handoff', directory, str(WORK_US)))
                handoff = analyse_handoff(run_together([cmd, cmd], HANDOFF_SECONDS)[1])
                for name, value in handoff.items():
                    add('handoff/%s/%s' % (impl, name), value)
                if impl == 'lib':  # paired with this repetition's floor, measured just before
                    add('handoff/lib_over_floor', handoff['handoff_median_us'] / floor_run['median_us'])
                    add('handoff/lib_lock_cpu_over_floor', handoff['lock_cpu_us_per_op'] / floor_run['cpu_us_per_op'])
                directory = d('s-' + impl)
                run(command('lib', build, 'floor-commit', directory, '1'))
                cmd = (command('python', build, 'semaphore', directory) if impl == 'python'
                       else command('lib', build, 'semaphore', directory, str(HOLD_US), '2'))
                start, outs = run_together([cmd] * 4, SEM_SECONDS)
                for name, value in analyse_semaphore(outs, start).items():
                    add('semaphore/%s/%s' % (impl, name), value)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    report = {k: {'median': statistics.median(v), 'min': min(v), 'max': max(v), 'reps': len(v)} for k, v in results.items()}
    for k, v in report.items():
        print('%-48s %12.2f  (min %.2f, max %.2f)' % (k, v['median'], v['min'], v['max']))
    m = lambda k: report[k]['median']
    floor = m('floor/handoff')
    parts = m('uncontended/raw') + m('floor/wake')
    print()
    print('uncontended lib/raw (median of the ratios within a run): history on %.2fx, off %.2fx; python/lib %.2fx' % (
        m('uncontended/lib_over_raw'), m('uncontended/lib-nohist_over_raw'),
        m('uncontended/python') / m('uncontended/lib')))
    print('hand-off median %.1f us = %.2fx the floor (%.1f us measured between two processes; median of the '
          'ratios within a repetition %.2fx); %.2fx its parts measured apart (%.1f us = raw acquire+release %.1f '
          '+ wake %.1f)' % (
              m('handoff/lib/handoff_median_us'), m('handoff/lib/handoff_median_us') / floor, floor,
              m('handoff/lib_over_floor'),
              m('handoff/lib/handoff_median_us') / parts, parts, m('uncontended/raw'), m('floor/wake')))
    print('hand-off throughput lib/python %.2fx; CPU per op lib/python %.2fx with the 0.2 ms of work, '
          '%.2fx without it (the lock alone: %.1f us; the floor\'s hand-off %.1f us); longest run lib %d, python %d' % (
        m('handoff/lib/throughput_per_s') / m('handoff/python/throughput_per_s'),
        m('handoff/lib/cpu_us_per_op') / m('handoff/python/cpu_us_per_op'),
        m('handoff/lib/lock_cpu_us_per_op') / m('handoff/python/lock_cpu_us_per_op'),
        m('handoff/lib/lock_cpu_us_per_op'), m('floor/handoff_cpu_us_per_op'),
        report['handoff/lib/longest_run_while_other_waits']['max'],
        report['handoff/python/longest_run_while_other_waits']['max']))
    print('semaphore share of ideal: lib %.0f%%, python %.0f%%' % (
        100 * m('semaphore/lib/share_of_ideal'), 100 * m('semaphore/python/share_of_ideal')))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
