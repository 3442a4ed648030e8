// Lock, RLock, BoundedSemaphore, Averager: Python diskcache's recipes (same
// values under the keys), with holders and history in side tables, written
// in the same transaction.
#include "diskcache/primitives.hpp"

#include <thread>

#include "diskcache/error.hpp"
#include "primitive_core.hpp"

namespace diskcache {

using detail::WriteScope;
using SteadyTime = detail::SteadyTime;
using detail::describe;
using detail::no_deadline;
using detail::now_deadline;
using detail::quietly;

// ------------------------------------------------------------------ base

Primitive::Primitive(Cache& cache, Value key, PrimitiveOptions options)
    : core_(std::make_unique<detail::PrimitiveCore>(cache, std::move(key), std::move(options))) {}
Primitive::Primitive(FanoutCache& cache, Value key, PrimitiveOptions options)
    : Primitive(cache.shard_for(key), key, std::move(options)) {}
Primitive::~Primitive() = default;
Primitive::Primitive(Primitive&&) noexcept = default;
const Value& Primitive::key() const noexcept { return core_->key; }
Cache& Primitive::cache() noexcept { return *core_->cache; }

// ------------------------------------------------------------------ Lock

Lock::Lock(Cache& cache, Value key, PrimitiveOptions options) : Primitive(cache, std::move(key), std::move(options)) {}
Lock::Lock(FanoutCache& cache, Value key, PrimitiveOptions options)
    : Primitive(cache, std::move(key), std::move(options)) {}
Lock::~Lock() {
  if (held_) unlock();
}

bool Lock::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  if (held_) throw Error(describe(*core_, "lock() on a Lock this object already holds (it is not re-entrant):"));
  auto& core = *core_;
  const auto try_once = [&](double waited) {
    auto& c = core.impl->conn();
    WriteScope scope(c, *core.impl->files);
    detail::FlatScope flat(c);
    if (!core.cache->add(core.key, Value(), core.set_options())) return false;
    const double now = core.now();
    core.rows.drop_holders(c);  // records of an expired previous holder
    core.rows.set_holder(c, core.object_holder_id(), 1, now, core.expires_at(now));
    core.register_once(c, PrimitiveKind::Lock, std::nullopt);
    core.record(c, PrimitiveKind::Lock, "acquire", waited);
    scope.commit();
    return true;
  };
  held_ = core.wait_loop(try_once, deadline, stop, PrimitiveKind::Lock);
  return held_;
}

void Lock::lock() { (void)acquire_until(no_deadline(), {}); }
bool Lock::lock(std::stop_token stop) { return acquire_until(no_deadline(), stop); }
bool Lock::try_lock() { return acquire_until(now_deadline(), {}); }

namespace {
// True while the key's row is still the one this Lock object stored: its
// holder row is there, and the live row was stored no later than that
// acquisition. A lease that ran out lets another process (a Python Lock
// knows nothing of holder rows) store the key anew, later.
bool owns_lock_row(detail::PrimitiveCore& core, detail::Connection& c, const std::string& me) {
  const auto mine = core.rows.holding(c, me);
  if (!mine) return false;
  const auto stored = core.rows.live_store_time(c, core.now());
  return stored && *stored <= mine->acquired_at;
}
}  // namespace

void Lock::release() {
  auto& core = *core_;
  const std::string me = core.object_holder_id();
  auto& c = core.impl->conn();
  core.impl->freeing_space([&] {  // a release frees space: it works on a full disk too
    WriteScope scope(c, *core.impl->files);
    detail::FlatScope flat(c);
    if (!held_ || !owns_lock_row(core, c, me) || !core.cache->erase(core.key))
      throw NotHeld(describe(core, "release(): lock") +
                    " is not held by this object (never acquired, already released, its lease expired, or "
                    "force-released); nothing was changed");
    core.rows.set_holder(c, me, 0, 0, std::nullopt);
    core.record(c, PrimitiveKind::Lock, "release", 0);
    scope.commit();
  });
  held_ = false;
  core.released();
}

void Lock::unlock() noexcept {
  quietly(last_unlock_error_, [&] { release(); });
  held_ = false;
}

void Lock::renew(std::optional<double> expire) {
  auto& core = *core_;
  auto& c = core.impl->conn();
  WriteScope scope(c, *core.impl->files);
  detail::FlatScope flat(c);
  if (!held_ || !owns_lock_row(core, c, core.object_holder_id()) || !core.cache->touch(core.key, expire))
    throw NotHeld(describe(core, "renew(): lock") + " is not held by this object (its lease may have expired)");
  core.rows.set_expiry(c, expire ? std::optional<double>(core.now() + *expire) : std::nullopt);
  scope.commit();
}

bool Lock::locked() { return core_->cache->contains(core_->key); }

// ------------------------------------------------------------------ RLock

