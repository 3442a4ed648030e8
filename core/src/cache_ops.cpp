// Single-item operations: set, add, get, read, incr, pop, erase, contains,
// touch; plus counters and culling. SQL mirrors Python diskcache's.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <istream>
#include <ostream>

#include "cache_impl.hpp"
#include "diskcache/file_layer.hpp"
#include "diskcache/error.hpp"

namespace diskcache {

using detail::DbKey;
using detail::Query;
using detail::SqlScalar;
using detail::StoredValue;
using detail::WriteScope;

namespace {

void bind_key(Query& q, int index, const DbKey& k) {
  k.key.bind(q, index);
  q.bind(index + 1, k.raw);
}

void bind_optional(Query& q, int index, const std::optional<double>& v) {
  if (v)
    q.bind(index, *v);
  else
    q.bind_null(index);
}

std::optional<double> column_optional(const Query& q, int col) {
  if (q.is_null(col)) return std::nullopt;
  return q.real(col);
}

std::optional<std::string> column_filename(const Query& q, int col) {
  if (q.is_null(col)) return std::nullopt;
  return std::string(q.text(col));
}

void row_update(detail::Connection& c, std::int64_t rowid, double now, const std::optional<double>& expire_time,
                const SqlScalar& tag, const StoredValue& sv) {
  Query q(c,
          "UPDATE Cache SET store_time = ?, expire_time = ?, access_time = ?, access_count = ?, tag = ?, "
          "size = ?, mode = ?, filename = ?, value = ? WHERE rowid = ?");
  q.bind(1, now);
  bind_optional(q, 2, expire_time);
  q.bind(3, now).bind(4, std::int64_t{0});
  tag.bind(q, 5);
  q.bind(6, sv.size).bind(7, std::int64_t{sv.mode});
  sv.filename ? (void)q.bind_text(8, *sv.filename) : (void)q.bind_null(8);
  sv.value.bind(q, 9);
  q.bind(10, rowid);
  q.run();
}

void row_insert(detail::Connection& c, const DbKey& key, double now, const std::optional<double>& expire_time,
                const SqlScalar& tag, const StoredValue& sv) {
  Query q(c,
          "INSERT INTO Cache( key, raw, store_time, expire_time, access_time, access_count, tag, size, mode, "
          "filename, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  bind_key(q, 1, key);
  q.bind(3, now);
  bind_optional(q, 4, expire_time);
  q.bind(5, now).bind(6, std::int64_t{0});
  tag.bind(q, 7);
  q.bind(8, sv.size).bind(9, std::int64_t{sv.mode});
  sv.filename ? (void)q.bind_text(10, *sv.filename) : (void)q.bind_null(10);
  sv.value.bind(q, 11);
  q.run();
}

// The row of a live (unexpired) key.
struct LiveRow {
  std::int64_t rowid;
  std::optional<double> expire_time;
  SqlScalar tag;
  int mode;
  std::optional<std::string> filename;
  SqlScalar value;
  std::int64_t size;
};

std::optional<LiveRow> select_live(detail::Connection& c, const DbKey& encoded, double now) {
  const DbKey key = detail::stored_key(c, encoded);
  Query q(c,
          "SELECT rowid, expire_time, tag, mode, filename, value, size FROM Cache WHERE key = ? AND raw = ? AND "
          "(expire_time IS NULL OR expire_time > ?)");
  bind_key(q, 1, key);
  q.bind(3, now);
  if (!q.step()) return std::nullopt;
  return LiveRow{q.int64(0),
                 column_optional(q, 1),
                 SqlScalar::column(q, 2),
                 static_cast<int>(q.int64(3)),
                 column_filename(q, 4),
                 SqlScalar::column(q, 5),
                 q.int64(6)};
}

const char* policy_cull_filenames(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::LeastRecentlyStored: return "SELECT filename FROM Cache ORDER BY store_time LIMIT ?";
    case EvictionPolicy::LeastRecentlyUsed: return "SELECT filename FROM Cache ORDER BY access_time LIMIT ?";
    case EvictionPolicy::LeastFrequentlyUsed: return "SELECT filename FROM Cache ORDER BY access_count LIMIT ?";
    case EvictionPolicy::None: return nullptr;
  }
  return nullptr;
}

const char* policy_cull_delete(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::LeastRecentlyStored:
      return "DELETE FROM Cache WHERE rowid IN (SELECT rowid FROM Cache ORDER BY store_time LIMIT ?)";
    case EvictionPolicy::LeastRecentlyUsed:
      return "DELETE FROM Cache WHERE rowid IN (SELECT rowid FROM Cache ORDER BY access_time LIMIT ?)";
    case EvictionPolicy::LeastFrequentlyUsed:
      return "DELETE FROM Cache WHERE rowid IN (SELECT rowid FROM Cache ORDER BY access_count LIMIT ?)";
    case EvictionPolicy::None: return nullptr;
  }
  return nullptr;
}

// The statement a get runs on a hit under the eviction policy, if any.
const char* policy_on_get(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::LeastRecentlyUsed: return "UPDATE Cache SET access_time = ? WHERE rowid = ?";
    case EvictionPolicy::LeastFrequentlyUsed:
      return "UPDATE Cache SET access_count = access_count + 1 WHERE rowid = ?";
    default: return nullptr;
  }
}

