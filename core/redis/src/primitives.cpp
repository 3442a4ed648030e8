// Lock, RLock, BoundedSemaphore and Averager on Redis: each operation is
// one script run (on every server of a quorum for Lock).
#include "diskcache/redis/primitives.hpp"

#include <cmath>
#include <cstdio>
#include <thread>

#include "primitive_core.hpp"
#include "scripts.hpp"

namespace diskcache::redis {

using detail::Held;
using detail::PrimitiveCore;
using SteadyTime = detail::SteadyTime;

namespace {

// unlock() must not throw: a few attempts, then the error is kept.
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

std::string describe(const PrimitiveCore& core, const char* what) {
  return std::string("redis ") + what + " " + core.key + " on " + core.links.front()->endpoint().url() +
         (core.store->quorum() ? " (quorum)" : "");
}

// Runs `script` for `token` on every server; throws unless a majority
// answered 1.
void release_everywhere(PrimitiveCore& core, const detail::Script& script, const std::string& token,
                        const char* what) {
  std::string errors;
  const auto results = core.run_all(script, core.args(token, core.ttl(), "release"), errors);
  std::size_t answered = 0, released = 0;
  std::string not_holding;  // servers that answered but no longer held it
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) continue;
    ++answered;
    if (*results[i] == 1) {
      ++released;
    } else {
      not_holding += (not_holding.empty() ? "" : ", ") + core.links[i]->endpoint().url();
    }
  }
  if (answered < core.store->majority())
    throw ConnectionError(describe(core, what) + ": release not confirmed (" + errors +
                          "); the lease is no longer renewed and ends by itself");
  if (released < core.store->majority()) {
    std::string why = describe(core, what) + ": released on " + std::to_string(released) + " of " +
                      std::to_string(results.size()) + " server(s), fewer than a majority; " + not_holding +
                      " no longer held it: " +
                      (core.store->quorum() ? "a server restarted without its data, never granted it, or "
                                            : "") +
                      "its lease expired or it was force-released";
    if (answered < results.size()) why += "; not answering: " + errors;
    throw NotHeld(why);
  }
}

// Extends `token`'s acquisition on a majority, to `expire` seconds or the lease.
void extend(PrimitiveCore& core, const detail::Script& script, Held& held, std::optional<double> expire,
            const char* what) {
  if (!held.valid()) throw NotHeld(describe(core, what) + ": not held (lease lost)");
  const auto span = expire ? std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(*expire * 1000)))
                           : core.store->options.lease;
  std::string errors;
  std::size_t renewed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& r : core.run_all(script, core.args(held.token, span, ""), errors))
    if (r && *r == 1) ++renewed;
  if (renewed < core.store->majority()) {
    if (!errors.empty()) throw ConnectionError(describe(core, what) + ": renew failed: " + errors);
    throw NotHeld(describe(core, what) + ": not held (lease lost)");
  }
  core.stop_lease(held);
  held.valid_until = std::make_shared<std::atomic<SteadyTime::rep>>();  // the old lease's keeper lets go of it
  if (expire) {
    held.valid_until->store((start + span - core.store->drift(span)).time_since_epoch().count());
  } else {
    const auto fixed = core.options.expire;
    core.options.expire.reset();
    core.attempt_start = start;
    core.start_lease(held, script, held.token);
    core.options.expire = fixed;
  }
}

std::optional<SteadyTime> no_deadline() { return std::nullopt; }
SteadyTime now_deadline() { return std::chrono::steady_clock::now(); }

}  // namespace

// ------------------------------------------------------------------ base

Primitive::Primitive(std::unique_ptr<PrimitiveCore> core) : core_(std::move(core)) {}
Primitive::~Primitive() = default;
Primitive::Primitive(Primitive&&) noexcept = default;
const std::string& Primitive::key() const noexcept { return core_->key; }

// ------------------------------------------------------------------ Lock

Lock::Lock(Store& store, std::string key, PrimitiveOptions options)
    : Primitive(std::make_unique<PrimitiveCore>(store, std::move(key), std::move(options), "lock", "lock")) {}

Lock::~Lock() {
  if (core_ && !core_->holds.empty()) unlock();
}

void Lock::lock() { (void)acquire_until(no_deadline(), {}); }
bool Lock::lock(std::stop_token stop) { return acquire_until(no_deadline(), stop); }
bool Lock::try_lock() { return acquire_until(now_deadline(), {}); }

