// What every primitive shares: its key as stored, its wake slot, the holder
// rows and history rows it writes inside its transactions, and the waiting
// loop.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "diskcache/error.hpp"

#include "../cache_impl.hpp"
#include "diskcache/inspect.hpp"
#include "diskcache/primitives.hpp"
#include "identity.hpp"
#include "waiter_board.hpp"
#include "wake_board.hpp"

namespace diskcache::detail {

using SteadyTime = std::chrono::steady_clock::time_point;

// Side-table rows of one primitive key, written inside the caller's
// transaction (all functions take the thread's open connection).
class PrimitiveRows {
 public:
  PrimitiveRows(Cache::Impl& impl, const Value& key);

  void register_kind(Connection& c, PrimitiveKind kind, std::optional<std::int64_t> bound);
  std::int64_t holder_count(Connection& c, const std::string& holder);
  // A holder's row: how many it holds, since when, until when.
  struct Holding {
    std::int64_t count = 0;
    double acquired_at = 0;
    std::optional<double> expires_at;
  };
  std::optional<Holding> holding(Connection& c, const std::string& holder);
  // The store time of the key's live (unexpired) Cache row, if any.
  std::optional<double> live_store_time(Connection& c, double now);
  // Sets the holder's count; 0 deletes its row.
  void set_holder(Connection& c, const std::string& holder, std::int64_t count, double now,
                  std::optional<double> expires_at);
  void set_expiry(Connection& c, std::optional<double> expires_at);
  void drop_holders(Connection& c);
  // Another holder row of this process (for a permit released by another
  // thread), or empty.
  std::string process_holder(Connection& c);
  void record(Connection& c, PrimitiveKind kind, const char* event, const std::string& holder, double waited);
  // The same for an event about another holder (a force-release names the
  // holder whose hold was broken, not the process that broke it).
  void record_for(Connection& c, PrimitiveKind kind, const char* event, const HolderInfo& holder);

  const DbKey& db_key() const noexcept { return db_key_; }

 private:
  void insert_event(Connection& c, PrimitiveKind kind, const char* event, const std::string& holder,
                    std::int64_t pid, std::int64_t thread, const std::string& host, double waited);

 public:
  std::size_t slot() const noexcept { return slot_; }

 private:
  Cache::Impl& impl_;
  DbKey db_key_;
  std::size_t slot_;
};

// The waiter board's key of a stored key (WaiterBoard::key_hash).
std::uint64_t waiter_key(const SqlScalar& key, std::int64_t raw);

// This process and thread as a holder id: "host:pid:start_time:thread".
std::string self_holder_id();
std::string holder_id(const std::string& host, std::int64_t pid, std::int64_t start_time, std::int64_t thread);

struct PrimitiveCore {
  PrimitiveCore(Cache& cache, Value key, PrimitiveOptions options);

  Cache* cache;
  Cache::Impl* impl;
  Value key;
  PrimitiveOptions options;
  PrimitiveRows rows;
  bool registered = false;
  SteadyTime last_release{};
  std::uint32_t acquisitions_at_release = 0;
  std::size_t released_slot;  // the slot of the last release: an acquisition right after it defers to its waiters
  // Distinguishes objects of one thread: a Lock's holder is the object that
  // acquired it, so a second Lock on the same key in the same thread never
  // releases the first one's acquisition.
  const std::uint64_t serial;
  std::string object_holder_id() const { return self_holder_id() + "/" + std::to_string(serial); }

  WakeBoard& board() { return impl->wake_board(); }
  double now() const { return impl->now(); }
  std::optional<double> expires_at(double now) const {
    return options.expire ? std::optional<double>(now + *options.expire) : std::nullopt;
  }
  SetOptions set_options() const { return SetOptions{options.expire, options.tag}; }
  void register_once(Connection& c, PrimitiveKind kind, std::optional<std::int64_t> bound);
  void record(Connection& c, PrimitiveKind kind, const char* event, double waited);

  // Calls `try_once(waited_seconds)` until it succeeds (true), `deadline`
  // passes or `stop` is requested (false; a timed wait records "timeout").
  // Between tries it sleeps on the key's wake slot, at most 2 ms at a time.
  // A process that has just released, while others wait, first sleeps
  // until one of them has acquired (at most 2 ms): a fair hand-off.
  bool wait_loop(const std::function<bool(double)>& try_once, std::optional<SteadyTime> deadline,
                 const std::stop_token& stop, PrimitiveKind kind) {
    return wait_loop(try_once, deadline, stop, kind, main_side());
  }
  // Where a waiter sleeps and is shown: the wake slot and the waiter
  // board's key. A primitive with two kinds of waiters (SharedLock's
  // readers and writers) gives each side its own.
  struct WaitSide {
    std::size_t slot;
    std::uint64_t waiter_key;
  };
  WaitSide main_side() const { return {rows.slot(), waiter_key(rows.db_key().key, rows.db_key().raw)}; }
  bool wait_loop(const std::function<bool(double)>& try_once, std::optional<SteadyTime> deadline,
                 const std::stop_token& stop, PrimitiveKind kind, WaitSide side);
  // After a release: bumps the wake slot (waking all its waiters, or one)
  // and remembers when.
  void released() { released(rows.slot()); }
  void released(std::size_t slot, bool wake_one = false);
};

// "<what> <key> in <directory>", for error messages.
std::string describe(const PrimitiveCore& core, const char* what);
inline std::optional<SteadyTime> no_deadline() { return std::nullopt; }
inline SteadyTime now_deadline() { return std::chrono::steady_clock::now(); }

// For unlock() (which must not throw): a few attempts at `release`, then
// the error is kept in `error`; NotHeld is kept at once.
template <class F>
void quietly(std::string& error, F&& release) noexcept {
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      release();
      error.clear();
      return;
    } catch (const NotHeld& e) {
      error = e.what();
      return;
    } catch (const std::exception& e) {
      error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace diskcache::detail
