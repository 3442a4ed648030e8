// diskcache::redis -- the primitives of diskcache/primitives.hpp (Lock,
// RLock, BoundedSemaphore, Averager) kept on Redis instead of a cache
// directory, for processes on several hosts. Code switches backends by
// changing the constructor's first argument from a Cache to a redis::Store.
//
// A Store names one server ("redis://host:port/db") or, in quorum mode,
// several independent servers (Redlock: an acquisition holds on a majority
// within its validity time; only Lock supports quorum mode, see
// docs/redis.md for its limits).
//
// Keys this library writes (all under StoreOptions::prefix, default
// "diskcache:"; a primitive named K uses the hash tag {K}):
//   {K}:lock (string: holder token)   {K}:rlock (hash: owner, count, fence)
//   {K}:sem  (sorted set: token -> lease end, server ms)
//   {K}:avg  (hash: total, count)     {K}:fence (counter)   {K}:holders (hash)
//   registry (hash: K -> kind)        history, history:id (bounded event list)
// and it publishes on {K}:wake when a primitive is released.
//
// Thread-safety: a Store may be shared by any number of threads and
// primitives; each primitive object is used by one thread at a time and
// holds its own connections. Not fork-safe: open Stores after fork().
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "diskcache/error.hpp"

namespace diskcache::redis {

// A server could not be reached, closed the connection, did not answer in
// time, or (quorum mode) too few servers answered. Never means "acquired".
class DISKCACHE_EXPORT ConnectionError : public diskcache::Error {
 public:
  using Error::Error;
};

struct DISKCACHE_EXPORT Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;

  // Parses "redis://host[:port][/db]". Throws InvalidArgument naming what is
  // wrong (scheme, port, database number).
  static Endpoint parse(std::string_view url);
  std::string url() const;
};

// True for text starting with "redis://".
DISKCACHE_EXPORT bool is_redis_url(std::string_view text) noexcept;

struct DISKCACHE_EXPORT StoreOptions {
  // A holder's lease: renewed every lease/3 while held by a live process,
  // so a holder that dies (or loses its network) frees the primitive within
  // one lease. PrimitiveOptions::expire replaces it by a fixed expiry.
  std::chrono::milliseconds lease{10000};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  // Longest a waiter sleeps without a release notification before trying
  // again (notices expired leases and missed notifications).
  std::chrono::milliseconds fallback_poll{250};
  std::string prefix = "diskcache:";
};

namespace detail {
struct StoreImpl;
}

class DISKCACHE_EXPORT Store {
 public:
  explicit Store(Endpoint server, StoreOptions options = {});
  // Quorum mode when more than one server is given.
  explicit Store(std::vector<Endpoint> servers, StoreOptions options = {});
  // "redis://a:6379" or, for quorum mode, a comma-separated list
  // "redis://a:6379,redis://b:6379,redis://c:6379".
  static Store open(std::string_view urls, StoreOptions options = {});
  ~Store();
  Store(Store&&) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  bool quorum() const noexcept;
  const std::vector<Endpoint>& servers() const noexcept;
  const StoreOptions& options() const noexcept;
  std::string url() const;  // as open() accepts it
  // Throws ConnectionError naming the first server that does not answer PING
  // (quorum mode: only when a majority does not answer).
  void ping();

  const std::shared_ptr<detail::StoreImpl>& impl() const noexcept { return impl_; }

 private:
  std::shared_ptr<detail::StoreImpl> impl_;
};

}  // namespace diskcache::redis
