// CLOCK_MONOTONIC helpers for the benchmark workers. The drivers give the
// workers of one measure a common start and end on this clock (Python's
// time.monotonic_ns() reads the same one), so they contend from their first
// operation to their last and none runs alone at either end.
#pragma once

#include <cerrno>
#include <cstdint>
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

}  // namespace bench
