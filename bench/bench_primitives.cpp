// Primitive benchmarks; the driver (compare_primitives.py) runs these beside
// Python diskcache's recipes and computes the figures.
//
//   bench_primitives uncontended DIR N
//       N acquire+release pairs of an uncontended Lock, history on and off,
//       and of the raw statements the library needs, prepared, in the same
//       two transactions (Python's add/delete + the holder row), interleaved;
//       JSON median us of each.
//   bench_primitives handoff DIR WORK_US
//       one of two contending workers, on a Lock with the default options
//       (history on): in the driver's window (see
//       common_window.hpp) { lock; unlock; work WORK_US outside }; prints
//       "call acquired released unlocked" (CLOCK_MONOTONIC ns) per
//       iteration, then "cpu_us <user+sys of the loop>" and "work_cpu_us
//       <this thread's CPU inside the work>": start-up and the log's
//       printing are not counted.
//   bench_primitives semaphore DIR HOLD_US BOUND
//       on a BoundedSemaphore with the default options (history on), in the
//       driver's window { acquire; hold HOLD_US; release }; prints "ops",
//       "ended <ns>", "cpu_us" (of the loop) and "held_ns" (the time permits
//       were held, measured inside the holder).
//   bench_primitives floor-commit DIR N    median us of one small write transaction
//   bench_primitives floor-wake N          median us of one futex wake between processes
//   bench_primitives floor-handoff DIR N   median us of a raw release commit + wake + the other
//                                          process's raw acquire commit, and the CPU per
//                                          acquisition (both processes' loops / N)
#include <linux/futex.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "diskcache/diskcache.hpp"
#include "common_window.hpp"
#include "raw_sqlite.hpp"

namespace {

using bench::mono_ns;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void busy_work(std::int64_t us) {  // CPU work outside the lock, like a real critical section's neighbour
  const auto end = mono_ns() + us * 1000;
  while (mono_ns() < end) {
  }
}

std::int64_t thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

std::int64_t cpu_us() {  // the whole process (the library's threads too)
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}


// The raw SQLite statements a Lock acquire and release need: Python's add
// and delete plus the holder row, prepared, in the same two transactions.
class RawLock {
 public:
  explicit RawLock(bench::RawSqlite& r)
      : r_(r),
        find_(r.prepare("SELECT rowid, filename, expire_time FROM Cache WHERE key = ? AND raw = ?")),
        insert_(r.prepare("INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag, size, "
                          "mode, filename, value) VALUES ('L', 1, 0, NULL, 0, 0, NULL, 0, 4, NULL, x'80054e2e')")),
        cull_(r),
        holder_(r.prepare("INSERT INTO diskcache_holders (key, raw, holder, host, boot_id, pid_ns, pid, start_time, "
                          "thread, acquired_at, expires_at, count) VALUES ('L', 1, 'h', 'host', 'boot', 1, 1, 1, 1, 0, "
                          "NULL, 1)")),
        find_live_(r.prepare("SELECT rowid, filename FROM Cache WHERE key = ? AND raw = ? AND (expire_time IS NULL OR "
                             "expire_time > ?)")),
        holder_count_(r.prepare("SELECT count FROM diskcache_holders WHERE key = 'L' AND raw = 1 AND holder = 'h'")),
        del_(r.prepare("DELETE FROM Cache WHERE rowid = ?")),
        del_holder_(r.prepare("DELETE FROM diskcache_holders WHERE key = 'L' AND raw = 1 AND holder = 'h'")) {}

  void acquire() {  // Python's add + the holder row
    r_.begin();
    sqlite3_bind_text(find_, 1, "L", 1, SQLITE_STATIC);
    sqlite3_bind_int(find_, 2, 1);
    r_.run(find_);
    r_.run(insert_);
    cull_.run(1e9);
    r_.run(holder_);
    r_.commit();
  }
  void release() {  // Python's delete + the holder row
    r_.begin();
    r_.run(holder_count_);
    sqlite3_bind_text(find_live_, 1, "L", 1, SQLITE_STATIC);
    sqlite3_bind_int(find_live_, 2, 1);
    sqlite3_bind_double(find_live_, 3, 1e9);
    if (const int rc = sqlite3_step(find_live_); rc != SQLITE_ROW) {  // acquire() stored it
      std::fprintf(stderr, "raw release: the lock's row is gone (%s)\n",
                   rc == SQLITE_DONE ? "no row" : sqlite3_errmsg(r_.db));
      std::exit(1);
    }
    const sqlite3_int64 rowid = sqlite3_column_int64(find_live_, 0);
    sqlite3_reset(find_live_);
    sqlite3_bind_int64(del_, 1, rowid);
    r_.run(del_);
    r_.run(del_holder_);
    r_.commit();
  }