void bump_counter(detail::Connection& c, bool hit) {
  Query(c, hit ? "UPDATE Settings SET value = value + 1 WHERE key = \"hits\""
               : "UPDATE Settings SET value = value + 1 WHERE key = \"misses\"")
      .run();
}

}  // namespace

void Cache::Impl::cull_on_write(detail::Connection& c, WriteScope& scope, double now) {
  std::int64_t limit = settings.cull_limit;
  if (limit == 0) return;
  std::int64_t expired = 0;
  {
    Query q(c,
            "SELECT filename FROM Cache WHERE expire_time IS NOT NULL AND expire_time < ? ORDER BY expire_time "
            "LIMIT ?");
    q.bind(1, now).bind(2, limit);
    while (q.step()) {
      scope.remove_after_commit(column_filename(q, 0));
      ++expired;
    }
  }
  if (expired) {
    Query q(c,
            "DELETE FROM Cache WHERE rowid IN (SELECT rowid FROM Cache WHERE expire_time IS NOT NULL AND "
            "expire_time < ? ORDER BY expire_time LIMIT ?)");
    q.bind(1, now).bind(2, limit);
    q.run();
    limit -= expired;
    if (limit == 0) return;
  }
  const char* select = policy_cull_filenames(settings.eviction_policy);
  if (!select || volume(c) < settings.size_limit) return;
  {
    Query q(c, select);
    q.bind(1, limit);
    while (q.step()) scope.remove_after_commit(column_filename(q, 0));
  }
  Query del(c, policy_cull_delete(settings.eviction_policy));
  del.bind(1, limit);
  del.run();
}

namespace {

// set/add/set_stream: one row written with an already stored value.
bool write_row(Cache::Impl& d, const DbKey& encoded, StoredValue sv, const SetOptions& options,
               bool only_if_absent, double now) {
  const SqlScalar tag = detail::encode_tag(options.tag);
  const std::optional<double> expire_time =
      options.expire ? std::optional<double>(now + *options.expire) : std::nullopt;
  auto& c = d.conn();
  WriteScope scope(c, *d.files, sv.filename);
  const DbKey key = detail::stored_key(c, encoded);  // Python's row, whichever form it has
  std::optional<std::int64_t> rowid;
  std::optional<std::string> old_file;
  std::optional<double> old_expire;
  {
    Query q(c, "SELECT rowid, filename, expire_time FROM Cache WHERE key = ? AND raw = ?");
    bind_key(q, 1, key);
    if (q.step()) {
      rowid = q.int64(0);
      old_file = column_filename(q, 1);
      old_expire = column_optional(q, 2);
    }
  }
  if (rowid) {
    if (only_if_absent && (!old_expire || *old_expire > now)) return false;  // scope removes the new file
    scope.remove_after_commit(old_file);
    row_update(c, *rowid, now, expire_time, tag, sv);
  } else {
    row_insert(c, key, now, expire_time, tag, sv);
  }
  d.cull_on_write(c, scope, now);
  scope.commit();
  return true;
}

}  // namespace

