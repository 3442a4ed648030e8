"""The Python side of the SharedLock tests (core/python/diskcache_shared.py
on the real diskcache), as dc_helper's commands of the same names.

usage: shared_work.py shared-work DIR KEY r|w HOLD_MS LOG ARG
       shared_work.py hold DIR KEY shared|exclusive
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..',
                                'core', 'python'))

import diskcache  # noqa: E402
from diskcache_shared import SharedLock  # noqa: E402


def work(directory, key, mode, hold_ms, log, arg):
    cache = diskcache.Cache(directory)
    lock = SharedLock(cache, key)
    reader = mode == 'r'
    hold = float(hold_ms) / 1000
    start = time.monotonic()
    done = 0
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    while ((not cache.get('stop') and time.monotonic() - start < float(arg))
           if reader else done < int(arg)):
        asked = time.monotonic_ns()
        lock.acquire_shared() if reader else lock.acquire()
        enter = time.monotonic_ns()
        time.sleep(hold)
        leave = time.monotonic_ns()
        lock.release()
        line = '%d %s %d %d %d\n' % (os.getpid(), mode, enter, leave,
                                     enter - asked)
        if os.write(out, line.encode()) != len(line):
            raise OSError('log write failed')
        done += 1
    os.close(out)
    if not reader:
        cache.incr('writers-done')
    print('done %d' % done)


def hold(directory, key, mode):
    lock = SharedLock(diskcache.Cache(directory), key)
    lock.acquire_shared() if mode == 'shared' else lock.acquire()
    print('held', flush=True)
    while True:
        time.sleep(1)


if __name__ == '__main__':
    command, args = sys.argv[1], sys.argv[2:]
    if command == 'shared-work' and len(args) == 6:
        work(*args)
    elif command == 'hold' and len(args) == 3:
        hold(*args)
    else:
        print(__doc__)
        sys.exit(2)
