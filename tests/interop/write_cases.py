"""Python writes every case into a cache (some as streamed files).

usage: write_cases.py DIR CASES [POLICY]
"""
import io
import sys

import diskcache
from cases import read_cases


def main(directory, case_file, policy='least-recently-stored'):
    with diskcache.Cache(directory, eviction_policy=policy) as cache:
        for key, value, expire, tag in read_cases(case_file):
            if isinstance(value, bytes) and len(value) > 100000:
                cache.set(key, io.BytesIO(value), expire=expire, read=True, tag=tag)
            else:
                cache.set(key, value, expire=expire, tag=tag)
            if policy != 'least-recently-stored':
                cache.get(key)  # exercises the policy's access columns
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
