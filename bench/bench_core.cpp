// One benchmark run of one implementation and one operation; the driver
// (compare_core.py) interleaves runs of this library, raw SQLite and
// Python diskcache and computes the statistics across repetitions.
//
//   bench_core lib|raw|file|fanout OP DIR N   ->  one JSON line of per-op latencies
//   bench_core paired get_hit|set_small DIR N  ->  lib and raw in turn, a line each
//   bench_core paired set_1mb|get_1mb|floor_1mb DIR N  ->  lib (floor) and file in turn, a line each
//   bench_core writer cache|fanout DIR SEED  ->  small sets in the driver's window; prints "sets ended_ns"
//
// OP: get_hit   N lookups of existing small keys
//     set_small N stores of small values (over existing keys)
//     set_1mb / get_1mb   N stores / loads of 1 MiB values
// `raw` runs exactly the statements Python's Cache runs for the operation,
// as prepared statements on a connection with the same pragmas: the floor
// for this library. `file` is a plain file write (a new file replacing one
// of 8, like the cache's values) or read of the same bytes. `floor`
// (paired floor_1mb, against set_1mb's plain write) is the least a 1 MiB
// store under this project's rules does: the file write, a rename, Python's
// transaction and the old file's removal.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "diskcache/diskcache.hpp"
#include "common_window.hpp"
#include "raw_sqlite.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kKeys = 10000;

std::string key_of(int i) { return "key-" + std::to_string(i); }
const std::string kSmall(100, 's');
const std::string kMiB(1 << 20, 'm');

// Exits with status 3 and says what failed (with errno's reason) unless `ok`.
void require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "bench_core: %s failed: %s\n", what.c_str(), std::strerror(errno));
  std::exit(3);
}

void print_summary(const char* impl, const char* op, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))]; };
  std::printf("{\"impl\": \"%s\", \"op\": \"%s\", \"n\": %zu, \"median_us\": %.3f, \"p99_us\": %.3f}\n", impl, op,
              us.size(), at(0.5), at(0.99));
}

// Microseconds one call of `op(i)` takes.
double time_call(const std::function<void(int)>& op, int i) {
  const auto t0 = Clock::now();
  op(i);
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

std::vector<double> time_each(int n, const std::function<void(int)>& op) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) us.push_back(time_call(op, i));
  return us;
}


