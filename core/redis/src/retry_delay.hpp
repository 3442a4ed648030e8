// Quorum retries are jittered so that waiters do not split the servers'
// votes in step.
#pragma once

#include <chrono>

namespace diskcache::redis::detail {

// A random delay in [bound / 2, bound] (at least 1 ms).
std::chrono::milliseconds retry_delay(std::chrono::milliseconds bound);

}  // namespace diskcache::redis::detail