 private:
  bench::RawSqlite& r_;
  sqlite3_stmt *find_, *insert_;
  bench::PythonCull cull_;
  sqlite3_stmt *holder_, *find_live_, *holder_count_, *del_, *del_holder_;
};

// Uncontended acquire+release of the library's Lock (history on and off)
// and of RawLock, each on its own cache under DIR, interleaved in blocks of
// 20 pairs (which goes first rotates), so all three see the same moments of
// the machine. JSON: the median us of each.
int uncontended(const std::string& dir, int n) {
  constexpr int kBlock = 20;
  for (const char* leaf : {"lib", "lib-nohist", "raw"}) {
    const std::string sub = dir + "/" + leaf;
    if (::mkdir(sub.c_str(), 0755) != 0) {
      std::perror(("uncontended: creating " + sub).c_str());
      return 1;
    }
    diskcache::Cache create(sub);
  }
  diskcache::Cache with_history(dir + "/lib"), without_history(dir + "/lib-nohist");
  diskcache::Lock lib(with_history, "L", {.history = true}), lib_nohist(without_history, "L", {.history = false});
  bench::RawSqlite r(dir + "/raw");
  RawLock raw(r);
  const std::array<std::function<void()>, 3> pairs = {[&] { lib.lock(), lib.unlock(); },
                                                      [&] { lib_nohist.lock(), lib_nohist.unlock(); },
                                                      [&] { raw.acquire(), raw.release(); }};
  std::array<std::vector<double>, 3> us;
  for (int block = 0; block * kBlock < n; ++block)
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      const std::size_t which = (k + static_cast<std::size_t>(block)) % pairs.size();
      for (int i = 0; i < kBlock; ++i) {
        const auto t0 = mono_ns();
        pairs[which]();
        us[which].push_back((mono_ns() - t0) / 1000.0);
      }
    }
  std::printf("{\"lib\": %.3f, \"lib-nohist\": %.3f, \"raw\": %.3f}\n", median(us[0]), median(us[1]), median(us[2]));
  return 0;
}

// The hand-off floor as two processes see it: one runs the raw release
// transaction and wakes the other, asleep on a futex, which runs the raw
// acquire transaction; then the roles swap. Each acquire thus starts right
// after the other process's commit, as a contended acquisition does.
// Latency: from the start of the release to the end of the acquire.
int floor_handoff(const std::string& dir, int n) {
  if (n < 2) {
    std::fprintf(stderr, "floor-handoff needs N >= 2 (N = %d)\n", n);
    return 2;
  }
  { diskcache::Cache create(dir); }
  struct Shared {
    std::atomic<std::uint32_t> turn;  // the number of the next acquisition; process turn % 2 takes it
    std::atomic<std::int64_t> released_at;
    std::atomic<std::int64_t> loop_cpu_us[2];  // each process's CPU in its loop
  };
  const std::size_t bytes = sizeof(Shared) + sizeof(double) * static_cast<std::size_t>(n);
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    std::perror("floor-handoff: mmap");
    return 1;
  }
  auto* shared = new (map) Shared{};
  auto* latency_us = reinterpret_cast<double*>(static_cast<char*>(map) + sizeof(Shared));
  pid_t child = -1;
  const pid_t parent = getpid();
  // A process whose partner died (a failed statement exits) stops waiting.
  // The parent looks without reaping, so its final waitpid sees the status.
  const auto partner_gone = [&](std::uint32_t me) {
    if (me == 1) return getppid() != parent;
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == child;
  };
  const auto worker = [&](std::uint32_t me) {
    bench::RawSqlite r(dir);
    RawLock lock(r);
    const auto loop_cpu = cpu_us();
    for (std::uint32_t t = me; t < static_cast<std::uint32_t>(n); t += 2) {
      for (std::uint32_t seen; (seen = shared->turn.load()) != t;) {
        const timespec poll{0, 100'000'000};
        syscall(SYS_futex, &shared->turn, FUTEX_WAIT, seen, &poll, nullptr, 0);
        if (partner_gone(me) && shared->turn.load() == seen) {  // its last store came before it ended
          std::fprintf(stderr, "floor-handoff: the other process ended early\n");
          std::exit(1);
        }
      }
      lock.acquire();
      if (t > 0) latency_us[t] = (mono_ns() - shared->released_at.load()) / 1000.0;
      shared->released_at.store(mono_ns());
      lock.release();
      shared->turn.store(t + 1);
      syscall(SYS_futex, &shared->turn, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
    }
    shared->loop_cpu_us[me].store(cpu_us() - loop_cpu);
  };
  child = fork();
  if (child == 0) {
    worker(1);
    _exit(0);
  }
  worker(0);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "floor-handoff: the other process failed\n");
    return 1;
  }
  std::printf("{\"median_us\": %.3f, \"cpu_us_per_op\": %.3f}\n",
              median(std::vector<double>(latency_us + 1, latency_us + n)),
              static_cast<double>(shared->loop_cpu_us[0].load() + shared->loop_cpu_us[1].load()) / n);
  return 0;
}