bool Lock::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  if (!core_->holds.empty()) {
    if (core_->holds.back().valid())
      throw InvalidArgument(describe(*core_, "lock") + ": already held by this object (not re-entrant; use RLock)");
    core_->stop_lease(core_->holds.back());
    core_->holds.clear();
  }
  Held held;
  held.token = detail::fresh_token();
  const bool acquired = core_->wait_loop(
      [&](double waited) {
        const auto r = core_->try_acquire(detail::kLockAcquire, &detail::kLockRelease, held.token, "", waited);
        if (r > 0) held.fence = static_cast<std::uint64_t>(r);
        return r;
      },
      deadline, stop);
  if (!acquired) return false;
  core_->start_lease(held, detail::kLockExtend, held.token);
  core_->holds.push_back(std::move(held));
  return true;
}

void Lock::release() {
  if (core_->holds.empty()) throw NotHeld(describe(*core_, "lock") + ": not held by this object");
  Held held = std::move(core_->holds.back());
  core_->holds.clear();
  core_->stop_lease(held);
  release_everywhere(*core_, detail::kLockRelease, held.token, "lock");
}

void Lock::unlock() noexcept {
  quietly(last_unlock_error_, [&] {
    if (core_->holds.empty()) throw NotHeld(describe(*core_, "lock") + ": not held by this object");
    // A retry after a connection error must still know the token.
    const Held held = core_->holds.back();
    core_->stop_lease(core_->holds.back());
    try {
      release_everywhere(*core_, detail::kLockRelease, held.token, "lock");
    } catch (const NotHeld&) {
      core_->holds.clear();
      throw;
    }
    core_->holds.clear();
  });
  if (!last_unlock_error_.empty()) core_->holds.clear();  // the lease ends by itself
}

void Lock::renew(std::optional<double> expire) {
  if (core_->holds.empty()) throw NotHeld(describe(*core_, "lock") + ": not held by this object");
  extend(*core_, detail::kLockExtend, core_->holds.back(), expire, "lock");
}

bool Lock::locked() {
  std::size_t held = 0, answered = 0;
  std::string errors;
  for (const auto& r : core_->command_all({"EXISTS", core_->names.state}, errors)) {
    if (!r) continue;
    ++answered;
    held += *r > 0;
  }
  if (answered < core_->store->majority()) throw ConnectionError(describe(*core_, "lock") + ": " + errors);
  return held >= core_->store->majority();
}

bool Lock::owns_lock() const noexcept { return !core_->holds.empty() && core_->holds.back().valid(); }
std::uint64_t Lock::fencing_token() const noexcept { return core_->holds.empty() ? 0 : core_->holds.back().fence; }

// ------------------------------------------------------------------ RLock

RLock::RLock(Store& store, std::string key, PrimitiveOptions options)
    : Primitive(std::make_unique<PrimitiveCore>(store, std::move(key), std::move(options), "rlock", "rlock")) {
  core_->require_single_server("RLock");
}

RLock::~RLock() {
  while (core_ && core_->depth > 0) {
    unlock();
    if (!last_unlock_error_.empty()) break;
  }
}

void RLock::lock() { (void)acquire_until(no_deadline(), {}); }
bool RLock::lock(std::stop_token stop) { return acquire_until(no_deadline(), stop); }
bool RLock::try_lock() { return acquire_until(now_deadline(), {}); }

bool RLock::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  const std::string owner = detail::self_owner();
  std::uint64_t fence = 0;
  const bool acquired = core_->wait_loop(
      [&](double waited) {
        const auto r = core_->try_acquire(detail::kRLockAcquire, nullptr, owner, "", waited);
        if (r > 0) fence = static_cast<std::uint64_t>(r);
        return r;
      },
      deadline, stop);
  if (!acquired) return false;
  if (core_->depth++ == 0) {
    Held held;
    held.token = owner;
    held.fence = fence;
    core_->start_lease(held, detail::kRLockExtend, owner);
    core_->holds.assign(1, std::move(held));
  }
  return true;
}

void RLock::release() {
  const std::string owner = detail::self_owner();
  const auto left = core_->run(detail::kRLockRelease, core_->args(owner, core_->ttl(), "release"));
  if (left < 0) throw NotHeld(describe(*core_, "rlock") + ": not held by this thread");
  if (core_->depth > 0 && --core_->depth == 0) {
    core_->stop_lease(core_->holds.back());
    core_->holds.clear();
  }
}

void RLock::unlock() noexcept { quietly(last_unlock_error_, [&] { release(); }); }

