// SharedLock: a reader-writer lock whose state is one value under its key
// (shared_lock_state.hpp), changed in one transaction with the holder and
// history rows.
#include "diskcache/primitives.hpp"
#include "primitive_core.hpp"
#include "shared_lock_state.hpp"

namespace diskcache {

using detail::describe;
using detail::quietly;
using detail::SharedLockState;
using detail::WriteScope;
using SteadyTime = detail::SteadyTime;

namespace {

// One write transaction on the lock's value: opening it loads the state,
// less the holdings whose lease ran out (their holder rows go too, and
// `changed` says so); commit() stores the state (a free lock leaves no
// key; the key never expires: each holding has its own lease) and commits.
// Leaving without commit() rolls everything back.
class StateTransaction {
 public:
  explicit StateTransaction(detail::PrimitiveCore& core)
      : core_(core), c(core.impl->conn()), scope_(c, *core.impl->files), flat_(c), now(core.now()),
        state(SharedLockState::decode(core.cache->get(core.key), describe(core, "SharedLock"))) {
    const std::size_t waiting = state.waiting.size();
    const auto lapsed = state.drop_lapsed(now);
    for (const auto& holder : lapsed) core.rows.set_holder(c, holder, 0, 0, std::nullopt);
    changed = !lapsed.empty() || state.waiting.size() != waiting;
  }
  void commit() {
    if (state.free())
      core_.cache->erase(core_.key);
    else
      core_.cache->set(core_.key, state.encode(), SetOptions{std::nullopt, core_.options.tag});
    scope_.commit();
  }

 private:
  detail::PrimitiveCore& core_;

 public:
  detail::Connection& c;

 private:
  WriteScope scope_;
  detail::FlatScope flat_;

 public:
  const double now;
  SharedLockState state;
  bool changed = false;
};

[[noreturn]] void not_held(detail::PrimitiveCore& core, const char* call, const char* mode) {
  throw NotHeld(describe(core, call) + std::string(" is not held ") + mode +
                " by this object (never acquired, already released, its lease expired, or force-released); "
                "nothing was changed");
}

}  // namespace

SharedLock::SharedLock(Cache& cache, Value key, PrimitiveOptions options)
    : Primitive(cache, std::move(key), std::move(options)) {}
SharedLock::SharedLock(FanoutCache& cache, Value key, PrimitiveOptions options)
    : Primitive(cache, std::move(key), std::move(options)) {}
SharedLock::~SharedLock() {
  if (mode_ == Mode::Exclusive) unlock();
  if (mode_ == Mode::Shared) unlock_shared();
}

// ------------------------------------------------------------------ writer

bool SharedLock::acquire_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  auto& core = *core_;
  if (mode_ != Mode::None) throw Error(describe(core, "lock() on a SharedLock this object already holds:"));
  const std::string me = core.object_holder_id();
  const auto try_once = [&](double waited) {
    StateTransaction tx(core);
    auto& state = tx.state;
    if (!state.writer && state.readers.empty()) {
      state.remove_waiter(me);
      state.writer = detail::SharedLockEntry{me, core.expires_at(tx.now)};
      core.rows.set_holder(tx.c, me, 1, tx.now, core.expires_at(tx.now));
      core.register_once(tx.c, PrimitiveKind::SharedLock, std::nullopt);
      core.record(tx.c, PrimitiveKind::SharedLock, "acquire", waited);
      tx.commit();
      return true;
    }
    // Announce this writer, so new readers wait behind it; renew the
    // announcement when half of it is gone.
    auto* announced = state.waiter(me);
    if (!announced)
      state.waiting.push_back({me, tx.now + detail::kWriterAnnouncement});
    else if (*announced->until - tx.now < detail::kWriterAnnouncement / 2)
      announced->until = tx.now + detail::kWriterAnnouncement;
    else if (!tx.changed)
      return false;
    tx.commit();
    return false;
  };
  if (core.wait_loop(try_once, deadline, stop, PrimitiveKind::SharedLock, detail::shared_lock_writers(core.rows))) {
    mode_ = Mode::Exclusive;
    holder_ = me;
    return true;
  }
  // Withdraw the announcement, and let readers in if no writer waits now.
  // Should this fail, the announcement lapses by itself within 0.5 s.
  try {
    StateTransaction tx(core);
    if (tx.state.remove_waiter(me) || tx.changed) {
      tx.commit();
      if (!tx.state.writers_waiting(tx.now)) core.board().notify(core.rows.slot());
    }
  } catch (const Error&) {
  }
  return false;
}

void SharedLock::lock() { (void)acquire_until(detail::no_deadline(), {}); }
bool SharedLock::lock(std::stop_token stop) { return acquire_until(detail::no_deadline(), stop); }
bool SharedLock::try_lock() { return acquire_until(detail::now_deadline(), {}); }

