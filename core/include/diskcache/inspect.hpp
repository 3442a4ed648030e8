// Inspection of the primitives in a cache: what exists, who holds it,
// whether each holder is alive, and the history of hand-offs; plus the
// writes a person may ask for: force-releasing a dead holder, registering a
// key used by a Python Lock or BoundedSemaphore (which look like plain data).
// The monitor and the CLI are built on this.
//
// Thread-safety: free functions; each runs its own short transaction.
#pragma once

#include "diskcache/export.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diskcache/cache.hpp"
#include "diskcache/fanout.hpp"

namespace diskcache {

enum class PrimitiveKind { Lock, RLock, Semaphore, Averager, SharedLock };
DISKCACHE_EXPORT std::string_view to_string(PrimitiveKind kind) noexcept;
DISKCACHE_EXPORT std::optional<PrimitiveKind> parse_primitive_kind(std::string_view name) noexcept;

enum class HolderState {
  Alive,    // its process runs on this host
  Stale,    // its process is gone, a zombie, or a reused pid; or its lease expired
  Unknown,  // another host or pid namespace: cannot tell
};
DISKCACHE_EXPORT std::string_view to_string(HolderState state) noexcept;

struct DISKCACHE_EXPORT HolderInfo {
  std::string id;  // stable within the holder's life
  std::string host;
  std::string boot_id;
  std::uint64_t pid_namespace = 0;
  std::int64_t pid = 0;
  std::int64_t start_time = 0;
  std::int64_t thread = 0;
  double acquired_at = 0;
  std::optional<double> expires_at;
  std::int64_t count = 1;  // permits or re-entry depth
  bool shared = false;     // a SharedLock's reader (its writer: false)
  HolderState state = HolderState::Unknown;
};
// A holder's state from its process identity alone (leases aside):
// Alive, Stale for a dead, zombie or reused pid, Unknown on another host or
// pid namespace.
DISKCACHE_EXPORT HolderState process_state(const HolderInfo& holder);

// A C++ thread waiting to acquire (Python waiters are not recorded).
struct DISKCACHE_EXPORT WaiterInfo {
  std::int64_t pid = 0;
  std::int64_t thread = 0;
  double since = 0;  // Unix seconds when it started waiting
  bool shared = false;  // waits to read a SharedLock (else to write, or for the primitive)
};

struct DISKCACHE_EXPORT PrimitiveInfo {
  Value key;
  PrimitiveKind kind = PrimitiveKind::Lock;
  bool registered = false;            // known from the side table (else recognised by its value)
  std::optional<std::int64_t> bound;  // semaphores
  bool held = false;
  std::int64_t in_use = 0;            // permits taken / re-entry depth / 1 for a held lock /
                                      // a SharedLock's readers, or 1 for its writer
  bool writer = false;                // a SharedLock held exclusively
  std::int64_t writers_waiting = 0;   // a SharedLock's announced waiting writers (C++ and Python)
  std::optional<double> mean;         // averagers
  std::int64_t samples = 0;           // averagers
  std::optional<double> expire_time;  // of the key
  // When the key's row was last written (Unix seconds). For a lock held by
  // Python (no holder record) that is when it was taken: Python's Lock
  // adds the key on acquire and never rewrites it while held.
  std::optional<double> store_time;
  std::vector<HolderInfo> holders;    // empty for a Python holder (unknown)
  std::vector<WaiterInfo> waiters;    // live C++ threads waiting for it, longest first
  std::size_t shard = 0;              // the shard it lives in (0 for a plain cache)
  bool stale() const;                 // held, and every known holder is stale
  // Since when it has been held (Unix seconds): its earliest holder's
  // acquisition, or for a Python holder store_time; nullopt when free.
  std::optional<double> held_since() const;
  // When it lapses unless renewed: the earliest holder lease, else the
  // key's expire_time; nullopt when neither is set.
  std::optional<double> expires_at() const;
};


// Every primitive in `cache`: registered ones, and Python RLocks recognised
// by the shape of their value. Rows that cannot be read (in any of the
// tables read) are appended to `skipped` (when given) and passed over.
//
// Python does not register its RLocks; recognising them by their value
// scans every row of the cache (~30 ms per 100,000 items). Tools refreshing
// often pass `find_python_rlocks = false`, scan in slices with
// scan_python_rlocks and follow the RLocks found with inspect_primitive,
// which looks at one key only. Everything is read in one read transaction
// (a consistent view).
DISKCACHE_EXPORT std::vector<PrimitiveInfo> inspect_primitives(Cache& cache, bool find_python_rlocks = true,
                                              SkippedRows* skipped = nullptr);
DISKCACHE_EXPORT std::optional<PrimitiveInfo> inspect_primitive(Cache& cache, const Value& key, SkippedRows* skipped = nullptr);

// One slice of the scan for Python RLocks: the keys whose values look like
// a Python RLock among at most `max_rows` rows (>= 1) after `after_rowid`
// in rowid order. Start at 0 and pass `next_rowid` on; it is 0 again once a
// slice reached the end of the table (the scan is complete).
struct DISKCACHE_EXPORT RLockScan {
  std::vector<Value> keys;
  std::int64_t next_rowid = 0;
};
DISKCACHE_EXPORT RLockScan scan_python_rlocks(Cache& cache, std::int64_t after_rowid, std::int64_t max_rows,
                             SkippedRows* skipped = nullptr);

// Marks `key` as used by a Python Lock or BoundedSemaphore (with its bound),
// so inspection shows it.
DISKCACHE_EXPORT void register_primitive(Cache& cache, const Value& key, PrimitiveKind kind,
                        std::optional<std::int64_t> bound = std::nullopt);

enum class ForceReleaseResult {
  Released,      // freed (the lock) or returned the permits (semaphore)
  RefusedAlive,  // a holder is alive or unknown and `force` was not given
  NotHeld,       // nothing to release
};
// Frees `key` from its stale holders: deletes a stale lock, resets a stale
// RLock, returns a dead holder's permits. Refuses when a holder is alive or
// unknown (a Python holder, another host) unless `force`. `holder_id`
// limits it to one holder (semaphores). Wakes waiters. Recorded in history.
// A key nobody registered whose value is None is taken for a Python Lock:
// its holder is unknown, so it is released only with `force`.
DISKCACHE_EXPORT ForceReleaseResult force_release(Cache& cache, const Value& key, bool force = false,
                                 const std::optional<std::string>& holder_id = std::nullopt);

struct DISKCACHE_EXPORT HistoryEvent {
  std::int64_t id = 0;
  double at = 0;
  Value key;
  PrimitiveKind kind = PrimitiveKind::Lock;
  // "acquire", "release", "timeout", "force-release"; a SharedLock's
  // readers: "acquire-shared", "release-shared".
  std::string event;
  std::string holder;
  std::int64_t pid = 0;
  std::int64_t thread = 0;
  std::string host;
  double waited = 0;  // seconds spent waiting before acquiring (or timing out)
  std::size_t shard = 0;  // the shard it was read from (ids are per shard; 0 for a plain cache)
};
// Events with id > `after_id`, oldest first, at most `limit`. The history
// keeps the latest 10,000 events. Malformed rows count toward `limit`, are
// appended to `skipped` (when given) and passed over.
//
// A primitive's events are written in batches, not in its own transaction
// (that cost a page of WAL per acquisition): once the change commits, its
// events wait in the process at most about 50 ms before one transaction
// writes them all. So this process reads its own events at once (this call
// writes what its handles hold first), other processes read them within
// about 50 ms, ids follow the order events were written, not `at`, across
// processes, and the events a process held back are lost if it is killed
// (its holder rows are not: a killed holder is still shown, stale). While
// the cache's free-space reserve is gone (a full disk) events wait.
DISKCACHE_EXPORT std::vector<HistoryEvent> primitive_history(Cache& cache, std::int64_t after_id = 0, std::size_t limit = 1000,
                                            SkippedRows* skipped = nullptr);

// Writes the history events this process holds back for `cache` now (see
// primitive_history), e.g. before a process may be killed. Best effort:
// events that cannot be written (a busy or full database) stay held back.
DISKCACHE_EXPORT void flush_history(Cache& cache) noexcept;

// ---- A FanoutCache: the same, over every shard, each result naming its
// shard (PrimitiveInfo::shard, HistoryEvent::shard).
DISKCACHE_EXPORT std::vector<PrimitiveInfo> inspect_primitives(FanoutCache& cache, bool find_python_rlocks = true,
                                              SkippedRows* skipped = nullptr);
// Each shard's events after `after_ids[shard]` (resized to the shard count
// and advanced past what is returned), at most `limit_per_shard` from each,
// merged oldest first.
DISKCACHE_EXPORT std::vector<HistoryEvent> primitive_history(FanoutCache& cache, std::vector<std::int64_t>& after_ids,
                                            std::size_t limit_per_shard = 1000, SkippedRows* skipped = nullptr);

DISKCACHE_EXPORT void flush_history(FanoutCache& cache) noexcept;

// What a cache holds, over all its shards: items, bytes, the size limit and
// the hit and miss counters (read, never reset or enabled).
struct DISKCACHE_EXPORT CacheTotals {
  std::int64_t count = 0, volume = 0, size_limit = 0, hits = 0, misses = 0;
  std::size_t shards = 1;
};
DISKCACHE_EXPORT CacheTotals totals(Cache& cache);
DISKCACHE_EXPORT CacheTotals totals(FanoutCache& cache);

}  // namespace diskcache