int handoff(const std::string& dir, int work_us) {
  diskcache::Cache cache(dir);
  diskcache::Lock lock(cache, "H");
  std::vector<std::array<std::int64_t, 4>> log;
  log.reserve(20000);
  std::int64_t work_cpu = 0;
  const auto window = bench::await_window();
  const auto loop_cpu = cpu_us();
  while (mono_ns() < window.end_ns) {
    const auto call = mono_ns();
    lock.lock();
    const auto acquired = mono_ns();
    const auto released = mono_ns();
    lock.unlock();
    log.push_back({call, acquired, released, mono_ns()});
    const auto work_start = thread_cpu_us();
    busy_work(work_us);
    work_cpu += thread_cpu_us() - work_start;
  }
  const auto loop_cpu_used = cpu_us() - loop_cpu;
  for (const auto& e : log)
    std::printf("%lld %lld %lld %lld\n", (long long)e[0], (long long)e[1], (long long)e[2], (long long)e[3]);
  std::printf("cpu_us %lld\nwork_cpu_us %lld\n", (long long)loop_cpu_used, (long long)work_cpu);
  return 0;
}

int semaphore(const std::string& dir, int hold_us, int bound) {
  diskcache::Cache cache(dir);
  diskcache::BoundedSemaphore sem(cache, "S", bound);
  const auto window = bench::await_window();
  const auto loop_cpu = cpu_us();
  long long ops = 0, held = 0;
  for (; mono_ns() < window.end_ns; ++ops) {
    sem.acquire();
    const auto entered = mono_ns();
    std::this_thread::sleep_for(std::chrono::microseconds(hold_us));
    held += mono_ns() - entered;
    sem.release();
  }
  std::printf("ops %lld\nended %lld\ncpu_us %lld\nheld_ns %lld\n", ops, (long long)mono_ns(),
              (long long)(cpu_us() - loop_cpu), held);
  return 0;
}

int floor_commit(const std::string& dir, int n) {
  { diskcache::Cache create(dir); }
  bench::RawSqlite r(dir);
  auto* put = r.prepare("INSERT OR REPLACE INTO diskcache_meta VALUES ('bench', ?)");
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    const auto t0 = mono_ns();
    r.begin();
    sqlite3_bind_int(put, 1, i);
    r.run(put);
    r.commit();
    us.push_back((mono_ns() - t0) / 1000.0);
  }
  std::printf("{\"median_us\": %.3f}\n", median(us));
  return 0;
}

// One process stores the time and wakes the other, which notes when it woke.
int floor_wake(int n) {
  struct Shared {
    std::atomic<std::uint32_t> word;
    std::atomic<std::int64_t> sent;
    std::atomic<std::int64_t> latency_ns;
  };
  auto* shared = static_cast<Shared*>(mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (shared) Shared{};
  const pid_t child = fork();
  if (child == 0) {
    for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(n); ++i) {
      while (shared->word.load() == i * 2) syscall(SYS_futex, &shared->word, FUTEX_WAIT, i * 2, nullptr, nullptr, 0);
      shared->latency_ns.store(mono_ns() - shared->sent.load());
      shared->word.store(i * 2 + 2);
    }
    _exit(0);
  }
  std::vector<double> us;
  for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(n); ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // let the child sleep in FUTEX_WAIT
    shared->sent.store(mono_ns());
    shared->word.store(i * 2 + 1);
    syscall(SYS_futex, &shared->word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
    while (shared->word.load() != i * 2 + 2) std::this_thread::yield();
    us.push_back(shared->latency_ns.load() / 1000.0);
  }
  waitpid(child, nullptr, 0);
  std::printf("{\"median_us\": %.3f}\n", median(us));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "uncontended" && argc == 4) return uncontended(argv[2], std::stoi(argv[3]));
  if (mode == "handoff" && argc == 4) return handoff(argv[2], std::stoi(argv[3]));
  if (mode == "semaphore" && argc == 5) return semaphore(argv[2], std::stoi(argv[3]), std::stoi(argv[4]));
  if (mode == "floor-commit" && argc == 4) return floor_commit(argv[2], std::stoi(argv[3]));
  if (mode == "floor-wake" && argc == 3) return floor_wake(std::stoi(argv[2]));
  if (mode == "floor-handoff" && argc == 4) return floor_handoff(argv[2], std::stoi(argv[3]));
  std::fprintf(stderr, "see the comment at the top of bench_primitives.cpp for usage\n");
  return 2;
}