void SharedLock::release_exclusive() {
  auto& core = *core_;
  const std::string& me = holder_;
  bool wake_readers = false;
  core.impl->freeing_space([&] {  // a release frees space: it works on a full disk too
    StateTransaction tx(core);
    if (!tx.state.writer || tx.state.writer->holder != me) not_held(core, "release(): SharedLock", "exclusively");
    tx.state.writer.reset();
    core.rows.set_holder(tx.c, me, 0, 0, std::nullopt);
    core.record(tx.c, PrimitiveKind::SharedLock, "release", 0);
    tx.commit();
    wake_readers = !tx.state.writers_waiting(tx.now);
  });
  mode_ = Mode::None;
  const std::size_t writers = detail::shared_lock_writers(core.rows).slot;
  if (wake_readers) {  // every reader at once (and one writer, who may come after them)
    core.board().notify_one(writers);
    core.released(core.rows.slot());
  } else {  // the next writer first
    core.released(writers, /*wake_one=*/true);
  }
}

void SharedLock::unlock() noexcept {
  quietly(last_unlock_error_, [&] {
    if (mode_ != Mode::Exclusive) not_held(*core_, "unlock(): SharedLock", "exclusively");
    release();
  });
  if (mode_ == Mode::Exclusive) mode_ = Mode::None;
}

// ------------------------------------------------------------------ readers

bool SharedLock::acquire_shared_until(std::optional<SteadyTime> deadline, std::stop_token stop) {
  auto& core = *core_;
  if (mode_ != Mode::None) throw Error(describe(core, "lock_shared() on a SharedLock this object already holds:"));
  const std::string me = core.object_holder_id();
  const auto try_once = [&](double waited) {
    StateTransaction tx(core);
    auto& state = tx.state;
    if (state.writer || state.writers_waiting(tx.now)) {  // writers first
      if (tx.changed) tx.commit();
      return false;
    }
    state.readers.push_back({me, core.expires_at(tx.now)});
    core.rows.set_holder(tx.c, me, 1, tx.now, core.expires_at(tx.now));
    core.register_once(tx.c, PrimitiveKind::SharedLock, std::nullopt);
    core.record(tx.c, PrimitiveKind::SharedLock, "acquire-shared", waited);
    tx.commit();
    return true;
  };
  if (!core.wait_loop(try_once, deadline, stop, PrimitiveKind::SharedLock, detail::shared_lock_readers(core.rows)))
    return false;
  mode_ = Mode::Shared;
  holder_ = me;
  return true;
}

void SharedLock::lock_shared() { (void)acquire_shared_until(detail::no_deadline(), {}); }
bool SharedLock::lock_shared(std::stop_token stop) { return acquire_shared_until(detail::no_deadline(), stop); }
bool SharedLock::try_lock_shared() { return acquire_shared_until(detail::now_deadline(), {}); }

void SharedLock::release_shared() {
  auto& core = *core_;
  const std::string& me = holder_;
  bool last_reader = false;
  core.impl->freeing_space([&] {
    StateTransaction tx(core);
    if (!tx.state.remove_reader(me)) not_held(core, "release(): SharedLock", "shared");
    core.rows.set_holder(tx.c, me, 0, 0, std::nullopt);
    core.record(tx.c, PrimitiveKind::SharedLock, "release-shared", 0);
    tx.commit();
    last_reader = tx.state.readers.empty();
  });
  mode_ = Mode::None;
  if (last_reader) core.released(detail::shared_lock_writers(core.rows).slot, /*wake_one=*/true);
}

void SharedLock::unlock_shared() noexcept {
  quietly(last_unlock_error_, [&] {
    if (mode_ != Mode::Shared) not_held(*core_, "unlock_shared(): SharedLock", "shared");
    release();
  });
  if (mode_ == Mode::Shared) mode_ = Mode::None;
}

// ------------------------------------------------------------------ either

void SharedLock::release() {
  try {
    switch (mode_) {
      case Mode::Exclusive: return release_exclusive();
      case Mode::Shared: return release_shared();
      case Mode::None: not_held(*core_, "release(): SharedLock", "at all");
    }
  } catch (const NotHeld&) {
    mode_ = Mode::None;  // the hold is gone (lapsed or force-released)
    throw;
  }
}

void SharedLock::renew(std::optional<double> expire) {
  auto& core = *core_;
  const std::string& me = holder_;
  StateTransaction tx(core);
  detail::SharedLockEntry* mine = nullptr;
  if (mode_ == Mode::Exclusive && tx.state.writer && tx.state.writer->holder == me) mine = &*tx.state.writer;
  if (mode_ == Mode::Shared) mine = tx.state.reader(me);
  if (!mine) not_held(core, "renew(): SharedLock", "now");
  mine->until = expire ? std::optional<double>(tx.now + *expire) : std::nullopt;
  core.rows.set_holder(tx.c, me, 1, tx.now, mine->until);
  tx.commit();
}

SharedLock::State SharedLock::state() {
  auto& core = *core_;
  auto value = SharedLockState::decode(core.cache->get(core.key), describe(core, "SharedLock"));
  (void)value.drop_lapsed(core.now());
  State out;
  if (value.writer) out.writer = value.writer->holder;
  out.readers = static_cast<std::int64_t>(value.readers.size());
  out.writers_waiting = static_cast<std::int64_t>(value.waiting.size());
  return out;
}

}  // namespace diskcache
