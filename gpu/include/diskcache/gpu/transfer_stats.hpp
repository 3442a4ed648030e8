// Transfer statistics of an Offloader, per direction, and how they are
// published into the cache's side table (space "gpu", one row per
// offloader) so that the monitor and the CLI read them live without them
// ever becoming cache items. The row's value is a dict (see docs/gpu.md):
//   {"device": str, "pid": int, "updated": float (Unix s),
//    "offload": {...}, "load": {...},
//    "pool": {"blocks": int, "block_bytes": int, "in_use": int, "high_water": int}}
// where each direction is
//   {"bytes": int, "operations": int, "failures": int, "latency_mean_ms": float,
//    "latency_p50_ms": float, "latency_p95_ms": float, "latency_p99_ms": float,
//    "throughput_bps": float}
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "diskcache/value.hpp"

namespace diskcache::gpu {

inline constexpr const char* kStatsSpace = "gpu";

struct DISKCACHE_EXPORT DirectionStats {
  std::int64_t bytes = 0;
  std::int64_t operations = 0;
  std::int64_t failures = 0;
  double latency_mean_ms = 0, latency_p50_ms = 0, latency_p95_ms = 0, latency_p99_ms = 0;
  // Bytes per second over the time transfers of this direction were in
  // flight (idle time excluded).
  double throughput_bps = 0;
};

struct DISKCACHE_EXPORT PoolStats {
  std::int64_t blocks = 0, block_bytes = 0, in_use = 0, high_water = 0;
};

struct DISKCACHE_EXPORT TransferReport {
  std::string name;  // the side-table row name
  std::string device;
  std::int64_t pid = 0;
  double updated = 0;
  DirectionStats offload, load;
  PoolStats pool;
};

DISKCACHE_EXPORT Value to_value(const TransferReport& report);
// Parses a published row; missing or ill-typed fields read as zero (the row
// comes from another process and is not trusted).
DISKCACHE_EXPORT TransferReport report_from_value(std::string name, const Value& value);

// Accumulates one direction's figures. Thread-safe.
class DISKCACHE_EXPORT DirectionRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  // A transfer of `bytes` that started at `start` finished now.
  void record(Clock::time_point start, std::int64_t bytes, bool ok);
  DirectionStats snapshot() const;

 private:
  static constexpr std::size_t kLatencyWindow = 1024;  // percentiles over the latest transfers
  mutable std::mutex mu_;
  DirectionStats totals_;                  // guarded by mu_
  std::deque<double> latencies_ms_;        // guarded by mu_
  double latency_sum_ms_ = 0;              // guarded by mu_
  double busy_seconds_ = 0;                // guarded by mu_
  Clock::time_point busy_until_{};         // guarded by mu_
};

}  // namespace diskcache::gpu
