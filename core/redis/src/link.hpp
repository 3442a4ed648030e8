// One hiredis connection to one Redis server, used by one thread at a time.
// Any failure to reach the server, a timeout or a closed connection throws
// ConnectionError naming the server and closes the connection; the next
// call reconnects. A command that timed out may still have run on the
// server: callers never treat such a call as success.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "diskcache/redis/store.hpp"

struct redisContext;
struct redisReply;

namespace diskcache::redis::detail {

// A reply (owned). Arrays hand out views of their elements.
class Reply {
 public:
  Reply() = default;
  explicit Reply(redisReply* owned);
  ~Reply();
  Reply(Reply&& other) noexcept;
  Reply& operator=(Reply&& other) noexcept;

  bool is_nil() const;
  bool is_integer() const;
  bool is_array() const;
  std::int64_t integer() const;  // throws for another type
  std::string text() const;      // string or status; "" for nil
  std::size_t size() const;      // array elements
  const redisReply* element(std::size_t i) const;
  const redisReply* raw() const noexcept { return r_; }

 private:
  redisReply* r_ = nullptr;
};

// Helpers over a borrowed element (null-safe).
std::int64_t integer_of(const redisReply* r);
std::string text_of(const redisReply* r);
std::size_t size_of(const redisReply* r);                         // array elements, else 0
const redisReply* element_of(const redisReply* r, std::size_t i);  // null when out of range

// A Lua script, loaded into each server once per connection (EVALSHA, and
// SCRIPT LOAD again after a restarted server forgot it).
struct Script {
  const char* name;
  const char* source;
};

class Link {
 public:
  Link(Endpoint endpoint, const StoreOptions& options);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  Reply command(const std::vector<std::string>& argv);
  Reply eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args);
  const Endpoint& endpoint() const noexcept { return endpoint_; }
  void close() noexcept;

 private:
  friend class Subscriber;
  redisContext* connected();
  // Sends one command and reads its reply (a server error reply included).
  Reply send(const std::vector<std::string>& argv, const std::string& doing);
  [[noreturn]] void fail(const std::string& doing);

  Endpoint endpoint_;
  StoreOptions options_;
  redisContext* c_ = nullptr;
  std::map<std::string, std::string> loaded_;  // script name -> sha1 on this connection
};

// Subscriptions to one channel on several servers (a quorum's), for fast
// wake-ups. Best effort: a server that cannot be reached is skipped and the
// caller's bounded poll covers it.
class Subscriber {
 public:
  Subscriber(const std::vector<Endpoint>& servers, const StoreOptions& options, std::string channel);
  ~Subscriber();
  // Subscribes where not yet subscribed (no-op where it already is).
  void ensure();
  // Waits until a message arrives on any server, `wake_fd` becomes
  // readable (-1: none) or `timeout` passes. Returns true on a message.
  bool wait(std::chrono::milliseconds timeout, int wake_fd);

 private:
  std::string channel_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<bool> subscribed_;
  std::vector<std::chrono::steady_clock::time_point> retry_after_;  // of a server that failed
};

}  // namespace diskcache::redis::detail
