// What every Redis primitive shares: its names, its connections (one per
// server, used by the owning thread only), running its scripts on one
// server or a quorum, its leases and the waiting loop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "diskcache/primitives.hpp"
#include "diskcache/redis/store.hpp"
#include "retry_delay.hpp"
#include "server_calls.hpp"
#include "store_impl.hpp"

namespace diskcache::redis::detail {

using SteadyTime = std::chrono::steady_clock::time_point;

// This process and thread: "host:pid:start_time:thread" (an RLock's owner).
std::string self_owner();
// A fresh holder token: self_owner() + "/" + 64 random bits in hex.
std::string fresh_token();
// "host\tboot\tpidns\tpid\tstart\tthread" of the calling thread.
std::string self_record();
// Quorum mode: the least time a call of a timed acquisition gives the
// servers, however close its deadline.
inline constexpr std::chrono::milliseconds kFairCallTime{250};
// Quorum mode: after a wake-up, a waiter first sleeps up to half of this.
inline constexpr std::chrono::milliseconds kQuorumWakeSpread{4};

// One acquisition this object holds.
struct Held {
  std::string token;
  std::uint64_t fence = 0;
  std::uint64_t lease_id = 0;  // 0: fixed expiry, not renewed
  std::shared_ptr<std::atomic<bool>> lost = std::make_shared<std::atomic<bool>>(false);
  // The steady-clock time (ticks) until which the hold is certain: the
  // fixed expiry, or the lease as last renewed by the keeper (which moves
  // it on), each measured from before its request was sent, less drift.
  std::shared_ptr<std::atomic<SteadyTime::rep>> valid_until =
      std::make_shared<std::atomic<SteadyTime::rep>>(SteadyTime::max().time_since_epoch().count());
  bool valid() const {
    return !lost->load() && std::chrono::steady_clock::now().time_since_epoch().count() < valid_until->load();
  }
};

struct PrimitiveCore {
  PrimitiveCore(Store& store, std::string key, PrimitiveOptions options, std::string kind, const char* state_suffix);
  ~PrimitiveCore();

  std::shared_ptr<StoreImpl> store;
  std::string key;
  PrimitiveOptions options;
  std::string kind;  // the registry's label: "lock", "rlock", "semaphore:<bound>", "averager"
  KeyNames names;
  std::vector<std::unique_ptr<Link>> links;
  // Quorum mode: the links' own threads (made on first use); while it
  // exists the links are used through it only.
  std::unique_ptr<ServerCalls> calls;
  // A timed acquisition's deadline: no call made for it waits past it.
  std::optional<SteadyTime> call_deadline;
  std::unique_ptr<Subscriber> subscriber;
  std::vector<Held> holds;  // acquisitions by this object, latest last
  std::int64_t depth = 0;   // RLock: nesting taken through this object
  SteadyTime attempt_start{};  // when the last try_acquire sent its requests

  void require_single_server(const char* what) const;
  // ms of an acquisition: the fixed expiry, or the lease.
  std::chrono::milliseconds ttl() const;
  // ARGV for a script (see scripts.hpp).
  std::vector<std::string> args(const std::string& token, std::chrono::milliseconds ttl, const std::string& extra,
                                double waited_ms = 0, bool history = true) const;

  // Runs `script` on one server (single mode). Throws ConnectionError.
  std::int64_t run(const Script& script, const std::vector<std::string>& args);
  // Runs `script` on every server (in quorum mode all at once, returning
  // once a majority answered 1 or more, or at the deadline: the connect and
  // command timeouts, or call_deadline if sooner): each result, or nullopt
  // where the server failed or had not answered (its error in `errors`).
  std::vector<std::optional<std::int64_t>> run_all(const Script& script, const std::vector<std::string>& args,
                                                   std::string& errors);
  // Runs `call` on every server as run_all does.
  std::vector<std::optional<std::int64_t>> call_all(const std::function<std::int64_t(Link&)>& call,
                                                    std::string& errors);
  // The same for one plain command whose integer reply is the result.
  std::vector<std::optional<std::int64_t>> command_all(const std::vector<std::string>& argv, std::string& errors);

  // One acquisition attempt with `acquire` (on a majority in quorum mode,
  // within the validity time; a failed quorum attempt is undone). Returns
  // the fence (> 0), or minus a wait hint in ms. Throws ConnectionError
  // when too few servers answer.
  // `undo` (may be null) removes `token`'s acquisition.
  std::int64_t try_acquire(const Script& acquire, const Script* undo, const std::string& token,
                           const std::string& extra, double waited_ms);
  // Quorum mode: raises every server's fence counter to `fence`; true when
  // a majority still holds `token` (else the acquisition is undone).
  bool raise_fences(const std::string& token, std::chrono::milliseconds span, std::int64_t fence);
  // Sets `held`'s deadline from the last attempt, and starts renewing it
  // (unless a fixed expiry is set) after acquiring.
  void start_lease(Held& held, const Script& extend, const std::string& token);
  void stop_lease(Held& held);

  // Calls try_once(waited_ms) until it returns > 0 (true), `deadline`
  // passes or `stop` is requested (false; a timed wait records "timeout").
  // Sleeps on the key's wake channel between tries, at most the hint, the
  // fallback poll or the deadline.
  bool wait_loop(const std::function<std::int64_t(double)>& try_once, std::optional<SteadyTime> deadline,
                 const std::stop_token& stop);
};

}  // namespace diskcache::redis::detail
