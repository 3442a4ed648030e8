// Python diskcache's recipes over a cache shared by processes:
// Throttle (at most N calls per period), barrier (serialise a callable
// through a lock) and memoize_stampede (early probabilistic recomputation).
//
// Thread-safety: as the Cache they use. Cross-process: yes.
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "diskcache/cache.hpp"

namespace diskcache {

struct DISKCACHE_EXPORT ThrottleOptions {
  std::optional<double> expire;
  Value tag;
  Clock clock;                          // seconds; empty: the cache's clock
  std::function<void(double)> sleep;    // seconds; empty: std::this_thread::sleep_for
};

// At most `count` calls per `seconds` across every process using `name`
// (Python's throttle: the key holds (last time, tally) and tokens refill at
// count/seconds). Constructing one resets the bucket to full, as Python's
// decorator does.
class DISKCACHE_EXPORT Throttle {
 public:
  Throttle(Cache& cache, Value name, std::int64_t count, double seconds, ThrottleOptions options = {});
  // Blocks until a call may proceed.
  void wait();
  // Waits, then calls `fn`.
  template <class F>
  decltype(auto) operator()(F&& fn) {
    wait();
    return std::forward<F>(fn)();
  }

 private:
  double now() const { return options_.clock ? options_.clock() : cache_->now(); }
  Cache* cache_;
  Value key_;
  std::int64_t count_;
  double rate_;
  ThrottleOptions options_;
};

// Wraps `fn` so every call runs while holding `lock` (any Lockable, e.g.
// diskcache::Lock or RLock): Python's barrier. `lock` must outlive the
// returned callable.
template <class LockT, class F>
auto barrier(LockT& lock, F fn) {
  return [&lock, fn = std::move(fn)](auto&&... args) -> decltype(auto) {
    std::scoped_lock guard(lock);
    return fn(std::forward<decltype(args)>(args)...);
  };
}

namespace detail {
// Uniform in (0, 1].
inline double random_unit() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(std::nextafter(0.0, 1.0), 1.0)(rng);
}
}  // namespace detail

struct DISKCACHE_EXPORT StampedeOptions {
  Value tag;
  double beta = 1.0;  // > 1 recomputes earlier
  // Uniform in (0, 1]; injectable for tests.
  std::function<double()> random;
};

// Memoizes `fn` under (name, args..., None) storing (result, seconds it took)
// for `expire` seconds, like Python's memoize_stampede. As expiry nears, a
// caller recomputes early with a probability that grows as the remaining
// time shrinks (XFetch); one caller wins the right to recompute (a marker
// key (name, args..., None, "diskcache-cpp:recompute") added for the compute
// time) while every other caller keeps getting the old value. Unlike
// Python's, the winner recomputes in its own call rather than in a
// background thread, and Python's marker key (which pickles a private class)
// is not shared, so a C++ and a Python caller may both recompute.
template <class F>
auto memoize_stampede(Cache& cache, double expire, Value name, F fn, StampedeOptions options = {}) {
  return [&cache, expire, name = std::move(name), fn = std::move(fn), options](const auto&... args) {
    using R = std::decay_t<std::invoke_result_t<const F&, decltype(args)...>>;
    ValueList parts{name, Codec<std::decay_t<decltype(args)>>::encode(args)..., Value()};
    const Value key = Value::tuple(parts);
    auto compute = [&] {
      const double start = cache.now();
      R result = fn(args...);
      const double delta = cache.now() - start;
      cache.set(key, Value::tuple({Codec<R>::encode(result), delta}), SetOptions{expire, options.tag});
      return result;
    };
    auto entry = cache.get_entry(key);
    if (!entry || entry->value.type() != Value::Type::Tuple || entry->value.items().size() != 2) return compute();
    R cached = Codec<R>::decode(entry->value.items()[0]);
    const double delta = entry->value.items()[1].as_double();
    const double ttl = entry->expire_time ? *entry->expire_time - cache.now() : INFINITY;
    const double u = options.random ? options.random() : detail::random_unit();
    if (-delta * options.beta * std::log(u) < ttl) return cached;
    parts.push_back(Value("diskcache-cpp:recompute"));
    if (cache.add(Value::tuple(std::move(parts)), Value(), SetOptions{std::max(delta, 0.001), {}})) return compute();
    return cached;
  };
}

}  // namespace diskcache