namespace {

// Python's RLock value: ("<pid>-<thread id>", count), or (None, 0) when free.
struct RLockState {
  Value owner;
  std::int64_t count = 0;
};

RLockState read_rlock(detail::PrimitiveCore& core) {
  auto value = core.cache->get(core.key);
  if (!value) return {};
  if (value->type() != Value::Type::Tuple || value->items().size() != 2 ||
      value->items()[1].type() != Value::Type::Int)
    throw CorruptCache(describe(core, "RLock") + " holds " + value->repr().substr(0, 60) +
                       ", not Python's (owner, count) tuple");
  return {value->items()[0], value->items()[1].as_int()};
}

std::string python_owner() {
  return std::to_string(detail::self_identity().pid) + "-" + std::to_string(detail::self_thread_id());
}

}  // namespace

RLock::RLock(Cache& cache, Value key, PrimitiveOptions options) : Primitive(cache, std::move(key), std::move(options)) {}
RLock::RLock(FanoutCache& cache, Value key, PrimitiveOptions options)
    : Primitive(cache, std::move(key), std::move(options)) {}

bool RLock::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  auto& core = *core_;
  const Value me(python_owner());
  const auto try_once = [&](double waited) {
    auto& c = core.impl->conn();
    WriteScope scope(c, *core.impl->files);
    detail::FlatScope flat(c);
    const RLockState state = read_rlock(core);
    if (!(state.owner == me) && state.count != 0) return false;
    core.cache->set(core.key, Value::tuple({me, state.count + 1}), core.set_options());
    const double now = core.now();
    if (state.count == 0) core.rows.drop_holders(c);
    core.rows.set_holder(c, detail::self_holder_id(), state.count + 1, now, core.expires_at(now));
    core.register_once(c, PrimitiveKind::RLock, std::nullopt);
    if (state.count == 0) core.record(c, PrimitiveKind::RLock, "acquire", waited);
    scope.commit();
    return true;
  };
  return core.wait_loop(try_once, deadline, stop, PrimitiveKind::RLock);
}

void RLock::lock() { (void)acquire_until(no_deadline(), {}); }
bool RLock::lock(std::stop_token stop) { return acquire_until(no_deadline(), stop); }
bool RLock::try_lock() { return acquire_until(now_deadline(), {}); }

void RLock::release() {
  auto& core = *core_;
  auto& c = core.impl->conn();
  std::int64_t left;
  {
    WriteScope scope(c, *core.impl->files);
    detail::FlatScope flat(c);
    const RLockState state = read_rlock(core);
    if (!(state.owner == Value(python_owner())) || state.count <= 0)
      throw NotHeld(describe(core, "release(): RLock") + " is not held by this thread (owner " +
                    state.owner.repr() + ", count " + std::to_string(state.count) + ")");
    left = state.count - 1;
    core.cache->set(core.key, Value::tuple({state.owner, left}), core.set_options());  // Python never deletes it
    core.rows.set_holder(c, detail::self_holder_id(), left, core.now(), std::nullopt);
    if (left == 0) core.record(c, PrimitiveKind::RLock, "release", 0);
    scope.commit();
  }
  if (left == 0) core.released();
}

void RLock::unlock() noexcept {
  quietly(last_unlock_error_, [&] { release(); });
}

void RLock::renew(std::optional<double> expire) {
  auto& core = *core_;
  auto& c = core.impl->conn();
  WriteScope scope(c, *core.impl->files);
  detail::FlatScope flat(c);
  const RLockState state = read_rlock(core);
  if (!(state.owner == Value(python_owner())) || state.count <= 0 || !core.cache->touch(core.key, expire))
    throw NotHeld(describe(core, "renew(): RLock") + " is not held by this thread");
  core.rows.set_expiry(c, expire ? std::optional<double>(core.now() + *expire) : std::nullopt);
  scope.commit();
}

std::int64_t RLock::count() { return read_rlock(*core_).count; }

// ------------------------------------------------------------------ BoundedSemaphore

namespace {
std::int64_t remaining_permits(detail::PrimitiveCore& core, std::int64_t bound, bool& present) {
  auto value = core.cache->get(core.key);
  present = value.has_value();
  if (!value) return bound;  // a missing key means every permit is free
  if (value->type() != Value::Type::Int)
    throw CorruptCache(describe(core, "semaphore") + " holds " + value->repr().substr(0, 60) + ", not an integer");
  return value->as_int();
}
}  // namespace

BoundedSemaphore::BoundedSemaphore(Cache& cache, Value key, std::int64_t bound, PrimitiveOptions options)
    : Primitive(cache, std::move(key), std::move(options)), bound_(bound) {
  if (bound < 1) throw InvalidArgument("a BoundedSemaphore needs a bound of at least 1");
}
BoundedSemaphore::BoundedSemaphore(FanoutCache& cache, Value key, std::int64_t bound, PrimitiveOptions options)
    : BoundedSemaphore(cache.shard_for(key), std::move(key), bound, std::move(options)) {}

