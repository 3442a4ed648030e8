// How a Cache is opened. Precedence, as in Python diskcache: Python's
// defaults < the values stored in the cache's Settings table < what the
// opener sets here. Everything in `Settings` is persisted in the cache (so
// Python openers see it); everything else in `Options` applies to this
// handle only.
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <memory>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace diskcache {

class FileLayer;

enum class EvictionPolicy {
  LeastRecentlyStored,  // 'least-recently-stored' (Python's default)
  LeastRecentlyUsed,    // 'least-recently-used': every get updates access_time
  LeastFrequentlyUsed,  // 'least-frequently-used': every get bumps access_count
  None,                 // 'none': never cull by size
};

// The name Python stores in Settings.eviction_policy.
DISKCACHE_EXPORT std::string_view to_string(EvictionPolicy policy) noexcept;
// Parses Python's name; std::nullopt for anything else.
DISKCACHE_EXPORT std::optional<EvictionPolicy> parse_eviction_policy(std::string_view name) noexcept;

// Seconds since the Unix epoch as a double, like Python's time.time().
// Inject one to test expiry without sleeping.
using Clock = std::function<double()>;

// Persisted settings. An unset field keeps the stored value, or Python's
// default (given in the comment) for a new cache.
struct DISKCACHE_EXPORT Settings {
  std::optional<std::int64_t> size_limit;         // 1 GiB: bytes before culling
  std::optional<EvictionPolicy> eviction_policy;  // LeastRecentlyStored
  std::optional<std::int64_t> cull_limit;         // 10: rows culled per write (0 = never on write)
  std::optional<bool> statistics;                 // false: count hits and misses
  std::optional<bool> tag_index;                  // false: index on (tag, rowid)
  std::optional<std::int64_t> min_file_size;      // 32768 (disk_min_file_size): bytes/characters
                                                  // from which a value goes to its own file
  // SQLite pragmas, applied on every connection (Python's sqlite_* settings).
  std::optional<std::int64_t> sqlite_auto_vacuum;   // 1 (FULL)
  std::optional<std::int64_t> sqlite_cache_size;    // 8192 pages
  std::optional<std::string> sqlite_journal_mode;   // "wal"
  std::optional<std::int64_t> sqlite_mmap_size;     // 64 MiB
  std::optional<std::int64_t> sqlite_synchronous;   // 1 (NORMAL)
};

struct DISKCACHE_EXPORT Options {
  Settings settings;
  // How long one operation waits for a busy database before throwing
  // diskcache::Timeout (Python's default: 60 s).
  std::chrono::duration<double> timeout{60.0};
  // Wait for a busy database forever, like Python's retry=True.
  bool retry = false;
  // Open for reading only: never creates a directory or database, never
  // writes Settings, fails with an Error when the directory holds no cache.
  // Writes throw ReadOnlyCache.
  bool read_only = false;
  // fsync each value file and its folder before the row that names it
  // commits (sqlite_synchronous governs the database itself).
  bool durable = false;
  // Time source for store/expire/access times; empty = the system clock.
  Clock clock;
  // The most bytes one call loads into memory from a value file (get,
  // get_entry, pop, peekitem, pull, peek, items). A larger value throws
  // UnsupportedValue naming its size, key and directory, and is left
  // untouched: stream it with read() or open_value(), which have no bound.
  // A row's size must also match its file, so a hostile row cannot make a
  // call allocate more than the file holds.
  std::int64_t max_read_bytes = std::int64_t{1} << 30;
  // The file operations behind value files (diskcache/file_layer.hpp);
  // null: the system's. For injecting failures or delays.
  std::shared_ptr<FileLayer> file_layer;
};

}  // namespace diskcache
