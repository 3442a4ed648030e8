// Helper program driven by the cross-process tests. Commands:
//   incr DIR KEY N            N x cache.incr(KEY)
//   transact-incr DIR KEY N   N x { transaction: v = get(KEY); set(KEY, v + 1) }
//   writer DIR SEED           stores self-checking values forever (killed by
//                             the test); prints "ready" after the first one
//   open DIR                  opens (creating) and sets one key
//   lock-incr DIR KEY N       N x { Lock KEY held: counter = counter + 1 } (not atomic without the lock)
//   rlock-incr DIR KEY N      the same under an RLock taken twice (re-entry)
//   sem-hold DIR KEY BOUND N  N x hold a permit for 0.2 ms; prints the most holders seen at once
//   avg-add DIR KEY N VALUE   N x Averager.add(VALUE)
//   hold DIR KEY lock|semaphore|shared|exclusive  acquires (a SharedLock for
//                             the last two), prints "held", sleeps until killed
//   shared-work DIR KEY r|w HOLD_MS LOG ARG   under a SharedLock: readers (r)
//                             hold it shared for HOLD_MS until the key "stop" is
//                             set or ARG seconds passed; writers (w) ARG times
//                             exclusively, then incr "writers-done". Each holding
//                             appends "pid r|w enter_ns exit_ns waited_ns" to LOG
//                             (CLOCK_MONOTONIC; one write() on O_APPEND)
//   deque-produce DIR SOURCE N   appends (SOURCE, i) for i < N to a Deque
//   deque-consume DIR CONTROL TOTAL   pops from the Deque and prints each
//                             item until CONTROL's counter reaches TOTAL
//   verify DIR                checks every self-checking value; prints
//                             "ok <count>" or the first bad key (exit 1)
// Self-checking value: bytes = seed (8 LE) + length (8 LE) + body with
// body[j] = (seed + 131 j) % 251, or the tuple (seed, body). Large ones
// (>= 32 KiB) live in value files.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <cstring>
#include <iostream>
#include <random>
#include <string>

#include "diskcache/diskcache.hpp"

using namespace diskcache;

