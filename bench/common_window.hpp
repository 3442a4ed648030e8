// The common window of one measure, the worker's side (the driver's is
// bench/common_window.py): a worker sets up, says "ready" on stdout and reads
// "START_NS END_NS" (CLOCK_MONOTONIC, the clock of Python's
// time.monotonic_ns()) from stdin, which the driver sends once every worker
// of the measure is ready. So all of them contend from their first
// operation to their last, and none runs alone at either end.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace bench {

inline std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Sleeps until `at` (ns on CLOCK_MONOTONIC); returns at once if it has passed.
inline void sleep_until(std::int64_t at) {
  const timespec ts{static_cast<time_t>(at / 1000000000), static_cast<long>(at % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

struct Window {
  std::int64_t start_ns, end_ns;
};

// Says "ready", reads the window from stdin and sleeps until its start.
// Exits with status 2 and a message when stdin holds no window.
inline Window await_window() {
  std::printf("ready\n");
  std::fflush(stdout);
  long long start = 0, end = 0;
  if (std::scanf("%lld %lld", &start, &end) != 2) {
    std::fprintf(stderr, "expected \"START_NS END_NS\" on stdin\n");
    std::exit(2);
  }
  sleep_until(start);
  return {start, end};
}

}  // namespace bench
