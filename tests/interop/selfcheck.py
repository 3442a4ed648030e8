"""Verifies the self-checking values written by dc_helper's writer with the
real Python diskcache, then prints Python's check() warnings.

usage: selfcheck.py DIR   (exit 0 when every value is intact and check() is clean)
"""
import json
import struct
import sys

import diskcache


def body(seed, n):
    return bytes((seed + 131 * j) % 251 for j in range(n))


def valid(value):
    if isinstance(value, tuple):
        seed, data = value
        seed &= (1 << 64) - 1  # C++ stores the uint64 seed as int64
        return data == body(seed, len(data))
    seed, n = struct.unpack('<QQ', value[:16])
    return n == len(value) - 16 and value[16:] == body(seed, n)


def main(directory):
    with diskcache.Cache(directory) as cache:
        count = 0
        for key in cache:
            value = cache.get(key)
            if value is None or not valid(value):
                print('bad value for', repr(key))
                return 1
            count += 1
        warnings = [str(w.message) for w in cache.check()]
    print(json.dumps({'count': count, 'warnings': warnings}))
    return 1 if warnings else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
