"""Python diskcache's own recipes as peers of the C++ primitives.

usage: recipes.py COMMAND DIR KEY N [ARG]
  lock-incr   N x { with Lock(KEY): counter += 1 }
  rlock-incr  N x { with RLock(KEY): with RLock(KEY): counter += 1 }
  sem-hold    N x hold BoundedSemaphore(KEY, ARG) 0.2 ms; prints the most holders seen
  avg-add     N x Averager(KEY).add(ARG)
"""
import sys
import time

import diskcache


def main(command, directory, key, count, arg=None):
    n = int(count)
    with diskcache.Cache(directory) as cache:
        if command == 'lock-incr':
            lock = diskcache.Lock(cache, key)
            for _ in range(n):
                with lock:
                    cache['counter'] = cache.get('counter', 0) + 1
        elif command == 'rlock-incr':
            lock = diskcache.RLock(cache, key)
            for _ in range(n):
                with lock:
                    with lock:
                        cache['counter'] = cache.get('counter', 0) + 1
        elif command == 'sem-hold':
            sem = diskcache.BoundedSemaphore(cache, key, value=int(arg))
            most = 0
            for _ in range(n):
                with sem:
                    most = max(most, cache.incr('inside'))
                    time.sleep(0.0002)
                    cache.decr('inside')
            print('max_inside %d' % most)
        elif command == 'avg-add':
            avg = diskcache.Averager(cache, key)
            for _ in range(n):
                avg.add(float(arg))
        else:
            print(__doc__)
            return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