bool Cache::set(const Value& key, const Value& value, const SetOptions& options) {
  impl_->require_writable("set");
  return impl_->with_context(key, [&] {
    const double now = impl_->now();
    const DbKey k = detail::encode_key(key);
    detail::encode_tag(options.tag);  // validate before writing any file
    return write_row(*impl_, k, detail::store_value(value, impl_->settings.min_file_size, *impl_->files), options,
                     false, now);
  });
}

bool Cache::add(const Value& key, const Value& value, const SetOptions& options) {
  impl_->require_writable("add");
  return impl_->with_context(key, [&] {
    const double now = impl_->now();
    const DbKey k = detail::encode_key(key);
    detail::encode_tag(options.tag);
    return write_row(*impl_, k, detail::store_value(value, impl_->settings.min_file_size, *impl_->files), options,
                     true, now);
  });
}

bool Cache::set_stream(const Value& key, std::istream& in, const SetOptions& options) {
  std::string buffer(std::size_t{1} << 22, '\0');  // 4 MiB, as Python reads
  return set_chunks(
      key,
      [&] {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.bad()) throw IoError("reading the input stream failed", 0);
        return std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount()));
      },
      options);
}

bool Cache::set_chunks(const Value& key, const std::function<std::string_view()>& next_chunk,
                       const SetOptions& options) {
  impl_->require_writable("set_chunks");
  return impl_->with_context(key, [&] {
    const double now = impl_->now();
    const DbKey k = detail::encode_key(key);
    detail::encode_tag(options.tag);
    StoredValue sv;
    sv.mode = detail::kModeBinary;
    sv.filename = impl_->files->write_chunks(next_chunk, sv.size);
    return write_row(*impl_, k, std::move(sv), options, false, now);
  });
}

std::optional<Entry> Cache::get_entry(const Value& key) {
  Impl& d = *impl_;
  return d.with_context(key, [&]() -> std::optional<Entry> {
    const DbKey k = detail::encode_key(key);
    auto& c = d.conn();
    const char* on_hit = policy_on_get(d.settings.eviction_policy);
    const bool stats = d.statistics.load(std::memory_order_relaxed);
    auto make_entry = [&](LiveRow& row) -> std::optional<Entry> {
      auto value = detail::fetch_value(row.mode, row.filename, row.value, row.size, *d.files);
      if (!value) return std::nullopt;  // file deleted meanwhile: a miss
      return Entry{std::move(*value), row.expire_time, detail::decode_scalar(row.tag)};
    };
    if ((!stats && !on_hit) || d.options.read_only) {
      auto row = select_live(c, k, d.now());
      if (!row) return std::nullopt;
      return make_entry(*row);
    }
    WriteScope scope(c, *d.files);
    auto row = select_live(c, k, d.now());
    std::optional<Entry> entry = row ? make_entry(*row) : std::nullopt;
    if (stats) bump_counter(c, entry.has_value());
    if (entry && on_hit) {
      Query q(c, on_hit);
      if (d.settings.eviction_policy == EvictionPolicy::LeastRecentlyUsed) {
        q.bind(1, d.now()).bind(2, row->rowid);
      } else {
        q.bind(1, row->rowid);
      }
      q.run();
    }
    scope.commit();
    return entry;
  });
}

std::optional<Value> Cache::get(const Value& key) {
  auto entry = get_entry(key);
  if (!entry) return std::nullopt;
  return std::move(entry->value);
}

