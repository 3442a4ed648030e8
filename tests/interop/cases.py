"""Shared by the interop scripts: reads the case file the C++ test writes.

Each line: key repr, value repr, expire seconds ('' = none, negative =
already expired), tag repr ('' = none), tab-separated. Reprs are Python
literals produced by diskcache::Value::repr().
"""
import ast


def read_cases(path):
    cases = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            key, value, expire, tag = line.rstrip('\n').split('\t')
            cases.append((
                ast.literal_eval(key),
                ast.literal_eval(value),
                float(expire) if expire else None,
                ast.literal_eval(tag) if tag else None,
            ))
    return cases
