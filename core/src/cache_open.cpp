// Opening a cache: directory, connections per thread (fresh after fork),
// settings precedence, pragmas and schema.
#include <pthread.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <thread>
#include <map>

#include "cache_impl.hpp"
#include "diskcache/error.hpp"
#include "schema.hpp"
#include "sync/history_buffer.hpp"
#include "sync/waiter_board.hpp"
#include "sync/wake_board.hpp"

namespace diskcache {
namespace {

std::atomic<std::uint64_t> g_next_cache_id{1};
std::atomic<std::uint64_t> g_fork_generation{0};

void bump_fork_generation() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }
const int g_atfork_registered = pthread_atfork(nullptr, nullptr, &bump_fork_generation);

// Fast path to the calling thread's connection of the last cache it used.
struct ThreadSlot {
  std::uint64_t cache_id = 0;
  std::uint64_t fork_generation = 0;
  detail::Connection* conn = nullptr;
};
thread_local ThreadSlot t_slot;

// Refuses a cache.db (or its -wal, -shm or -journal) that is a symlink or
// anything but a regular file before SQLite opens it: a FIFO would block
// every open for ever, a symlink would let the cache write elsewhere.
void refuse_special_database_files(const std::filesystem::path& dir) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string path = (dir / "cache.db").string() + suffix;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // missing: SQLite creates it (or reports it)
    if (S_ISREG(st.st_mode)) continue;
    throw CorruptCache("refusing " + path + ": it is " + detail::file_kind(st.st_mode) +
                       ", not a regular file (a cache's database files are never links or special files)");
  }
}

}  // namespace

std::uint64_t detail::fork_generation() noexcept { return g_fork_generation.load(std::memory_order_relaxed); }

std::string_view to_string(EvictionPolicy policy) noexcept {
  switch (policy) {
    case EvictionPolicy::LeastRecentlyStored: return "least-recently-stored";
    case EvictionPolicy::LeastRecentlyUsed: return "least-recently-used";
    case EvictionPolicy::LeastFrequentlyUsed: return "least-frequently-used";
    case EvictionPolicy::None: return "none";
  }
  return "none";
}

std::optional<EvictionPolicy> parse_eviction_policy(std::string_view name) noexcept {
  for (auto p : {EvictionPolicy::LeastRecentlyStored, EvictionPolicy::LeastRecentlyUsed,
                 EvictionPolicy::LeastFrequentlyUsed, EvictionPolicy::None})
    if (to_string(p) == name) return p;
  return std::nullopt;
}

Cache::Impl::Impl(std::filesystem::path directory, Options opts)
    : dir(std::move(directory)), options(std::move(opts)), id_(g_next_cache_id.fetch_add(1)),
      fork_generation_(g_fork_generation.load()) {
  (void)g_atfork_registered;
  db_path = (dir / "cache.db").string();
  if (options.timeout.count() < 0) throw InvalidArgument("timeout must not be negative");
  std::error_code ec;
  if (options.read_only) {
    if (!std::filesystem::is_directory(dir, ec))
      throw Error("no cache at " + dir.string() + ": not a directory (opened read-only, nothing is created)");
    if (!std::filesystem::exists(db_path, ec) && std::filesystem::exists(dir / "000" / "cache.db", ec))
      throw InvalidArgument("no plain cache at " + dir.string() +
                            ": it is a FanoutCache directory (shards 000/, 001/, ...); open it with FanoutCache");
    if (!std::filesystem::exists(db_path, ec))
      throw Error("no cache at " + dir.string() + ": cache.db is missing (opened read-only, nothing is created)");
  } else {
    if (!std::filesystem::exists(db_path, ec) && std::filesystem::exists(dir / "000" / "cache.db", ec))
      throw InvalidArgument("refusing to create a plain cache in " + dir.string() +
                            ": it is a FanoutCache directory (shards 000/, 001/, ...); open it with FanoutCache");
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError("cannot create cache directory " + dir.string() + ": " + ec.message(), ec.value());
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      throw IoError("cache directory " + dir.string() + " is not writable: " + std::strerror(errno), errno);
  }
  refuse_special_database_files(dir);
  if (options.max_read_bytes < 0) throw InvalidArgument("max_read_bytes must not be negative");
  files = std::make_unique<detail::ValueFiles>(dir, options.durable, options.max_read_bytes, options.file_layer);
  initialise();
}

namespace {
std::string reserve_path(const std::filesystem::path& dir) { return (dir / "cache.db-reserve").string(); }
}  // namespace

