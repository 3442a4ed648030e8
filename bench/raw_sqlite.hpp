// A plain SQLite connection on a cache's database with the per-connection
// pragmas Python diskcache applies: the "raw" floor the benchmarks compare
// this library against.
#pragma once

#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {

inline void check(int rc, sqlite3* db) {
  if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
    std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
}

struct RawSqlite {
  sqlite3* db = nullptr;
  std::vector<sqlite3_stmt*> owned;

  explicit RawSqlite(const std::string& dir) {
    check(sqlite3_open((dir + "/cache.db").c_str(), &db), db);
    sqlite3_busy_timeout(db, 60000);
    for (const char* p : {"PRAGMA synchronous = 1", "PRAGMA cache_size = 8192", "PRAGMA mmap_size = 67108864"})
      check(sqlite3_exec(db, p, nullptr, nullptr, nullptr), db);
    begin_ = prepare("BEGIN IMMEDIATE");
    commit_ = prepare("COMMIT");
  }
  ~RawSqlite() {
    for (auto* s : owned) sqlite3_finalize(s);
    sqlite3_close(db);
  }
  RawSqlite(const RawSqlite&) = delete;
  RawSqlite& operator=(const RawSqlite&) = delete;

  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr), db);
    owned.push_back(s);
    return s;
  }
  // Steps to completion and resets.
  void run(sqlite3_stmt* s) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    check(rc, db);
    sqlite3_reset(s);
  }
  // A write transaction, as Python's Cache opens and ends one.
  void begin() { run(begin_); }
  void commit() { run(commit_); }

 private:
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

// What Python's Cache runs after adding or replacing a row (`_cull` with
// the default cull limit of 10, whose size check reads `volume()`), as
// prepared statements of `raw`.
class PythonCull {
 public:
  explicit PythonCull(RawSqlite& raw)
      : raw_(raw),
        expired_(raw.prepare("SELECT filename FROM Cache WHERE expire_time IS NOT NULL AND expire_time < ? ORDER BY "
                             "expire_time LIMIT 10")),
        pages_(raw.prepare("PRAGMA page_count")),
        size_(raw.prepare("SELECT value FROM Settings WHERE key = 'size'")) {}

  void run(double now) {
    sqlite3_bind_double(expired_, 1, now);
    raw_.run(expired_);
    raw_.run(pages_);
    raw_.run(size_);
  }

 private:
  RawSqlite& raw_;
  sqlite3_stmt *expired_, *pages_, *size_;
};

}  // namespace bench
