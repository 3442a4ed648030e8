"""Python's Deque, Index and FanoutCache as a peer for the C++ tests.

usage: persistent.py COMMAND DIR [ARG...]
  deque_dump DIR              print repr(list(Deque))
  deque_extend DIR LITERAL    append every item of a list literal
  deque_produce DIR SOURCE N  append (SOURCE, i) for i in range(N)
  index_dump DIR              print repr(list(Index.items()))
  index_update DIR LITERAL    set (key, value) pairs of a list literal, in order
  fanout_write DIR SHARDS LITERAL   set the (key, value) pairs in a FanoutCache
  fanout_check DIR SHARDS LITERAL   compare values, shard placement and check()
"""
import ast
import json
import sys

import diskcache


def main(command, directory, *args):
    if command == 'deque_dump':
        print(repr(list(diskcache.Deque(directory=directory))))
    elif command == 'deque_extend':
        diskcache.Deque(directory=directory).extend(ast.literal_eval(args[0]))
    elif command == 'deque_produce':
        deque = diskcache.Deque(directory=directory)
        for i in range(int(args[1])):
            deque.append((args[0], i))
    elif command == 'index_dump':
        print(repr(list(diskcache.Index(directory).items())))
    elif command == 'index_update':
        index = diskcache.Index(directory)
        for key, value in ast.literal_eval(args[0]):
            index[key] = value
    elif command == 'fanout_write':
        with diskcache.FanoutCache(directory, shards=int(args[0])) as cache:
            for key, value in ast.literal_eval(args[1]):
                cache.set(key, value, retry=True)
    elif command == 'fanout_check':
        shards = int(args[0])
        problems = []
        with diskcache.FanoutCache(directory, shards=shards) as cache:
            for key, value in ast.literal_eval(args[1]):
                shard = cache._shards[cache._hash(key) % shards]
                if shard.get(key) != value:
                    problems.append('key %r: %r != %r' % (key, shard.get(key), value))
            warnings = [str(w.message) for w in cache.check()]
        print(json.dumps({'problems': problems, 'warnings': warnings}))
        return 1 if problems or warnings else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