void RLock::renew(std::optional<double> expire) {
  if (core_->holds.empty()) throw NotHeld(describe(*core_, "rlock") + ": not held through this object");
  extend(*core_, detail::kRLockExtend, core_->holds.back(), expire, "rlock");
}

std::int64_t RLock::count() {
  const auto reply = core_->links.front()->command({"HGET", core_->names.state, "count"});
  return reply.is_nil() ? 0 : reply.integer();
}

std::uint64_t RLock::fencing_token() const noexcept { return core_->holds.empty() ? 0 : core_->holds.back().fence; }

// ------------------------------------------------------------------ BoundedSemaphore

BoundedSemaphore::BoundedSemaphore(Store& store, std::string key, std::int64_t bound, PrimitiveOptions options)
    : Primitive(std::make_unique<PrimitiveCore>(store, std::move(key), std::move(options),
                                                "semaphore:" + std::to_string(bound), "sem")),
      bound_(bound) {
  if (bound < 1) throw InvalidArgument("redis semaphore " + core_->key + ": the bound must be at least 1");
  core_->require_single_server("BoundedSemaphore");
}

BoundedSemaphore::~BoundedSemaphore() {
  while (core_ && !core_->holds.empty()) {
    try {
      release();
    } catch (const std::exception&) {
      // a lost lease or connection: the permit's lease ends by itself
    }
  }
}

void BoundedSemaphore::acquire() { (void)acquire_until(no_deadline(), {}); }
bool BoundedSemaphore::acquire(std::stop_token stop) { return acquire_until(no_deadline(), stop); }
bool BoundedSemaphore::try_acquire() { return acquire_until(now_deadline(), {}); }

bool BoundedSemaphore::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  Held held;
  held.token = detail::fresh_token();
  const bool acquired = core_->wait_loop(
      [&](double waited) {
        const auto r = core_->try_acquire(detail::kSemAcquire, &detail::kSemRelease, held.token,
                                          std::to_string(bound_), waited);
        if (r > 0) held.fence = static_cast<std::uint64_t>(r);
        return r;
      },
      deadline, stop);
  if (!acquired) return false;
  core_->start_lease(held, detail::kSemExtend, held.token);
  core_->holds.push_back(std::move(held));
  return true;
}

void BoundedSemaphore::release() {
  if (core_->holds.empty()) throw NotHeld(describe(*core_, "semaphore") + ": this object holds no permit");
  Held held = std::move(core_->holds.back());
  core_->holds.pop_back();
  core_->stop_lease(held);
  if (core_->run(detail::kSemRelease, core_->args(held.token, core_->ttl(), "release")) != 1)
    throw NotHeld(describe(*core_, "semaphore") + ": the permit's lease was lost (expired or force-released)");
}

std::int64_t BoundedSemaphore::available() {
  return bound_ - core_->run(detail::kSemInUse, core_->args("", core_->ttl(), ""));
}

std::uint64_t BoundedSemaphore::fencing_token() const noexcept {
  return core_->holds.empty() ? 0 : core_->holds.back().fence;
}

BoundedSemaphore::Guard::~Guard() {
  try {
    semaphore_->release();
  } catch (const std::exception&) {
    // the permit's lease ends by itself
  }
}

// ------------------------------------------------------------------ SharedLock

namespace {
// How long a waiting writer's announcement lasts (renewed at each try).
constexpr std::chrono::milliseconds kWriterAnnouncement{500};
}  // namespace

SharedLock::SharedLock(Store& store, std::string key, PrimitiveOptions options)
    : Primitive(std::make_unique<PrimitiveCore>(store, std::move(key), std::move(options), "shared-lock", "rw")) {
  core_->require_single_server("SharedLock");
}

SharedLock::~SharedLock() {
  if (core_ && !core_->holds.empty()) {
    try {
      release();
    } catch (const std::exception&) {
      // a lost lease or connection: it ends by itself
    }
  }
}

void SharedLock::lock() { (void)acquire_until(no_deadline(), {}); }
bool SharedLock::lock(std::stop_token stop) { return acquire_until(no_deadline(), stop); }
bool SharedLock::try_lock() { return acquire_until(now_deadline(), {}); }
void SharedLock::lock_shared() { (void)acquire_until(no_deadline(), {}, Mode::Shared); }
bool SharedLock::lock_shared(std::stop_token stop) { return acquire_until(no_deadline(), stop, Mode::Shared); }
bool SharedLock::try_lock_shared() { return acquire_until(now_deadline(), {}, Mode::Shared); }

