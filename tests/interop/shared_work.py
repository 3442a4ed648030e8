"""The Python side of the SharedLock tests (core/python/diskcache_shared.py
on the real diskcache), as dc_helper's commands of the same names.

usage: shared_work.py shared-work DIR KEY r|w HOLD_MS LOG ARG
       shared_work.py hold DIR KEY shared|exclusive
       shared_work.py selftest DIR   the module's contract in one process;
                                     prints "ok" (exit 1 and the failed check)
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


def selftest(directory):
    from diskcache_shared import NotHeld
    cache = diskcache.Cache(directory)
    a, b, w = (SharedLock(cache, 'k') for _ in range(3))
    assert a.acquire_shared() and b.acquire_shared(blocking=False)
    assert a.state() == (None, 2, 0)
    assert not w.acquire(timeout=0.05)  # readers inside
    assert a.state()[2] == 0, 'a writer that gave up withdrew its announcement'
    try:
        w.release()
        raise AssertionError('released what it does not hold')
    except NotHeld:
        pass
    a.release()
    b.release()
    assert 'k' not in cache, 'a free lock leaves no key'
    assert w.acquire(blocking=False) and not a.acquire_shared(blocking=False)
    w.release()
    # Leases: a reader's lapses, and its release then says so.
    leased = SharedLock(cache, 'k', expire=0.1)
    assert leased.acquire_shared()
    leased.renew(0.2)
    assert not w.acquire(blocking=False)
    assert w.acquire(timeout=5)
    try:
        leased.release()
        raise AssertionError('released a lapsed lease')
    except NotHeld:
        pass
    w.release()
    # A waiting writer's announcement holds new readers back.
    r = SharedLock(cache, 'k')
    assert r.acquire_shared()
    assert not w.acquire(blocking=False)
    assert w.state()[2] == 0  # a try that does not wait announces nothing lasting
    cache.set('k', ((None, (), (('other:1:1:1/1', 1e12),))))
    assert not SharedLock(cache, 'k').acquire_shared(blocking=False)
    cache.delete('k')
    # A hostile value is refused by name and left alone.
    for bad in (5, (None, 1, ()), ((7, None), (), ()), (None, (('x', 'soon'),), ())):
        cache.set('k', bad)
        try:
            SharedLock(cache, 'k').acquire_shared(blocking=False)
            raise AssertionError('accepted %r' % (bad,))
        except ValueError as e:
            assert "SharedLock 'k'" in str(e), str(e)
        assert cache.get('k') == bad
    print('ok')


if __name__ == '__main__':
    command, args = sys.argv[1], sys.argv[2:]
    if command == 'shared-work' and len(args) == 6:
        work(*args)
    elif command == 'hold' and len(args) == 3:
        hold(*args)
    elif command == 'selftest' and len(args) == 1:
        selftest(*args)
    else:
        print(__doc__)
        sys.exit(2)
