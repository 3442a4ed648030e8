// The shared part of a Store: its servers and options, and the lease
// keeper -- one thread per Store, with its own connections, that renews
// the leases of every primitive held through this Store.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "link.hpp"
#include "server_calls.hpp"

namespace diskcache::redis::detail {

// Key names of one primitive, and the store-wide ones.
struct KeyNames {
  std::string state, fence, holders, registry, history, history_id, channel;
  std::vector<std::string> script_keys() const { return {state, fence, holders, registry, history, history_id}; }
};

// One held lease to renew: `extend` run with these keys and arguments must
// return 1 on a majority of servers.
struct Lease {
  const Script* extend = nullptr;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  std::chrono::milliseconds ttl{0};
  std::shared_ptr<std::atomic<bool>> lost;
  // Shared with the holder (Held::valid_until): moved on by each renewal a
  // majority confirmed, measured from before the renewal was sent.
  std::shared_ptr<std::atomic<std::chrono::steady_clock::rep>> valid_until;
};

struct StoreImpl {
  StoreImpl(std::vector<Endpoint> servers, StoreOptions options);
  ~StoreImpl();

  std::vector<Endpoint> servers;
  StoreOptions options;

  std::size_t majority() const noexcept { return servers.size() / 2 + 1; }
  bool quorum() const noexcept { return servers.size() > 1; }
  KeyNames names(const std::string& primitive, const char* state_suffix) const;
  // Lease time lost to clock drift between servers (Redlock's allowance).
  std::chrono::milliseconds drift(std::chrono::milliseconds ttl) const { return ttl / 100 + std::chrono::milliseconds(2); }

  // Renews `lease` every ttl/3 until dropped; sets *lease.lost when a
  // majority no longer knows its token, or no renewal succeeded in time.
  std::uint64_t keep(Lease lease);
  void drop(std::uint64_t id) noexcept;

  // Runs `use(link)` on the first server that answers (inspection), over
  // connections shared under a mutex. Throws ConnectionError when none does.
  template <class F>
  auto on_any_server(F&& use) {
    std::lock_guard guard(inspect_mutex_);
    std::string errors;
    for (std::size_t i = 0; i < servers.size(); ++i) {
      if (inspect_links_.size() <= i) inspect_links_.push_back(std::make_unique<Link>(servers[i], options));
      try {
        return use(*inspect_links_[i]);
      } catch (const ConnectionError& e) {
        errors += (errors.empty() ? "" : "; ") + std::string(e.what());
      }
    }
    throw ConnectionError(errors);
  }

 private:
  void keeper_loop();
  void renew(std::uint64_t id, Lease lease);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Lease> leases_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread keeper_;
  std::vector<std::unique_ptr<Link>> keeper_links_;  // used by the keeper thread only
  std::unique_ptr<ServerCalls> keeper_calls_;        // quorum mode: the keeper's links, all at once
  std::mutex inspect_mutex_;
  std::vector<std::unique_ptr<Link>> inspect_links_;
};

}  // namespace diskcache::redis::detail
