#include "schema.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "diskcache/error.hpp"

namespace diskcache::detail {
namespace {

const char* const kJournalModes[] = {"delete", "truncate", "persist", "memory", "wal", "off"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string describe(const SqlScalar& s) {
  switch (s.kind) {
    case SqlScalar::Null: return "NULL";
    case SqlScalar::Integer: return "integer " + std::to_string(s.i);
    case SqlScalar::Real: return "real " + std::to_string(s.d);
    case SqlScalar::Text: return "text '" + s.s.substr(0, 40) + "'";
    case SqlScalar::Blob: return "blob";
  }
  return "?";
}

class StoredReader {
 public:
  StoredReader(const std::map<std::string, SqlScalar>& stored, const std::string& db_path)
      : stored_(stored), db_path_(db_path) {}

  void integer(const char* key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    auto it = stored_.find(key);
    if (it == stored_.end()) return;
    const SqlScalar& s = it->second;
    std::int64_t v;
    if (s.kind == SqlScalar::Integer) {
      v = s.i;
    } else if (s.kind == SqlScalar::Real && s.d >= -9.2e18 && s.d <= 9.2e18) {
      v = static_cast<std::int64_t>(s.d);  // FanoutCache stores size_limit / shards as REAL
    } else {
      fail(key, s, "an integer");
    }
    if (v < min || v > max) fail(key, s, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    out = v;
  }
  void boolean(const char* key, bool& out) {
    std::int64_t v = out;
    integer(key, v, 0, 1);
    out = v != 0;
  }
  void text(const char* key, std::string& out) {
    auto it = stored_.find(key);
    if (it == stored_.end()) return;
    if (it->second.kind != SqlScalar::Text) fail(key, it->second, "text");
    out = it->second.s;
  }
  [[noreturn]] void fail(const std::string& key, const SqlScalar& s, const std::string& expected) {
    throw CorruptCache("Settings." + key + " in " + db_path_ + " holds " + describe(s) + "; expected " + expected);
  }

 private:
  const std::map<std::string, SqlScalar>& stored_;
  const std::string& db_path_;
};

void check_opener(bool ok, const std::string& what) {
  if (!ok) throw InvalidArgument("invalid setting: " + what);
}

bool is_journal_mode(const std::string& mode) {
  return std::find(std::begin(kJournalModes), std::end(kJournalModes), mode) != std::end(kJournalModes);
}

// The rows a resolved configuration stores in Settings, in Python's types.
std::vector<std::pair<std::string, SqlScalar>> settings_rows(const ResolvedSettings& s) {
  auto integer = [](std::int64_t v) { return SqlScalar{SqlScalar::Integer, v, 0, {}}; };
  auto text = [](std::string v) { return SqlScalar{SqlScalar::Text, 0, 0, std::move(v)}; };
  return {
      {"statistics", integer(s.statistics)},
      {"tag_index", integer(s.tag_index)},
      {"eviction_policy", text(std::string(to_string(s.eviction_policy)))},
      {"size_limit", integer(s.size_limit)},
      {"cull_limit", integer(s.cull_limit)},
      {"sqlite_auto_vacuum", integer(s.sqlite_auto_vacuum)},
      {"sqlite_cache_size", integer(s.sqlite_cache_size)},
      {"sqlite_journal_mode", text(s.sqlite_journal_mode)},
      {"sqlite_mmap_size", integer(s.sqlite_mmap_size)},
      {"sqlite_synchronous", integer(s.sqlite_synchronous)},
      {"disk_min_file_size", integer(s.min_file_size)},
      {"disk_pickle_protocol", integer(s.pickle_protocol)},
  };
}

bool same(const SqlScalar& a, const SqlScalar& b) {
  if (a.kind == SqlScalar::Real && b.kind == SqlScalar::Integer) return a.d == static_cast<double>(b.i);
  if (a.kind != b.kind) return false;
  return a.i == b.i && a.d == b.d && a.s == b.s;
}

// Python's statements, byte for byte where SQLite keeps the text.
const char* const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS Cache ( rowid INTEGER PRIMARY KEY, key BLOB, raw INTEGER, store_time REAL, "
    "expire_time REAL, access_time REAL, access_count INTEGER DEFAULT 0, tag BLOB, size INTEGER DEFAULT 0, "
    "mode INTEGER DEFAULT 0, filename TEXT, value BLOB)",
    "CREATE UNIQUE INDEX IF NOT EXISTS Cache_key_raw ON Cache(key, raw)",
    "CREATE INDEX IF NOT EXISTS Cache_expire_time ON Cache (expire_time)",
    "CREATE TRIGGER IF NOT EXISTS Settings_count_insert AFTER INSERT ON Cache FOR EACH ROW BEGIN UPDATE Settings "
    "SET value = value + 1 WHERE key = \"count\"; END",
    "CREATE TRIGGER IF NOT EXISTS Settings_count_delete AFTER DELETE ON Cache FOR EACH ROW BEGIN UPDATE Settings "
    "SET value = value - 1 WHERE key = \"count\"; END",
    "CREATE TRIGGER IF NOT EXISTS Settings_size_insert AFTER INSERT ON Cache FOR EACH ROW BEGIN UPDATE Settings "
    "SET value = value + NEW.size WHERE key = \"size\"; END",
    "CREATE TRIGGER IF NOT EXISTS Settings_size_update AFTER UPDATE ON Cache FOR EACH ROW BEGIN UPDATE Settings "
    "SET value = value + NEW.size - OLD.size WHERE key = \"size\"; END",
    "CREATE TRIGGER IF NOT EXISTS Settings_size_delete AFTER DELETE ON Cache FOR EACH ROW BEGIN UPDATE Settings "
    "SET value = value - OLD.size WHERE key = \"size\"; END",
    // This library's side tables: ignored by Python, never cache items.
    "CREATE TABLE IF NOT EXISTS diskcache_meta (key TEXT PRIMARY KEY, value)",
    "CREATE TABLE IF NOT EXISTS diskcache_side (space TEXT NOT NULL, name BLOB NOT NULL, value BLOB, "
    "updated REAL, PRIMARY KEY (space, name))",
    // Version 2: primitives, their holders, and the bounded history.
    "CREATE TABLE IF NOT EXISTS diskcache_primitives (key BLOB NOT NULL, raw INTEGER NOT NULL, kind TEXT NOT NULL, "
    "bound INTEGER, registered REAL, PRIMARY KEY (key, raw))",
    "CREATE TABLE IF NOT EXISTS diskcache_holders (key BLOB NOT NULL, raw INTEGER NOT NULL, holder TEXT NOT NULL, "
    "host TEXT, boot_id TEXT, pid_ns INTEGER, pid INTEGER, start_time INTEGER, thread INTEGER, acquired_at REAL, "
    "expires_at REAL, count INTEGER NOT NULL, PRIMARY KEY (key, raw, holder))",
    "CREATE TABLE IF NOT EXISTS diskcache_history (id INTEGER PRIMARY KEY, at REAL, key BLOB, raw INTEGER, "
    "kind TEXT, event TEXT, holder TEXT, pid INTEGER, thread INTEGER, host TEXT, waited REAL)",
};

const char* policy_index(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::LeastRecentlyStored:
      return "CREATE INDEX IF NOT EXISTS Cache_store_time ON Cache (store_time)";
    case EvictionPolicy::LeastRecentlyUsed:
      return "CREATE INDEX IF NOT EXISTS Cache_access_time ON Cache (access_time)";
    case EvictionPolicy::LeastFrequentlyUsed:
      return "CREATE INDEX IF NOT EXISTS Cache_access_count ON Cache (access_count)";
    case EvictionPolicy::None: return nullptr;
  }
  return nullptr;
}

}  // namespace

std::map<std::string, SqlScalar> read_settings(Connection& conn) {
  std::map<std::string, SqlScalar> out;
  {
    Query exists(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Settings'");
    if (!exists.step()) return out;
  }
  Query q(conn, "SELECT key, value FROM Settings");
  while (q.step()) out[std::string(q.text(0))] = SqlScalar::column(q, 1);
  return out;
}

bool has_cache_table(Connection& conn) {
  Query q(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Cache'");
  return q.step();
}

ResolvedSettings resolve_settings(const std::map<std::string, SqlScalar>& stored, const Settings& opener,
                                  const std::string& db_path) {
  ResolvedSettings s;
  StoredReader r(stored, db_path);
  constexpr std::int64_t kMax = INT64_MAX;
  r.integer("size_limit", s.size_limit, 0, kMax);
  r.integer("cull_limit", s.cull_limit, 0, kMax);
  r.boolean("statistics", s.statistics);
  r.boolean("tag_index", s.tag_index);
  r.integer("disk_min_file_size", s.min_file_size, 0, kMax);
  r.integer("disk_pickle_protocol", s.pickle_protocol, 0, 5);
  r.integer("sqlite_auto_vacuum", s.sqlite_auto_vacuum, 0, 2);
  r.integer("sqlite_cache_size", s.sqlite_cache_size, INT32_MIN, INT32_MAX);
  r.integer("sqlite_mmap_size", s.sqlite_mmap_size, 0, kMax);
  r.integer("sqlite_synchronous", s.sqlite_synchronous, 0, 3);
  std::string policy(to_string(s.eviction_policy));
  r.text("eviction_policy", policy);
  if (auto p = parse_eviction_policy(policy)) {
    s.eviction_policy = *p;
  } else {
    r.fail("eviction_policy", stored.at("eviction_policy"), "one of Python's four policy names");
  }
  r.text("sqlite_journal_mode", s.sqlite_journal_mode);
  s.sqlite_journal_mode = lower(s.sqlite_journal_mode);
  if (!is_journal_mode(s.sqlite_journal_mode))
    r.fail("sqlite_journal_mode", stored.at("sqlite_journal_mode"), "a SQLite journal mode");
  for (const auto& [key, value] : stored) {
    if (key.rfind("sqlite_", 0) != 0) continue;
    static const char* const known[] = {"sqlite_auto_vacuum", "sqlite_cache_size", "sqlite_journal_mode",
                                        "sqlite_mmap_size", "sqlite_synchronous"};
    if (std::find(std::begin(known), std::end(known), key) == std::end(known)) s.ignored_pragmas.push_back(key);
  }

  if (opener.size_limit) {
    check_opener(*opener.size_limit >= 0, "size_limit must be >= 0");
    s.size_limit = *opener.size_limit;
  }
  if (opener.cull_limit) {
    check_opener(*opener.cull_limit >= 0, "cull_limit must be >= 0");
    s.cull_limit = *opener.cull_limit;
  }
  if (opener.min_file_size) {
    check_opener(*opener.min_file_size >= 0, "min_file_size must be >= 0");
    s.min_file_size = *opener.min_file_size;
  }
  if (opener.eviction_policy) s.eviction_policy = *opener.eviction_policy;
  if (opener.statistics) s.statistics = *opener.statistics;
  if (opener.tag_index) s.tag_index = *opener.tag_index;
  if (opener.sqlite_auto_vacuum) {
    check_opener(*opener.sqlite_auto_vacuum >= 0 && *opener.sqlite_auto_vacuum <= 2, "sqlite_auto_vacuum in 0..2");
    s.sqlite_auto_vacuum = *opener.sqlite_auto_vacuum;
  }
  if (opener.sqlite_cache_size) {
    check_opener(*opener.sqlite_cache_size >= INT32_MIN && *opener.sqlite_cache_size <= INT32_MAX,
                 "sqlite_cache_size out of range");
    s.sqlite_cache_size = *opener.sqlite_cache_size;
  }
  if (opener.sqlite_mmap_size) {
    check_opener(*opener.sqlite_mmap_size >= 0, "sqlite_mmap_size must be >= 0");
    s.sqlite_mmap_size = *opener.sqlite_mmap_size;
  }
  if (opener.sqlite_synchronous) {
    check_opener(*opener.sqlite_synchronous >= 0 && *opener.sqlite_synchronous <= 3, "sqlite_synchronous in 0..3");
    s.sqlite_synchronous = *opener.sqlite_synchronous;
  }
  if (opener.sqlite_journal_mode) {
    const std::string mode = lower(*opener.sqlite_journal_mode);
    check_opener(is_journal_mode(mode), "sqlite_journal_mode '" + mode + "' is not a SQLite journal mode");
    s.sqlite_journal_mode = mode;
  }
  return s;
}

namespace {

// True when opening must write: a table, index or trigger is missing, the
// tag index is in the wrong state, or a Settings row differs. Opening an
// up-to-date cache then never waits for another process's write lock.
bool schema_needs_write(Connection& conn, const ResolvedSettings& settings,
                        const std::map<std::string, SqlScalar>& stored) {
  std::set<std::string> names;
  {
    Query q(conn, "SELECT name FROM sqlite_master");
    while (q.step()) names.emplace(q.text(0));
  }
  for (const char* name : {"Settings", "Cache", "Cache_key_raw", "Cache_expire_time", "Settings_count_insert",
                           "Settings_count_delete", "Settings_size_insert", "Settings_size_update",
                           "Settings_size_delete", "diskcache_meta", "diskcache_side", "diskcache_primitives",
                           "diskcache_holders", "diskcache_history"})
    if (!names.count(name)) return true;
  if (names.count("Cache_tag_rowid") != static_cast<std::size_t>(settings.tag_index)) return true;
  const std::map<EvictionPolicy, const char*> policy_index_names{
      {EvictionPolicy::LeastRecentlyStored, "Cache_store_time"},
      {EvictionPolicy::LeastRecentlyUsed, "Cache_access_time"},
      {EvictionPolicy::LeastFrequentlyUsed, "Cache_access_count"}};
  if (auto it = policy_index_names.find(settings.eviction_policy);
      it != policy_index_names.end() && !names.count(it->second))
    return true;
  for (const char* counter : {"count", "size", "hits", "misses"})
    if (!stored.count(counter)) return true;
  for (const auto& [key, value] : settings_rows(settings)) {
    auto it = stored.find(key);
    if (it == stored.end() || !same(it->second, value)) return true;
  }
  return false;
}

}  // namespace

void create_schema(Connection& conn, const ResolvedSettings& settings,
                   const std::map<std::string, SqlScalar>& stored) {
  if (!schema_needs_write(conn, settings, stored)) return;
  WriteScope scope(conn);  // rolls back if anything below throws
  conn.exec("CREATE TABLE IF NOT EXISTS Settings ( key TEXT NOT NULL UNIQUE, value)");
  for (const auto& [key, value] : settings_rows(settings)) {
    auto it = stored.find(key);
    if (it != stored.end() && same(it->second, value)) continue;
    Query q(conn, "INSERT OR REPLACE INTO Settings VALUES (?, ?)");
    q.bind_text(1, key);
    value.bind(q, 2);
    q.run();
  }
  for (const char* counter : {"count", "size", "hits", "misses"}) {
    Query q(conn, "INSERT OR IGNORE INTO Settings VALUES (?, 0)");
    q.bind_text(1, counter);
    q.run();
  }
  for (const char* sql : kSchema) conn.exec(sql);
  if (const char* index = policy_index(settings.eviction_policy)) conn.exec(index);
  conn.exec(settings.tag_index ? "CREATE INDEX IF NOT EXISTS Cache_tag_rowid ON Cache(tag, rowid)"
                               : "DROP INDEX IF EXISTS Cache_tag_rowid");
  {
    Query q(conn,
            "INSERT INTO diskcache_meta VALUES ('side_schema_version', ?) ON CONFLICT(key) DO UPDATE SET "
            "value = max(value, excluded.value)");
    q.bind(1, std::int64_t{kSideSchemaVersion});
    q.run();
  }
  scope.commit();
}

}  // namespace diskcache::detail
