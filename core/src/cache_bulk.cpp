// Bulk operations: expire, evict, clear, cull (in batches of 100 rows, one
// transaction each, so other processes get turns) and check.
#include <sqlite3.h>

#include <set>

#include "cache_impl.hpp"
#include "diskcache/error.hpp"

namespace diskcache {

using detail::Query;
using detail::SqlScalar;
using detail::WriteScope;

namespace {

constexpr std::int64_t kBatch = 100;

std::optional<std::string> filename_at(const Query& q, int col) {
  if (q.is_null(col)) return std::nullopt;
  return std::string(q.text(col));
}

// Python's _select_delete: repeatedly selects up to 100 rows with
// `select_rows` (which binds its own arguments and returns the rowids and
// filenames, from where its last committed batch ended), deletes them in one
// transaction, calls `committed()` (the selector moves on), and reports
// progress. A batch that fails for a full disk runs again with the reserve
// given back (Impl::freeing_space).
template <class SelectRows, class Committed>
std::int64_t select_delete(Cache::Impl& d, std::int64_t expected, const Progress& progress, SelectRows select_rows,
                           Committed committed) {
  std::int64_t count = 0;
  auto& c = d.conn();
  try {
    while (true) {
      const std::size_t removed = d.freeing_space([&] {
        WriteScope scope(c, *d.files);
        std::vector<std::pair<std::int64_t, std::optional<std::string>>> rows = select_rows(c);
        for (const auto& [rowid, filename] : rows) {
          Query(c, "DELETE FROM Cache WHERE rowid = ?").bind(1, rowid).run();
          scope.remove_after_commit(filename);
        }
        scope.commit();
        return rows.size();
      });
      if (removed == 0) break;
      committed();
      count += static_cast<std::int64_t>(removed);
      if (progress) progress(count, std::max(expected, count));
    }
  } catch (const Timeout& e) {
    throw Timeout(std::string(e.what()) + " " + d.where() + " after removing " + std::to_string(count) + " items",
                  count);
  }
  return count;
}

std::int64_t count_where(detail::Connection& c, const char* sql, const std::function<void(Query&)>& bind) {
  Query q(c, sql);
  bind(q);
  return q.step() ? q.int64(0) : 0;
}

}  // namespace

std::int64_t Cache::clear(const Progress& progress) {
  impl_->require_writable("clear");
  std::int64_t last = 0, pending = 0;
  return select_delete(
      *impl_, size(), progress,
      [&](detail::Connection& c) {
        std::vector<std::pair<std::int64_t, std::optional<std::string>>> rows;
        Query q(c, "SELECT rowid, filename FROM Cache WHERE rowid > ? ORDER BY rowid LIMIT ?");
        q.bind(1, last).bind(2, kBatch);
        while (q.step()) rows.emplace_back(q.int64(0), filename_at(q, 1));
        if (!rows.empty()) pending = rows.back().first;
        return rows;
      },
      [&] { last = pending; });
}

std::int64_t Cache::evict(const Value& tag, const Progress& progress) {
  impl_->require_writable("evict");
  const SqlScalar db_tag = detail::encode_tag(tag);
  const std::int64_t expected = count_where(impl_->conn(), "SELECT COUNT(*) FROM Cache WHERE tag = ?",
                                            [&](Query& q) { db_tag.bind(q, 1); });
  std::int64_t last = 0, pending = 0;
  return select_delete(
      *impl_, expected, progress,
      [&](detail::Connection& c) {
        std::vector<std::pair<std::int64_t, std::optional<std::string>>> rows;
        Query q(c, "SELECT rowid, filename FROM Cache WHERE tag = ? AND rowid > ? ORDER BY rowid LIMIT ?");
        db_tag.bind(q, 1);
        q.bind(2, last).bind(3, kBatch);
        while (q.step()) rows.emplace_back(q.int64(0), filename_at(q, 1));
        if (!rows.empty()) pending = rows.back().first;
        return rows;
      },
      [&] { last = pending; });
}

std::int64_t Cache::expire(std::optional<double> now, const Progress& progress) {
  impl_->require_writable("expire");
  const double until = now ? *now : impl_->now();
  const std::int64_t expected =
      count_where(impl_->conn(), "SELECT COUNT(*) FROM Cache WHERE 0 < expire_time AND expire_time < ?",
                  [&](Query& q) { q.bind(1, until); });
  double last = 0, pending = 0;
  return select_delete(
      *impl_, expected, progress,
      [&](detail::Connection& c) {
        std::vector<std::pair<std::int64_t, std::optional<std::string>>> rows;
        Query q(c,
                "SELECT rowid, expire_time, filename FROM Cache WHERE ? < expire_time AND expire_time < ? ORDER BY "
                "expire_time LIMIT ?");
        q.bind(1, last).bind(2, until).bind(3, kBatch);
        while (q.step()) {
          rows.emplace_back(q.int64(0), filename_at(q, 2));
          pending = q.real(1);
        }
        return rows;
      },
      [&] { last = pending; });
}

std::int64_t Cache::cull(const Progress& progress) {
  impl_->require_writable("cull");
  Impl& d = *impl_;
  const double now = d.now();
  std::int64_t count = expire(now, progress);
  const char* select = nullptr;
  switch (d.settings.eviction_policy) {
    case EvictionPolicy::LeastRecentlyStored:
      select = "SELECT rowid, filename FROM Cache ORDER BY store_time LIMIT 10";
      break;
    case EvictionPolicy::LeastRecentlyUsed:
      select = "SELECT rowid, filename FROM Cache ORDER BY access_time LIMIT 10";
      break;
    case EvictionPolicy::LeastFrequentlyUsed:
      select = "SELECT rowid, filename FROM Cache ORDER BY access_count LIMIT 10";
      break;
    case EvictionPolicy::None: return count;
  }
  auto& c = d.conn();
  try {
    while (d.volume(c) > d.settings.size_limit) {
      const std::size_t removed = d.freeing_space([&] {
        WriteScope scope(c, *d.files);
        std::vector<std::int64_t> rowids;
        {
          Query q(c, select);
          while (q.step()) {
            rowids.push_back(q.int64(0));
            scope.remove_after_commit(filename_at(q, 1));
          }
        }
        for (std::int64_t rowid : rowids) Query(c, "DELETE FROM Cache WHERE rowid = ?").bind(1, rowid).run();
        scope.commit();
        return rowids.size();
      });
      if (removed == 0) break;
      count += static_cast<std::int64_t>(removed);
      if (progress) progress(count, count + size());
    }
  } catch (const Timeout& e) {
    throw Timeout(std::string(e.what()) + " " + d.where() + " after culling " + std::to_string(count) + " items",
                  count);
  }
  return count;
}

std::vector<std::string> Cache::check(bool fix, const Progress& progress) {
  if (fix) impl_->require_writable("check(fix=true)");
  Impl& d = *impl_;
  auto& c = d.conn();
  std::vector<std::string> warnings;
  {
    Query q(c, "PRAGMA integrity_check");
    std::vector<std::string> rows;
    while (q.step()) rows.emplace_back(q.text(0));
    if (rows.size() != 1 || rows[0] != "ok")
      for (auto& r : rows) warnings.push_back("integrity: " + r);
  }
  for (const auto& pragma : d.settings.ignored_pragmas)
    warnings.push_back("unsupported pragma setting ignored (never executed): Settings." + pragma);
  if (fix) {
    if (c.tx().open()) throw Error("check(fix=true) cannot run inside a transaction " + d.where());
    c.exec("VACUUM");
  }

  std::optional<WriteScope> scope;
  if (!d.options.read_only) scope.emplace(c, *d.files);
  std::set<std::string> referenced;
  {
    const std::int64_t total = size();
    std::int64_t done = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> resize;  // rowid, real size
    std::vector<std::int64_t> drop;
    {
      Query q(c, "SELECT rowid, size, filename FROM Cache WHERE filename IS NOT NULL");
      while (q.step()) {
        const std::int64_t rowid = q.int64(0), size = q.int64(1);
        const std::string name(q.text(2));
        const std::string path = d.files->full_path(name);
        if (++done % 1000 == 0 && progress) progress(done, total);
        if (!detail::ValueFiles::valid_name(name)) {
          warnings.push_back("invalid filename in row " + std::to_string(rowid) + ": '" + name.substr(0, 80) + "'");
          drop.push_back(rowid);
          continue;
        }
        referenced.insert(name);
        std::int64_t real = -1;
        try {
          real = d.files->file_size(name);
        } catch (const Error& e) {
          warnings.push_back(e.what());
          drop.push_back(rowid);
          continue;
        }
        if (real < 0) {
          warnings.push_back("file not found: " + path);
          drop.push_back(rowid);
        } else if (real != size) {
          warnings.push_back("wrong file size: " + path + ", " + std::to_string(real) + " != " + std::to_string(size));
          resize.emplace_back(rowid, real);
        }
      }
    }
    if (fix) {
      for (std::int64_t rowid : drop) Query(c, "DELETE FROM Cache WHERE rowid = ?").bind(1, rowid).run();
      for (auto [rowid, real] : resize)
        Query(c, "UPDATE Cache SET size = ? WHERE rowid = ?").bind(1, real).bind(2, rowid).run();
    }
    if (progress) progress(total, total);
  }

  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(d.dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string rel = fs::relative(p, d.dir).generic_string();
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      dirs.push_back(p);
      continue;
    }
    if (rel.find("cache.db") != std::string::npos || referenced.count(rel)) continue;
    warnings.push_back("unknown file: " + p.string());
    if (fix) fs::remove(p, ec);  // unlinks a symlink itself, never its target
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (fs::is_empty(*it, ec)) {
      warnings.push_back("empty directory: " + it->string());
      if (fix) fs::remove(*it, ec);
    }
  }

  auto compare = [&](const char* name, const char* actual_sql) {
    const std::int64_t stored = d.setting_int(c, name);
    Query q(c, actual_sql);
    const std::int64_t actual = q.step() ? q.int64(0) : 0;
    if (stored != actual) {
      warnings.push_back(std::string("Settings.") + name + " != actual; " + std::to_string(stored) +
                         " != " + std::to_string(actual));
      if (fix) Query(c, "UPDATE Settings SET value = ? WHERE key = ?").bind(1, actual).bind_text(2, name).run();
    }
  };
  compare("count", "SELECT COUNT(key) FROM Cache");
  compare("size", "SELECT COALESCE(SUM(size), 0) FROM Cache");
  if (scope) scope->commit();
  return warnings;
}

}  // namespace diskcache
