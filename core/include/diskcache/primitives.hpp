// Cross-process synchronisation primitives kept in a cache directory:
// Lock, RLock, BoundedSemaphore and Averager, and SharedLock (a
// reader-writer lock Python diskcache lacks; its Python side is
// core/python/diskcache_shared.py). The value under each key is
// exactly what Python diskcache's recipe stores, so a Python process using
// diskcache.Lock (RLock, BoundedSemaphore, Averager) on the same key takes
// part in the same exclusion. What Python cannot see -- who holds what, the
// kind and bound of each primitive, a history of acquisitions -- is written
// to side tables of cache.db in the same transaction (see inspect.hpp).
//
// Waiting: a release wakes the waiters of its key at once through
// `cache.db-wake` (futexes in a shared mapping); waiters sleep without
// burning CPU and re-check at least every 2 ms, which also notices releases
// made by Python processes (they do not wake anyone). A process that has
// just released a lock others are trying to acquire lets them take it
// first (for at most 2 ms).
//
// Thread-safety: one object may be used by one thread at a time; several
// objects (in any threads and processes) may share a key.
// Cross-process: every state change is one SQLite transaction.
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "diskcache/cache.hpp"
#include "diskcache/fanout.hpp"

namespace diskcache {

struct DISKCACHE_EXPORT PrimitiveOptions {
  // Seconds after acquisition when a lock frees itself (Python's expire).
  std::optional<double> expire;
  Value tag;
  // Record acquisitions, releases, timeouts and force-releases in the
  // bounded history (the monitor's timeline).
  bool history = true;
};

namespace detail {
struct PrimitiveCore;
}

// try_lock_for / try_lock_until for a lock whose acquire_until(deadline,
// stop) does the waiting (TimedLockable).
template <class Derived>
class TimedLockable {
 public:
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout, std::stop_token stop = {}) {
    return self().acquire_until(std::chrono::steady_clock::now() +
                                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout),
                                stop);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                    std::stop_token stop = {}) {
    return try_lock_for(deadline - Clock::now(), stop);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// try_lock_shared_for / try_lock_shared_until for a lock whose
// acquire_shared_until(deadline, stop) does the waiting (SharedTimedLockable).
template <class Derived>
class TimedSharedLockable {
 public:
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_shared_for(const std::chrono::duration<Rep, Period>& timeout,
                                         std::stop_token stop = {}) {
    return static_cast<Derived&>(*this).acquire_shared_until(
        std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout),
        stop);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_shared_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                           std::stop_token stop = {}) {
    return try_lock_shared_for(deadline - Clock::now(), stop);
  }
};

// Shared base: the key, its cache and the waiting machinery.
class DISKCACHE_EXPORT Primitive {
 public:
  Primitive(Cache& cache, Value key, PrimitiveOptions options);
  // On a FanoutCache, the primitive lives in the shard of its key, as a
  // Python recipe on a FanoutCache does.
  Primitive(FanoutCache& cache, Value key, PrimitiveOptions options);
  ~Primitive();
  Primitive(Primitive&&) noexcept;
  Primitive(const Primitive&) = delete;
  Primitive& operator=(const Primitive&) = delete;
  const Value& key() const noexcept;
  Cache& cache() noexcept;

 protected:
  std::unique_ptr<detail::PrimitiveCore> core_;
};

// A mutual-exclusion lock: Python's diskcache.Lock (value: None under the
// key while held). Meets Lockable and TimedLockable, so std::scoped_lock,
// std::unique_lock and std::lock work with it.
class DISKCACHE_EXPORT Lock : public Primitive, public TimedLockable<Lock> {
 public:
  Lock(Cache& cache, Value key, PrimitiveOptions options = {});
  Lock(FanoutCache& cache, Value key, PrimitiveOptions options = {});
  ~Lock();  // releases a lock still held by this object

  void lock();
  // Returns false when cancelled through `stop` before acquiring.
  [[nodiscard]] bool lock(std::stop_token stop);
  [[nodiscard]] bool try_lock();
  // try_lock_for(duration[, stop]) and try_lock_until(time_point[, stop])
  // come from TimedLockable.
  // Never throws (guards call it): retries briefly, then records the error
  // in last_unlock_error().
  void unlock() noexcept;
  // Throws NotHeld when this object does not hold the lock (never acquired,
  // already released, force-released or expired and taken by another).
  void release();
  // Extends the expiry of a held lock to `expire` seconds from now (unset:
  // never). Throws NotHeld when not held.
  void renew(std::optional<double> expire);
  // True while anyone holds the key.
  bool locked();
  bool owns_lock() const noexcept { return held_; }
  const std::string& last_unlock_error() const noexcept { return last_unlock_error_; }

 private:
  friend class TimedLockable<Lock>;
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop);
  bool held_ = false;
  std::string last_unlock_error_;
};

// A re-entrant lock: Python's diskcache.RLock (value: the pickled 2-tuple
// ("<pid>-<thread id>", count)). Re-entry by the same thread of the same
// process nests; another thread or process waits.
class DISKCACHE_EXPORT RLock : public Primitive, public TimedLockable<RLock> {
 public:
  RLock(Cache& cache, Value key, PrimitiveOptions options = {});
  RLock(FanoutCache& cache, Value key, PrimitiveOptions options = {});

  void lock();
  [[nodiscard]] bool lock(std::stop_token stop);
  [[nodiscard]] bool try_lock();
  void unlock() noexcept;
  // Throws NotHeld when the calling thread does not hold it.
  void release();
  void renew(std::optional<double> expire);
  // Nesting depth held by anyone (0 = free).
  std::int64_t count();
  const std::string& last_unlock_error() const noexcept { return last_unlock_error_; }