bool SharedLock::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop, Mode mode) {
  if (!core_->holds.empty()) {
    if (core_->holds.back().valid())
      throw InvalidArgument(describe(*core_, "shared lock") + ": already held by this object");
    core_->stop_lease(core_->holds.back());
    core_->holds.clear();
  }
  const bool shared = mode == Mode::Shared;
  Held held;
  held.token = detail::fresh_token();
  const auto& script = shared ? detail::kSharedAcquireRead : detail::kSharedAcquireWrite;
  const bool acquired = core_->wait_loop(
      [&](double waited) {
        const auto r = core_->try_acquire(script, nullptr, held.token, std::to_string(kWriterAnnouncement.count()),
                                          waited);
        if (r > 0) held.fence = static_cast<std::uint64_t>(r);
        return r;
      },
      deadline, stop);
  if (!acquired) {
    if (!shared) {  // withdraw the announcement (else it lapses by itself)
      try {
        core_->run(detail::kSemRelease, core_->args("q:" + held.token, core_->ttl(), "", 0, false));
      } catch (const ConnectionError&) {
      }
    }
    return false;
  }
  held.token = (shared ? "r:" : "w:") + held.token;  // the member from here on
  core_->start_lease(held, detail::kSemExtend, held.token);
  core_->holds.assign(1, std::move(held));
  mode_ = mode;
  return true;
}

void SharedLock::release() {
  if (core_->holds.empty()) throw NotHeld(describe(*core_, "shared lock") + ": not held by this object");
  Held held = std::move(core_->holds.back());
  const char* event = mode_ == Mode::Shared ? "release-shared" : "release";
  core_->holds.clear();
  mode_ = Mode::None;
  core_->stop_lease(held);
  if (core_->run(detail::kSemRelease, core_->args(held.token, core_->ttl(), event)) != 1)
    throw NotHeld(describe(*core_, "shared lock") + ": the lease was lost (expired or force-released)");
}

void SharedLock::unlock() noexcept { quietly(last_unlock_error_, [&] { release(); }); }
void SharedLock::unlock_shared() noexcept { quietly(last_unlock_error_, [&] { release(); }); }

void SharedLock::renew(std::optional<double> expire) {
  if (core_->holds.empty()) throw NotHeld(describe(*core_, "shared lock") + ": not held by this object");
  extend(*core_, detail::kSemExtend, core_->holds.back(), expire, "shared lock");
}

SharedLock::Mode SharedLock::mode() const noexcept {
  return !core_->holds.empty() && core_->holds.back().valid() ? mode_ : Mode::None;
}

std::uint64_t SharedLock::fencing_token() const noexcept {
  return core_->holds.empty() ? 0 : core_->holds.back().fence;
}

// ------------------------------------------------------------------ Averager

Averager::Averager(Store& store, std::string key, PrimitiveOptions options)
    : Primitive(std::make_unique<PrimitiveCore>(store, std::move(key), std::move(options), "averager", "avg")) {
  core_->require_single_server("Averager");
}

void Averager::add(double value) {
  if (!std::isfinite(value)) throw InvalidArgument("redis averager " + core_->key + ": cannot add a non-finite value");
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  const auto expire = core_->options.expire ? core_->ttl() : std::chrono::milliseconds(0);
  core_->run(detail::kAvgAdd, core_->args("", expire, text, 0, false));
}

namespace {
std::optional<double> mean_of(const std::string& total, const std::string& count, const std::string& key) {
  if (count.empty() || count == "0") return std::nullopt;
  try {
    return std::stod(total) / std::stod(count);
  } catch (const std::exception&) {
    throw CorruptCache("redis averager " + key + ": total '" + total + "' or count '" + count + "' is not a number");
  }
}
}  // namespace

std::optional<double> Averager::get() {
  const auto r = core_->links.front()->command({"HMGET", core_->names.state, "total", "count"});
  return mean_of(detail::text_of(r.element(0)), detail::text_of(r.element(1)), core_->key);
}

std::int64_t Averager::count() {
  const auto r = core_->links.front()->command({"HGET", core_->names.state, "count"});
  return r.is_nil() ? 0 : r.integer();
}

std::optional<double> Averager::pop() {
  const auto r = core_->links.front()->eval(detail::kAvgPop, core_->names.script_keys(),
                                            core_->args("", core_->ttl(), "", 0, false));
  return mean_of(detail::text_of(r.element(0)), detail::text_of(r.element(1)), core_->key);
}

}  // namespace diskcache::redis