bool BoundedSemaphore::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  auto& core = *core_;
  const auto try_once = [&](double waited) {
    auto& c = core.impl->conn();
    WriteScope scope(c, *core.impl->files);
    detail::FlatScope flat(c);
    bool present = false;
    const std::int64_t free = remaining_permits(core, bound_, present);
    if (free <= 0) return false;
    core.cache->set(core.key, free - 1, core.set_options());
    const double now = core.now();
    if (!present) core.rows.drop_holders(c);  // the key expired or never existed: no one holds a permit
    const std::string me = detail::self_holder_id();
    core.rows.set_holder(c, me, core.rows.holder_count(c, me) + 1, now, core.expires_at(now));
    core.register_once(c, PrimitiveKind::Semaphore, bound_);
    core.record(c, PrimitiveKind::Semaphore, "acquire", waited);
    scope.commit();
    return true;
  };
  return core.wait_loop(try_once, deadline, stop, PrimitiveKind::Semaphore);
}

void BoundedSemaphore::acquire() { (void)acquire_until(no_deadline(), {}); }
bool BoundedSemaphore::acquire(std::stop_token stop) { return acquire_until(no_deadline(), stop); }
bool BoundedSemaphore::try_acquire() { return acquire_until(now_deadline(), {}); }

void BoundedSemaphore::release() {
  auto& core = *core_;
  auto& c = core.impl->conn();
  {
    WriteScope scope(c, *core.impl->files);
    detail::FlatScope flat(c);
    bool present = false;
    const std::int64_t free = remaining_permits(core, bound_, present);
    if (free >= bound_)
      throw NotHeld(describe(core, "release(): semaphore") + " would exceed its bound of " + std::to_string(bound_));
    std::string holder = detail::self_holder_id();
    auto held = core.rows.holding(c, holder);
    if (!held) {  // a permit taken by another thread of this process
      holder = core.rows.process_holder(c);
      if (!holder.empty()) held = core.rows.holding(c, holder);
    }
    if (!held || held->count <= 0)
      throw NotHeld(describe(core, "release(): semaphore") + " has no permit held by this process");
    // A permit past its lease is forfeit: the key may have expired since and
    // been taken afresh (by Python, which keeps no holder rows), so giving
    // it back could let one more process in than the bound allows.
    if (held->expires_at && *held->expires_at <= core.now())
      throw NotHeld(describe(core, "release(): semaphore") +
                    " permit's lease expired; it is forfeit and nothing was changed");
    core.cache->set(core.key, free + 1, core.set_options());
    core.rows.set_holder(c, holder, held->count - 1, core.now(), std::nullopt);
    core.record(c, PrimitiveKind::Semaphore, "release", 0);
    scope.commit();
  }
  core.released();
}

std::int64_t BoundedSemaphore::available() {
  bool present = false;
  return remaining_permits(*core_, bound_, present);
}

BoundedSemaphore::Guard::~Guard() {
  try {
    semaphore_->release();
  } catch (...) {
    // a destructor must not throw; the permit was force-released meanwhile
  }
}

// ------------------------------------------------------------------ Averager

namespace {
std::pair<double, std::int64_t> read_average(detail::PrimitiveCore& core, const std::optional<Value>& value) {
  if (!value) return {0.0, 0};
  if (value->type() != Value::Type::Tuple || value->items().size() != 2 || !value->items()[1].is_int())
    throw CorruptCache(describe(core, "Averager") + " holds " + value->repr().substr(0, 60) +
                       ", not Python's (total, count) tuple");
  return {value->items()[0].as_double(), value->items()[1].as_int()};
}
}  // namespace

Averager::Averager(Cache& cache, Value key, PrimitiveOptions options)
    : Primitive(cache, std::move(key), std::move(options)) {}
Averager::Averager(FanoutCache& cache, Value key, PrimitiveOptions options)
    : Primitive(cache, std::move(key), std::move(options)) {}

void Averager::add(double value) {
  auto& core = *core_;
  auto& c = core.impl->conn();
  WriteScope scope(c, *core.impl->files);
  detail::FlatScope flat(c);
  const auto [total, count] = read_average(core, core.cache->get(core.key));
  core.cache->set(core.key, Value::tuple({total + value, count + 1}), core.set_options());
  core.register_once(c, PrimitiveKind::Averager, std::nullopt);
  scope.commit();
}

std::optional<double> Averager::get() {
  const auto [total, count] = read_average(*core_, core_->cache->get(core_->key));
  if (count == 0) return std::nullopt;
  return total / static_cast<double>(count);
}

std::int64_t Averager::count() { return read_average(*core_, core_->cache->get(core_->key)).second; }

std::optional<double> Averager::pop() {
  const auto [total, count] = read_average(*core_, core_->cache->pop(core_->key));
  if (count == 0) return std::nullopt;
  return total / static_cast<double>(count);
}

}  // namespace diskcache