 private:
  friend class TimedLockable<RLock>;
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop);
  std::string last_unlock_error_;
};

// A counting semaphore with a bound: Python's diskcache.BoundedSemaphore
// (value: the remaining permits as an integer; a missing key means all
// `bound` permits are free). Mirrors std::counting_semaphore.
class DISKCACHE_EXPORT BoundedSemaphore : public Primitive {
 public:
  BoundedSemaphore(Cache& cache, Value key, std::int64_t bound = 1, PrimitiveOptions options = {});
  BoundedSemaphore(FanoutCache& cache, Value key, std::int64_t bound = 1, PrimitiveOptions options = {});

  void acquire();
  [[nodiscard]] bool acquire(std::stop_token stop);
  [[nodiscard]] bool try_acquire();
  template <class Rep, class Period>
  [[nodiscard]] bool try_acquire_for(const std::chrono::duration<Rep, Period>& timeout, std::stop_token stop = {}) {
    return acquire_until(std::chrono::steady_clock::now() +
                             std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout),
                         stop);
  }
  // Returns one permit this thread holds. Throws NotHeld when it holds none
  // or the semaphore would exceed its bound; nothing changes then.
  void release();
  std::int64_t bound() const noexcept { return bound_; }
  // Permits free now.
  std::int64_t available();

  // RAII: acquires in the constructor, releases in the destructor.
  class Guard {
   public:
    explicit Guard(BoundedSemaphore& semaphore) : semaphore_(&semaphore) { semaphore_->acquire(); }
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    BoundedSemaphore* semaphore_;
  };

 private:
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop);
  std::int64_t bound_;
};

// A reader-writer lock: many readers (lock_shared) or one writer (lock) at a
// time, in any processes. Meets std::shared_mutex's requirements and
// SharedTimedMutex's (try_lock_shared_for/until), so std::shared_lock,
// std::unique_lock and std::scoped_lock work with it.
//
// Policy: writers first. Once a writer waits, new readers wait behind it
// while the readers already inside finish; a writer's release lets the
// next waiting writer in before new readers. Readers can starve under a
// steady stream of writers; writers cannot starve under readers. A waiting
// writer announces itself in the value with a 0.5 s lapse time it renews
// while it waits, so one killed while waiting holds readers back at most
// 0.5 s.
//
// Each reader and the writer is a holder (inspect.hpp): recorded with its
// process, shown stale when that process died, force-releasable one by one;
// acquisitions are in the history ("acquire-shared"/"release-shared" for
// readers). With PrimitiveOptions::expire, each holding has its own lease
// (renew() extends it); a holding past its lease is dropped by the next
// acquisition and its release throws NotHeld. A free lock leaves no key.
//
// Wake-ups: a writer's release wakes every waiting reader at once (when no
// other writer waits); the last reader's release wakes one waiting writer.
//
// One object holds either a shared or the exclusive hold at a time, and is
// used by one thread at a time (like Lock); it may release a hold another
// thread took through it (the holder record names the acquiring thread).
class DISKCACHE_EXPORT SharedLock : public Primitive,
                                     public TimedLockable<SharedLock>,
                                     public TimedSharedLockable<SharedLock> {
 public:
  SharedLock(Cache& cache, Value key, PrimitiveOptions options = {});
  SharedLock(FanoutCache& cache, Value key, PrimitiveOptions options = {});
  ~SharedLock();  // releases a hold still kept by this object

  // Exclusive (the writer).
  void lock();
  [[nodiscard]] bool lock(std::stop_token stop);  // false when cancelled
  [[nodiscard]] bool try_lock();
  // try_lock_for / try_lock_until come from TimedLockable.
  void unlock() noexcept;  // never throws: the error goes to last_unlock_error()

  // Shared (a reader).
  void lock_shared();
  [[nodiscard]] bool lock_shared(std::stop_token stop);
  [[nodiscard]] bool try_lock_shared();
  // try_lock_shared_for / try_lock_shared_until come from TimedSharedLockable.
  void unlock_shared() noexcept;

  enum class Mode { None, Shared, Exclusive };
  Mode mode() const noexcept { return mode_; }
  // Releases whichever hold this object has. Throws NotHeld when it has
  // none, or it was force-released, or its lease ran out; nothing changes.
  void release();
  // Extends this object's lease to `expire` seconds from now (unset:
  // never). Throws NotHeld when it holds nothing.
  void renew(std::optional<double> expire);

  struct State {
    std::optional<std::string> writer;  // its holder id
    std::int64_t readers = 0;
    std::int64_t writers_waiting = 0;   // announced and not lapsed
  };
  State state();
  const std::string& last_unlock_error() const noexcept { return last_unlock_error_; }

 private:
  friend class TimedLockable<SharedLock>;
  friend class TimedSharedLockable<SharedLock>;
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop);
  bool acquire_shared_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop);
  void release_exclusive();
  void release_shared();
  Mode mode_ = Mode::None;
  std::string holder_;  // this object's holder id while it holds (taken by the acquiring thread)
  std::string last_unlock_error_;
};

// A running average: Python's diskcache.Averager (value: the pickled tuple
// (total, count)).
class DISKCACHE_EXPORT Averager : public Primitive {
 public:
  Averager(Cache& cache, Value key, PrimitiveOptions options = {});
  Averager(FanoutCache& cache, Value key, PrimitiveOptions options = {});
  void add(double value);
  // The mean, or std::nullopt before the first add.
  std::optional<double> get();
  std::int64_t count();
  // The mean, removing the key.
  std::optional<double> pop();
};

}  // namespace diskcache