bool Cache::read(const Value& key, std::ostream& out) {
  Impl& d = *impl_;
  return d.with_context(key, [&] {
    auto row = select_live(d.conn(), detail::encode_key(key), d.now());
    if (!row) return false;
    if (row->mode == detail::kModeBinary || row->mode == detail::kModeText) {
      if (!row->filename) throw CorruptCache("file-backed value has no filename");
      return d.files->read_to(*row->filename, row->size, out);
    }
    if (row->mode == detail::kModeRaw &&
        (row->value.kind == SqlScalar::Blob || row->value.kind == SqlScalar::Text)) {
      out.write(row->value.s.data(), static_cast<std::streamsize>(row->value.s.size()));
      return true;
    }
    throw TypeMismatch("read() streams bytes or text values only");
  });
}

std::optional<ValueReader> Cache::open_value(const Value& key) {
  Impl& d = *impl_;
  return d.with_context(key, [&]() -> std::optional<ValueReader> {
    auto row = select_live(d.conn(), detail::encode_key(key), d.now());
    if (!row) return std::nullopt;
    ValueReader reader;
    if (row->mode == detail::kModeBinary || row->mode == detail::kModeText) {
      if (!row->filename) throw CorruptCache("file-backed value has no filename");
      reader.fd_ = d.files->open_sized(*row->filename, row->size);
      reader.layer_ = d.files->layer();
      if (reader.fd_ < 0) return std::nullopt;  // deleted meanwhile: a miss
      reader.path_ = d.files->full_path(*row->filename);
      reader.size_ = row->size;
      return reader;
    }
    if (row->mode == detail::kModeRaw && (row->value.kind == SqlScalar::Blob || row->value.kind == SqlScalar::Text)) {
      reader.inline_ = std::move(row->value.s);
      reader.size_ = static_cast<std::int64_t>(reader.inline_.size());
      return reader;
    }
    throw TypeMismatch("open_value reads bytes or text values only");
  });
}

ValueReader::ValueReader(ValueReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      layer_(std::move(other.layer_)),
      inline_(std::move(other.inline_)),
      path_(std::move(other.path_)),
      size_(other.size_),
      pos_(other.pos_) {}

ValueReader& ValueReader::operator=(ValueReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    layer_ = std::move(other.layer_);
    inline_ = std::move(other.inline_);
    path_ = std::move(other.path_);
    size_ = other.size_;
    pos_ = other.pos_;
  }
  return *this;
}

ValueReader::~ValueReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t ValueReader::read(void* out, std::size_t n) {
  const std::size_t got = read_at(out, n, pos_);
  pos_ += static_cast<std::int64_t>(got);
  return got;
}

std::size_t ValueReader::read_at(void* out, std::size_t n, std::int64_t offset) const {
  if (offset < 0) throw InvalidArgument("ValueReader::read_at: negative offset " + std::to_string(offset));
  if (offset >= size_) return 0;
  n = static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(n), size_ - offset));
  if (fd_ < 0) {
    std::memcpy(out, inline_.data() + offset, n);
    return n;
  }
  std::size_t got = 0;
  while (got < n) {
    const std::int64_t r = layer_->pread(fd_, static_cast<char*>(out) + got, n - got, offset + static_cast<std::int64_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw IoError("read " + path_ + ": " + std::strerror(errno), errno);
    if (r == 0) throw CorruptCache("value file " + path_ + " shrank while being read");
    got += static_cast<std::size_t>(r);
  }
  return n;
}

