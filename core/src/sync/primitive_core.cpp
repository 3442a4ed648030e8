#include "primitive_core.hpp"

#include "history_buffer.hpp"

#include <sqlite3.h>

#include <atomic>

#include <thread>

namespace diskcache::detail {
namespace {
constexpr auto kPoll = std::chrono::milliseconds(2);      // fallback: notices Python releases
constexpr auto kGiveWay = std::chrono::milliseconds(2);   // longest a releaser defers to waiters
}  // namespace

std::string holder_id(const std::string& host, std::int64_t pid, std::int64_t start_time, std::int64_t thread) {
  return host + ":" + std::to_string(pid) + ":" + std::to_string(start_time) + ":" + std::to_string(thread);
}

std::uint64_t waiter_key(const SqlScalar& key, std::int64_t raw) {
  std::string bytes(1, static_cast<char>('0' + key.kind));
  bytes += key.s;
  if (key.kind == SqlScalar::Integer) bytes += std::to_string(key.i);
  if (key.kind == SqlScalar::Real) bytes.append(reinterpret_cast<const char*>(&key.d), sizeof key.d);
  return WaiterBoard::key_hash(bytes, raw);
}

std::string describe(const PrimitiveCore& core, const char* what) {
  return std::string(what) + " " + core.key.repr() + " in " + core.cache->directory().string();
}

std::string self_holder_id() {
  const ProcessIdentity& me = self_identity();
  return holder_id(me.host, me.pid, me.start_time, self_thread_id());
}

PrimitiveRows::PrimitiveRows(Cache::Impl& impl, const Value& key)
    : impl_(impl), db_key_(encode_key(key)), slot_(WakeBoard::slot_of(db_key_.key.s + std::to_string(db_key_.key.i))) {}

namespace {
void bind_key(Query& q, int index, const DbKey& k) {
  k.key.bind(q, index);
  q.bind(index + 1, k.raw);
}
}  // namespace

void PrimitiveRows::register_kind(Connection& c, PrimitiveKind kind, std::optional<std::int64_t> bound) {
  Query q(c,
          "INSERT INTO diskcache_primitives (key, raw, kind, bound, registered) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT(key, raw) DO UPDATE SET kind = excluded.kind, bound = excluded.bound");
  bind_key(q, 1, db_key_);
  q.bind_text(3, to_string(kind));
  bound ? (void)q.bind(4, *bound) : (void)q.bind_null(4);
  q.bind(5, impl_.now());
  q.run();
}

std::int64_t PrimitiveRows::holder_count(Connection& c, const std::string& holder) {
  Query q(c, "SELECT count FROM diskcache_holders WHERE key = ? AND raw = ? AND holder = ?");
  bind_key(q, 1, db_key_);
  q.bind_text(3, holder);
  return q.step() ? q.int64(0) : 0;
}

std::optional<PrimitiveRows::Holding> PrimitiveRows::holding(Connection& c, const std::string& holder) {
  Query q(c, "SELECT count, acquired_at, expires_at FROM diskcache_holders WHERE key = ? AND raw = ? AND holder = ?");
  bind_key(q, 1, db_key_);
  q.bind_text(3, holder);
  if (!q.step()) return std::nullopt;
  Holding h{q.int64(0), q.real(1), std::nullopt};
  if (!q.is_null(2)) h.expires_at = q.real(2);
  return h;
}

std::optional<double> PrimitiveRows::live_store_time(Connection& c, double now) {
  Query q(c, "SELECT store_time FROM Cache WHERE key = ? AND raw = ? AND (expire_time IS NULL OR expire_time > ?)");
  bind_key(q, 1, db_key_);
  q.bind(3, now);
  if (!q.step()) return std::nullopt;
  return q.real(0);
}

void PrimitiveRows::set_holder(Connection& c, const std::string& holder, std::int64_t count, double now,
                               std::optional<double> expires_at) {
  if (count <= 0) {
    Query q(c, "DELETE FROM diskcache_holders WHERE key = ? AND raw = ? AND holder = ?");
    bind_key(q, 1, db_key_);
    q.bind_text(3, holder);
    q.run();
    return;
  }
  const ProcessIdentity& me = self_identity();
  Query q(c,
          "INSERT INTO diskcache_holders (key, raw, holder, host, boot_id, pid_ns, pid, start_time, thread, "
          "acquired_at, expires_at, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key, raw, holder) "
          "DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at");
  bind_key(q, 1, db_key_);
  q.bind_text(3, holder).bind_text(4, me.host).bind_text(5, me.boot_id);
  q.bind(6, static_cast<std::int64_t>(me.pid_namespace)).bind(7, me.pid).bind(8, me.start_time);
  q.bind(9, self_thread_id()).bind(10, now);
  expires_at ? (void)q.bind(11, *expires_at) : (void)q.bind_null(11);
  q.bind(12, count);
  q.run();
}

void PrimitiveRows::set_expiry(Connection& c, std::optional<double> expires_at) {
  Query q(c, "UPDATE diskcache_holders SET expires_at = ? WHERE key = ? AND raw = ?");
  expires_at ? (void)q.bind(1, *expires_at) : (void)q.bind_null(1);
  bind_key(q, 2, db_key_);
  q.run();
}

void PrimitiveRows::drop_holders(Connection& c) {
  Query q(c, "DELETE FROM diskcache_holders WHERE key = ? AND raw = ?");
  bind_key(q, 1, db_key_);
  q.run();
}

std::string PrimitiveRows::process_holder(Connection& c) {
  const ProcessIdentity& me = self_identity();
  Query q(c,
          "SELECT holder FROM diskcache_holders WHERE key = ? AND raw = ? AND boot_id = ? AND pid = ? AND "
          "start_time = ? LIMIT 1");
  bind_key(q, 1, db_key_);
  q.bind_text(3, me.boot_id).bind(4, me.pid).bind(5, me.start_time);
  return q.step() ? std::string(q.text(0)) : std::string();
}

void PrimitiveRows::record(Connection& c, PrimitiveKind kind, const char* event, const std::string& holder,
                           double waited) {
  const ProcessIdentity& me = self_identity();
  insert_event(c, kind, event, holder, me.pid, self_thread_id(), me.host, waited);
}

void PrimitiveRows::record_for(Connection& c, PrimitiveKind kind, const char* event, const HolderInfo& holder) {
  insert_event(c, kind, event, holder.id, holder.pid, holder.thread, holder.host, 0);
}

void PrimitiveRows::insert_event(Connection& c, PrimitiveKind kind, const char* event, const std::string& holder,
                                 std::int64_t pid, std::int64_t thread, const std::string& host, double waited) {
  PendingEvent e{impl_.now(), db_key_.key, db_key_.raw, std::string(to_string(kind)), event, holder, host, pid,
                 thread, waited};
  HistoryBuffer& history = impl_.history();
  auto publish = [&history, e = std::move(e)]() mutable {
    std::vector<PendingEvent> one;
    one.push_back(std::move(e));
    history.add(std::move(one));
  };
  c.tx().after_commit(std::move(publish));
}

namespace {
std::atomic<std::uint64_t> g_next_serial{1};
}

PrimitiveCore::PrimitiveCore(Cache& c, Value k, PrimitiveOptions o)
    : cache(&c), impl(&impl_of(c)), key(std::move(k)), options(std::move(o)), rows(*impl, key),
      released_slot(rows.slot()), serial(g_next_serial.fetch_add(1)) {}

void PrimitiveCore::register_once(Connection& c, PrimitiveKind kind, std::optional<std::int64_t> bound) {
  if (registered) return;
  rows.register_kind(c, kind, bound);
  registered = true;  // set before commit: a rollback re-registers next time at worst
}

void PrimitiveCore::record(Connection& c, PrimitiveKind kind, const char* event, double waited) {
  if (options.history) rows.record(c, kind, event, self_holder_id(), waited);
}

bool PrimitiveCore::wait_loop(const std::function<bool(double)>& try_once, std::optional<SteadyTime> deadline,
                              const std::stop_token& stop, PrimitiveKind kind, WaitSide side) {
  using std::chrono::steady_clock;
  const auto start = steady_clock::now();
  WakeBoard& wake = board();
  // Fairness: right after our own release, let a contender take it first:
  // a thread inside an acquisition, asleep on the slot or retrying (in its
  // transaction, waiting for the database, or deferring like this). This
  // thread counts as a contender from here on, deferring included, so a
  // process that is slow to be scheduled is still deferred to.
  const bool give_way = start - last_release < kGiveWay && wake.contenders(released_slot) > 0 &&
                        wake.acquisitions(released_slot) == acquisitions_at_release;
  WakeBoard::Contending contending(wake, side.slot);
  if (give_way)
    wake.wait_acquired(released_slot, acquisitions_at_release,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(kGiveWay - (start - last_release)));
  std::optional<WaiterBoard::Waiting> waiting;  // shown to inspection once the first try failed
  while (true) {
    contending.refresh();
    const std::uint32_t seen = wake.sequence(side.slot);
    const auto now = steady_clock::now();
    if (try_once(std::chrono::duration<double>(now - start).count())) {
      wake.acquired(side.slot);
      return true;
    }
    if (!waiting && !impl->options.read_only)
      waiting.emplace(impl->waiter_board(), side.waiter_key);
    const auto after = steady_clock::now();
    if ((deadline && after >= *deadline) || stop.stop_requested()) {
      if (deadline && *deadline > start && options.history && !impl->options.read_only)  // no transaction: batched
        rows.record(impl->conn(), kind, "timeout", self_holder_id(), std::chrono::duration<double>(after - start).count());
      return false;
    }
    auto timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(kPoll);
    if (deadline) timeout = std::min(timeout, std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - after));
    wake.wait(side.slot, seen, timeout);
  }
}

void PrimitiveCore::released(std::size_t slot, bool wake_one) {
  last_release = std::chrono::steady_clock::now();
  released_slot = slot;
  acquisitions_at_release = board().acquisitions(slot);
  wake_one ? board().notify_one(slot) : board().notify(slot);
}

}  // namespace diskcache::detail
