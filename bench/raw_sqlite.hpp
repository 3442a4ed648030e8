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
};

}  // namespace bench
