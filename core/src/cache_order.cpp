// Ordered access: key iteration (insertion or sort order), peekitem, and
// the queue operations push/pull/peek, as Python diskcache does them.
#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "cache_impl.hpp"
#include "diskcache/error.hpp"

namespace diskcache {

using detail::Query;
using detail::SqlScalar;
using detail::WriteScope;

namespace {
constexpr std::int64_t kIterBatch = 100;
constexpr std::int64_t kQueueStart = 500000000000000;
constexpr std::int64_t kQueueMax = 999999999999999;

std::optional<std::string> filename_at(const Query& q, int col) {
  if (q.is_null(col)) return std::nullopt;
  return std::string(q.text(col));
}
std::optional<double> real_at(const Query& q, int col) {
  if (q.is_null(col)) return std::nullopt;
  return q.real(col);
}

// A stored key column kept as it is (never decoded or checked), only to
// resume a sorted walk after it, and bound back as the same column.
Value resume_point(const SqlScalar& s) {
  switch (s.kind) {
    case SqlScalar::Integer: return Value(s.i);
    case SqlScalar::Real: return Value(s.d);
    case SqlScalar::Text: return Value::tuple({Value(Bytes(s.s))});  // text: a 1-tuple marks it
    case SqlScalar::Blob: return Value(Bytes(s.s));
    case SqlScalar::Null: break;
  }
  return Value();
}
SqlScalar resume_column(const Value& v) {
  switch (v.type()) {
    case Value::Type::Int: return {SqlScalar::Integer, v.as_int(), 0, {}};
    case Value::Type::Float: return {SqlScalar::Real, 0, v.as_double(), {}};
    case Value::Type::Tuple: return {SqlScalar::Text, 0, 0, v.items()[0].as_bytes().data};
    case Value::Type::Bytes: return {SqlScalar::Blob, 0, 0, v.as_bytes().data};
    default: return {};
  }
}
}  // namespace

// ---------------------------------------------------------------- iteration

KeyIterator::KeyIterator(Cache* cache, Order order)
    : skipped_(std::make_shared<SkippedRows>()), cache_(cache), order_(order) {
  fetch();
}

const SkippedRows& KeyIterator::skipped() const noexcept {
  static const SkippedRows none;
  return skipped_ ? *skipped_ : none;
}

void KeyIterator::report_skips_to(std::shared_ptr<SkippedRows> log) {
  if (!log || log == skipped_) return;
  if (skipped_) log->insert(log->end(), skipped_->begin(), skipped_->end());
  skipped_ = std::move(log);
}

KeyIterator& KeyIterator::operator++() {
  if (++index_ >= batch_.size()) fetch();
  return *this;
}

void KeyIterator::fetch() {
  batch_.clear();
  index_ = 0;
  // A batch of nothing but undecodable rows: fetch on from after them.
  for (rows_seen_ = 1; batch_.empty() && rows_seen_ > 0;) {
    rows_seen_ = 0;
    fetch_batch();
  }
  if (batch_.empty()) cache_ = nullptr;
}

void KeyIterator::fetch_batch() {
  Cache::Impl& d = detail::impl_of(*cache_);
  auto& c = d.conn();
  d.with_context([&] {
    if (order_ == Order::RowidAscending || order_ == Order::RowidDescending) {
      if (!started_) {
        Query q(c, "SELECT MAX(rowid) FROM Cache");
        if (!q.step() || q.is_null(0)) return;
        bound_rowid_ = q.int64(0) + 1;
        last_rowid_ = order_ == Order::RowidAscending ? 0 : bound_rowid_;
        started_ = true;
      }
      const bool asc = order_ == Order::RowidAscending;
      Query q(c, asc ? "SELECT rowid, key, raw FROM Cache WHERE ? < rowid AND rowid < ? ORDER BY rowid ASC LIMIT ?"
                     : "SELECT rowid, key, raw FROM Cache WHERE ? < rowid AND rowid < ? ORDER BY rowid DESC LIMIT ?");
      q.bind(1, asc ? last_rowid_ : std::int64_t{0}).bind(2, asc ? bound_rowid_ : last_rowid_).bind(3, kIterBatch);
      while (q.step()) {
        last_rowid_ = q.int64(0);
        take(last_rowid_, SqlScalar::column(q, 1), q.int64(2));
      }
      return;
    }
    const bool asc = order_ == Order::KeyAscending;
    auto take_rows = [&](Query& q) {
      while (q.step()) {
        const SqlScalar key = SqlScalar::column(q, 1);
        last_raw_ = q.int64(2);
        last_key_ = resume_point(key);
        take(q.int64(0), key, last_raw_);
      }
    };
    if (!started_) {
      started_ = true;
      Query q(c, asc ? "SELECT rowid, key, raw FROM Cache ORDER BY key ASC, raw ASC LIMIT 1"
                     : "SELECT rowid, key, raw FROM Cache ORDER BY key DESC, raw DESC LIMIT 1");
      take_rows(q);
      return;
    }
    Query q(c, asc ? "SELECT rowid, key, raw FROM Cache WHERE key = ? AND raw > ? OR key > ? "
                     "ORDER BY key ASC, raw ASC LIMIT ?"
                   : "SELECT rowid, key, raw FROM Cache WHERE key = ? AND raw < ? OR key < ? "
                     "ORDER BY key DESC, raw DESC LIMIT ?");
    const SqlScalar last = resume_column(last_key_);
    last.bind(q, 1);
    q.bind(2, last_raw_);
    last.bind(q, 3);
    q.bind(4, kIterBatch);
    take_rows(q);
  });
}

void KeyIterator::take(std::int64_t rowid, const detail::SqlScalar& key, std::int64_t raw) {
  ++rows_seen_;
  try {
    batch_.push_back(detail::decode_key(key, raw));
  } catch (const Error& e) {  // CorruptCache or UnsupportedValue: report the row, go on
    skipped_->push_back({detail::impl_of(*cache_).db_path, "Cache", rowid, e.what()});
  }
}

KeyRange Cache::keys(bool reverse) {
  return {KeyIterator(this, reverse ? KeyIterator::Order::RowidDescending : KeyIterator::Order::RowidAscending)};
}

KeyRange Cache::sorted_keys(bool reverse) {
  return {KeyIterator(this, reverse ? KeyIterator::Order::KeyDescending : KeyIterator::Order::KeyAscending)};
}

// ---------------------------------------------------------------- peekitem

Item Cache::peekitem(bool last) {
  impl_->require_writable("peekitem");
  Impl& d = *impl_;
  auto& c = d.conn();
  return d.with_context([&] {
    while (true) {
      std::int64_t raw = 0, mode = 0, size = 0;
      SqlScalar key, tag, value;
      std::optional<double> expire_time;
      std::optional<std::string> filename;
      while (true) {
        WriteScope scope(c, *d.files);
        std::int64_t rowid;
        {
          Query q(c, last ? "SELECT rowid, key, raw, expire_time, tag, mode, filename, value, size FROM Cache "
                            "ORDER BY rowid DESC LIMIT 1"
                          : "SELECT rowid, key, raw, expire_time, tag, mode, filename, value, size FROM Cache "
                            "ORDER BY rowid ASC LIMIT 1");
          if (!q.step()) throw KeyNotFound("peekitem: the cache is empty " + d.where());
          rowid = q.int64(0);
          key = SqlScalar::column(q, 1);
          raw = q.int64(2);
          expire_time = real_at(q, 3);
          tag = SqlScalar::column(q, 4);
          mode = q.int64(5);
          filename = filename_at(q, 6);
          value = SqlScalar::column(q, 7);
          size = q.int64(8);
        }
        if (expire_time && *expire_time < d.now()) {
          Query(c, "DELETE FROM Cache WHERE rowid = ?").bind(1, rowid).run();
          scope.remove_after_commit(filename);
          scope.commit();
          continue;
        }
        scope.commit();
        break;
      }
      auto fetched = detail::fetch_value(static_cast<int>(mode), filename, value, size, *d.files);
      if (!fetched) continue;  // removed meanwhile: look again
      return Item{detail::decode_key(key, raw), std::move(*fetched), expire_time, detail::decode_scalar(tag)};
    }
  });
}

// ---------------------------------------------------------------- queue

namespace {

struct QueueRange {
  SqlScalar min, max;
};

QueueRange queue_range(const std::optional<std::string>& prefix) {
  if (!prefix) return {{SqlScalar::Integer, 0, 0, {}}, {SqlScalar::Integer, kQueueMax, 0, {}}};
  return {{SqlScalar::Text, 0, 0, *prefix + "-000000000000000"}, {SqlScalar::Text, 0, 0, *prefix + "-999999999999999"}};
}

Value queue_key(const std::optional<std::string>& prefix, std::int64_t num) {
  if (!prefix) return Value(num);
  char digits[32];
  std::snprintf(digits, sizeof digits, "%015lld", static_cast<long long>(num));
  return Value(*prefix + "-" + digits);
}

}  // namespace

Value Cache::push(const Value& value, const std::optional<std::string>& prefix, Side side, const SetOptions& options) {
  impl_->require_writable("push");
  Impl& d = *impl_;
  return d.with_context(Value(prefix ? Value(*prefix) : Value()), [&] {
    const double now = d.now();
    const SqlScalar tag = detail::encode_tag(options.tag);
    // A plain double (NaN: never) rather than an optional: GCC 12 took the
    // optional's use for an uninitialised read (-Wmaybe-uninitialized).
    const double expire_time = options.expire ? now + *options.expire : std::numeric_limits<double>::quiet_NaN();
    detail::StoredValue sv = detail::store_value(value, d.settings.min_file_size, *d.files);
    const QueueRange range = queue_range(prefix);
    auto& c = d.conn();
    WriteScope scope(c, *d.files, sv.filename);
    std::int64_t num = kQueueStart;
    {
      Query q(c, side == Side::Back
                     ? "SELECT key FROM Cache WHERE ? < key AND key < ? AND raw = ? ORDER BY key DESC LIMIT 1"
                     : "SELECT key FROM Cache WHERE ? < key AND key < ? AND raw = ? ORDER BY key ASC LIMIT 1");
      range.min.bind(q, 1);
      range.max.bind(q, 2);
      q.bind(3, std::int64_t{1});
      if (q.step()) {
        std::int64_t current;
        if (prefix) {
          const std::string key(q.text(0));
          try {
            current = std::stoll(key.substr(key.rfind('-') + 1));
          } catch (const std::exception&) {
            throw CorruptCache("queue key '" + key.substr(0, 60) + "' has no number after its prefix");
          }
        } else {
          current = q.int64(0);
        }
        num = side == Side::Back ? current + 1 : current - 1;
      }
    }
    const Value key = queue_key(prefix, num);
    const detail::DbKey db_key = detail::encode_key(key);
    Query q(c,
            "INSERT INTO Cache( key, raw, store_time, expire_time, access_time, access_count, tag, size, mode, "
            "filename, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    db_key.key.bind(q, 1);
    q.bind(2, db_key.raw).bind(3, now);
    std::isnan(expire_time) ? (void)q.bind_null(4) : (void)q.bind(4, expire_time);
    q.bind(5, now).bind(6, std::int64_t{0});
    tag.bind(q, 7);
    q.bind(8, sv.size).bind(9, std::int64_t{sv.mode});
    sv.filename ? (void)q.bind_text(10, *sv.filename) : (void)q.bind_null(10);
    sv.value.bind(q, 11);
    q.run();
    d.cull_on_write(c, scope, now);
    scope.commit();
    return key;
  });
}

namespace {

// pull and peek: the first live item at `side`; `remove` deletes it.
std::optional<Item> take_from_queue(Cache::Impl& d, const std::optional<std::string>& prefix, Side side,
                                    bool remove) {
  const QueueRange range = queue_range(prefix);
  auto& c = d.conn();
  while (true) {
    Item item;
    std::int64_t mode = 0, size = 0;
    SqlScalar value;
    std::optional<std::string> filename;
    while (true) {
      WriteScope scope(c, *d.files);
      std::int64_t rowid;
      {
        Query q(c, side == Side::Front
                       ? "SELECT rowid, key, expire_time, tag, mode, filename, value, size FROM Cache WHERE ? < key "
                         "AND key < ? AND raw = 1 ORDER BY key ASC LIMIT 1"
                       : "SELECT rowid, key, expire_time, tag, mode, filename, value, size FROM Cache WHERE ? < key "
                         "AND key < ? AND raw = 1 ORDER BY key DESC LIMIT 1");
        range.min.bind(q, 1);
        range.max.bind(q, 2);
        if (!q.step()) return std::nullopt;
        rowid = q.int64(0);
        item.key = detail::decode_scalar(SqlScalar::column(q, 1));
        item.expire_time = real_at(q, 2);
        item.tag = detail::decode_scalar(SqlScalar::column(q, 3));
        mode = q.int64(4);
        filename = filename_at(q, 5);
        value = SqlScalar::column(q, 6);
        size = q.int64(7);
      }
      const bool expired = item.expire_time && *item.expire_time < d.now();
      if (remove || expired) Query(c, "DELETE FROM Cache WHERE rowid = ?").bind(1, rowid).run();
      if (expired) {
        scope.remove_after_commit(filename);
        scope.commit();
        continue;
      }
      scope.commit();
      break;
    }
    std::optional<Value> fetched;
    try {
      fetched = detail::fetch_value(static_cast<int>(mode), filename, value, size, *d.files);
    } catch (...) {
      if (remove && filename) d.files->remove(*filename);
      throw;
    }
    if (remove && filename) d.files->remove(*filename);
    if (!fetched) continue;  // its file vanished: take the next one
    item.value = std::move(*fetched);
    return item;
  }
}

}  // namespace

std::optional<Item> Cache::pull(const std::optional<std::string>& prefix, Side side) {
  impl_->require_writable("pull");
  return impl_->with_context(Value(prefix ? Value(*prefix) : Value()),
                             [&] { return take_from_queue(*impl_, prefix, side, true); });
}

std::optional<Item> Cache::peek(const std::optional<std::string>& prefix, Side side) {
  impl_->require_writable("peek");
  return impl_->with_context(Value(prefix ? Value(*prefix) : Value()),
                             [&] { return take_from_queue(*impl_, prefix, side, false); });
}

}  // namespace diskcache
