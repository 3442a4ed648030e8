#!/usr/bin/python3
"""Primitive benchmarks: this library beside Python diskcache's recipes and
the measured floors, interleaved over repetitions.

usage: /usr/bin/python3 bench/compare_primitives.py BUILD_DIR [--reps 5] [--json OUT]
                                                  [--profiles 2cpu,1cpu,busy]

Every measure runs on each profile, interleaved over the repetitions:
  2cpu  the machine as it is (2 CPUs on the reference VM);
  1cpu  every process pinned to CPU 0 (taskset -c 0);
  busy  as 2cpu, with a CPU-bound process running beside for the measure.
Figures are keyed "<profile>/<measure>"; the summary shows issue 22's
targets per profile, side by side, with Python and the floors.

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
3. BoundedSemaphore(2), 4 processes each holding 0.5 ms: the share of the
   window the permits were busy (hold time measured inside each holder,
   summed, over bound x window), and throughput as a share of the ideal
   bound / nominal hold time.
The library's workers use the default options (history on) throughout;
uncontended also measures history off.
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
        ops = held = 0
        _, end = worker_window()
        loop_cpu = cpu_us()
        while time.monotonic_ns() < end:
            with sem:
                entered = time.monotonic_ns()
                time.sleep(HOLD_US / 1e6)
                held += time.monotonic_ns() - entered
            ops += 1
        print('ops %d\nended %d\ncpu_us %d\nheld_ns %d' % (ops, time.monotonic_ns(), cpu_us() - loop_cpu, held))


# ----------------------------------------------------------------- driver

def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


PROFILES = {  # name: (prefix of every command, a CPU-bound process beside)
    '2cpu': ([], False),
    '1cpu': (['taskset', '-c', '0'], False),
    'busy': ([], True),
}


def command(impl, build, *args, prefix=()):
    if impl == 'python':
        return [*prefix, sys.executable, os.path.abspath(__file__), '--worker', *args]
    return [*prefix, os.path.join(build, 'bench', 'bench_primitives'), *args]


class CpuHog:
    """A CPU-bound process for the length of a `with` block (the busy profile)."""

    def __init__(self, active):
        self.active = active

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, '-c', 'while True: pass']) if self.active else None
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.kill()
            self.proc.wait()


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
    ops, held, ends = 0, 0, []
    for out in outputs:
        for line in out.splitlines():
            name, value = line.split()
            if name == 'ops':
                ops += int(value)
            elif name == 'held_ns':
                held += int(value)
            elif name == 'ended':
                ends.append(int(value))
    window_ns = max(ends) - start
    throughput = ops / (window_ns / 1e9)
    ideal = 2 / (HOLD_US / 1e6)
    return {'throughput_per_s': throughput, 'share_of_ideal': throughput / ideal,
            'busy_share': held / (2 * window_ns)}


def measure_once(build, d, rep, prefix, add):
    """One repetition of every measure, its commands prefixed by `prefix`."""
    cmd_of = lambda impl, *args: command(impl, build, *args, prefix=prefix)
    for impl in (['lib', 'python'] if rep % 2 == 0 else ['python', 'lib']):
        os.makedirs(d('u-' + impl))
        if impl == 'python':
            add('uncontended/python', json.loads(run(cmd_of('python', 'uncontended', d('u-python'), '2000')))['median_us'])
            continue
        paired = json.loads(run(cmd_of('lib', 'uncontended', d('u-lib'), '3000')))
        for name, value in paired.items():
            add('uncontended/' + name, value)
        for name in ('lib', 'lib-nohist'):  # within one run, so the same moments of the machine
            add('uncontended/%s_over_raw' % name, paired[name] / paired['raw'])
    add('floor/commit', json.loads(run(cmd_of('lib', 'floor-commit', d('floor'), '2000')))['median_us'])
    add('floor/wake', json.loads(run(cmd_of('lib', 'floor-wake', '2000')))['median_us'])
    floor_run = json.loads(run(cmd_of('lib', 'floor-handoff', d('floor-h'), '2000')))
    add('floor/handoff', floor_run['median_us'])
    add('floor/handoff_cpu_us_per_op', floor_run['cpu_us_per_op'])
    for impl in (['lib', 'python'] if rep % 2 == 0 else ['python', 'lib']):
        directory = d('h-' + impl)
        run(cmd_of('lib', 'floor-commit', directory, '1'))  # creates the cache
        cmd = (cmd_of('python', 'handoff', directory) if impl == 'python'
               else cmd_of('lib', 'handoff', directory, str(WORK_US)))
        handoff = analyse_handoff(run_together([cmd, cmd], HANDOFF_SECONDS)[1])
        for name, value in handoff.items():
            add('handoff/%s/%s' % (impl, name), value)
        if impl == 'lib':  # paired with this repetition's floor, measured just before
            add('handoff/lib_over_floor', handoff['handoff_median_us'] / floor_run['median_us'])
            add('handoff/lib_lock_cpu_over_floor', handoff['lock_cpu_us_per_op'] / floor_run['cpu_us_per_op'])
        directory = d('s-' + impl)
        run(cmd_of('lib', 'floor-commit', directory, '1'))
        cmd = (cmd_of('python', 'semaphore', directory) if impl == 'python'
               else cmd_of('lib', 'semaphore', directory, str(HOLD_US), '2'))
        start, outs = run_together([cmd] * 4, SEM_SECONDS)
        for name, value in analyse_semaphore(outs, start).items():
            add('semaphore/%s/%s' % (impl, name), value)


# Issue 22's targets: (label, figure from a profile's medians, test).
TARGETS = [
    ('uncontended lib/raw, history on (<= 1.15)', lambda m: m('uncontended/lib_over_raw'), lambda v: v <= 1.15),
    ('uncontended python/lib (> 1: lib faster)', lambda m: m('uncontended/python') / m('uncontended/lib'),
     lambda v: v > 1),
    ('hand-off median / floor (<= 1.3)', lambda m: m('handoff/lib_over_floor'), lambda v: v <= 1.3),
    ('hand-off throughput lib/python (>= 1.5)',
     lambda m: m('handoff/lib/throughput_per_s') / m('handoff/python/throughput_per_s'), lambda v: v >= 1.5),
    ('CPU per acquisition, lock alone, lib/python (<= 0.9)',
     lambda m: m('handoff/lib/lock_cpu_us_per_op') / m('handoff/python/lock_cpu_us_per_op'), lambda v: v <= 0.9),
    ('longest run while the other waits (<= 8)', lambda m: m('handoff/lib/longest_run_while_other_waits'),
     lambda v: v <= 8),
    ('semaphore busy share, lib (>= 60 %)', lambda m: 100 * m('semaphore/lib/busy_share'), lambda v: v >= 60),
    ('semaphore busy share lib/python (>= 1.5)',
     lambda m: m('semaphore/lib/busy_share') / m('semaphore/python/busy_share'), lambda v: v >= 1.5),
]
# Beside the targets: what they are judged against.
CONTEXT = [
    ('uncontended lib, history on (us)', 'uncontended/lib'),
    ('uncontended lib, history off (us)', 'uncontended/lib-nohist'),
    ('uncontended raw add+delete (us)', 'uncontended/raw'),
    ('uncontended python (us)', 'uncontended/python'),
    ('hand-off median lib (us)', 'handoff/lib/handoff_median_us'),
    ('hand-off floor (us)', 'floor/handoff'),
    ('hand-off throughput lib (/s)', 'handoff/lib/throughput_per_s'),
    ('hand-off throughput python (/s)', 'handoff/python/throughput_per_s'),
    ('lock CPU per acquisition lib (us)', 'handoff/lib/lock_cpu_us_per_op'),
    ('lock CPU per acquisition python (us)', 'handoff/python/lock_cpu_us_per_op'),
    ('semaphore busy share python (%)', 'semaphore/python/busy_share'),
]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--worker':
        return worker(*sys.argv[2:])
    parser = argparse.ArgumentParser()
    parser.add_argument('build_dir')
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--json')
    parser.add_argument('--profiles', default='2cpu,1cpu,busy')
    args = parser.parse_args()
    profiles = args.profiles.split(',')
    for p in profiles:
        if p not in PROFILES:
            raise SystemExit('unknown profile %r (have: %s)' % (p, ', '.join(PROFILES)))
    if len(os.sched_getaffinity(0)) < 2 and ('2cpu' in profiles or 'busy' in profiles):
        print('warning: this process may use %d CPU only; the 2cpu and busy profiles are not what they say'
              % len(os.sched_getaffinity(0)), file=sys.stderr)
    build = args.build_dir
    root = tempfile.mkdtemp(prefix='dc-prim-bench-')
    results = {}

    try:
        for rep in range(args.reps):
            for profile in profiles:
                prefix, hog = PROFILES[profile]
                d = lambda name: os.path.join(root, '%s-%s-%d' % (profile, name, rep))
                add = lambda name, value: results.setdefault('%s/%s' % (profile, name), []).append(value)
                with CpuHog(hog):
                    measure_once(build, d, rep, prefix, add)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    report = {k: {'median': statistics.median(v), 'min': min(v), 'max': max(v), 'reps': len(v)} for k, v in results.items()}
    for k, v in report.items():
        print('%-56s %12.2f  (min %.2f, max %.2f)' % (k, v['median'], v['min'], v['max']))
    print()
    print('%-56s %s' % ('target (medians of %d repetitions)' % args.reps, ''.join('%14s' % p for p in profiles)))
    for label, figure, test in TARGETS:
        cells = []
        for p in profiles:
            value = figure(lambda k: report['%s/%s' % (p, k)]['median'])
            cells.append('%9.2f %-4s' % (value, 'ok' if test(value) else 'MISS'))
        print('%-56s %s' % (label, ''.join(cells)))
    for label, key in CONTEXT:
        scale = 100 if key.endswith('busy_share') else 1
        print('%-56s %s' % (label, ''.join('%14.1f' % (scale * report['%s/%s' % (p, key)]['median']) for p in profiles)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