// The indices of the keys N small operations use: the same for every implementation.
std::vector<int> random_order(int n) {
  std::mt19937 rng(42);
  std::vector<int> order(static_cast<std::size_t>(n));
  for (auto& i : order) i = static_cast<int>(rng() % kKeys);
  return order;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// FanoutCache with Python's default 8 shards, for get_hit and set_small.
int run_fanout(const std::string& op, const std::string& dir, int n) {
  diskcache::FanoutCache cache(dir, {.cache = {.timeout = std::chrono::seconds(60)}});
  if (cache.size() < kKeys)
    for (int i = 0; i < kKeys; ++i) cache.set(key_of(i), diskcache::Bytes(kSmall));
  const std::vector<int> order = random_order(n);
  const diskcache::Value small{diskcache::Bytes(kSmall)};
  if (op == "get_hit") {
    print_summary("fanout", "get_hit", time_each(n, [&](int i) {
                    if (!cache.get(key_of(order[static_cast<std::size_t>(i)]))) std::exit(3);
                  }));
  } else if (op == "set_small") {
    print_summary("fanout", "set_small", time_each(n, [&](int i) {
                    if (!cache.set(key_of(order[static_cast<std::size_t>(i)]), small)) std::exit(3);
                  }));
  } else {
    return 2;
  }
  return 0;
}

// One writer process of the throughput benchmark: sets of small values on
// random keys in the driver's window (see common_window.hpp); prints the
// number of sets and the moment it ended.
int run_writer(const std::string& kind, const std::string& dir, unsigned long seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  const diskcache::Value small{diskcache::Bytes(kSmall)};
  auto timed = [&](auto&& set) {
    const auto window = bench::await_window();
    long long sets = 0;
    for (; bench::mono_ns() < window.end_ns; ++sets) set(key_of(static_cast<int>(rng() % kKeys)));
    std::printf("%lld %lld\n", sets, static_cast<long long>(bench::mono_ns()));
    return 0;
  };
  if (kind == "fanout") {
    diskcache::FanoutCache cache(dir, {.cache = {.timeout = std::chrono::seconds(60)}});
    return timed([&](const std::string& key) { cache.set(key, small); });
  }
  diskcache::Cache cache(dir);
  return timed([&](const std::string& key) { cache.set(key, small); });
}

// The same starting state for every implementation: kKeys small items.
void fill_small(const std::string& dir) {
  diskcache::Cache setup(dir);
  if (setup.size() < kKeys)
    setup.transact([&] {
      for (int i = 0; i < kKeys; ++i) setup.set(key_of(i), diskcache::Bytes(kSmall));
    });
}

// This library's small operation OP (get_hit: look up the key of `order[i]`;
// set_small: store a small value under it) as a callable of i; empty for
// another OP.
std::function<void(int)> lib_small_op(diskcache::Cache& cache, const std::string& op, const std::vector<int>& order) {
  static const diskcache::Value small{diskcache::Bytes(kSmall)};
  const auto key = [&order](int i) { return key_of(order[static_cast<std::size_t>(i)]); };
  if (op == "get_hit")
    return [&cache, key](int i) {
      if (!cache.get(key(i))) std::exit(3);
    };
  if (op == "set_small") return [&cache, key](int i) { cache.set(key(i), small); };
  return {};
}

// This library's 1 MiB operation OP (set_1mb: replace one of 8 values;
// get_1mb: read one of 8) as a callable of the operation's index.
std::function<void(int)> lib_big_op(diskcache::Cache& cache, const std::string& op) {
  static const diskcache::Value big{diskcache::Bytes(kMiB)};  // built once, as in Python
  if (op == "set_1mb") return [&cache](int i) { cache.set("big" + std::to_string(i % 8), big); };
  for (int i = 0; i < 8; ++i) cache.set("big" + std::to_string(i), big);
  return [&cache](int i) {
    if (cache.get("big" + std::to_string(i % 8))->as_bytes().size() != kMiB.size()) std::exit(3);
  };
}

// The same with plain files at `path` + N: set_1mb writes a new file and
// deletes the one it replaces (as the cache does), get_1mb reads one of 8
// files in turn (the cache's working set: 8 values of 1 MiB) into an
// uninitialised buffer (as the library and Python read).
std::function<void(int)> file_op(const std::string& path, const std::string& op) {
  if (op == "set_1mb")
    return [path](int i) {
      const std::string name = path + std::to_string(i);
      const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
      require(fd >= 0, "creating " + name);
      require(::write(fd, kMiB.data(), kMiB.size()) == static_cast<ssize_t>(kMiB.size()), "writing " + name);
      ::close(fd);
      if (i >= 8) ::unlink((path + std::to_string(i - 8)).c_str());
    };
  for (int i = 0; i < 8; ++i) {
    const int fd = ::open((path + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    require(fd >= 0 && ::write(fd, kMiB.data(), kMiB.size()) == static_cast<ssize_t>(kMiB.size()),
            "writing " + path + std::to_string(i));
    ::close(fd);
  }
  return [path](int i) {
    std::string buf;
    buf.resize_and_overwrite(kMiB.size(), [](char*, std::size_t n) { return n; });
    const int fd = ::open((path + std::to_string(i % 8)).c_str(), O_RDONLY);
    require(fd >= 0 && ::read(fd, buf.data(), buf.size()) == static_cast<ssize_t>(buf.size()),
            "reading " + path + std::to_string(i % 8));
    ::close(fd);
  };
}

// The statements Python's Cache.set runs to replace an existing row, as
// prepared statements of `raw`: the transaction any store compatible with
// Python pays for.
class PythonSet {
 public:
  explicit PythonSet(bench::RawSqlite& raw)
      : raw_(raw),
        find_(raw.prepare("SELECT rowid, filename FROM Cache WHERE key = ? AND raw = ?")),
        update_(raw.prepare("UPDATE Cache SET store_time = ?, expire_time = ?, access_time = ?, access_count = ?, "
                            "tag = ?, size = ?, mode = ?, filename = ?, value = ? WHERE rowid = ?")),
        cull_(raw) {}

  // Stores `inline_value` in the row of text key `key`, or (when it is
  // empty) a file-backed value of `file_size` bytes in `filename`. Returns
  // the filename the row had (empty if none), which the caller removes.
  std::string replace(const std::string& key, std::string_view inline_value, const std::string& filename,
                      std::int64_t file_size) {
    const double now = unix_now();
    raw_.begin();
    sqlite3_bind_text(find_, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int(find_, 2, 1);
    if (const int rc = sqlite3_step(find_); rc != SQLITE_ROW) {  // the setup stored every key it replaces
      std::fprintf(stderr, "bench_core: no row for key %s (%s)\n", key.c_str(),
                   rc == SQLITE_DONE ? "not stored" : sqlite3_errmsg(raw_.db));
      std::exit(3);
    }
    const sqlite3_int64 rowid = sqlite3_column_int64(find_, 0);
    const auto* old = sqlite3_column_text(find_, 1);
    std::string old_file = old ? reinterpret_cast<const char*>(old) : "";
    sqlite3_reset(find_);
    sqlite3_bind_double(update_, 1, now);
    sqlite3_bind_null(update_, 2);
    sqlite3_bind_double(update_, 3, now);
    sqlite3_bind_int(update_, 4, 0);
    sqlite3_bind_null(update_, 5);
    if (filename.empty()) {
      sqlite3_bind_int(update_, 6, 0);
      sqlite3_bind_int(update_, 7, 1);  // MODE_RAW
      sqlite3_bind_null(update_, 8);
      sqlite3_bind_blob(update_, 9, inline_value.data(), static_cast<int>(inline_value.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_int64(update_, 6, file_size);
      sqlite3_bind_int(update_, 7, 2);  // MODE_BINARY
      sqlite3_bind_text(update_, 8, filename.data(), static_cast<int>(filename.size()), SQLITE_TRANSIENT);
      sqlite3_bind_null(update_, 9);
    }
    sqlite3_bind_int64(update_, 10, rowid);
    raw_.run(update_);
    cull_.run(now);
    raw_.commit();
    return old_file;
  }

 private:
  bench::RawSqlite& raw_;
  sqlite3_stmt *find_, *update_;
  bench::PythonCull cull_;
};

// The statements Python's Cache runs for the small operation OP, prepared
// on `raw`, as a callable of i (see lib_small_op); empty for another OP.
std::function<void(int)> raw_small_op(bench::RawSqlite& raw, const std::string& op, const std::vector<int>& order) {
  const auto key = [&order](int i) { return key_of(order[static_cast<std::size_t>(i)]); };
  if (op == "get_hit") {
    auto* select = raw.prepare(
        "SELECT rowid, expire_time, tag, mode, filename, value FROM Cache WHERE key = ? AND raw = ? AND "
        "(expire_time IS NULL OR expire_time > ?)");
    return [select, key](int i) {
      const std::string k = key(i);
      sqlite3_bind_text(select, 1, k.data(), static_cast<int>(k.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int(select, 2, 1);
      sqlite3_bind_double(select, 3, unix_now());
      if (sqlite3_step(select) != SQLITE_ROW) std::exit(3);
      std::string value(static_cast<const char*>(sqlite3_column_blob(select, 5)),
                        static_cast<std::size_t>(sqlite3_column_bytes(select, 5)));
      sqlite3_reset(select);
    };
  }
  if (op == "set_small") {
    auto set = std::make_shared<PythonSet>(raw);
    return [set, key](int i) { set->replace(key(i), kSmall, {}, 0); };
  }
  return {};
}

// The floor of a 1 MiB store under this project's rules, at `dir`: the
// plain write under a temporary name renamed into place, Python's
// transaction for the row (keys "floor0".."floor7" of the cache there), and
// the removal of the replaced file after the commit.
std::function<void(int)> floor_set_op(const std::string& dir) {
  {
    diskcache::Cache setup(dir);
    for (int i = 0; i < 8; ++i) setup.set("floor" + std::to_string(i), diskcache::Bytes(kSmall));
  }
  require(::mkdir((dir + "/floor").c_str(), 0755) == 0, "creating " + dir + "/floor");
  // The folder stays open, as the library keeps its current one open.
  const int opened = ::open((dir + "/floor").c_str(), O_RDONLY | O_DIRECTORY);
  require(opened >= 0, "opening " + dir + "/floor");
  const auto folder_fd = std::shared_ptr<const int>(new int(opened), [](const int* fd) { ::close(*fd); delete fd; });
  auto raw = std::make_shared<bench::RawSqlite>(dir);
  auto set = std::make_shared<PythonSet>(*raw);
  return [folder_fd, raw, set](int i) {
    const int folder = *folder_fd;
    const std::string leaf = std::to_string(i), temp = leaf + ".tmp", final_leaf = leaf + ".val";
    const int fd = ::openat(folder, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    require(fd >= 0 && ::write(fd, kMiB.data(), kMiB.size()) == static_cast<ssize_t>(kMiB.size()),
            "writing floor/" + temp);
    ::close(fd);
    require(::renameat(folder, temp.c_str(), folder, final_leaf.c_str()) == 0, "renaming floor/" + temp);
    const std::string old =
        set->replace("floor" + std::to_string(i % 8), {}, "floor/" + final_leaf, static_cast<std::int64_t>(kMiB.size()));
    if (!old.empty()) ::unlinkat(folder, old.substr(6).c_str(), 0);  // past "floor/"
  };
}

// `paired`: this library and its baseline alternately in one process, in
// blocks (which goes first rotates), so both see the same disk state and the
// same bursts of noise; prints a line for each. get_hit / set_small: the
// library against raw SQLite, each on its own copy of the starting state
// (one connection's commits would make the other drop its page cache), 50
// operations a block. set_1mb / get_1mb (floor_1mb: the floor instead of the
// library): against plain files, one operation a block.
int run_paired(const std::string& op, const std::string& dir, int n, const std::vector<int>& order) {
  std::optional<diskcache::Cache> cache;  // open only while the library is measured
  std::optional<bench::RawSqlite> raw;
  std::vector<std::pair<const char*, std::function<void(int)>>> impls;
  int block = 1;
  if (op == "get_hit" || op == "set_small") {
    block = 50;
    require(::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST, "creating " + dir);
    for (const char* leaf : {"/lib", "/raw"}) {
      require(::mkdir((dir + leaf).c_str(), 0755) == 0, "creating " + dir + leaf);
      fill_small(dir + leaf);
    }
    impls.emplace_back("lib", lib_small_op(cache.emplace(dir + "/lib"), op, order));
    impls.emplace_back("raw", raw_small_op(raw.emplace(dir + "/raw"), op, order));
  } else if (op == "set_1mb" || op == "get_1mb" || op == "floor_1mb") {
    fill_small(dir);
    if (op == "floor_1mb")
      impls.emplace_back("floor", floor_set_op(dir));
    else
      impls.emplace_back("lib", lib_big_op(cache.emplace(dir), op));
    impls.emplace_back("file", file_op(dir + "/plain.bin", op == "floor_1mb" ? "set_1mb" : op));
  } else {
    return 2;
  }
  std::vector<std::vector<double>> us(impls.size());
  for (int start = 0, b = 0; start < n; start += block, ++b)
    for (std::size_t k = 0; k < impls.size(); ++k) {
      const std::size_t which = (k + static_cast<std::size_t>(b)) % impls.size();
      for (int i = start; i < std::min(n, start + block); ++i) us[which].push_back(time_call(impls[which].second, i));
    }
  for (std::size_t k = 0; k < impls.size(); ++k) print_summary(impls[k].first, op.c_str(), std::move(us[k]));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: bench_core lib|raw|file|fanout|paired OP DIR N | writer cache|fanout DIR SEED\n");
    return 2;
  }
  const std::string impl = argv[1], op = argv[2], dir = argv[3];
  if (impl == "writer") return run_writer(op, dir, std::stoul(argv[4]));
  const int n = std::stoi(argv[4]);
  if (impl == "fanout") return run_fanout(op, dir, n);
  const std::vector<int> order = random_order(n);
  if (impl == "paired") return run_paired(op, dir, n, order);
  fill_small(dir);

  if (impl == "lib") {
    diskcache::Cache cache(dir);
    const auto run = op == "set_1mb" || op == "get_1mb" ? lib_big_op(cache, op) : lib_small_op(cache, op, order);
    if (!run) {
      std::fprintf(stderr, "lib has get_hit, set_small, set_1mb and get_1mb only\n");
      return 2;
    }
    print_summary("lib", op.c_str(), time_each(n, run));
    return 0;
  }

  if (impl == "raw") {
    bench::RawSqlite raw(dir);
    const auto run = raw_small_op(raw, op, order);
    if (!run) {
      std::fprintf(stderr, "raw has get_hit and set_small only\n");
      return 2;
    }
    print_summary("raw", op.c_str(), time_each(n, run));
    return 0;
  }

  if (impl == "file") {
    if (op != "set_1mb" && op != "get_1mb") return 2;
    print_summary("file", op.c_str(), time_each(n, file_op(dir + "/plain.bin", op)));
    return 0;
  }
  return 2;
}
