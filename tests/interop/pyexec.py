"""Runs one Python expression against a cache and prints its repr.

usage: pyexec.py DIR EXPRESSION   (the cache is bound to `cache`)
"""
import sys

import diskcache

with diskcache.Cache(sys.argv[1]) as cache:
    print(repr(eval(sys.argv[2], {'cache': cache, 'diskcache': diskcache})))
