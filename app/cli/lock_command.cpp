#include "lock_command.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <mutex>

#include "diskcache/primitives.hpp"

extern char** environ;

namespace cli {
namespace {

// Starts the command and waits for it. SIGINT and SIGTERM reach the command
// (the terminal sends SIGINT to the whole group; SIGTERM is passed on), and
// this process waits for it to end before the lock is released.
int run_command(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t child = 0;
  if (const int err = ::posix_spawnp(&child, argv[0], nullptr, nullptr, argv.data(), environ); err != 0) {
    std::cerr << "diskcache: cannot run '" << command.front() << "': " << std::strerror(err) << "\n";
    return 127;
  }
  struct sigaction ignore {}, old_int {}, old_term {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGTERM, &ignore, &old_term);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

template <class Held>
int with(Held& held, bool acquired, const LockedRun& run) {
  if (!acquired) {
    std::cerr << "diskcache: not acquired within " << *run.timeout << " s; the command did not run\n";
    return 1;
  }
  const int status = run_command(run.command);
  held.release();
  return status;
}

}  // namespace

int run_locked(diskcache::Cache& cache, const diskcache::Value& key, const LockedRun& run) {
  const auto timeout = std::chrono::duration<double>(run.timeout.value_or(0));
  if (run.semaphore) {
    diskcache::BoundedSemaphore semaphore(cache, key, *run.semaphore);
    const bool acquired = run.timeout ? semaphore.try_acquire_for(timeout) : (semaphore.acquire(), true);
    return with(semaphore, acquired, run);
  }
  if (run.shared != LockedRun::Shared::No) {
    diskcache::SharedLock lock(cache, key);
    bool acquired;
    if (run.shared == LockedRun::Shared::Reader)
      acquired = run.timeout ? lock.try_lock_shared_for(timeout) : (lock.lock_shared(), true);
    else
      acquired = run.timeout ? lock.try_lock_for(timeout) : (lock.lock(), true);
    return with(lock, acquired, run);
  }
  diskcache::Lock lock(cache, key);
  const bool acquired = run.timeout ? lock.try_lock_for(timeout) : (lock.lock(), true);
  return with(lock, acquired, run);
}

}  // namespace cli
