// Thin RAII layer over one SQLite connection: cached prepared statements,
// a busy handler that polls in steps of at most 100 us (SQLite's default
// first sleeps a whole millisecond), and one place that turns result codes into
// diskcache exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

#include "tx_state.hpp"

namespace diskcache::detail {

// Throws the diskcache exception for SQLite result `rc` (no-op for OK, ROW
// and DONE). `context` says what was being done, e.g. "get 'k' in /dir".
void check_sqlite(int rc, sqlite3* db, const std::string& context);

class Connection {
 public:
  struct Config {
    std::string path;  // cache.db
    bool read_only = false;
    std::chrono::duration<double> timeout{60.0};
    bool retry_forever = false;
  };
  explicit Connection(const Config& config);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* handle() const noexcept { return db_; }
  const std::string& path() const noexcept { return config_.path; }
  // A prepared statement for `sql`, cached by the literal's address: pass
  // string literals (or other storage that outlives the connection).
  sqlite3_stmt* statement(const char* sql);
  // Runs statements without results (schema, BEGIN/COMMIT, pragmas).
  void exec(const std::string& sql);

  // This connection's transaction state, changed only by the scopes of
  // tx_state.hpp.
  TransactionState& tx() noexcept { return tx_; }

 private:
  static int on_busy(void* self, int count);
  Config config_;
  sqlite3* db_ = nullptr;
  TransactionState tx_;
  std::chrono::steady_clock::time_point busy_since_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

// One use of a cached statement: binds, steps, reads columns, and resets the
// statement when it goes out of scope.
class Query {
 public:
  Query(Connection& conn, const char* sql);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::int64_t v);
  Query& bind(int index, double v);
  Query& bind_text(int index, std::string_view v);
  Query& bind_blob(int index, std::string_view v);
  Query& bind_null(int index);

  // Steps once: true when a row is available.
  bool step();
  // Steps to completion, ignoring rows.
  void run();

  int column_type(int col) const;  // SQLITE_INTEGER, SQLITE_FLOAT, ...
  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  std::string_view text(int col) const;
  std::string_view blob(int col) const;

 private:
  Connection& conn_;
  sqlite3_stmt* stmt_;
};

}  // namespace diskcache::detail
