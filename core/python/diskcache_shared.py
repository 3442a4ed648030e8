"""A cross-process reader-writer lock for Python diskcache.

``SharedLock`` takes part in the same exclusion as diskcache-cpp's
``diskcache::SharedLock`` on the same key of the same directory: many
readers or one writer, writers first (once a writer waits, new readers wait
behind it). Every state change is one SQLite transaction
(``Cache.transact``), so there is no window in which two readers both
believe they are the last one, and a reader that crashed is named in the
value, so a tool (``diskcache release``, the monitor) can find it stale and
release it.

The value under the key (docs/format.md)::

    (writer, readers, waiting_writers)
    writer           None, or (holder_id, expires_at)
    readers          tuple of (holder_id, expires_at)
    waiting_writers  tuple of (holder_id, until)

Times are Unix seconds (``expires_at`` may be None: no lease). A waiting
writer renews its ``until`` (0.5 s ahead) while it waits. A free lock has no
key. Where the directory has diskcache-cpp's side tables, this module also
writes holder records, the registration and history, as the C++ library
does; without them the value alone carries the exclusion.

Usage::

    from diskcache import Cache
    from diskcache_shared import SharedLock

    lock = SharedLock(Cache('/tmp/cache'), 'catalog')
    with lock.shared():      # beside other readers
        ...
    with lock.exclusive():   # alone
        ...

Only the standard library and diskcache are used; Linux is assumed for the
holder identity (/proc).
"""

import itertools
import os
import socket
import threading
import time
from contextlib import contextmanager

__all__ = ['SharedLock', 'NotHeld']

ANNOUNCEMENT = 0.5  # seconds a waiting writer's announcement lasts
POLL = 0.001  # seconds between tries (diskcache's own recipes poll so)
HISTORY_ROWS = 10000
KIND = 'shared-lock'

_serial = itertools.count(1)
_identity = {}


class NotHeld(RuntimeError):
    """Releasing or renewing a hold this object does not have."""