std::int64_t Cache::incr(const Value& key, std::int64_t delta, std::optional<std::int64_t> default_value) {
  impl_->require_writable("incr");
  Impl& d = *impl_;
  return d.with_context(key, [&] {
    const double now = d.now();
    auto& c = d.conn();
    WriteScope scope(c, *d.files);
    const DbKey k = detail::stored_key(c, detail::encode_key(key));
    auto checked_add = [&](std::int64_t a) {
      std::int64_t out;
      if (__builtin_add_overflow(a, delta, &out))
        throw UnsupportedValue("incr: " + std::to_string(a) + " + " + std::to_string(delta) + " leaves int64");
      return out;
    };
    auto start_fresh = [&](std::optional<std::int64_t> rowid, const std::optional<std::string>& old_file) {
      if (!default_value) throw KeyNotFound("incr: key not found and no default");
      const std::int64_t value = checked_add(*default_value);
      StoredValue sv;
      sv.value = {SqlScalar::Integer, value, 0, {}};
      if (rowid) {
        row_update(c, *rowid, now, std::nullopt, SqlScalar{}, sv);
        scope.remove_after_commit(old_file);
      } else {
        row_insert(c, k, now, std::nullopt, SqlScalar{}, sv);
      }
      d.cull_on_write(c, scope, now);
      scope.commit();
      return value;
    };
    std::int64_t rowid, current;
    {
      Query q(c, "SELECT rowid, expire_time, filename, value, mode FROM Cache WHERE key = ? AND raw = ?");
      bind_key(q, 1, k);
      if (!q.step()) return start_fresh(std::nullopt, std::nullopt);
      rowid = q.int64(0);
      const auto expire = column_optional(q, 1);
      if (expire && *expire < now) return start_fresh(rowid, column_filename(q, 2));
      if (q.int64(4) != detail::kModeRaw || q.column_type(3) != SQLITE_INTEGER)
        throw TypeMismatch("incr: the stored value is not an integer");
      current = q.int64(3);
    }
    const std::int64_t value = checked_add(current);
    switch (d.settings.eviction_policy) {
      case EvictionPolicy::LeastRecentlyUsed: {
        Query u(c, "UPDATE Cache SET store_time = ?, value = ?, access_time = ? WHERE rowid = ?");
        u.bind(1, now).bind(2, value).bind(3, now).bind(4, rowid).run();
        break;
      }
      case EvictionPolicy::LeastFrequentlyUsed: {
        Query u(c, "UPDATE Cache SET store_time = ?, value = ?, access_count = access_count + 1 WHERE rowid = ?");
        u.bind(1, now).bind(2, value).bind(3, rowid).run();
        break;
      }
      default: {
        Query u(c, "UPDATE Cache SET store_time = ?, value = ? WHERE rowid = ?");
        u.bind(1, now).bind(2, value).bind(3, rowid).run();
      }
    }
    scope.commit();
    return value;
  });
}

std::int64_t Cache::decr(const Value& key, std::int64_t delta, std::optional<std::int64_t> default_value) {
  if (delta == INT64_MIN) throw InvalidArgument("decr: delta out of range");
  return incr(key, -delta, default_value);
}

std::optional<Entry> Cache::pop_entry(const Value& key) {
  impl_->require_writable("pop");
  Impl& d = *impl_;
  return d.with_context(key, [&]() -> std::optional<Entry> {
    const DbKey k = detail::encode_key(key);
    auto& c = d.conn();
    const std::optional<LiveRow> row = d.freeing_space([&]() -> std::optional<LiveRow> {
      WriteScope scope(c, *d.files);
      auto live = select_live(c, k, d.now());
      if (!live) return std::nullopt;
      Query(c, "DELETE FROM Cache WHERE rowid = ?").bind(1, live->rowid).run();
      scope.commit();
      return live;
    });
    if (!row) return std::nullopt;
    // The row is gone; its file (if any) is ours to read and then remove.
    struct RemoveFile {
      detail::ValueFiles& files;
      const std::optional<std::string>& name;
      ~RemoveFile() {
        if (name) files.remove(*name);
      }
    } remove_file{*d.files, row->filename};
    auto value = detail::fetch_value(row->mode, row->filename, row->value, row->size, *d.files);
    if (!value) return std::nullopt;
    return Entry{std::move(*value), row->expire_time, detail::decode_scalar(row->tag)};
  });
}

std::optional<Value> Cache::pop(const Value& key) {
  auto entry = pop_entry(key);
  if (!entry) return std::nullopt;
  return std::move(entry->value);
}

