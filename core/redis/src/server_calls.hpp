// Quorum mode: one call to every server at once. Each server's link is used
// by a thread of its own, so a server that hangs (stopped, not closed)
// delays no call past its deadline: the caller goes on with the answers it
// has, and the hung thread's late answer is dropped. Calls whose deadline
// passed before their turn are skipped, so a hung server builds no queue.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "link.hpp"

namespace diskcache::redis::detail {

class ServerCalls {
 public:
  using Clock = std::chrono::steady_clock;
  // Takes the links (one per server); each gets its own thread.
  explicit ServerCalls(std::vector<Link*> links);
  ~ServerCalls();
  ServerCalls(const ServerCalls&) = delete;
  ServerCalls& operator=(const ServerCalls&) = delete;

  // Runs `call` against every server at once and waits until every server
  // answered, `enough(results)` is true, or `deadline` passes. Returns each
  // server's result, nullopt where it failed or had not answered (its
  // error, or "no answer within the deadline", is added to `errors`).
  std::vector<std::optional<std::int64_t>> run(
      const std::function<std::int64_t(Link&)>& call, Clock::time_point deadline,
      const std::function<bool(const std::vector<std::optional<std::int64_t>>&)>& enough, std::string& errors);

 private:
  struct Round;
  struct Worker;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace diskcache::redis::detail
