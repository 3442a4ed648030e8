"""Python reads every case the C++ side wrote, compares values, expiry and
tags, then prints check()'s warnings. Exit 0 only when all match and
check() returns no warnings.

usage: read_cases.py DIR CASES [EXPECTED_POLICY]
"""
import json
import sys
import time

import diskcache
from cases import read_cases

MISSING = object()


def main(directory, case_file, expected_policy=None):
    problems = []
    with diskcache.Cache(directory) as cache:
        if expected_policy and cache.eviction_policy != expected_policy:
            problems.append('policy %r != %r' % (cache.eviction_policy, expected_policy))
        for key, value, expire, tag in read_cases(case_file):
            got, expire_time, got_tag = cache.get(key, default=MISSING, expire_time=True, tag=True)
            if expire is not None and expire < 0:
                if got is not MISSING:
                    problems.append('expired key %r readable' % (key,))
                continue
            if got is MISSING:
                problems.append('missing %r' % (key,))
            elif got != value or type(got) is not type(value):
                problems.append('value of %r: %r != %r' % (key, got, value))
            elif got_tag != tag:
                problems.append('tag of %r: %r != %r' % (key, got_tag, tag))
            elif (expire is None) != (expire_time is None):
                problems.append('expire_time of %r: %r' % (key, expire_time))
            elif expire is not None and not (time.time() < expire_time < time.time() + expire + 5):
                problems.append('expire_time of %r out of range: %r' % (key, expire_time))
        warnings = [str(w.message) for w in cache.check()]
    print(json.dumps({'problems': problems, 'warnings': warnings}))
    return 1 if problems or warnings else 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
