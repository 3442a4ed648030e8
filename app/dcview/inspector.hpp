// One inspection interface for a location, whatever holds it: a cache
// directory (plain or fanout) or a Redis store ("redis://host:port[/db]",
// comma-separated for a quorum). open_inspector chooses the implementation
// from the location string; nothing else in the monitor or the CLI looks
// at that string. Every call may throw diskcache::Error naming what failed.
// Use an Inspector from one thread at a time.
#pragma once

#include <QString>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "diskcache/browse.hpp"
#include "diskcache/gpu/transfer_stats.hpp"
#include "diskcache/inspect.hpp"

namespace dcview {

class CacheDirectory;

class Inspector {
 public:
  virtual ~Inspector() = default;

  // How Python RLocks (which register nothing) are found: a full scan of
  // every row, or one slice of kScanSlice rows per call, following the
  // RLocks found by earlier slices (a bounded cost for a tool refreshing
  // every second).
  enum class RLockScan { Full, Sliced };
  static constexpr std::int64_t kScanSlice = 10000;

  // Every primitive with its holders and waiters (PrimitiveInfo::shard set).
  virtual std::vector<diskcache::PrimitiveInfo> primitives(diskcache::SkippedRows& skipped, RLockScan scan) = 0;
  virtual std::optional<diskcache::PrimitiveInfo> primitive(const diskcache::Value& key, std::size_t shard) = 0;
  // Events after `after_ids` (one id per shard or store, resized as needed
  // and advanced past what is returned), at most `limit` from each, oldest
  // first (HistoryEvent::shard set).
  virtual std::vector<diskcache::HistoryEvent> history(std::vector<std::int64_t>& after_ids, std::size_t limit,
                                                       diskcache::SkippedRows& skipped) = 0;
  virtual diskcache::ForceReleaseResult force_release(const diskcache::Value& key, std::size_t shard, bool force,
                                                      const std::optional<std::string>& holder) = 0;
  // Makes a Python Lock or BoundedSemaphore visible. Throws for a store
  // whose primitives register themselves (Redis).
  virtual void register_primitive(const diskcache::Value& key, diskcache::PrimitiveKind kind,
                                  std::optional<std::int64_t> bound) = 0;

  // Items, volume and counters; nullopt for a store that holds no items.
  virtual std::optional<diskcache::CacheTotals> totals() = 0;
  virtual QString eviction_policy() = 0;
  virtual bool fanout() const = 0;
  // The shard `key` lives in (0 where there are none).
  virtual std::size_t shard_of(const diskcache::Value& key) = 0;
  // Shards (or Redis servers) behind the location.
  virtual std::size_t parts() const = 0;
  // What the location is, for titles and messages: "cache", "fanout cache
  // (8 shards)", "Redis store (3 servers)".
  virtual QString description() const = 0;

  // Keys: one database per shard (none for Redis: browse_keys throws).
  virtual std::size_t key_databases() const = 0;
  virtual diskcache::KeyPage browse_keys(std::size_t database, const diskcache::KeyQuery& query) = 0;
  // Removes expired items, reporting progress; returns how many. Throws
  // for a store that holds no items (Redis).
  virtual std::int64_t purge_expired(const diskcache::Progress& progress = {}) = 0;

  // GPU transfer statistics published by Offloaders.
  virtual std::vector<diskcache::gpu::TransferReport> transfers(diskcache::SkippedRows& skipped) = 0;
  // Files whose change means the location changed (none for Redis), the
  // first of them the database whose replacement means "reopen".
  virtual std::vector<std::filesystem::path> change_files() const = 0;

  // The cache directory behind it, for the CLI's item commands; null for a
  // store that holds no items.
  virtual CacheDirectory* directory() { return nullptr; }
};

// Opens `location` (read-only unless `writable`). Throws diskcache::Error
// when there is no cache (read-only: nothing created), for a malformed
// Redis URL, or for a Redis location in a build without Redis support.
std::unique_ptr<Inspector> open_inspector(const QString& location, bool writable);

// Opens a Redis store (redis_inspector.cpp, or redis_unavailable.cpp).
std::unique_ptr<Inspector> open_redis_inspector(const std::string& urls);

}  // namespace dcview
