// The Redis backend beside the local one, in one run:
//   bench_redis [N]
// starts its own redis-server processes (loopback, no persistence) and a
// cache directory, then measures
//   - uncontended acquire+release of a Lock: local, Redis (one server),
//     Redis quorum (3 servers), and the floor: two Redis round trips (PING);
//   - contended hand-off: 2 processes x N { lock; unlock; 50 us of work },
//     the time from one process's release to the other's acquisition
//     (median and p95), and acquisitions per second.
// Prints a Markdown table (medians over N; ratios against the local Lock).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "diskcache/diskcache.hpp"
#include "diskcache/redis/primitives.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t mono_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

void busy_work(std::int64_t us) {
  const auto end = mono_ns() + us * 1000;
  while (mono_ns() < end) {
  }
}

struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port); }
};

Server start_server(int port, const fs::path& dir) {
  Server s;
  s.port = port;
  s.pid = fork();
  if (s.pid == 0) {
    const std::string p = std::to_string(port), d = dir.string();
    execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--dir", d.c_str(), "--save",
           "", "--appendonly", "no", "--logfile", "redis.log", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 500; ++i) {
    try {
      diskcache::redis::Store(diskcache::redis::Endpoint::parse(s.url())).ping();
      return s;
    } catch (const diskcache::redis::ConnectionError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::fprintf(stderr, "redis-server on port %d does not answer\n", port);
  std::exit(1);
}

// Median microseconds of one call of `op`, over n calls after n/10 warm-up calls.
double median_us(int n, const std::function<void()>& op) {
  for (int i = 0; i < n / 10; ++i) op();
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    const auto t = mono_ns();
    op();
    us.push_back(static_cast<double>(mono_ns() - t) / 1000.0);
  }
  return percentile(us, 0.5);
}

struct Handoff {
  double median_us = 0, p95_us = 0, per_second = 0;
};

// Two processes contend; each appends "acquired released" ns per iteration.
template <class MakeLock>
Handoff handoff(int n, const fs::path& dir, MakeLock make_lock) {
  std::vector<pid_t> children;
  for (int w = 0; w < 2; ++w) {
    const pid_t pid = fork();
    if (pid == 0) {
      auto lock = make_lock();
      std::ofstream out(dir / ("times-" + std::to_string(w)));
      std::vector<std::pair<std::int64_t, std::int64_t>> times;
      for (int i = 0; i < n; ++i) {
        lock->lock();
        const auto acquired = mono_ns();
        const auto released = mono_ns();
        lock->unlock();
        times.emplace_back(acquired, released);
        busy_work(50);
      }
      for (const auto& [a, r] : times) out << a << " " << r << "\n";
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t c : children) waitpid(c, nullptr, 0);
  struct Hold {
    std::int64_t acquired, released;
    int worker;
  };
  std::vector<Hold> holds;
  for (int w = 0; w < 2; ++w) {
    std::ifstream in(dir / ("times-" + std::to_string(w)));
    std::int64_t a = 0, r = 0;
    while (in >> a >> r) holds.push_back({a, r, w});
  }
  std::sort(holds.begin(), holds.end(), [](const Hold& x, const Hold& y) { return x.acquired < y.acquired; });
  std::vector<double> gaps;
  for (std::size_t i = 1; i < holds.size(); ++i)
    if (holds[i].worker != holds[i - 1].worker)
      gaps.push_back(static_cast<double>(holds[i].acquired - holds[i - 1].released) / 1000.0);
  Handoff h;
  h.median_us = percentile(gaps, 0.5);
  h.p95_us = percentile(gaps, 0.95);
  const double span_s = static_cast<double>(holds.back().released - holds.front().acquired) / 1e9;
  h.per_second = static_cast<double>(holds.size()) / span_s;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 2000;
  const fs::path root = fs::temp_directory_path() / ("bench_redis-" + std::to_string(getpid()));
  fs::create_directories(root);
  std::vector<Server> servers;
  for (int i = 0; i < 3; ++i) {
    fs::create_directories(root / ("redis" + std::to_string(i)));
    servers.push_back(start_server(21790 + i + (getpid() % 1000) * 3, root / ("redis" + std::to_string(i))));
  }
  const std::string single = servers[0].url();
  const std::string quorum = servers[0].url() + "," + servers[1].url() + "," + servers[2].url();

  double local_us = 0, redis_us = 0, quorum_us = 0, floor_us = 0;
  {
    diskcache::Cache cache((root / "cache").string());
    diskcache::Lock lock(cache, "bench");
    local_us = median_us(n, [&] {
      lock.lock();
      lock.unlock();
    });
  }
  {
    auto store = diskcache::redis::Store::open(single);
    diskcache::redis::Lock lock(store, "bench");
    redis_us = median_us(n, [&] {
      lock.lock();
      lock.unlock();
    });
    diskcache::redis::Lock probe(store, "probe");
    floor_us = median_us(n, [&] { (void)probe.locked(); }) * 2;  // one EXISTS round trip, twice
  }
  {
    auto store = diskcache::redis::Store::open(quorum);
    diskcache::redis::Lock lock(store, "bench");
    quorum_us = median_us(n / 2, [&] {
      lock.lock();
      lock.unlock();
    });
  }
  const Handoff local_h = handoff(n, root, [&] {
    auto cache = std::make_shared<diskcache::Cache>((root / "cache").string());
    return std::shared_ptr<diskcache::Lock>(new diskcache::Lock(*cache, "contended"),
                                            [cache](diskcache::Lock* l) { delete l; });
  });
  const Handoff redis_h = handoff(n, root, [&] {
    auto store = std::make_shared<diskcache::redis::Store>(diskcache::redis::Store::open(single));
    return std::shared_ptr<diskcache::redis::Lock>(new diskcache::redis::Lock(*store, "contended"),
                                                   [store](diskcache::redis::Lock* l) { delete l; });
  });

  for (const auto& s : servers) kill(s.pid, SIGTERM);
  for (const auto& s : servers) waitpid(s.pid, nullptr, 0);
  fs::remove_all(root);

  std::printf("| measure (N = %d) | local (cache.db) | Redis, 1 server | ratio Redis/local |\n|---|---|---|---|\n", n);
  std::printf("| uncontended lock+unlock, median | %.1f us | %.1f us | %.2fx |\n", local_us, redis_us, redis_us / local_us);
  std::printf("| floor: 2 Redis round trips (EXISTS) | | %.1f us | |\n", floor_us);
  std::printf("| uncontended lock+unlock, Redis quorum of 3 | | %.1f us | %.2fx |\n", quorum_us, quorum_us / local_us);
  std::printf("| contended hand-off (2 processes), median | %.1f us | %.1f us | %.2fx |\n", local_h.median_us,
              redis_h.median_us, redis_h.median_us / local_h.median_us);
  std::printf("| contended hand-off, p95 | %.1f us | %.1f us | %.2fx |\n", local_h.p95_us, redis_h.p95_us,
              redis_h.p95_us / local_h.p95_us);
  std::printf("| contended acquisitions per second | %.0f | %.0f | %.2fx |\n", local_h.per_second, redis_h.per_second,
              redis_h.per_second / local_h.per_second);
  return 0;
}