bool Cache::Impl::give_back_reserve() noexcept {
  if (::unlink(reserve_path(dir).c_str()) != 0) return false;
  reserve_missing = true;
  return true;
}

bool Cache::Impl::reserve_present() const noexcept {
  struct stat st {};
  return ::lstat(reserve_path(dir).c_str(), &st) == 0;
}

void Cache::Impl::keep_reserve() noexcept {
  if (options.read_only || !reserve_missing.load(std::memory_order_relaxed)) return;
  const std::string path = reserve_path(dir);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {  // there (or something else is: left alone)
    reserve_missing = false;
    return;
  }
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0 ||
      static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize) < 2 * kReserveBytes)
    return;  // too little room: the space goes to the data for now
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const bool made = ::posix_fallocate(fd, 0, kReserveBytes) == 0;
  ::close(fd);
  if (made) {
    reserve_missing = false;
  } else {
    ::unlink(path.c_str());
  }
}

double Cache::Impl::now() const {
  if (options.clock) return options.clock();
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string Cache::Impl::where() const { return "in " + dir.string(); }
std::string Cache::Impl::where(const Value& key) const {
  std::string repr = key.repr();
  if (repr.size() > 100) repr = repr.substr(0, 97) + "...";
  return "for key " + repr + " in " + dir.string();
}

void Cache::Impl::require_writable(const char* operation) const {
  if (options.read_only)
    throw ReadOnlyCache(std::string(operation) + " refused: cache " + dir.string() + " is opened read-only");
}

std::unique_ptr<detail::Connection> Cache::Impl::open_connection(bool for_setup) {
  detail::Connection::Config config{db_path, options.read_only, options.timeout, options.retry};
  auto conn = std::make_unique<detail::Connection>(config);
  apply_pragmas(*conn, for_setup);
  return conn;
}

// Pragmas come from typed settings only: nothing read from the database is
// spliced into SQL text.
void Cache::Impl::apply_pragmas(detail::Connection& c, bool writable_setup) {
  const auto& s = settings;
  if (!options.read_only) {
    if (writable_setup) {
      // Changing auto_vacuum or the journal mode needs a lock SQLite does not
      // wait for through the busy handler (several processes opening a new
      // cache at once): retry until the timeout, as Python's open does.
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(options.timeout);
      for (;;) {
        try {
          std::int64_t auto_vacuum = -1;
          {
            detail::Query q(c, "PRAGMA auto_vacuum");
            if (q.step()) auto_vacuum = q.int64(0);
          }
          if (auto_vacuum != s.sqlite_auto_vacuum)
            c.exec("PRAGMA auto_vacuum = " + std::to_string(s.sqlite_auto_vacuum));
          std::string current;
          {
            detail::Query q(c, "PRAGMA journal_mode");
            if (q.step()) current = q.text(0);
          }
          if (current != s.sqlite_journal_mode) c.exec("PRAGMA journal_mode = " + s.sqlite_journal_mode);
          break;
        } catch (const Timeout&) {
          if (!options.retry && std::chrono::steady_clock::now() >= deadline) throw;
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      }
    }
    c.exec("PRAGMA synchronous = " + std::to_string(s.sqlite_synchronous));
  } else {
    c.exec("PRAGMA query_only = 1");
  }
  c.exec("PRAGMA cache_size = " + std::to_string(s.sqlite_cache_size));
  c.exec("PRAGMA mmap_size = " + std::to_string(s.sqlite_mmap_size));
}

void Cache::Impl::initialise() {
  auto conn = std::make_unique<detail::Connection>(
      detail::Connection::Config{db_path, options.read_only, options.timeout, options.retry});
  std::map<std::string, detail::SqlScalar> stored;
  try {
    stored = detail::read_settings(*conn);
  } catch (const CorruptCache& e) {
    throw CorruptCache(std::string(e.what()) + " (cache " + dir.string() + ")");
  }
  if (options.read_only && stored.empty())
    throw Error("no cache at " + dir.string() + ": cache.db has no Settings table");
  settings = detail::resolve_settings(stored, options.settings, db_path);
  statistics = settings.statistics;
  tag_index = settings.tag_index;
  apply_pragmas(*conn, true);
  if (!options.read_only) {
    detail::create_schema(*conn, settings, stored);
    keep_reserve();
  } else if (!detail::has_cache_table(*conn)) {
    throw Error("no cache at " + dir.string() + ": cache.db has no Cache table");
  }
  detail::Query q(*conn, "PRAGMA page_size");
  if (q.step()) page_size = q.int64(0);
}

detail::Connection& Cache::Impl::conn() {
  const std::uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (t_slot.cache_id == id_ && t_slot.fork_generation == generation) return *t_slot.conn;
  std::lock_guard lock(mu_);
  if (generation != fork_generation_) {
    // Connections inherited across fork() must not be used or closed here:
    // SQLite forbids both. Leak them and start afresh.
    for (auto& [thread, c] : conns_) (void)c.release();
    conns_.clear();
    fork_generation_ = generation;
  }
  auto& slot = conns_[std::this_thread::get_id()];
  if (!slot) slot = open_connection(false);
  t_slot = {id_, generation, slot.get()};
  return *slot;
}

void Cache::Impl::close_thread_connection() {
  std::lock_guard lock(mu_);
  auto it = conns_.find(std::this_thread::get_id());
  if (it == conns_.end()) return;
  if (it->second->tx().open()) throw Error("close() refused: a transaction is open on this thread " + where());
  conns_.erase(it);
  t_slot = {};
}

std::int64_t Cache::Impl::setting_int(detail::Connection& c, const char* key) {
  detail::Query q(c, "SELECT value FROM Settings WHERE key = ?");
  q.bind_text(1, key);
  if (!q.step()) throw CorruptCache(std::string("Settings.") + key + " is missing " + where());
  if (q.column_type(0) == SQLITE_FLOAT) return static_cast<std::int64_t>(q.real(0));
  if (q.column_type(0) != SQLITE_INTEGER)
    throw CorruptCache(std::string("Settings.") + key + " is not a number " + where());
  return q.int64(0);
}

detail::WakeBoard& Cache::Impl::wake_board() {
  std::call_once(wake_once_, [&] { wake_ = std::make_unique<detail::WakeBoard>(dir, options.read_only); });
  return *wake_;
}

detail::WaiterBoard& Cache::Impl::waiter_board() {
  std::call_once(waiters_once_, [&] { waiters_ = std::make_unique<detail::WaiterBoard>(dir, options.read_only); });
  return *waiters_;
}

detail::HistoryBuffer& Cache::Impl::history() {
  std::call_once(history_once_, [&] { history_ = std::make_unique<detail::HistoryBuffer>(*this); });
  return *history_;
}

std::optional<std::int64_t> Cache::Impl::extra_setting(const char* key) {
  detail::Query q(conn(), "SELECT value FROM Settings WHERE key = ?");
  q.bind_text(1, key);
  if (!q.step()) return std::nullopt;
  if (q.column_type(0) != SQLITE_INTEGER)
    throw CorruptCache(std::string("Settings.") + key + " is not an integer " + where());
  return q.int64(0);
}

void Cache::Impl::put_extra_setting(const char* key, std::int64_t value) {
  require_writable("writing Settings");
  detail::Query q(conn(), "INSERT OR REPLACE INTO Settings VALUES (?, ?)");
  q.bind_text(1, key).bind(2, value);
  q.run();
}

std::int64_t Cache::Impl::volume(detail::Connection& c) {
  detail::Query q(c, "PRAGMA page_count");
  const std::int64_t pages = q.step() ? q.int64(0) : 0;
  return page_size * pages + setting_int(c, "size");
}

// ------------------------------------------------------------------ Cache

Cache::Cache(std::filesystem::path directory, Options options)
    : impl_(std::make_unique<Impl>(std::move(directory), std::move(options))) {}
Cache::~Cache() = default;
Cache::Impl::~Impl() = default;
Cache::Cache(Cache&&) noexcept = default;
Cache& Cache::operator=(Cache&&) noexcept = default;

const std::filesystem::path& Cache::directory() const noexcept { return impl_->dir; }
bool Cache::read_only() const noexcept { return impl_->options.read_only; }
std::int64_t Cache::size_limit() const noexcept { return impl_->settings.size_limit; }
EvictionPolicy Cache::eviction_policy() const noexcept { return impl_->settings.eviction_policy; }
std::int64_t Cache::cull_limit() const noexcept { return impl_->settings.cull_limit; }
std::int64_t Cache::min_file_size() const noexcept { return impl_->settings.min_file_size; }
bool Cache::statistics_enabled() const noexcept { return impl_->statistics; }
bool Cache::tag_index() const noexcept { return impl_->tag_index; }
std::chrono::duration<double> Cache::timeout() const noexcept { return impl_->options.timeout; }
double Cache::now() const { return impl_->now(); }
void Cache::close() { impl_->close_thread_connection(); }

}  // namespace diskcache