bool Cache::erase(const Value& key) {
  impl_->require_writable("erase");
  Impl& d = *impl_;
  return d.with_context(key, [&] {
    return d.freeing_space([&] {
      auto& c = d.conn();
      WriteScope scope(c, *d.files);
      const DbKey k = detail::stored_key(c, detail::encode_key(key));
      std::int64_t rowid;
      {
        Query q(c,
                "SELECT rowid, filename FROM Cache WHERE key = ? AND raw = ? AND (expire_time IS NULL OR "
                "expire_time > ?)");
        bind_key(q, 1, k);
        q.bind(3, d.now());
        if (!q.step()) return false;
        rowid = q.int64(0);
        scope.remove_after_commit(column_filename(q, 1));
      }
      Query(c, "DELETE FROM Cache WHERE rowid = ?").bind(1, rowid).run();
      scope.commit();
      return true;
    });
  });
}

bool Cache::contains(const Value& key) {
  Impl& d = *impl_;
  return d.with_context(key, [&] {
    const DbKey k = detail::stored_key(d.conn(), detail::encode_key(key));
    Query q(d.conn(),
            "SELECT rowid FROM Cache WHERE key = ? AND raw = ? AND (expire_time IS NULL OR expire_time > ?)");
    bind_key(q, 1, k);
    q.bind(3, d.now());
    return q.step();
  });
}

bool Cache::touch(const Value& key, std::optional<double> expire) {
  impl_->require_writable("touch");
  Impl& d = *impl_;
  return d.with_context(key, [&] {
    const double now = d.now();
    auto& c = d.conn();
    WriteScope scope(c, *d.files);
    const DbKey k = detail::stored_key(c, detail::encode_key(key));
    std::int64_t rowid;
    {
      Query q(c, "SELECT rowid, expire_time FROM Cache WHERE key = ? AND raw = ?");
      bind_key(q, 1, k);
      if (!q.step()) return false;
      const auto old_expire = column_optional(q, 1);
      if (old_expire && *old_expire <= now) return false;
      rowid = q.int64(0);
    }
    Query u(c, "UPDATE Cache SET expire_time = ? WHERE rowid = ?");
    bind_optional(u, 1, expire ? std::optional<double>(now + *expire) : std::nullopt);
    u.bind(2, rowid).run();
    scope.commit();
    return true;
  });
}

std::int64_t Cache::size() { return impl_->setting_int(impl_->conn(), "count"); }

std::int64_t Cache::volume() { return impl_->volume(impl_->conn()); }

Stats Cache::stats(bool enable, bool reset) {
  Impl& d = *impl_;
  auto& c = d.conn();
  Stats out{d.setting_int(c, "hits"), d.setting_int(c, "misses")};
  if (d.options.read_only) return out;
  WriteScope scope(c, *d.files);
  if (reset) Query(c, "UPDATE Settings SET value = 0 WHERE key IN ('hits', 'misses')").run();
  Query(c, "UPDATE Settings SET value = ? WHERE key = 'statistics'").bind(1, std::int64_t{enable}).run();
  scope.commit();
  d.statistics = enable;
  return out;
}

void Cache::create_tag_index() {
  impl_->require_writable("create_tag_index");
  auto& c = impl_->conn();
  WriteScope scope(c, *impl_->files);
  c.exec("CREATE INDEX IF NOT EXISTS Cache_tag_rowid ON Cache(tag, rowid)");
  Query(c, "UPDATE Settings SET value = 1 WHERE key = 'tag_index'").run();
  scope.commit();
  impl_->tag_index = true;
}

void Cache::drop_tag_index() {
  impl_->require_writable("drop_tag_index");
  auto& c = impl_->conn();
  WriteScope scope(c, *impl_->files);
  c.exec("DROP INDEX IF EXISTS Cache_tag_rowid");
  Query(c, "UPDATE Settings SET value = 0 WHERE key = 'tag_index'").run();
  scope.commit();
  impl_->tag_index = false;
}

}  // namespace diskcache
