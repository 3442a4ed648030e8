// Primitives across real processes: exact counts under a Lock and an RLock,
// a BoundedSemaphore(2) never held by more than 2, an exact Averager, the
// same with /usr/bin/python3 processes using Python diskcache's recipes on
// the same keys; and deterministic crash cases: a holder killed with
// SIGKILL and reaped, a zombie holder, a live holder.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>

#include "diskcache/inspect.hpp"
#include "diskcache/primitives.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {
struct Proc {
  std::unique_ptr<QProcess> p = std::make_unique<QProcess>();
};

// Starts every command at once and waits for all; returns their stdout.
std::vector<QByteArray> run_all(const std::vector<std::pair<QString, QStringList>>& commands) {
  std::vector<Proc> procs(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) procs[i].p->start(commands[i].first, commands[i].second);
  std::vector<QByteArray> out;
  for (auto& proc : procs) {
    if (!proc.p->waitForFinished(240000) || proc.p->exitCode() != 0)
      qWarning() << "failed:" << proc.p->arguments() << proc.p->readAllStandardError();
    out.push_back(proc.p->exitStatus() == QProcess::NormalExit && proc.p->exitCode() == 0
                      ? proc.p->readAllStandardOutput()
                      : QByteArray("FAILED"));
  }
  return out;
}

std::pair<QString, QStringList> cpp(QStringList args) { return {helper_path(), args}; }
std::pair<QString, QStringList> py(QStringList args) {
  return {python(), QStringList{interop_script("recipes.py")} + args};
}

int max_of(const std::vector<QByteArray>& outputs, const QByteArray& label) {
  int most = 0;
  for (const auto& out : outputs) {
    const auto words = out.simplified().split(' ');
    for (int i = 0; i + 1 < words.size(); ++i)
      if (words[i] == label) most = std::max(most, words[i + 1].toInt());
  }
  return most;
}
}  // namespace

