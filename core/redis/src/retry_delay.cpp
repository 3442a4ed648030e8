#include "retry_delay.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

#include "diskcache/identity.hpp"

namespace diskcache::redis::detail {

std::chrono::milliseconds retry_delay(std::chrono::milliseconds bound) {
  thread_local std::mt19937_64 random{std::random_device{}() ^ static_cast<std::uint64_t>(self_thread_id())};
  const std::int64_t most = std::max<std::int64_t>(bound.count(), 1);
  return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>((most + 1) / 2, most)(random));
}

}  // namespace diskcache::redis::detail