namespace {

std::string body(std::uint64_t seed, std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t j = 0; j < n; ++j) out[j] = static_cast<char>((seed + 131 * j) % 251);
  return out;
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint64_t get_u64(const std::string& s, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

Value self_checking(std::uint64_t seed, std::size_t n, bool as_tuple) {
  if (as_tuple) return Value::tuple({static_cast<std::int64_t>(seed), Bytes(body(seed, n))});
  std::string out;
  put_u64(out, seed);
  put_u64(out, n);
  return Value(Bytes(out + body(seed, n)));
}

bool valid(const Value& v) {
  if (v.type() == Value::Type::Tuple) {
    const auto& t = v.items();
    if (t.size() != 2) return false;
    const auto seed = static_cast<std::uint64_t>(t[0].as_int());
    const std::string& b = t[1].as_bytes().data;
    return b == body(seed, b.size());
  }
  const std::string& s = v.as_bytes().data;
  if (s.size() < 16) return false;
  const std::uint64_t seed = get_u64(s, 0), n = get_u64(s, 8);
  return n == s.size() - 16 && s.compare(16, std::string::npos, body(seed, n)) == 0;
}

int writer(const std::string& dir, std::uint64_t seed) {
  Cache cache(dir);
  std::mt19937_64 rng(seed);
  bool announced = false;
  for (std::uint64_t i = 0;; ++i) {
    const std::size_t n = rng() % 4 == 0 ? 33000 + rng() % 60000 : 10 + rng() % 400;
    const std::string key = "k" + std::to_string(rng() % 200);
    const Value value = self_checking(rng(), n, rng() % 3 == 0);
    switch (rng() % 5) {
      case 0: cache.erase(key); break;
      case 1: cache.transact([&] {
        cache.set(key, value);
        cache.set(key + "-pair", value);
      }); break;
      default: cache.set(key, value);
    }
    if (!announced) {
      std::puts("ready");
      std::fflush(stdout);
      announced = true;
    }
  }
}

int verify(const std::string& dir) {
  Cache cache(dir);
  std::int64_t count = 0;
  for (const Value& key : cache) {
    auto value = cache.get(key);
    if (!value || !valid(*value)) {
      std::printf("bad value for %s\n", key.repr().c_str());
      return 1;
    }
    ++count;
  }
  std::printf("ok %lld\n", static_cast<long long>(count));
  return 0;
}

// Holds a permit N times; while holding, counts holders two ways (a counter
// kept inside the cache, and the holder records) and prints the maxima.
int hold_permits(const std::string& dir, const std::string& key, long bound, long n) {
  Cache cache(dir);
  BoundedSemaphore sem(cache, key, bound);
  std::int64_t max_inside = 0, max_holders = 0;
  for (long i = 0; i < n; ++i) {
    BoundedSemaphore::Guard guard(sem);
    max_inside = std::max(max_inside, cache.incr("inside"));
    std::int64_t holders = 0;
    const auto info = inspect_primitive(cache, key);  // kept alive for the loop below
    for (const auto& h : info->holders) holders += h.count;
    max_holders = std::max(max_holders, holders);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    cache.decr("inside");
  }
  std::printf("max_inside %lld max_holders %lld\n", static_cast<long long>(max_inside),
              static_cast<long long>(max_holders));
  return 0;
}

// Pops until the shared counter says every item was taken (or 120 s pass).
int consume(const std::string& dir, const std::string& control_dir, long total) {
  Deque deque(dir);
  Cache control(control_dir);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto item = deque.popleft()) {
      std::printf("%s\n", item->repr().c_str());
      control.incr("consumed");
      continue;
    }
    if (control.get<std::int64_t>("consumed").value_or(0) >= total) {
      std::fflush(stdout);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 4;
}

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int shared_work(const char* dir, const char* key, const std::string& mode, double hold_ms, const char* log,
                double arg) {
  Cache cache(dir);
  SharedLock lock(cache, key);
  const int out = ::open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (out < 0) throw std::runtime_error(std::string("cannot open ") + log);
  const bool reader = mode == "r";
  const auto start = std::chrono::steady_clock::now();
  const auto hold = std::chrono::duration<double, std::milli>(hold_ms);
  long done = 0;
  while (reader ? !cache.contains("stop") && std::chrono::steady_clock::now() - start < std::chrono::duration<double>(arg)
                : done < static_cast<long>(arg)) {
    const std::int64_t asked = monotonic_ns();
    reader ? lock.lock_shared() : lock.lock();
    const std::int64_t enter = monotonic_ns();
    std::this_thread::sleep_for(hold);
    const std::int64_t exit = monotonic_ns();
    lock.release();
    char line[128];
    const int n = std::snprintf(line, sizeof line, "%d %s %lld %lld %lld\n", static_cast<int>(::getpid()), mode.c_str(),
                                static_cast<long long>(enter), static_cast<long long>(exit),
                                static_cast<long long>(enter - asked));
    if (::write(out, line, static_cast<std::size_t>(n)) != n) throw std::runtime_error("log write failed");
    ++done;
  }
  ::close(out);
  if (!reader) cache.incr("writers-done");
  std::printf("done %ld\n", done);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "incr" && argc == 5) {
      Cache cache(argv[2]);
      for (long i = 0, n = std::stol(argv[4]); i < n; ++i) cache.incr(argv[3]);
      return 0;
    }
    if (cmd == "transact-incr" && argc == 5) {
      Cache cache(argv[2]);
      const Value key(argv[3]);
      for (long i = 0, n = std::stol(argv[4]); i < n; ++i)
        cache.transact([&] { cache.set(key, cache.get<std::int64_t>(key).value_or(0) + 1); });
      return 0;
    }
    if (cmd == "writer" && argc == 4) return writer(argv[2], std::stoull(argv[3]));
    if (cmd == "verify" && argc == 3) return verify(argv[2]);
    if (cmd == "deque-produce" && argc == 5) {
      Deque deque(argv[2]);
      for (long i = 0, n = std::stol(argv[4]); i < n; ++i) deque.append(Value::tuple({argv[3], i}));
      return 0;
    }
    if (cmd == "deque-consume" && argc == 5) return consume(argv[2], argv[3], std::stol(argv[4]));
    if (cmd == "lock-incr" && argc == 5) {
      Cache cache(argv[2]);
      Lock lock(cache, argv[3]);
      for (long i = 0, n = std::stol(argv[4]); i < n; ++i) {
        std::scoped_lock guard(lock);
        cache.set("counter", cache.get<std::int64_t>("counter").value_or(0) + 1);
      }
      return 0;
    }
    if (cmd == "rlock-incr" && argc == 5) {
      Cache cache(argv[2]);
      RLock lock(cache, argv[3]);
      for (long i = 0, n = std::stol(argv[4]); i < n; ++i) {
        std::scoped_lock outer(lock);
        std::scoped_lock inner(lock);
        cache.set("counter", cache.get<std::int64_t>("counter").value_or(0) + 1);
      }
      return 0;
    }
    if (cmd == "sem-hold" && argc == 6) return hold_permits(argv[2], argv[3], std::stol(argv[4]), std::stol(argv[5]));
    if (cmd == "avg-add" && argc == 6) {
      Cache cache(argv[2]);
      Averager avg(cache, argv[3]);
      for (long i = 0, n = std::stol(argv[4]); i < n; ++i) avg.add(std::stod(argv[5]));
      return 0;
    }
    if (cmd == "shared-work" && argc == 8)
      return shared_work(argv[2], argv[3], argv[4], std::stod(argv[5]), argv[6], std::stod(argv[7]));
    if (cmd == "hold" && argc == 5) {
      Cache cache(argv[2]);
      const std::string kind = argv[4];
      Lock lock(cache, argv[3]);
      BoundedSemaphore sem(cache, argv[3], 2);
      SharedLock shared(cache, argv[3]);
      if (kind == "lock") lock.lock();
      else if (kind == "shared") shared.lock_shared();
      else if (kind == "exclusive") shared.lock();
      else sem.acquire();
      flush_history(cache);  // its acquire event is written even if it is killed at once
      std::puts("held");
      std::fflush(stdout);
      while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (cmd == "cycle" && argc == 4) {  // two lock/unlock 300 ms apart, then stays alive, writing no history itself
      Cache cache(argv[2]);
      Lock lock(cache, argv[3]);
      for (int i = 0; i < 2; ++i) {
        if (i) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        lock.lock();
        lock.unlock();
      }
      std::puts("done");
      std::fflush(stdout);
      while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (cmd == "open" && argc == 3) {  // reports the error a fresh open gives
      Cache(argv[2]).set("k", 1);
      return 0;
    }
    std::fprintf(stderr, "usage: dc_helper incr|transact-incr DIR KEY N | writer DIR SEED | verify|open DIR\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dc_helper: %s\n", e.what());
    return 3;
  }
}
