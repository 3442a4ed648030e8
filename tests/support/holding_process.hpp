// A helper process that takes something (a lock, a permit), prints one line
// once it holds it, and holds it until killed: the tests kill it to leave a
// dead holder behind.
#pragma once

#include <signal.h>

#include <QProcess>
#include <QString>
#include <QStringList>

#include "test_support.hpp"

namespace test_support {

class HoldingProcess {
 public:
  // Starts `program args` and waits (up to `bound_ms`) for its first line.
  HoldingProcess(const QString& program, const QStringList& args, int bound_ms = 30000) : bound_ms_(bound_ms) {
    process_.start(program, args);
    process_.waitForStarted(bound_ms_);
    process_.waitForReadyRead(bound_ms_);
  }
  ~HoldingProcess() {
    if (process_.state() != QProcess::NotRunning) kill_and_reap();
  }
  HoldingProcess(const HoldingProcess&) = delete;
  HoldingProcess& operator=(const HoldingProcess&) = delete;

  qint64 pid() const { return process_.processId(); }
  // SIGKILL, then waits until it is reaped (its pid is gone).
  void kill_and_reap() {
    ::kill(static_cast<pid_t>(process_.processId()), SIGKILL);
    process_.waitForFinished(bound_ms_);
  }

 private:
  int bound_ms_;
  QProcess process_;
};

// dc_helper holding `key` in the cache at `dir` (a Lock, or a permit of a
// semaphore of bound 2 with kind "semaphore", a SharedLock with "shared" or
// "exclusive") until killed.
struct HeldByHelper : HoldingProcess {
  HeldByHelper(const QString& dir, const QString& key, const QString& kind = "lock", int bound_ms = 30000)
      : HoldingProcess(helper_path(), {"hold", dir, key, kind}, bound_ms) {}
};

}  // namespace test_support
