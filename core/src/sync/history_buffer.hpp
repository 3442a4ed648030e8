// The primitives' history, written in batches. An event joins this buffer
// when the transaction that made it commits (never when it rolls back), and
// a background thread inserts what has gathered into diskcache_history in one
// transaction, at most kFlushDelay after the first of them: a primitive's own
// transaction writes no history row, which was a page of WAL per acquisition.
//
// Contract: events of one handle appear in the table in the order they
// committed, each with the time it happened (`at`); other processes see them
// within about kFlushDelay, this process at once (primitive_history flushes
// the buffers of every handle of this process on that database first); the
// last events of a process killed before its flush are lost (its holder rows
// are not: they stay in the primitive's transaction, so a killed holder is
// still shown as stale). A batch that cannot be written (a busy database) is
// kept for the next flush, up to kMaxPending events; older ones are dropped
// beyond that (the history is bounded anyway). Nothing is written while the
// cache has no free-space reserve (a full disk): the space is kept for the
// changes that free it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../cache_impl.hpp"

namespace diskcache::detail {

struct PendingEvent {
  double at = 0;
  SqlScalar key;
  std::int64_t raw = 1;
  std::string kind, event, holder, host;
  std::int64_t pid = 0, thread = 0;
  double waited = 0;
};

class HistoryBuffer {
 public:
  static constexpr std::chrono::milliseconds kFlushDelay{50};
  static constexpr std::size_t kMaxPending = 10000;
  static constexpr std::size_t kEagerFlush = kMaxPending / 4;  // flushed at once from this many
  // The table keeps about this many of the latest events.
  static constexpr std::int64_t kHistoryRows = 10000;

  explicit HistoryBuffer(Cache::Impl& impl);
  // Writes what is pending, then stops the thread.
  ~HistoryBuffer();
  HistoryBuffer(const HistoryBuffer&) = delete;
  HistoryBuffer& operator=(const HistoryBuffer&) = delete;

  // Queues committed events (any thread).
  void add(std::vector<PendingEvent> events);
  // Writes what is pending now, on the calling thread, unless that thread
  // has a write transaction open (the flushing thread writes them then).
  // Best effort: on failure the events stay pending.
  void flush() noexcept;
  // flush() of every buffer of this process on `impl`'s database.
  static void flush_all(const Cache::Impl& impl) noexcept;

 private:
  void run();
  void write_pending() noexcept;  // takes write_mu_
  void start_if_needed();         // mu_ held

  Cache::Impl& impl_;
  std::uint64_t device_ = 0, inode_ = 0;  // of the cache's directory
  int borrowed_ = 0;  // flush_all calls flushing this buffer; guarded by the registry's mutex
  std::mutex write_mu_;  // batches are written one at a time, in order
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PendingEvent> pending_;  // guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  // The flushing thread; a forked child leaks its parent's (that thread does
  // not exist there) and starts its own.
  std::unique_ptr<std::thread> thread_;  // guarded by mu_
  std::uint64_t fork_generation_ = 0;    // guarded by mu_
};

// The process's fork generation (bumped in every child).
std::uint64_t fork_generation() noexcept;

}  // namespace diskcache::detail
