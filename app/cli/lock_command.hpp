// `diskcache lock DIR KEY [--timeout S] [--semaphore N | --shared | --exclusive] -- CMD [ARGS...]`:
// runs a command while holding a cache's Lock (or one permit of a
// BoundedSemaphore of bound N, or a SharedLock shared or exclusively), as
// flock(1) does with a file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diskcache/cache.hpp"

namespace cli {

struct LockedRun {
  std::optional<double> timeout;          // seconds; unset: wait as long as it takes
  std::optional<std::int64_t> semaphore;  // a permit of a semaphore of this bound, not the Lock
  enum class Shared { No, Reader, Writer } shared = Shared::No;  // a SharedLock, not the Lock
  std::vector<std::string> command;       // program and its arguments (PATH is searched)
};

// Acquires, runs the command with this process's standard streams, waits
// for it, releases. Returns the command's exit status (128 + signal when a
// signal ended it), 1 when the timeout passed without acquiring (the
// command did not run), 127 when the command could not be started.
int run_locked(diskcache::Cache& cache, const diskcache::Value& key, const LockedRun& run);

}  // namespace cli