def _process_identity():
    pid = os.getpid()
    if _identity.get('pid') != pid:  # recomputed after fork
        with open('/proc/self/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        with open('/proc/sys/kernel/random/boot_id') as f:
            boot_id = f.read().strip()
        _identity.clear()
        _identity.update(pid=pid, host=socket.gethostname(), boot_id=boot_id,
                         pid_ns=os.stat('/proc/self/ns/pid').st_ino,
                         start_time=int(fields[19]))  # field 22 of stat
    return _identity


def _thread_holder():
    me = _process_identity()
    return '%s:%d:%d:%d' % (me['host'], me['pid'], me['start_time'],
                            threading.get_native_id())


def _entry(item, what):
    if (not isinstance(item, tuple) or len(item) != 2
            or not isinstance(item[0], str)
            or not (item[1] is None or isinstance(item[1], (int, float)))):
        raise ValueError('%s: an entry is not (holder_id, time): %r'
                         % (what, item))
    return [item[0], item[1]]


def _decode(value, what):
    if value is None:
        return None, [], []
    if not isinstance(value, tuple) or len(value) != 3:
        raise ValueError('%s holds %r, not (writer, readers, waiting_writers)'
                         % (what, value))
    writer = None if value[0] is None else _entry(value[0], what)
    for part in value[1:]:
        if not isinstance(part, tuple):
            raise ValueError('%s: readers or waiting writers are not a tuple'
                             % what)
    return (writer, [_entry(r, what) for r in value[1]],
            [_entry(w, what) for w in value[2]])


def _lapsed(entry, now):
    return entry[1] is not None and entry[1] <= now


class SharedLock:
    """A reader-writer lock on ``key`` of a diskcache ``Cache`` or
    ``FanoutCache`` (in the key's shard, as the C++ library places it).

    ``expire`` gives each hold a lease of that many seconds (``renew``
    extends it); ``tag`` is stored with the value; ``history`` records
    acquisitions where the directory keeps a history. One object holds
    either a shared or the exclusive hold at a time and is used by one
    thread at a time.
    """

    def __init__(self, cache, key, expire=None, tag=None, history=True):
        if hasattr(cache, '_shards'):  # FanoutCache: the key's shard
            cache = cache._shards[cache._hash(key) % cache._count]
        self._cache = cache
        self._key = key
        self._expire = expire
        self._tag = tag
        self._history = history
        self._holder = '%s/py%d' % (_thread_holder(), next(_serial))
        self._mode = None
        self._tables = None
        self._registered = False

    # -- what the caller uses

    def acquire(self, blocking=True, timeout=None):
        """Takes the exclusive hold; False when not blocking or the timeout
        passed first."""
        return self._acquire('exclusive', blocking, timeout)

    def acquire_shared(self, blocking=True, timeout=None):
        """Takes a shared hold beside other readers."""
        return self._acquire('shared', blocking, timeout)

    def release(self):
        """Releases whichever hold this object has (NotHeld when none, when
        it was force-released or its lease ran out)."""
        if self._mode is None:
            raise NotHeld('SharedLock %r is not held by this object'
                          % (self._key,))
        mode, self._mode = self._mode, None
        with self._cache.transact(retry=True):
            now = time.time()
            writer, readers, waiting = self._load(now)
            if mode == 'exclusive':
                if writer is None or writer[0] != self._holder:
                    self._not_held()
                writer = None
            else:
                if not any(r[0] == self._holder for r in readers):
                    self._not_held()
                readers = [r for r in readers if r[0] != self._holder]
            self._store(writer, readers, waiting)
            self._set_holder(False, None, now)
            self._record('release' if mode == 'exclusive'
                         else 'release-shared', 0.0)

    release_shared = release

    def renew(self, expire):
        """Extends this object's hold to ``expire`` seconds from now (None:
        no lease)."""
        with self._cache.transact(retry=True):
            now = time.time()
            writer, readers, waiting = self._load(now)
            mine = writer if self._mode == 'exclusive' else next(
                (r for r in readers if r[0] == self._holder), None)
            if mine is None or mine[0] != self._holder:
                self._not_held()
            mine[1] = None if expire is None else now + expire
            self._store(writer, readers, waiting)
            self._set_holder(True, mine[1], now)

    def state(self):
        """(writer holder id or None, readers, waiting writers) now."""
        now = time.time()
        writer, readers, waiting = _decode(
            self._cache.get(self._key), self._what())
        alive = lambda e: not _lapsed(e, now)
        writer = writer[0] if writer and alive(writer) else None
        return (writer, sum(map(alive, readers)), sum(map(alive, waiting)))

    @property
    def mode(self):
        """None, 'shared' or 'exclusive'."""
        return self._mode

    @contextmanager
    def shared(self):
        self.acquire_shared()
        try:
            yield self
        finally:
            self.release()

    @contextmanager
    def exclusive(self):
        self.acquire()
        try:
            yield self
        finally:
            self.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    # -- the transactions

    def _acquire(self, mode, blocking, timeout):
        if self._mode is not None:
            raise RuntimeError('SharedLock %r: this object already holds it'
                               % (self._key,))
        start = time.monotonic()
        try:
            while True:
                if self._try(mode, time.monotonic() - start):
                    self._mode = mode
                    return True
                waited = time.monotonic() - start
                if not blocking or (timeout is not None and waited >= timeout):
                    self._give_up(mode, waited, timeout is not None)
                    return False
                time.sleep(POLL)
        except BaseException:
            if self._mode is None and mode == 'exclusive':
                self._give_up(mode, 0.0, False)
            raise

    def _try(self, mode, waited):
        with self._cache.transact(retry=True):
            now = time.time()
            writer, readers, waiting = self._load(now)
            expires = None if self._expire is None else now + self._expire
            if mode == 'exclusive':
                if writer is None and not readers:
                    waiting = [w for w in waiting if w[0] != self._holder]
                    self._store([self._holder, expires], readers, waiting)
                    self._took(expires, now, 'acquire', waited)
                    return True
                mine = next((w for w in waiting if w[0] == self._holder),
                            None)
                if mine is None:
                    waiting.append([self._holder, now + ANNOUNCEMENT])
                elif mine[1] - now < ANNOUNCEMENT / 2:
                    mine[1] = now + ANNOUNCEMENT
                else:
                    return False
                self._store(writer, readers, waiting)
                return False
            if writer is not None or waiting:  # writers first
                return False
            readers.append([self._holder, expires])
            self._store(writer, readers, waiting)
            self._took(expires, now, 'acquire-shared', waited)
            return True

    def _give_up(self, mode, waited, timed):
        with self._cache.transact(retry=True):
            now = time.time()
            writer, readers, waiting = self._load(now)
            if mode == 'exclusive':
                waiting = [w for w in waiting if w[0] != self._holder]
                self._store(writer, readers, waiting)
            if timed:
                self._record('timeout', waited)

    def _load(self, now):
        """The value less lapsed holds (whose holder records go too)."""
        writer, readers, waiting = _decode(
            self._cache.get(self._key), self._what())
        gone = [e[0] for e in ([writer] if writer else []) + readers
                if _lapsed(e, now)]
        if writer and _lapsed(writer, now):
            writer = None
        readers = [r for r in readers if not _lapsed(r, now)]
        waiting = [w for w in waiting if not _lapsed(w, now)]
        for holder in gone:
            self._delete_holder(holder)
        return writer, readers, waiting

    def _store(self, writer, readers, waiting):
        if writer is None and not readers and not waiting:
            self._cache.delete(self._key)
            return
        value = (None if writer is None else tuple(writer),
                 tuple(tuple(r) for r in readers),
                 tuple(tuple(w) for w in waiting))
        self._cache.set(self._key, value, tag=self._tag)

    def _not_held(self):
        raise NotHeld('SharedLock %r is not held by this object (released, '
                      'its lease expired, or force-released); nothing was '
                      'changed' % (self._key,))

    def _what(self):
        return 'SharedLock %r in %s' % (self._key, self._cache.directory)

    # -- diskcache-cpp's side tables, where the directory has them

    def _side(self, table):
        if self._tables is None:
            rows = self._cache._sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                "name LIKE 'diskcache_%'").fetchall()
            self._tables = {name for (name,) in rows}
        return table in self._tables

    def _db_key(self):
        return self._cache._disk.put(self._key)

    def _took(self, expires, now, event, waited):
        self._set_holder(True, expires, now)
        if not self._registered and self._side('diskcache_primitives'):
            db_key, raw = self._db_key()
            self._cache._sql(
                'INSERT INTO diskcache_primitives (key, raw, kind, bound, '
                'registered) VALUES (?, ?, ?, NULL, ?) ON CONFLICT(key, raw) '
                'DO UPDATE SET kind = excluded.kind, bound = excluded.bound',
                (db_key, raw, KIND, now))
            self._registered = True
        self._record(event, waited)

    def _set_holder(self, holding, expires, now):
        """This object's holder record: written while it holds, deleted
        once it does not."""
        if not self._side('diskcache_holders'):
            return
        db_key, raw = self._db_key()
        if holding:
            me = _process_identity()
            self._cache._sql(
                'INSERT INTO diskcache_holders (key, raw, holder, host, '
                'boot_id, pid_ns, pid, start_time, thread, acquired_at, '
                'expires_at, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) '
                'ON CONFLICT(key, raw, holder) DO UPDATE SET '
                'count = excluded.count, expires_at = excluded.expires_at',
                (db_key, raw, self._holder, me['host'], me['boot_id'],
                 me['pid_ns'], me['pid'], me['start_time'],
                 threading.get_native_id(), now, expires))
        else:
            self._delete_holder(self._holder)

    def _delete_holder(self, holder):
        if not self._side('diskcache_holders'):
            return
        db_key, raw = self._db_key()
        self._cache._sql('DELETE FROM diskcache_holders WHERE key = ? AND '
                         'raw = ? AND holder = ?', (db_key, raw, holder))

    def _record(self, event, waited):
        if not self._history or not self._side('diskcache_history'):
            return
        me = _process_identity()
        db_key, raw = self._db_key()
        cursor = self._cache._sql(
            'INSERT INTO diskcache_history (at, key, raw, kind, event, '
            'holder, pid, thread, host, waited) VALUES '
            '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (time.time(), db_key, raw, KIND, event, _thread_holder(),
             me['pid'], threading.get_native_id(), me['host'], waited))
        row = cursor.lastrowid
        if row and row % 256 == 0:
            self._cache._sql('DELETE FROM diskcache_history WHERE id <= ?',
                             (row - HISTORY_ROWS,))
