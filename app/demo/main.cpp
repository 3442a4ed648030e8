// diskcache-demo DIR [--seconds N]: a realistic workload for the monitor.
// Starts worker processes on one cache directory:
//   3 x "printer"  contend for Lock demo:printer (5-30 ms jobs), report waits
//                  to Averager demo:wait-ms
//   3 x "gpu"      share BoundedSemaphore demo:gpu-slots (2 permits)
//   1 x "config"   re-enters RLock demo:config
//   2 x "reader"   read SharedLock demo:catalog together (20-60 ms)
//   1 x "editor"   writes it now and then (10-30 ms, alone)
//   1 x "cache"    sets and gets items (statistics on)
//   1 x "doomed"   takes Lock demo:stale-lock and dies with SIGKILL: a stale lock
//   1 x "offload"  a training loop: a "kernel" fills a device buffer, the
//                  Offloader stores it (demo:tensor-N) and loads some back,
//                  on a CUDA device when there is one, else the emulated one;
//                  its transfer statistics appear as "demo:trainer"
// Runs N seconds (0 = until interrupted), then stops its workers.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <shared_mutex>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "diskcache/diskcache.hpp"
#include "diskcache/gpu/cuda_device.hpp"
#include "diskcache/gpu/emulated_device.hpp"
#include "diskcache/gpu/offloader.hpp"

extern char** environ;

namespace {

using namespace std::chrono;
using diskcache::Cache;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void pause_ms(std::mt19937& rng, int lo, int hi) {
  std::this_thread::sleep_for(milliseconds(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1))));
}

int offload_loop(Cache& cache, std::mt19937& rng) {
  namespace gpu = diskcache::gpu;
  auto device = gpu::cuda_device_count() > 0 ? gpu::make_cuda_device() : gpu::make_emulated_device();
  gpu::Offloader offloader(*device, cache, {.block_bytes = 1 << 20, .stats_name = "demo:trainer",
                                            .set_options = {.expire = 300}});
  auto stream = device->create_stream();
  constexpr std::size_t kMax = 4 << 20;
  void* buffer = device->allocate_device(kMax);
  while (!g_stop) {
    const std::size_t bytes = (1 << 20) + rng() % (kMax - (1 << 20));
    const std::string key = "demo:tensor-" + std::to_string(rng() % 8);
    device->delay(*stream, milliseconds(5 + rng() % 20));  // the "training step"
    device->fill(buffer, static_cast<unsigned char>(rng()), bytes, *stream);
    auto stored = offloader.offload(key, buffer, bytes, *stream);
    try {
      stored.done.get();
      if (rng() % 3 == 0) offloader.load(key, buffer, bytes, *stream).done.get();
    } catch (const diskcache::Error& e) {
      std::fprintf(stderr, "diskcache-demo offload: %s\n", e.what());
    }
    pause_ms(rng, 20, 120);
  }
  device->synchronize(*stream);
  device->free_device(buffer);
  return 0;
}

int worker(const std::string& role, const std::string& dir, unsigned seed) {
  Cache cache(dir, diskcache::Options{.settings = {.statistics = true}});
  std::mt19937 rng(seed);
  if (role == "offload") return offload_loop(cache, rng);
  if (role == "doomed") {
    diskcache::Lock lock(cache, "demo:stale-lock");
    lock.lock();
    pause_ms(rng, 500, 1500);
    raise(SIGKILL);  // dies holding it: the monitor shows it stale
  }
  diskcache::Lock printer(cache, "demo:printer");
  diskcache::BoundedSemaphore slots(cache, "demo:gpu-slots", 2);
  diskcache::RLock config(cache, "demo:config");
  diskcache::Averager waits(cache, "demo:wait-ms");
  diskcache::SharedLock catalog(cache, "demo:catalog");
  while (!g_stop) {
    if (role == "printer") {
      const auto t0 = steady_clock::now();
      std::scoped_lock guard(printer);
      waits.add(duration<double, std::milli>(steady_clock::now() - t0).count());
      pause_ms(rng, 5, 30);
    } else if (role == "gpu") {
      diskcache::BoundedSemaphore::Guard slot(slots);
      pause_ms(rng, 20, 80);
    } else if (role == "config") {
      std::scoped_lock outer(config);
      std::scoped_lock inner(config);
      pause_ms(rng, 10, 40);
    } else if (role == "reader") {
      std::shared_lock reading(catalog);
      pause_ms(rng, 20, 60);
    } else if (role == "editor") {
      pause_ms(rng, 150, 400);
      std::unique_lock writing(catalog);
      pause_ms(rng, 10, 30);
    } else if (role == "cache") {
      const std::string key = "item-" + std::to_string(rng() % 500);
      if (!cache.get(key)) cache.set(key, diskcache::Bytes(std::string(100 + rng() % 2000, 'x')), {.expire = 120});
    }
    pause_ms(rng, 5, 50);
  }
  return 0;
}

pid_t spawn(const std::string& self, const std::string& role, const std::string& dir, unsigned seed) {
  std::vector<std::string> args{self, "--worker", role, dir, std::to_string(seed)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--worker") == 0) {
    signal(SIGTERM, on_signal);
    return worker(argv[2], argv[3], static_cast<unsigned>(std::stoul(argv[4])));
  }
  const char* usage = "usage: diskcache-demo DIR [--seconds N]   (N = 0: until interrupted)\n";
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (argc < 2 || argv[1][0] == '-' || !(argc == 2 || (argc == 4 && std::strcmp(argv[2], "--seconds") == 0))) {
    std::fputs(usage, stderr);
    return 2;
  }
  const std::string dir = argv[1];
  int seconds = 60;
  if (argc == 4) {
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(argv[3], &end, 10);
    if (end == argv[3] || *end != '\0' || errno != 0 || n < 0 || n > 86400 * 365) {
      std::fprintf(stderr, "diskcache-demo: --seconds takes a whole number of seconds (0 = until interrupted), "
                           "not '%s'\n%s", argv[3], usage);
      return 2;
    }
    seconds = static_cast<int>(n);
  }
  try {
    Cache cache(dir, diskcache::Options{.settings = {.statistics = true}});
    diskcache::register_primitive(cache, "demo:gpu-slots", diskcache::PrimitiveKind::Semaphore, 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diskcache-demo: %s\n", e.what());
    return 3;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  std::vector<pid_t> workers;
  unsigned seed = 1;
  for (const char* role : {"printer", "printer", "printer", "gpu", "gpu", "gpu", "config", "reader", "reader", "editor",
                           "cache", "offload", "doomed"})
    workers.push_back(spawn(argv[0], role, dir, seed++));
  std::printf("diskcache-demo: %zu workers on %s for %s\n", workers.size(), dir.c_str(),
              seconds ? (std::to_string(seconds) + " s").c_str() : "ever");
  std::fflush(stdout);
  const auto end = steady_clock::now() + std::chrono::seconds(seconds);
  while (!g_stop && (seconds == 0 || steady_clock::now() < end)) std::this_thread::sleep_for(milliseconds(100));
  for (pid_t pid : workers)
    if (pid > 0) kill(pid, SIGTERM);
  for (pid_t pid : workers)
    if (pid > 0) waitpid(pid, nullptr, 0);
  std::printf("diskcache-demo: stopped\n");
  return 0;
}
