#include "sqlite_db.hpp"

#include <sqlite3.h>
#include <sys/prctl.h>

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <thread>

#include "diskcache/error.hpp"

namespace diskcache::detail {

void check_sqlite(int rc, sqlite3* db, const std::string& context) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string what = context + ": " + detail;
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw Timeout(what + " (database busy past the timeout)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: throw CorruptCache(what);
    case SQLITE_FULL: throw IoError(what + " (disk full)", ENOSPC);
    case SQLITE_IOERR: throw IoError(what, EIO);
    case SQLITE_READONLY: throw ReadOnlyCache(what);
    case SQLITE_CANTOPEN: throw IoError(what, ENOENT);
    case SQLITE_PERM: throw IoError(what, EACCES);
    default: throw Error(what);
  }
}

namespace {

// "file:" URI of `path` with `?immutable=1`: percent-encodes what a URI
// path cannot hold as it is.
std::string immutable_uri(const std::string& path) {
  std::string uri = "file:";
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char ch : path) {
    if (std::isalnum(ch) || std::strchr("/-._~", ch)) {
      uri += static_cast<char>(ch);
    } else {
      uri += '%';
      uri += hex[ch >> 4];
      uri += hex[ch & 15];
    }
  }
  return uri + "?immutable=1";
}

// True when a read-only connection can read nothing because SQLite cannot
// create the -shm (and -wal) of a WAL database: a cleanly closed cache (no
// -wal) on read-only media or in a folder this user may not write.
bool needs_immutable_open(sqlite3* db, const std::string& path) {
  // A -wal beside it: writers may be at work (or a crash left it, which the
  // plain open reads): never immutable then, which would read it wrong.
  if (::access((path + "-wal").c_str(), F_OK) == 0) return false;
  const int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  if ((rc & 0xFF) != SQLITE_CANTOPEN) return false;
  const std::string dir = path.substr(0, path.find_last_of('/') + 1);
  return ::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0;
}

}  // namespace

Connection::Connection(const Config& config) : config_(config) {
  const int flags = (config.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;  // never a cache.db reached through a link
  int rc = sqlite3_open_v2(config.path.c_str(), &db_, flags, nullptr);
  if (rc == SQLITE_OK && config.read_only && needs_immutable_open(db_, config.path)) {
    // Read-only media: nobody can change the database there, so SQLite may
    // read it without locks or a -shm (immutable). What it shows is the
    // database as last closed (there is no -wal).
    sqlite3_close_v2(db_);
    db_ = nullptr;
    rc = sqlite3_open_v2(immutable_uri(config.path).c_str(), &db_, flags | SQLITE_OPEN_URI, nullptr);
  }
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    check_sqlite(rc, nullptr, "open " + config.path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  // Python's triggers use double-quoted string literals.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, 1, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, 1, nullptr);
  sqlite3_busy_handler(db_, &Connection::on_busy, this);
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

namespace {

// Sleeps `duration` with the thread's timer slack lowered to 1 us for the
// call and restored after it. Linux lets a sleep overshoot by the slack,
// 50 us by default, which would turn a 20 us retry step into ~70 us.
void sleep_precisely(std::chrono::microseconds duration) {
  const int previous = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  const bool lowered = previous > 1000 && ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0) == 0;
  std::this_thread::sleep_for(duration);
  if (lowered) ::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(previous), 0, 0, 0);
}

}  // namespace

// Yields, then sleeps 20-100 us between tries; gives up at the timeout.
int Connection::on_busy(void* self_ptr, int count) {
  auto* self = static_cast<Connection*>(self_ptr);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) self->busy_since_ = now;
  if (!self->config_.retry_forever && now - self->busy_since_ >= self->config_.timeout) return 0;
  // Write transactions here last 40-100 us: polling in steps of at most
  // 100 us (really, not 150: see sleep_precisely) gets the lock soon after
  // its holder commits (a waiter asleep for a millisecond would let the
  // holder barge back in).
  if (count < 8) {
    std::this_thread::yield();
  } else {
    sleep_precisely(std::chrono::microseconds(count < 12 ? 20 : 100));
  }
  return 1;
}

sqlite3_stmt* Connection::statement(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  check_sqlite(rc, db_, "prepare in " + config_.path);
  statements_.emplace(sql, stmt);
  return stmt;
}

void Connection::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  check_sqlite(rc, db_, config_.path + " (" + sql.substr(0, 60) + ")");
}

Query::Query(Connection& conn, const char* sql) : conn_(conn), stmt_(conn.statement(sql)) {}

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int index, std::int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
Query& Query::bind(int index, double v) {
  sqlite3_bind_double(stmt_, index, v);
  return *this;
}
Query& Query::bind_text(int index, std::string_view v) {
  sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Query& Query::bind_blob(int index, std::string_view v) {
  sqlite3_bind_blob64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}
Query& Query::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  check_sqlite(rc, conn_.handle(), conn_.path());
  return false;
}

void Query::run() {
  while (step()) {
  }
}

int Query::column_type(int col) const { return sqlite3_column_type(stmt_, col); }
bool Query::is_null(int col) const { return column_type(col) == SQLITE_NULL; }
std::int64_t Query::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Query::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string_view Query::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
}
std::string_view Query::blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
}

}  // namespace diskcache::detail
