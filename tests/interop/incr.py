"""Increments one key N times, by incr or by read-modify-write in transact().

usage: incr.py DIR KEY N incr|transact
"""
import sys

import diskcache


def main(directory, key, count, mode):
    with diskcache.Cache(directory) as cache:
        for _ in range(int(count)):
            if mode == 'incr':
                cache.incr(key)
            else:
                with cache.transact(retry=True):
                    cache.set(key, cache.get(key, 0) + 1)
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
