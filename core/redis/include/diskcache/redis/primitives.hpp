// Lock, RLock, BoundedSemaphore, SharedLock and Averager on Redis, with the API of the
// local ones (diskcache/primitives.hpp): Lockable/TimedLockable locks, the
// semaphore, the averager, renew(), holders and history (inspect.hpp).
//
// Every acquisition holds a lease (StoreOptions::lease) that a background
// thread of the Store renews while the holder lives; a holder that dies
// frees the primitive within one lease. PrimitiveOptions::expire instead
// gives the acquisition a fixed expiry that is not renewed (Python's
// expire). Every acquisition returns a fencing token from a per-key server
// counter that strictly increases (single server; see docs/redis.md for
// quorum mode), so a protected resource can reject a holder whose lease
// expired. State changes only by Lua scripts, atomically on the server.
//
// Waiting: a release publishes on the key's channel and wakes waiters at
// once; a waiter also retries when the current lease would end and at
// least every StoreOptions::fallback_poll. Lost connections throw
// ConnectionError and never report an acquisition that did not happen.
//
// PrimitiveOptions::tag has no meaning on Redis and is ignored.
#pragma once

#include "diskcache/export.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "diskcache/primitives.hpp"
#include "diskcache/redis/store.hpp"

namespace diskcache::redis {

namespace detail {
struct PrimitiveCore;
}

// Shared base: the name, the store and the waiting machinery.
class DISKCACHE_EXPORT Primitive {
 public:
  ~Primitive();
  Primitive(Primitive&&) noexcept;
  Primitive(const Primitive&) = delete;
  Primitive& operator=(const Primitive&) = delete;
  const std::string& key() const noexcept;

 protected:
  explicit Primitive(std::unique_ptr<detail::PrimitiveCore> core);
  std::unique_ptr<detail::PrimitiveCore> core_;
};

// A mutual-exclusion lock (Redlock in quorum mode).
class DISKCACHE_EXPORT Lock : public Primitive, public diskcache::TimedLockable<Lock> {
 public:
  Lock(Store& store, std::string key, PrimitiveOptions options = {});
  ~Lock();  // releases a lock still held by this object

  void lock();
  [[nodiscard]] bool lock(std::stop_token stop);  // false when cancelled
  [[nodiscard]] bool try_lock();
  // Never throws: retries briefly, then records the error in
  // last_unlock_error() (e.g. the lease was lost).
  void unlock() noexcept;
  // Throws NotHeld when this object does not hold the lock (never acquired,
  // released, lease lost, force-released).
  void release();
  // Gives the held lock a fixed expiry `expire` seconds from now, or (unset)
  // returns it to the renewed lease. Throws NotHeld when not held.
  void renew(std::optional<double> expire);
  bool locked();
  // This object acquired the lock and has not lost its lease.
  bool owns_lock() const noexcept;
  // Of the current acquisition (0 when not held).
  std::uint64_t fencing_token() const noexcept;
  const std::string& last_unlock_error() const noexcept { return last_unlock_error_; }

 private:
  friend class diskcache::TimedLockable<Lock>;
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop);
  std::string last_unlock_error_;
};

// A re-entrant lock: the same thread of the same process nests (across
// RLock objects on the same key); others wait. Single server only.
class DISKCACHE_EXPORT RLock : public Primitive, public diskcache::TimedLockable<RLock> {
 public:
  RLock(Store& store, std::string key, PrimitiveOptions options = {});
  ~RLock();  // returns the nesting this object still holds

  void lock();
  [[nodiscard]] bool lock(std::stop_token stop);
  [[nodiscard]] bool try_lock();
  void unlock() noexcept;
  // Throws NotHeld when the calling thread does not hold it.
  void release();
  void renew(std::optional<double> expire);
  std::int64_t count();  // nesting depth held by anyone (0 = free)
  std::uint64_t fencing_token() const noexcept;
  const std::string& last_unlock_error() const noexcept { return last_unlock_error_; }

 private:
  friend class diskcache::TimedLockable<RLock>;
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop);
  std::string last_unlock_error_;
};

// A counting semaphore with a bound; each permit is a lease of its own, so
// a dead holder's permits come back. Single server only.
class DISKCACHE_EXPORT BoundedSemaphore : public Primitive {
 public:
  BoundedSemaphore(Store& store, std::string key, std::int64_t bound = 1, PrimitiveOptions options = {});
  ~BoundedSemaphore();  // returns the permits this object still holds

  void acquire();
  [[nodiscard]] bool acquire(std::stop_token stop);
  [[nodiscard]] bool try_acquire();
  template <class Rep, class Period>
  [[nodiscard]] bool try_acquire_for(const std::chrono::duration<Rep, Period>& timeout, std::stop_token stop = {}) {
    return acquire_until(std::chrono::steady_clock::now() +
                             std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout),
                         stop);
  }
  // Returns the permit this object took last. Throws NotHeld when it holds
  // none (or its lease was lost); nothing changes then.
  void release();
  std::int64_t bound() const noexcept { return bound_; }
  std::int64_t available();
  // Fencing token of the permit taken last (0 when none).
  std::uint64_t fencing_token() const noexcept;

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

// A reader-writer lock (Redisson's RReadWriteLock): many readers or one
// writer, with diskcache::SharedLock's API and policy (writers first: a
// waiting writer announces itself for 0.5 s at a time and new readers wait
// behind it). Each reader and the writer hold a lease of their own and a
// fencing token (of the same per-key counter; a resource guarded by the
// writer rejects tokens below the highest it has seen). A release wakes
// every waiter of the key (Redis publishes to all). Single server only.
class DISKCACHE_EXPORT SharedLock : public Primitive,
                                     public diskcache::TimedLockable<SharedLock>,
                                     public diskcache::TimedSharedLockable<SharedLock> {
 public:
  using Mode = diskcache::SharedLock::Mode;
  SharedLock(Store& store, std::string key, PrimitiveOptions options = {});
  ~SharedLock();  // releases a hold still kept by this object

  void lock();
  [[nodiscard]] bool lock(std::stop_token stop);
  [[nodiscard]] bool try_lock();
  void unlock() noexcept;
  void lock_shared();
  [[nodiscard]] bool lock_shared(std::stop_token stop);
  [[nodiscard]] bool try_lock_shared();
  // try_lock_shared_for / try_lock_shared_until come from TimedSharedLockable.
  void unlock_shared() noexcept;

  Mode mode() const noexcept;  // None once the lease was lost
  // Releases whichever hold this object has; NotHeld when none (or lost).
  void release();
  // A fixed expiry `expire` seconds from now, or (unset) back to the lease.
  void renew(std::optional<double> expire);
  // Of the current hold (0 when none).
  std::uint64_t fencing_token() const noexcept;
  const std::string& last_unlock_error() const noexcept { return last_unlock_error_; }

 private:
  friend class diskcache::TimedLockable<SharedLock>;
  friend class diskcache::TimedSharedLockable<SharedLock>;
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop,
                     Mode mode = Mode::Exclusive);
  bool acquire_shared_until(std::optional<std::chrono::steady_clock::time_point> deadline, std::stop_token stop) {
    return acquire_until(deadline, stop, Mode::Shared);
  }
  Mode mode_ = Mode::None;
  std::string last_unlock_error_;
};

// A running average (total and count updated together by one script).
// Single server only.
class DISKCACHE_EXPORT Averager : public Primitive {
 public:
  Averager(Store& store, std::string key, PrimitiveOptions options = {});
  void add(double value);
  std::optional<double> get();
  std::int64_t count();
  std::optional<double> pop();
};

}  // namespace diskcache::redis