class TestPrimitivesProcesses : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() {
    const QString dir = tmp_.path() + "/x" + QString::number(n_++);
    Cache create(dir.toStdString());
    return dir;
  }

 private slots:
  void lock_four_processes_exact() {
    const QString dir = fresh();
    std::vector<std::pair<QString, QStringList>> cmds(4, cpp({"lock-incr", dir, "L", "2000"}));
    for (const auto& out : run_all(cmds)) QVERIFY(out != "FAILED");
    QCOMPARE(*Cache(dir.toStdString()).get("counter"), Value(8000));
  }

  void semaphore_bound_never_exceeded() {
    const QString dir = fresh();
    std::vector<std::pair<QString, QStringList>> cmds(4, cpp({"sem-hold", dir, "S", "2", "150"}));
    const auto outputs = run_all(cmds);
    for (const auto& out : outputs) QVERIFY(out != "FAILED");
    QVERIFY(max_of(outputs, "max_inside") <= 2);
    QVERIFY(max_of(outputs, "max_holders") <= 2);
    QCOMPARE(max_of(outputs, "max_inside"), 2);  // the bound was actually reached
    QCOMPARE(BoundedSemaphore(*std::make_unique<Cache>(dir.toStdString()), "S", 2).available(), 2);
  }

  void rlock_reentry_across_processes() {
    const QString dir = fresh();
    std::vector<std::pair<QString, QStringList>> cmds(3, cpp({"rlock-incr", dir, "R", "500"}));
    for (const auto& out : run_all(cmds)) QVERIFY(out != "FAILED");
    QCOMPARE(*Cache(dir.toStdString()).get("counter"), Value(1500));
  }

  void averager_exact_under_four_writers() {
    const QString dir = fresh();
    const auto outputs = run_all({cpp({"avg-add", dir, "A", "300", "1"}), cpp({"avg-add", dir, "A", "300", "2"}),
                                  cpp({"avg-add", dir, "A", "300", "3"}), cpp({"avg-add", dir, "A", "300", "6"})});
    for (const auto& out : outputs) QVERIFY(out != "FAILED");
    Cache cache(dir.toStdString());
    Averager avg(cache, "A");
    QCOMPARE(avg.count(), 1200);
    QCOMPARE(*avg.get(), 3.0);
  }

  void mixed_with_python_processes() {
    const QString dir = fresh();
    auto outputs = run_all({cpp({"lock-incr", dir, "L", "300"}), cpp({"lock-incr", dir, "L", "300"}),
                            py({"lock-incr", dir, "L", "300"}), py({"lock-incr", dir, "L", "300"})});
    for (const auto& out : outputs) QVERIFY(out != "FAILED");
    Cache cache(dir.toStdString());
    QCOMPARE(*cache.get("counter"), Value(1200));
    cache.erase("counter");
    outputs = run_all({cpp({"rlock-incr", dir, "R", "300"}), py({"rlock-incr", dir, "R", "300"})});
    for (const auto& out : outputs) QVERIFY(out != "FAILED");
    QCOMPARE(*cache.get("counter"), Value(600));
    outputs = run_all({cpp({"sem-hold", dir, "S", "2", "100"}), cpp({"sem-hold", dir, "S", "2", "100"}),
                       py({"sem-hold", dir, "S", "100", "2"}), py({"sem-hold", dir, "S", "100", "2"})});
    for (const auto& out : outputs) QVERIFY(out != "FAILED");
    QVERIFY(max_of(outputs, "max_inside") <= 2);
    outputs = run_all({cpp({"avg-add", dir, "A", "200", "1"}), py({"avg-add", dir, "A", "200", "3"})});
    for (const auto& out : outputs) QVERIFY(out != "FAILED");
    Averager avg(cache, "A");
    QCOMPARE(avg.count(), 400);
    QCOMPARE(*avg.get(), 2.0);
  }

  // A process's history reaches the table by itself, in the background,
  // within the batching delay (issue 22): nothing in the helper writes it.
  // Its two lock/unlock cycles are 300 ms apart: two batches, the second
  // after the flushing thread went back to waiting.
  void history_of_a_live_process_arrives_in_the_background() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    QProcess helper;
    helper.start(helper_path(), {"cycle", dir, "C"});
    QVERIFY(helper.waitForReadyRead(30000));
    const auto of_helper = [&] {
      const auto events = primitive_history(cache);
      return std::count_if(events.begin(), events.end(),
                           [&](const HistoryEvent& e) { return e.pid == helper.processId(); });
    };
    QTRY_COMPARE_WITH_TIMEOUT(of_helper(), 4, 5000);
    QCOMPARE(helper.state(), QProcess::Running);  // not written at its exit
    helper.kill();
    helper.waitForFinished();
  }

  void killed_holder_is_stale_and_force_released() {
    const QString dir = fresh();
    QProcess holder;
    holder.start(helper_path(), {"hold", dir, "L", "lock"});
    QVERIFY(holder.waitForReadyRead(30000));
    const qint64 holder_pid = holder.processId();
    Cache cache(dir.toStdString());
    QCOMPARE(force_release(cache, "L"), ForceReleaseResult::RefusedAlive);  // alive: refused
    QVERIFY(cache.contains("L"));
    ::kill(static_cast<pid_t>(holder.processId()), SIGKILL);
    QVERIFY(holder.waitForFinished());  // reaped
    auto info = inspect_primitive(cache, "L");
    QVERIFY(info && info->held);
    QCOMPARE(info->holders.size(), std::size_t{1});
    QCOMPARE(info->holders[0].state, HolderState::Stale);
    QVERIFY(info->stale());
    QCOMPARE(force_release(cache, "L"), ForceReleaseResult::Released);
    // The history names the holder whose hold was broken (issue 20.6), not
    // this process.
    const auto events = primitive_history(cache);
    QVERIFY(!events.empty());
    QCOMPARE(events.back().event, std::string("force-release"));
    QCOMPARE(events.back().pid, static_cast<std::int64_t>(holder_pid));
    QCOMPARE(events.back().holder, info->holders[0].id);
    Lock next(cache, "L");
    QVERIFY(next.try_lock());
    next.unlock();
  }

  void dead_holders_permit_is_returned() {
    const QString dir = fresh();
    QProcess holder;
    holder.start(helper_path(), {"hold", dir, "S", "semaphore"});
    QVERIFY(holder.waitForReadyRead(30000));
    Cache cache(dir.toStdString());
    BoundedSemaphore sem(cache, "S", 2);
    QCOMPARE(sem.available(), 1);
    holder.kill();
    QVERIFY(holder.waitForFinished());
    QCOMPARE(force_release(cache, "S"), ForceReleaseResult::Released);
    QCOMPARE(sem.available(), 2);
  }

  void zombie_holder_is_stale() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    const pid_t child = ::fork();
    if (child == 0) {
      Lock lock(cache, "Z");
      lock.lock();
      ::_exit(0);  // exits holding it; the parent does not reap yet
    }
    // Wait (bounded) for the child to have taken the lock and exited.
    for (int i = 0; i < 1000; ++i) {
      auto info = inspect_primitive(cache, "Z");
      if (info && info->held && !info->holders.empty() && info->holders[0].state == HolderState::Stale) break;
      QThread::msleep(10);
    }
    auto info = inspect_primitive(cache, "Z");
    QVERIFY(info && info->held);
    QCOMPARE(info->holders.at(0).pid, std::int64_t{child});
    QCOMPARE(info->holders.at(0).state, HolderState::Stale);  // a zombie is not a live holder
    QCOMPARE(force_release(cache, "Z"), ForceReleaseResult::Released);
    int status = 0;
    ::waitpid(child, &status, 0);
  }
};

QTEST_GUILESS_MAIN(TestPrimitivesProcesses)
#include "tst_primitives_processes.moc"
