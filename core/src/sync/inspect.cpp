// Inspection of primitives, force-release and history (see inspect.hpp).
#include "diskcache/inspect.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <regex>

#include "diskcache/error.hpp"
#include "diskcache/identity.hpp"
#include "diskcache/pickle.hpp"
#include "history_buffer.hpp"
#include "primitive_core.hpp"
#include "shared_lock_state.hpp"
#include "../tx_state.hpp"

namespace diskcache {

using detail::Query;
using detail::ReadScope;
using detail::SqlScalar;
using detail::WriteScope;

std::string_view to_string(PrimitiveKind kind) noexcept {
  switch (kind) {
    case PrimitiveKind::Lock: return "lock";
    case PrimitiveKind::RLock: return "rlock";
    case PrimitiveKind::Semaphore: return "semaphore";
    case PrimitiveKind::Averager: return "averager";
    case PrimitiveKind::SharedLock: return "shared-lock";
  }
  return "lock";
}

std::optional<PrimitiveKind> parse_primitive_kind(std::string_view name) noexcept {
  for (auto k : {PrimitiveKind::Lock, PrimitiveKind::RLock, PrimitiveKind::Semaphore, PrimitiveKind::Averager,
                 PrimitiveKind::SharedLock})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

std::string_view to_string(HolderState state) noexcept {
  switch (state) {
    case HolderState::Alive: return "alive";
    case HolderState::Stale: return "stale";
    case HolderState::Unknown: return "unknown";
  }
  return "unknown";
}

bool PrimitiveInfo::stale() const {
  if (!held || holders.empty()) return false;
  for (const auto& h : holders)
    if (h.state != HolderState::Stale) return false;
  return true;
}

HolderState process_state(const HolderInfo& h) {
  switch (liveness_of({h.host, h.boot_id, h.pid_namespace, h.pid, h.start_time})) {
    case Liveness::Alive: return HolderState::Alive;
    case Liveness::Dead:
    case Liveness::Zombie: return HolderState::Stale;
    case Liveness::Unknown: return HolderState::Unknown;
  }
  return HolderState::Unknown;
}

std::optional<double> PrimitiveInfo::held_since() const {
  if (!held) return std::nullopt;
  if (holders.empty()) return store_time;
  double since = holders.front().acquired_at;
  for (const auto& h : holders) since = std::min(since, h.acquired_at);
  return since;
}

std::optional<double> PrimitiveInfo::expires_at() const {
  if (held && !holders.empty()) {
    std::optional<double> first;  // the holder whose lease ends first
    for (const auto& h : holders)
      if (h.expires_at && (!first || *h.expires_at < *first)) first = h.expires_at;
    if (first) return first;
  }
  return expire_time;
}

namespace {

bool table_exists(detail::Connection& c, const char* name) {
  Query q(c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  q.bind_text(1, name);
  return q.step();
}

// A map key for a stored (key, raw) pair.
std::string row_id(const SqlScalar& key, std::int64_t raw) {
  return std::to_string(raw) + char('0' + key.kind) + key.s + "|" + std::to_string(key.i) + "|" + std::to_string(key.d);
}

// Python's RLock value: ("<pid>-<tid>", count) or (None, count).
bool looks_like_rlock(const Value& v) {
  static const std::regex owner(R"(\d+-\d+)");
  if (v.type() != Value::Type::Tuple || v.items().size() != 2 || v.items()[1].type() != Value::Type::Int) return false;
  const Value& first = v.items()[0];
  return first.is_none() || (first.type() == Value::Type::Text && std::regex_match(first.as_text(), owner));
}

HolderState holder_state(const HolderInfo& h, double now) {
  if (h.expires_at && *h.expires_at <= now) return HolderState::Stale;
  return process_state(h);
}

struct Found {
  SqlScalar key;
  std::int64_t raw;
  PrimitiveInfo info;
};

// Typed column reads that refuse a column of the wrong type (nothing read
// from the directory is trusted): CorruptCache naming the column.
[[noreturn]] void wrong_column(const char* name, const char* wanted) {
  throw CorruptCache(std::string("column ") + name + " is not " + wanted);
}
std::string text_column(const Query& q, int col, const char* name) {
  if (q.column_type(col) != SQLITE_TEXT) wrong_column(name, "text");
  return std::string(q.text(col));
}
std::int64_t int_column(const Query& q, int col, const char* name) {
  if (q.column_type(col) != SQLITE_INTEGER) wrong_column(name, "an integer");
  return q.int64(col);
}
double real_column(const Query& q, int col, const char* name) {
  if (q.column_type(col) != SQLITE_FLOAT && q.column_type(col) != SQLITE_INTEGER) wrong_column(name, "a number");
  return q.real(col);
}
std::optional<double> optional_real_column(const Query& q, int col, const char* name) {
  if (q.is_null(col)) return std::nullopt;
  return real_column(q, col, name);
}
PrimitiveKind kind_column(const Query& q, int col) {
  const std::string name = text_column(q, col, "kind");
  if (auto kind = parse_primitive_kind(name)) return *kind;
  throw CorruptCache("unknown primitive kind '" + name.substr(0, 40) + "'");
}

// Runs `read` for one row of `table`; a row it cannot read is reported in
// `skipped` (when given) and passed over.
template <class F>
void read_row(Cache::Impl& d, SkippedRows* skipped, const char* table, std::int64_t rowid, F&& read) {
  try {
    std::forward<F>(read)();
  } catch (const Error& e) {
    if (skipped)
      skipped->push_back({d.db_path, table, rowid,
                          std::string(table) + " row " + std::to_string(rowid) + " " + d.where() + ": " + e.what()});
  }
}

std::string describe_key(const Cache::Impl& d, const Value& key) {
  return "SharedLock " + key.repr() + " in " + d.where();
}

// A holder named only in a SharedLock's value (a Python process writing to a
// directory without holder records): its id is "host:pid:start_time:thread/n".
HolderInfo holder_from_id(const detail::SharedLockEntry& e) {
  HolderInfo h;
  h.id = e.holder;
  h.expires_at = e.until;
  static const std::regex id(R"(([^:]*):(\d{1,18}):(\d{1,18}):(\d{1,18})(/.*)?)");
  std::smatch m;
  if (std::regex_match(e.holder, m, id)) {
    h.host = m[1];
    h.pid = std::stoll(m[2]);
    h.start_time = std::stoll(m[3]);
    h.thread = std::stoll(m[4]);
  }
  return h;  // state Unknown: without boot id and pid namespace, liveness cannot be told
}

// A SharedLock's value is the truth: holder rows of holders it does not
// name are leftovers; holders it names without a row are shown from their id.
void read_shared_lock(const std::optional<Value>& value, double now, PrimitiveInfo& info, const std::string& what) {
  auto state = detail::SharedLockState::decode(value, what);
  (void)state.drop_lapsed(now);
  std::vector<HolderInfo> holders;
  auto add = [&](const detail::SharedLockEntry& e, bool shared) {
    auto row = std::find_if(info.holders.begin(), info.holders.end(), [&](const HolderInfo& h) { return h.id == e.holder; });
    HolderInfo h = row != info.holders.end() ? *row : holder_from_id(e);
    h.shared = shared;
    h.count = 1;
    h.expires_at = e.until;
    if (h.expires_at && *h.expires_at <= now) h.state = HolderState::Stale;
    holders.push_back(std::move(h));
  };
  if (state.writer) add(*state.writer, false);
  for (const auto& r : state.readers) add(r, true);
  info.holders = std::move(holders);
  info.writer = state.writer.has_value();
  info.in_use = info.writer ? 1 : static_cast<std::int64_t>(state.readers.size());
  info.held = info.in_use > 0;
  info.writers_waiting = static_cast<std::int64_t>(state.waiting.size());
}

// Fills in the state of each primitive from its Cache row.
void read_state(Cache::Impl& d, detail::Connection& c, Found& f, double now) {
  Query q(c,
          "SELECT mode, filename, value, size, expire_time, store_time FROM Cache WHERE key = ? AND raw = ? AND "
          "(expire_time IS NULL OR expire_time > ?)");
  f.key.bind(q, 1);
  q.bind(2, f.raw).bind(3, now);
  PrimitiveInfo& info = f.info;
  std::optional<Value> value;
  if (q.step()) {
    const auto filename = q.is_null(1) ? std::nullopt : std::optional<std::string>(std::string(q.text(1)));
    value = detail::fetch_value(static_cast<int>(q.int64(0)), filename, SqlScalar::column(q, 2), q.int64(3), *d.files);
    if (!q.is_null(4)) info.expire_time = q.real(4);
    if (!q.is_null(5)) info.store_time = q.real(5);
  }
  switch (info.kind) {
    case PrimitiveKind::Lock:
      info.held = value.has_value();
      info.in_use = info.held ? 1 : 0;
      break;
    case PrimitiveKind::RLock:
      if (value && looks_like_rlock(*value)) info.in_use = value->items()[1].as_int();
      info.held = info.in_use > 0;
      break;
    case PrimitiveKind::Semaphore: {
      const std::int64_t bound = info.bound.value_or(1);
      const std::int64_t free = value && value->type() == Value::Type::Int ? value->as_int() : bound;
      info.in_use = bound - free;
      info.held = info.in_use > 0;
      break;
    }
    case PrimitiveKind::Averager:
      if (value && value->type() == Value::Type::Tuple && value->items().size() == 2 && value->items()[1].is_int()) {
        info.samples = value->items()[1].as_int();
        if (info.samples > 0) info.mean = value->items()[0].as_double() / static_cast<double>(info.samples);
      }
      break;
    case PrimitiveKind::SharedLock:
      read_shared_lock(value, now, info, describe_key(d, info.key));
      break;
  }
  if (!info.held) info.holders.clear();  // leftovers of an expired key hold nothing
}

// A stored pickle (mode 4) that decodes to a Python RLock's value. Damaged
// rows are not ours to judge here (check() reports them).
bool holds_python_rlock(std::string_view pickled) {
  try {
    return looks_like_rlock(pickle::decode(pickled));
  } catch (const Error&) {
    return false;
  }
}

// One read transaction around a series of reads, unless the connection is
// already in a transaction: a consistent view, and one lock instead of one
// per statement.

std::vector<Found> collect(Cache& cache, const std::optional<Value>& only, bool find_python_rlocks,
                           SkippedRows* skipped) {
  Cache::Impl& d = detail::impl_of(cache);
  auto& c = d.conn();
  ReadScope read(c);
  const double now = d.now();
  std::map<std::string, Found> found;
  std::optional<detail::DbKey> only_key;
  if (only) only_key = detail::encode_key(*only);
  auto wanted = [&](const SqlScalar& k, std::int64_t raw) {
    return !only_key || row_id(only_key->key, only_key->raw) == row_id(k, raw);
  };
  if (table_exists(c, "diskcache_primitives")) {
    Query q(c, "SELECT rowid, key, raw, kind, bound FROM diskcache_primitives");
    while (q.step()) {
      const SqlScalar k = SqlScalar::column(q, 1);
      const std::int64_t raw = q.int64(2);
      if (!wanted(k, raw)) continue;
      read_row(d, skipped, "diskcache_primitives", q.int64(0), [&] {
        Found f{k, raw, {}};
        f.info.key = detail::decode_key(k, int_column(q, 2, "raw"));
        f.info.kind = kind_column(q, 3);
        f.info.registered = true;
        if (!q.is_null(4)) f.info.bound = int_column(q, 4, "bound");
        found.emplace(row_id(k, raw), std::move(f));
      });
    }
  }
  if (find_python_rlocks) {  // Python RLocks, recognised by their value
    Query q(c, only_key ? "SELECT rowid, key, raw, value FROM Cache WHERE key = ? AND raw = ? AND mode = 4 AND "
                          "filename IS NULL AND length(value) < 200"
                        : "SELECT rowid, key, raw, value FROM Cache WHERE mode = 4 AND filename IS NULL AND "
                          "length(value) < 200");
    if (only_key) {
      only_key->key.bind(q, 1);
      q.bind(2, only_key->raw);
    }
    while (q.step()) {
      const SqlScalar k = SqlScalar::column(q, 1);
      const std::int64_t raw = q.int64(2);
      if (!wanted(k, raw) || found.count(row_id(k, raw)) || !holds_python_rlock(q.blob(3))) continue;
      read_row(d, skipped, "Cache", q.int64(0), [&] {
        Found f{k, raw, {}};
        f.info.key = detail::decode_key(k, raw);
        f.info.kind = PrimitiveKind::RLock;
        found.emplace(row_id(k, raw), std::move(f));
      });
    }
  }
  if (table_exists(c, "diskcache_holders")) {
    Query q(c,
            "SELECT rowid, key, raw, holder, host, boot_id, pid_ns, pid, start_time, thread, acquired_at, expires_at, "
            "count FROM diskcache_holders ORDER BY acquired_at");
    while (q.step()) {
      auto it = found.find(row_id(SqlScalar::column(q, 1), q.int64(2)));
      if (it == found.end()) continue;
      read_row(d, skipped, "diskcache_holders", q.int64(0), [&] {
        HolderInfo h;
        h.id = text_column(q, 3, "holder");
        h.host = text_column(q, 4, "host");
        h.boot_id = text_column(q, 5, "boot_id");
        h.pid_namespace = static_cast<std::uint64_t>(int_column(q, 6, "pid_ns"));
        h.pid = int_column(q, 7, "pid");
        h.start_time = int_column(q, 8, "start_time");
        h.thread = int_column(q, 9, "thread");
        h.acquired_at = real_column(q, 10, "acquired_at");
        h.expires_at = optional_real_column(q, 11, "expires_at");
        h.count = int_column(q, 12, "count");
        h.state = holder_state(h, now);
        it->second.info.holders.push_back(std::move(h));
      });
    }
  }
  std::vector<Found> out;
  for (auto& [id, f] : found) {
    std::int64_t rowid = 0;
    {
      Query q(c, "SELECT rowid FROM Cache WHERE key = ? AND raw = ?");
      f.key.bind(q, 1);
      q.bind(2, f.raw);
      if (q.step()) rowid = q.int64(0);
    }
    read_row(d, skipped, "Cache", rowid, [&] {
      read_state(d, c, f, now);
      const std::uint64_t waiter_key = detail::waiter_key(f.key, f.raw);
      for (const auto& w : d.waiter_board().waiters(waiter_key)) f.info.waiters.push_back({w.pid, w.thread, w.since});
      if (f.info.kind == PrimitiveKind::SharedLock)  // readers wait under the next key (shared_lock_state.hpp)
        for (const auto& w : d.waiter_board().waiters(waiter_key + 1))
          f.info.waiters.push_back({w.pid, w.thread, w.since, /*shared=*/true});
      std::sort(f.info.waiters.begin(), f.info.waiters.end(),
                [](const WaiterInfo& a, const WaiterInfo& b) { return a.since < b.since; });
      out.push_back(std::move(f));
    });
  }
  return out;
}

}  // namespace

std::vector<PrimitiveInfo> inspect_primitives(Cache& cache, bool find_python_rlocks, SkippedRows* skipped) {
  std::vector<PrimitiveInfo> out;
  for (auto& f : collect(cache, std::nullopt, find_python_rlocks, skipped)) out.push_back(std::move(f.info));
  return out;
}

std::optional<PrimitiveInfo> inspect_primitive(Cache& cache, const Value& key, SkippedRows* skipped) {
  auto found = collect(cache, key, true, skipped);
  if (found.empty()) return std::nullopt;
  return std::move(found.front().info);
}

RLockScan scan_python_rlocks(Cache& cache, std::int64_t after_rowid, std::int64_t max_rows,
                             SkippedRows* skipped) {
  if (max_rows < 1) throw InvalidArgument("scan_python_rlocks: max_rows must be at least 1");
  auto& c = detail::impl_of(cache).conn();
  ReadScope read(c);
  RLockScan out;
  std::int64_t last = after_rowid, rows = 0;
  {
    Query slice(c, "SELECT max(rowid), count(*) FROM (SELECT rowid FROM Cache WHERE rowid > ? ORDER BY rowid LIMIT ?)");
    slice.bind(1, after_rowid).bind(2, max_rows);
    if (slice.step() && !slice.is_null(0)) {
      last = slice.int64(0);
      rows = slice.int64(1);
    }
  }
  if (rows == 0) return out;
  Query q(c, "SELECT rowid, key, raw, value FROM Cache WHERE rowid > ? AND rowid <= ? AND mode = 4 AND "
             "filename IS NULL AND length(value) < 200");
  q.bind(1, after_rowid).bind(2, last);
  while (q.step()) {
    if (!holds_python_rlock(q.blob(3))) continue;
    read_row(detail::impl_of(cache), skipped, "Cache", q.int64(0),
             [&] { out.keys.push_back(detail::decode_key(SqlScalar::column(q, 1), q.int64(2))); });
  }
  out.next_rowid = rows == max_rows ? last : 0;
  return out;
}

void register_primitive(Cache& cache, const Value& key, PrimitiveKind kind, std::optional<std::int64_t> bound) {
  if (kind == PrimitiveKind::Semaphore && (!bound || *bound < 1))
    throw InvalidArgument("registering a semaphore needs its bound (at least 1)");
  Cache::Impl& d = detail::impl_of(cache);
  d.require_writable("register_primitive");
  detail::PrimitiveRows rows(d, key);
  WriteScope scope(d.conn(), *d.files);
  rows.register_kind(d.conn(), kind, bound);
  scope.commit();
}

ForceReleaseResult force_release(Cache& cache, const Value& key, bool force,
                                 const std::optional<std::string>& holder_id) {
  Cache::Impl& d = detail::impl_of(cache);
  d.require_writable("force_release");
  auto& c = d.conn();
  detail::PrimitiveRows rows(d, key);
  bool wake_writers = false;  // a SharedLock's writers wait on a slot of their own
  {
    WriteScope scope(c, *d.files);
    auto info = inspect_primitive(cache, key);
    if (!info && !holder_id) {
      // A Python Lock nobody registered: its key holds None. Its holder is
      // unknown, so only `force` frees it.
      const auto value = cache.get(key);
      if (!value || !value->is_none()) return ForceReleaseResult::NotHeld;
      if (!force) return ForceReleaseResult::RefusedAlive;
      cache.erase(key);
      HolderInfo python;
      python.id = "unknown (unregistered Python lock)";
      rows.record_for(c, PrimitiveKind::Lock, "force-release", python);
      scope.commit();
      d.wake_board().notify(rows.slot());
      return ForceReleaseResult::Released;
    }
    if (!info || !info->held) return ForceReleaseResult::NotHeld;
    std::vector<HolderInfo> targets;
    for (const auto& h : info->holders)
      if (!holder_id || h.id == *holder_id) targets.push_back(h);
    if (holder_id && targets.empty()) return ForceReleaseResult::NotHeld;
    if (!force) {
      if (targets.empty()) return ForceReleaseResult::RefusedAlive;  // a Python holder: cannot tell
      for (const auto& h : targets)
        if (h.state != HolderState::Stale) return ForceReleaseResult::RefusedAlive;
    }
    switch (info->kind) {
      case PrimitiveKind::Lock:
        cache.erase(key);
        rows.drop_holders(c);
        break;
      case PrimitiveKind::RLock:
        cache.set(key, Value::tuple({Value(), 0}));  // Python's RLock treats count 0 as free
        rows.drop_holders(c);
        break;
      case PrimitiveKind::Semaphore: {
        std::int64_t permits = 0;
        for (const auto& h : targets) {
          permits += h.count;
          rows.set_holder(c, h.id, 0, 0, std::nullopt);
        }
        if (targets.empty()) permits = info->in_use;  // forced, holders unknown: all of them
        const std::int64_t bound = info->bound.value_or(1);
        cache.set(key, std::min(bound, bound - info->in_use + permits));
        break;
      }
      case PrimitiveKind::Averager: return ForceReleaseResult::NotHeld;
      case PrimitiveKind::SharedLock: {
        auto state = detail::SharedLockState::decode(cache.get(key), describe_key(d, key));
        for (const auto& h : targets) {
          if (state.writer && state.writer->holder == h.id) state.writer.reset();
          state.remove_reader(h.id);
          rows.set_holder(c, h.id, 0, 0, std::nullopt);
        }
        if (targets.empty()) {  // forced: every holding (waiting writers keep their place)
          state.writer.reset();
          state.readers.clear();
          rows.drop_holders(c);
        }
        if (state.free())
          cache.erase(key);
        else
          cache.set(key, state.encode());
        for (std::size_t i = 1; i < targets.size(); ++i) rows.record_for(c, info->kind, "force-release", targets[i]);
        wake_writers = true;
        break;
      }
    }
    HolderInfo broken;  // whose hold was broken; unknown for a Python holder
    broken.id = "unknown";
    if (!targets.empty()) broken = targets.front();
    rows.record_for(c, info->kind, "force-release", broken);
    scope.commit();
  }
  d.wake_board().notify(rows.slot());
  if (wake_writers) d.wake_board().notify(detail::shared_lock_writers(rows).slot);
  return ForceReleaseResult::Released;
}

void flush_history(Cache& cache) noexcept { detail::HistoryBuffer::flush_all(detail::impl_of(cache)); }

std::vector<HistoryEvent> primitive_history(Cache& cache, std::int64_t after_id, std::size_t limit,
                                            SkippedRows* skipped) {
  Cache::Impl& d = detail::impl_of(cache);
  detail::HistoryBuffer::flush_all(d);  // this process's own events are visible to it at once
  auto& c = d.conn();
  std::vector<HistoryEvent> out;
  if (!table_exists(c, "diskcache_history")) return out;
  Query q(c,
          "SELECT id, at, key, raw, kind, event, holder, pid, thread, host, waited FROM diskcache_history "
          "WHERE id > ? ORDER BY id LIMIT ?");
  q.bind(1, after_id).bind(2, static_cast<std::int64_t>(limit));
  while (q.step()) {
    read_row(d, skipped, "diskcache_history", q.int64(0), [&] {
      HistoryEvent e;
      e.id = q.int64(0);
      e.at = real_column(q, 1, "at");
      e.key = detail::decode_key(SqlScalar::column(q, 2), int_column(q, 3, "raw"));
      e.kind = kind_column(q, 4);
      e.event = text_column(q, 5, "event");
      e.holder = text_column(q, 6, "holder");
      e.pid = int_column(q, 7, "pid");
      e.thread = int_column(q, 8, "thread");
      e.host = text_column(q, 9, "host");
      e.waited = real_column(q, 10, "waited");
      out.push_back(std::move(e));
    });
  }
  return out;
}

}  // namespace diskcache
