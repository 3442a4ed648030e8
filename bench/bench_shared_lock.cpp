// SharedLock beside Lock; the driver (compare_shared_lock.py) runs these and
// computes the ratios.
//
//   bench_shared_lock uncontended DIR N
//       N acquire+release pairs each of a Lock, a SharedLock held shared and
//       a SharedLock held exclusively, interleaved; JSON median us of each.
//   bench_shared_lock hold DIR lock|shared|exclusive HOLD_US
//       one of several workers: in the driver's window (common_window.hpp)
//       { acquire; sleep HOLD_US inside; release }; prints "ops N".
//   bench_shared_lock raw-readers DIR HOLD_US
//       the floor of any reader lock kept in the database: the same loop with
//       one minimal raw write transaction (a one-row counter) to enter and one
//       to leave, busy-polling as the library does; prints "ops N".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common_window.hpp"
#include "diskcache/diskcache.hpp"
#include "raw_sqlite.hpp"

namespace {

using bench::mono_ns;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int uncontended(const char* dir, int n) {
  diskcache::Cache cache(dir);
  diskcache::Lock lock(cache, "bench-lock");
  diskcache::SharedLock shared(cache, "bench-shared");
  std::vector<double> lock_us, shared_us, exclusive_us;
  auto timed = [](std::vector<double>& out, auto&& pair) {
    const auto t0 = mono_ns();
    pair();
    out.push_back(static_cast<double>(mono_ns() - t0) / 1000.0);
  };
  for (int i = 0; i < n + 50; ++i) {  // the first 50 warm up
    timed(lock_us, [&] { lock.lock(); lock.unlock(); });
    timed(shared_us, [&] { shared.lock_shared(); shared.unlock_shared(); });
    timed(exclusive_us, [&] { shared.lock(); shared.unlock(); });
    if (i == 49) lock_us.clear(), shared_us.clear(), exclusive_us.clear();
  }
  std::printf("{\"lock_us\": %.2f, \"shared_us\": %.2f, \"exclusive_us\": %.2f}\n", median(lock_us), median(shared_us),
              median(exclusive_us));
  return 0;
}

int hold(const char* dir, const std::string& kind, long hold_us) {
  diskcache::Cache cache(dir);
  diskcache::Lock lock(cache, "bench-hold-lock");
  diskcache::SharedLock shared(cache, "bench-hold-shared");
  const auto window = bench::await_window();
  long ops = 0;
  while (mono_ns() < window.end_ns) {
    if (kind == "lock") lock.lock();
    else if (kind == "shared") shared.lock_shared();
    else shared.lock();
    std::this_thread::sleep_for(std::chrono::microseconds(hold_us));
    kind == "lock" ? lock.unlock() : kind == "shared" ? shared.unlock_shared() : shared.unlock();
    ++ops;
  }
  std::printf("ops %ld\n", ops);
  return 0;
}

int poll_busy(void*, int count) {  // the library's busy handler: yield, then 20 us, then 100 us steps
  if (count < 8) std::this_thread::yield();
  else std::this_thread::sleep_for(std::chrono::microseconds(count < 12 ? 20 : 100));
  return 1;
}

int raw_readers(const char* dir, long hold_us) {
  { diskcache::Cache create(dir); }
  bench::RawSqlite raw(dir);
  sqlite3_busy_handler(raw.db, &poll_busy, nullptr);
  bench::check(sqlite3_exec(raw.db,
                            "CREATE TABLE IF NOT EXISTS floor_readers (k INTEGER PRIMARY KEY, n INTEGER);"
                            "INSERT OR IGNORE INTO floor_readers VALUES (1, 0)",
                            nullptr, nullptr, nullptr),
               raw.db);
  sqlite3_stmt* enter = raw.prepare("UPDATE floor_readers SET n = n + 1 WHERE k = 1");
  sqlite3_stmt* leave = raw.prepare("UPDATE floor_readers SET n = n - 1 WHERE k = 1");
  const auto window = bench::await_window();
  long ops = 0;
  while (mono_ns() < window.end_ns) {
    raw.begin();
    raw.run(enter);
    raw.commit();
    std::this_thread::sleep_for(std::chrono::microseconds(hold_us));
    raw.begin();
    raw.run(leave);
    raw.commit();
    ++ops;
  }
  std::printf("ops %ld\n", ops);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "uncontended" && argc == 4) return uncontended(argv[2], std::stoi(argv[3]));
    if (mode == "hold" && argc == 5) return hold(argv[2], argv[3], std::stol(argv[4]));
    if (mode == "raw-readers" && argc == 4) return raw_readers(argv[2], std::stol(argv[3]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_shared_lock: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: bench_shared_lock uncontended DIR N | hold DIR lock|shared|exclusive HOLD_US\n");
  return 2;
}
