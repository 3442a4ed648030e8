// The side table: rows in cache.db that Python never sees as cache items.
#include "cache_impl.hpp"
#include "diskcache/error.hpp"
#include "diskcache/pickle.hpp"

namespace diskcache {

using detail::Query;

namespace {
bool side_table_exists(detail::Connection& c) {
  Query q(c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'diskcache_side'");
  return q.step();
}
}  // namespace

void Cache::side_put(std::string_view space, const Value& name, const Value& value) {
  impl_->require_writable("side_put");
  Impl& d = *impl_;
  d.with_context(name, [&] {
    auto& c = d.conn();
    detail::WriteScope scope(c, *d.files);
    Query q(c, "INSERT OR REPLACE INTO diskcache_side (space, name, value, updated) VALUES (?, ?, ?, ?)");
    q.bind_text(1, space)
        .bind_blob(2, pickle::encode(name, pickle::Form::Key))
        .bind_blob(3, pickle::encode(value, pickle::Form::Value))
        .bind(4, d.now());
    q.run();
    scope.commit();
  });
}

std::optional<Value> Cache::side_get(std::string_view space, const Value& name) {
  Impl& d = *impl_;
  return d.with_context(name, [&]() -> std::optional<Value> {
    auto& c = d.conn();
    if (!side_table_exists(c)) return std::nullopt;
    Query q(c, "SELECT value FROM diskcache_side WHERE space = ? AND name = ?");
    q.bind_text(1, space).bind_blob(2, pickle::encode(name, pickle::Form::Key));
    if (!q.step()) return std::nullopt;
    return pickle::decode(q.blob(0));
  });
}

bool Cache::side_erase(std::string_view space, const Value& name) {
  impl_->require_writable("side_erase");
  Impl& d = *impl_;
  return d.with_context(name, [&] {
    auto& c = d.conn();
    detail::WriteScope scope(c, *d.files);
    bool found;
    {
      Query q(c, "SELECT 1 FROM diskcache_side WHERE space = ? AND name = ?");
      q.bind_text(1, space).bind_blob(2, pickle::encode(name, pickle::Form::Key));
      found = q.step();
    }
    if (found) {
      Query q(c, "DELETE FROM diskcache_side WHERE space = ? AND name = ?");
      q.bind_text(1, space).bind_blob(2, pickle::encode(name, pickle::Form::Key));
      q.run();
    }
    scope.commit();
    return found;
  });
}

std::vector<std::pair<Value, Value>> Cache::side_list(std::string_view space, SkippedRows* skipped) {
  Impl& d = *impl_;
  std::vector<std::pair<Value, Value>> out;
  auto& c = d.conn();
  if (!side_table_exists(c)) return out;
  Query q(c, "SELECT rowid, name, value FROM diskcache_side WHERE space = ? ORDER BY name");
  q.bind_text(1, space);
  while (q.step()) {
    try {
      out.emplace_back(pickle::decode(q.blob(1)), pickle::decode(q.blob(2)));
    } catch (const Error& e) {
      if (skipped)
        skipped->push_back({d.db_path, "diskcache_side", q.int64(0),
                            "diskcache_side row " + std::to_string(q.int64(0)) + " " + d.where() + ": " + e.what()});
    }
  }
  return out;
}

}  // namespace diskcache
